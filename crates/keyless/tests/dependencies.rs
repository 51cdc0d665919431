//! The library a verifier depends on carries no CLI and no test services:
//! `cargo tree -p keyless -e normal` must show no clap, axum or rcgen, with
//! or without signing.

use std::process::Command;

fn normal_dependencies(features: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            "keyless",
            "-e",
            "normal",
        ])
        .args(["--prefix", "none"]);
    for f in features {
        cmd.args(["--features", f]);
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn the_library_depends_on_no_cli_or_testbed_crate() {
    for features in [&[][..], &["sign"][..]] {
        let tree = normal_dependencies(features);
        assert!(
            tree.lines().any(|l| l.starts_with("sigstore-verify ")),
            "{tree}"
        );
        for banned in [
            "clap",
            "clap_complete",
            "clap_mangen",
            "axum",
            "rcgen",
            "keyless-testbed",
        ] {
            assert!(
                !tree.lines().any(|l| l.starts_with(&format!("{banned} "))),
                "keyless (features {features:?}) depends on {banned}:\n{tree}"
            );
        }
    }
}

#[test]
fn signing_clients_come_only_with_the_sign_feature() {
    let verify_only = normal_dependencies(&[]);
    let with_sign = normal_dependencies(&["sign"]);
    for client in ["sigstore-fulcio", "sigstore-oidc"] {
        let named = |tree: &str| tree.lines().any(|l| l.starts_with(&format!("{client} ")));
        assert!(!named(&verify_only), "{client} without the sign feature");
        assert!(named(&with_sign), "{client} missing with the sign feature");
    }
}
