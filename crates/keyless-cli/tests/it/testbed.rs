//! The testbed's bundles through `keyless verify`: the sigstore-rust signer
//! (a peer that passes the Sigstore conformance suite) signs against it and
//! keyless verifies the result with the testbed's trust material, refuses it
//! under the production root, and fails the bundles of a faulty Fulcio; email
//! identities; the `keyless-testbed demo` release flow, which runs `keyless`.
//!
//! The testbed's own behaviour (HTTP endpoints, faults, certificates, state,
//! its `token` command) is tested in crates/keyless-testbed/tests.

use crate::common::bed::{Bed, GITLAB, MAIN_SAN};
use crate::common::{count_lines_starting, verify_identity};
use keyless_testbed::{JwsAlg, TokenSpec};
use std::path::Path;

/// `keyless verify --json` of `artifact` (bundle next to it) under
/// `trust_config`: (exit code, the file's result).
fn verify(
    artifact: &Path,
    trust_config: &Path,
    identity: &str,
    issuer: &str,
) -> (i32, serde_json::Value) {
    let (code, report) = verify_identity(
        &[artifact.as_os_str()],
        Some(trust_config),
        identity,
        issuer,
    );
    (code, report["results"][0].clone())
}

#[test]
fn sigstore_rust_signs_against_the_testbed_and_keyless_verifies() {
    let bed = Bed::start();
    let token = bed.gitlab_token(JwsAlg::RS256);

    for (config, trust, rekor) in [
        ("signing_config.json", "trust_config.json", "v1"),
        ("signing_config_v2.json", "trust_config_v2.json", "v2"),
    ] {
        let data = format!("release artifact for Rekor {rekor}");
        let artifact = bed.sigstore_rust_file(
            config,
            &token,
            &format!("pkg-{rekor}.tar.gz"),
            data.as_bytes(),
        );
        let trust = bed.state_file(trust);

        let (code, r) = verify(&artifact, &trust, MAIN_SAN, GITLAB);
        assert_eq!(code, 0, "Rekor {rekor}: {r:#}");
        assert_eq!(r["identity"], MAIN_SAN);
        if rekor == "v2" {
            assert!(r["integrated_time"].is_null(), "{r}");
        }
        // Every verified time comes from the testbed (SET and/or TSA).
        assert!(!r["timestamps"].as_array().unwrap().is_empty());

        let (code, r) = verify(&artifact, &trust, MAIN_SAN, "https://gitlab.example.com");
        assert_eq!(
            (code, r["failed_step"].as_str()),
            (1, Some("identity")),
            "{r:#}"
        );

        // Not trusted by the public-good root.
        let (code, _) = verify_identity(&[artifact.as_os_str()], None, MAIN_SAN, GITLAB);
        assert_eq!(
            code, 1,
            "Rekor {rekor}: a testbed bundle must not verify against production"
        );
    }
}

/// A certificate with an SCT from a log the trust root does not know, and a
/// certificate that expired before it was issued, must not verify.
#[test]
fn fulcio_faults_produce_bundles_that_fail_verification() {
    let bed = Bed::start();
    let token = bed.gitlab_token(JwsAlg::RS256);
    let trust = bed.tb.trust_config_path();
    for (fault, step) in [
        ("fulcio=untrusted-sct", "SCT"),
        ("fulcio=expired-cert", "certificate"),
    ] {
        bed.tb.clear_faults();
        bed.fault(fault);
        let signed = bed.try_sigstore_rust_file(
            "signing_config.json",
            &token,
            &format!("{step}.txt"),
            b"payload",
        );
        // sigstore-rust's signer checks neither the SCT nor the chain, so it
        // hands back a bundle; should it learn to refuse, this test must be
        // rewritten rather than pass without checking anything.
        let artifact = signed.unwrap_or_else(|e| panic!("{fault}: the signer refused ({e})"));
        let (code, r) = verify(&artifact, &trust, MAIN_SAN, GITLAB);
        assert_eq!(code, 1, "{fault}: {r:#}");
        assert_eq!(r["failed_step"], step, "{fault}: {r:#}");
    }
}

/// Email identities: the testbed's own issuer, proof of possession over the
/// email (Fulcio's challenge claim for email issuers), an email SAN.
#[test]
fn email_identities_sign_and_verify() {
    let bed = Bed::start();
    let mut spec = TokenSpec::gitlab(bed.tb.url());
    spec.kind = keyless_testbed::TokenKind::Email;
    spec.email = "maintainer@example.org".into();
    let token = bed.tb.mint(&spec, JwsAlg::ES256);
    let artifact = bed.sigstore_rust_file("signing_config.json", &token, "m.txt", b"mail");
    let (code, r) = verify(
        &artifact,
        &bed.tb.trust_config_path(),
        "maintainer@example.org",
        bed.tb.url(),
    );
    assert_eq!(code, 0, "{r:#}");

    // The same email claim under a CI issuer is refused: issuers are bound
    // to one identity type.
    let mut spec = TokenSpec::gitlab(GITLAB);
    spec.kind = keyless_testbed::TokenKind::Email;
    let token = bed.tb.mint(&spec, JwsAlg::ES256);
    let err = bed
        .try_sigstore_rust_file("signing_config.json", &token, "x.txt", b"x")
        .unwrap_err();
    assert!(err.contains("401"), "{err}");
}

/// The README's main-flow command works (and keeps saying what it shows).
#[test]
fn the_demo_runs_the_release_flow_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    // The demo runs the `keyless` binary next to itself; make sure it is built.
    let _ = assert_cmd::cargo::cargo_bin("keyless");
    let out = assert_cmd::Command::cargo_bin("keyless-testbed")
        .unwrap()
        .args(["demo", "--dir"])
        .arg(dir.path())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count_lines_starting(&stdout, "OK   "), 6, "{stdout}");
    assert_eq!(count_lines_starting(&stdout, "FAIL "), 1, "{stdout}");
    assert!(
        dir.path()
            .join("dist/hello_py-1.0.tar.gz.sigstore.json")
            .is_file()
    );
}
