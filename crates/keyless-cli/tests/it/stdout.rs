//! A closed stdout (`keyless ... | head -1`) is never a panic: every command
//! family that prints stops quietly, with no message, and keeps the exit
//! status its work earned; a stdout that fails otherwise (a full disk) is an
//! error, exit 2. The `rekor` commands are checked in `rekor::stdout`.

use crate::common::bed::Bed;
use crate::common::{
    Run, WHEEL_IDENTITY, WHEEL_ISSUER, keyless_process, run_with_closed_stdout, vectors, wheel,
};

/// No panic, and nothing said about the pipe.
fn assert_quiet(what: &str, r: &Run, code: i32) {
    assert_eq!(r.code, code, "{what}: {}", r.stderr);
    assert!(r.stderr.is_empty(), "{what}: {}", r.stderr);
}

#[test]
fn completions_help_and_version_stop_quietly_on_a_closed_stdout() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = run_with_closed_stdout(keyless_process().args(["completions", shell]));
        assert_quiet(shell, &r, 0);
    }
    for args in [
        &["--help"][..],
        &["--version"],
        &["rekor", "monitor", "--help"],
    ] {
        let r = run_with_closed_stdout(keyless_process().args(args));
        assert_quiet(&format!("{args:?}"), &r, 0);
    }
}

#[test]
fn inspect_stops_quietly_on_a_closed_stdout() {
    let att =
        vectors("pypi-attestations").join("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation");
    for json in [false, true] {
        let mut cmd = keyless_process();
        cmd.arg("inspect").arg(&att);
        if json {
            cmd.arg("--json");
        }
        assert_quiet(
            &format!("inspect json={json}"),
            &run_with_closed_stdout(&mut cmd),
            0,
        );
    }
}

#[test]
fn trust_update_stops_quietly_on_a_closed_stdout_with_the_material_in_place() {
    let bed = Bed::start();
    let cache = bed.path("cache");
    let r = run_with_closed_stdout(
        keyless_process()
            .env("KEYLESS_CACHE_DIR", &cache)
            .args([
                "trust",
                "update",
                "--tuf-url",
                &bed.tb.tuf_url(),
                "--tuf-root",
            ])
            .arg(bed.tb.state_dir().join("tuf/1.root.json")),
    );
    assert_quiet("trust update", &r, 0);
    let dir = cache.join(keyless::trust::InstanceName::custom(&bed.tb.tuf_url()).0);
    assert!(dir.join("trusted_root.json").is_file(), "{}", dir.display());
}

/// `verify` and `sign` stop quietly too, with the status their work earned.
#[test]
fn verify_and_sign_stop_quietly_on_a_closed_stdout() {
    let w = wheel();
    for json in [false, true] {
        let mut cmd = keyless_process();
        cmd.arg("verify")
            .arg(&w.artifact)
            .args(["--certificate-identity", WHEEL_IDENTITY])
            .args(["--certificate-oidc-issuer", WHEEL_ISSUER]);
        if json {
            cmd.arg("--json");
        }
        let r = run_with_closed_stdout(&mut cmd);
        assert_quiet(&format!("verify json={json}"), &r, 0);
    }

    let bed = Bed::start();
    let file = bed.write("pkg-1.0.tar.gz", "signed with stdout closed");
    let token = bed.gitlab_token(keyless_testbed::JwsAlg::RS256);
    let r = run_with_closed_stdout(
        keyless_process()
            .env("SIGSTORE_ID_TOKEN", &token)
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
            .arg("sign")
            .arg("--trust-config")
            .arg(bed.tb.trust_config_path())
            .arg(&file),
    );
    // sign names its signer on stderr; nothing about the pipe.
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(!r.stderr.contains("standard output"), "{}", r.stderr);
    assert!(bed.path("pkg-1.0.tar.gz.sigstore.json").is_file());
}

/// A stdout that cannot be written for another reason than a closed pipe
/// is an error, said on stderr: exit 2.
#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_is_an_error() {
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let r = crate::common::run_with_stdout(
        keyless_process().args(["completions", "bash"]),
        full().into(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("keyless: error: standard output: cannot write"),
        "{}",
        r.stderr
    );
}
