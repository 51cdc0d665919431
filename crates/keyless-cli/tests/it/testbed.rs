//! The testbed is a faithful Sigstore: the sigstore-rust signer (a peer that
//! passes the Sigstore conformance suite) signs against it, and keyless
//! verifies the result with the testbed's trust material.
//!
//! The testbed's own behaviour (HTTP endpoints, faults, certificates, state,
//! its `token` command) is tested in crates/keyless-testbed/tests.

use crate::common::verify_json;
use keyless_testbed::{JwsAlg, Testbed, TestbedOptions, TokenSpec};
use std::ffi::OsStr;
use std::path::Path;

const GITLAB_SAN: &str = "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/heads/main";

fn sign_with_sigstore_rust(tb: &Testbed, config: &Path, token: &str, data: &[u8]) -> String {
    crate::common::sign_with_sigstore_rust(config, token, data)
        .unwrap_or_else(|e| panic!("signing against {} failed: {e}", tb.url()))
}

fn verify(
    artifact: &Path,
    trust_config: &Path,
    identity: &str,
    issuer: &str,
) -> (i32, serde_json::Value) {
    let args: [&OsStr; 7] = [
        artifact.as_os_str(),
        "--trust-config".as_ref(),
        trust_config.as_os_str(),
        "--certificate-identity".as_ref(),
        identity.as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        issuer.as_ref(),
    ];
    let (code, report) = verify_json(&args);
    (code, report["results"][0].clone())
}

#[test]
fn sigstore_rust_signs_against_the_testbed_and_keyless_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    let token = tb.mint(&TokenSpec::gitlab("https://gitlab.com"), JwsAlg::RS256);

    for (config, trust, rekor) in [
        ("signing_config.json", "trust_config.json", "v1"),
        ("signing_config_v2.json", "trust_config_v2.json", "v2"),
    ] {
        let data = format!("release artifact for Rekor {rekor}");
        let json =
            sign_with_sigstore_rust(&tb, &tb.state_dir().join(config), &token, data.as_bytes());
        let artifact = dir.path().join(format!("pkg-{rekor}.tar.gz"));
        std::fs::write(&artifact, &data).unwrap();
        std::fs::write(
            dir.path().join(format!("pkg-{rekor}.tar.gz.sigstore.json")),
            &json,
        )
        .unwrap();
        let trust = tb.state_dir().join(trust);

        let (code, r) = verify(&artifact, &trust, GITLAB_SAN, "https://gitlab.com");
        assert_eq!(code, 0, "Rekor {rekor}: {r:#}");
        assert_eq!(r["identity"], GITLAB_SAN);
        if rekor == "v2" {
            assert!(r["integrated_time"].is_null(), "{r}");
        }
        // Every verified time comes from the testbed (SET and/or TSA).
        assert!(!r["timestamps"].as_array().unwrap().is_empty());

        let (code, r) = verify(&artifact, &trust, GITLAB_SAN, "https://gitlab.example.com");
        assert_eq!(
            (code, r["failed_step"].as_str()),
            (1, Some("identity")),
            "{r:#}"
        );

        // Not trusted by the public-good root.
        let args: [&OsStr; 5] = [
            artifact.as_os_str(),
            "--certificate-identity".as_ref(),
            GITLAB_SAN.as_ref(),
            "--certificate-oidc-issuer".as_ref(),
            "https://gitlab.com".as_ref(),
        ];
        let (code, _) = verify_json(&args);
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
    use keyless_testbed::faults::FaultRule;
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    let token = tb.mint(&TokenSpec::gitlab("https://gitlab.com"), JwsAlg::RS256);
    let trust = tb.trust_config_path();
    for (fault, step) in [
        ("fulcio=untrusted-sct", "SCT"),
        ("fulcio=expired-cert", "certificate"),
    ] {
        tb.clear_faults();
        tb.add_fault(fault.parse::<FaultRule>().unwrap());
        let signed = crate::common::sign_with_sigstore_rust(
            &tb.state_dir().join("signing_config.json"),
            &token,
            b"payload",
        );
        let Ok(bundle) = signed else {
            // Refusing to produce a bundle is also a correct outcome.
            continue;
        };
        let artifact = dir.path().join(format!("{step}.txt"));
        std::fs::write(&artifact, b"payload").unwrap();
        std::fs::write(dir.path().join(format!("{step}.txt.sigstore.json")), bundle).unwrap();
        let (code, r) = verify(&artifact, &trust, GITLAB_SAN, "https://gitlab.com");
        assert_eq!(code, 1, "{fault}: {r:#}");
        assert_eq!(r["failed_step"], step, "{fault}: {r:#}");
    }
}

/// Email identities: the testbed's own issuer, proof of possession over the
/// email (Fulcio's challenge claim for email issuers), an email SAN.
#[test]
fn email_identities_sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    let mut spec = TokenSpec::gitlab(tb.url());
    spec.kind = keyless_testbed::TokenKind::Email;
    spec.email = "maintainer@example.org".into();
    let token = tb.mint(&spec, JwsAlg::ES256);
    let json = sign_with_sigstore_rust(
        &tb,
        &tb.state_dir().join("signing_config.json"),
        &token,
        b"mail",
    );
    let artifact = dir.path().join("m.txt");
    std::fs::write(&artifact, b"mail").unwrap();
    std::fs::write(dir.path().join("m.txt.sigstore.json"), json).unwrap();
    let (code, r) = verify(
        &artifact,
        &tb.trust_config_path(),
        "maintainer@example.org",
        tb.url(),
    );
    assert_eq!(code, 0, "{r:#}");

    // The same email claim under a CI issuer is refused: issuers are bound
    // to one identity type.
    let mut spec = TokenSpec::gitlab("https://gitlab.com");
    spec.kind = keyless_testbed::TokenKind::Email;
    let token = tb.mint(&spec, JwsAlg::ES256);
    let err = crate::common::sign_with_sigstore_rust(
        &tb.state_dir().join("signing_config.json"),
        &token,
        b"x",
    )
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
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("OK   ")).count(),
        6,
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("FAIL ")).count(),
        1,
        "{stdout}"
    );
    assert!(
        dir.path()
            .join("dist/hello_py-1.0.tar.gz.sigstore.json")
            .is_file()
    );
}
