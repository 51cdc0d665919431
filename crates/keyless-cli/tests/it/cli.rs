//! CLI behaviour pinned by snapshots (tests/cmd/*.toml; regenerate with
//! TRYCMD=overwrite): help, usage errors and exit statuses.

use crate::common::keyless;
use predicates::prelude::*;

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new()
        .register_bin("keyless", trycmd::cargo::cargo_bin!("keyless"))
        .case("tests/cmd/*.toml");
}

#[test]
fn completions_cover_verify_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        keyless()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("certificate-identity"))
            .stdout(predicate::str::contains("trusted-root"));
    }
}

/// Subcommands define their arguments lazily when parsing; completions
/// still see the whole tree, down to `keyless help rekor get`.
#[test]
fn completions_reach_nested_subcommands_and_their_help() {
    let out = keyless().args(["completions", "bash"]).output().unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    for nested in [
        "keyless__subcmd__rekor__subcmd__log__subcmd__info",
        "keyless__subcmd__verify__subcmd__gitlab",
        "keyless__subcmd__help__subcmd__rekor__subcmd__get",
        "keyless__subcmd__help__subcmd__trust__subcmd__update",
    ] {
        assert!(script.contains(nested), "{nested} missing");
    }
    assert!(script.contains("--certificate-identity"));
}

#[test]
fn verify_help_documents_every_flag() {
    let out = keyless().args(["verify", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--bundle",
        "--certificate-identity ",
        "--certificate-identity-regexp",
        "--certificate-oidc-issuer ",
        "--certificate-oidc-issuer-regexp",
        "--key",
        "--staging",
        "--trusted-root",
        "--trust-config",
        "--json",
    ] {
        assert!(help.contains(flag), "verify --help lacks {flag}:\n{help}");
    }
}
