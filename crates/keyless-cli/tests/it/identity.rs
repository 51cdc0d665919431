//! The identity policy: exact and anchored-regexp matching of SAN and issuer.

use crate::common::{WHEEL_IDENTITY, WHEEL_ISSUER, verify_json, wheel};
use std::ffi::OsStr;

fn verify_with(policy: &[&str]) -> (i32, serde_json::Value) {
    let w = wheel();
    let mut args: Vec<&OsStr> = vec![w.artifact.as_os_str()];
    args.extend(policy.iter().map(OsStr::new));
    let (code, report) = verify_json(&args);
    (code, report["results"][0].clone())
}

#[test]
fn the_right_identity_verifies_and_is_reported() {
    let (code, r) = verify_with(&[
        "--certificate-identity",
        WHEEL_IDENTITY,
        "--certificate-oidc-issuer",
        WHEEL_ISSUER,
    ]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["identity"], WHEEL_IDENTITY);
    assert_eq!(r["issuer"], WHEEL_ISSUER);
    assert_eq!(r["log_index"], 79605083);
    assert_eq!(r["integrated_time"], "2024-03-19T22:41:16Z");
    assert_eq!(r["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn wrong_identity_fails_at_identity() {
    let (code, r) = verify_with(&[
        "--certificate-identity",
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.3",
        "--certificate-oidc-issuer",
        WHEEL_ISSUER,
    ]);
    assert_eq!(code, 1);
    assert_eq!(r["failed_step"], "identity");
    assert!(r["reason"].as_str().unwrap().contains("v0.1.2"), "{r}");
}

#[test]
fn wrong_issuer_fails_at_identity() {
    let (code, r) = verify_with(&[
        "--certificate-identity",
        WHEEL_IDENTITY,
        "--certificate-oidc-issuer",
        "https://gitlab.com",
    ]);
    assert_eq!(code, 1);
    assert_eq!(r["failed_step"], "identity");
    assert!(r["reason"].as_str().unwrap().contains("issuer"), "{r}");
}

#[test]
fn a_regexp_matching_only_a_prefix_fails() {
    let (code, r) = verify_with(&[
        "--certificate-identity-regexp",
        "https://github.com/trailofbits/rfc8785.py/",
        "--certificate-oidc-issuer",
        WHEEL_ISSUER,
    ]);
    assert_eq!(code, 1, "an unanchored match must not be accepted: {r:#}");
    assert_eq!(r["failed_step"], "identity");
}

#[test]
fn an_issuer_regexp_matching_only_a_substring_fails() {
    let (code, r) = verify_with(&[
        "--certificate-identity",
        WHEEL_IDENTITY,
        "--certificate-oidc-issuer-regexp",
        "token.actions",
    ]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["failed_step"], "identity");
}

#[test]
fn a_regexp_matching_the_whole_identity_verifies() {
    let (code, r) = verify_with(&[
        "--certificate-identity-regexp",
        r"https://github\.com/trailofbits/rfc8785\.py/\.github/workflows/release\.yml@refs/tags/v.*",
        "--certificate-oidc-issuer-regexp",
        r"https://token\.actions\.githubusercontent\.com",
    ]);
    assert_eq!(code, 0, "{r:#}");
}

#[test]
fn the_wrong_trust_root_fails_at_the_first_log_check_and_names_the_instance() {
    // A production bundle against staging's root: the first check (the
    // SET, before any chain to a CA) finds no key for its log, and the hint
    // says where the bundle is from.
    let (code, r) = verify_with(&[
        "--staging",
        "--certificate-identity",
        WHEEL_IDENTITY,
        "--certificate-oidc-issuer",
        WHEEL_ISSUER,
    ]);
    assert_eq!(
        (code, &r["failed_step"]),
        (1, &serde_json::json!("SET")),
        "{r:#}"
    );
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.contains("No log key valid at integrated time 2024-03-19T22:41:16Z"),
        "{r:#}"
    );
    assert!(
        r["hint"]
            .as_str()
            .unwrap()
            .contains("public-good production instance"),
        "{r:#}"
    );
}

#[test]
fn a_managed_key_policy_refuses_a_certificate_bundle() {
    let w = wheel();
    let tmp = tempfile::tempdir().unwrap();
    let key = sigstore_crypto::KeyPair::generate_ecdsa_p256().unwrap();
    let pem = key.public_key_der().unwrap().to_pem();
    let key_path = tmp.path().join("cosign.pub");
    std::fs::write(&key_path, pem).unwrap();
    let args: [&OsStr; 3] = [
        w.artifact.as_os_str(),
        "--key".as_ref(),
        key_path.as_os_str(),
    ];
    let (code, report) = verify_json(&args);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["results"][0]["failed_step"], "bundle");
    assert!(
        report["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("certificate"),
        "{report:#}"
    );
}

#[test]
fn a_malformed_key_file_is_an_input_error() {
    let w = wheel();
    let tmp = tempfile::tempdir().unwrap();
    let key_path = tmp.path().join("cosign.pub");
    std::fs::write(
        &key_path,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    crate::common::keyless()
        .arg("verify")
        .arg(&w.artifact)
        .arg("--key")
        .arg(&key_path)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "cosign.pub: not a valid PEM public key",
        ));
}
