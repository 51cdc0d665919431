//! Errors keep their meaning: each names what went wrong, gets the hint
//! that fits its kind, and the exit status says whether a verdict was
//! reached. Every test here failed before the error types were made typed.

use crate::common::{keyless, vectors};
use keyless_testbed::{JwsAlg, Testbed, TestbedOptions, TokenSpec};
use std::path::Path;

/// `keyless <args>`: (exit code, stdout, stderr).
fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = keyless()
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().expect("exited normally"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `hint:` lines of stderr.
fn hints(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("hint: "))
        .collect()
}

const BUNDLE_HINT: &str = "a Sigstore bundle is a JSON document";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_bad_public_key_gets_a_public_key_hint() {
    let dir = tempfile::tempdir().unwrap();
    let key = write(dir.path(), "cosign.pub", "not a key");
    let artifact = write(dir.path(), "a.txt", "a");
    let (code, _, stderr) = run(&[
        "verify".as_ref(),
        artifact.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a valid PEM public key"), "{stderr}");
    let hints = hints(&stderr);
    assert_eq!(hints.len(), 1, "{stderr}");
    assert!(hints[0].contains("-----BEGIN PUBLIC KEY-----"), "{stderr}");
    assert!(!hints[0].contains(BUNDLE_HINT), "{stderr}");
}

#[test]
fn a_bad_trusted_root_gets_a_trust_hint() {
    let dir = tempfile::tempdir().unwrap();
    let root = write(dir.path(), "trusted_root.json", "{\"not\": \"a root\"}");
    let w = crate::common::wheel();
    let (code, _, stderr) = run(&[
        "verify".as_ref(),
        w.artifact.as_os_str(),
        "--trusted-root".as_ref(),
        root.as_os_str(),
        "--certificate-identity".as_ref(),
        crate::common::WHEEL_IDENTITY.as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        crate::common::WHEEL_ISSUER.as_ref(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a valid trusted root"), "{stderr}");
    let hints = hints(&stderr);
    assert_eq!(hints.len(), 1, "{stderr}");
    assert!(hints[0].contains("--trusted-root"), "{stderr}");
    assert!(!hints[0].contains(BUNDLE_HINT), "{stderr}");
}

#[test]
fn a_bad_detached_signature_gets_a_signature_hint() {
    let dir = tempfile::tempdir().unwrap();
    let sig = write(dir.path(), "a.sig", "%%% not base64 %%%");
    let crt = write(dir.path(), "a.crt", "not used");
    let w = crate::common::wheel();
    let (code, stdout, stderr) = run(&[
        "verify".as_ref(),
        w.artifact.as_os_str(),
        "--signature".as_ref(),
        sig.as_os_str(),
        "--certificate".as_ref(),
        crt.as_os_str(),
        "--rekor-url".as_ref(),
        "http://127.0.0.1:9".as_ref(),
        "--certificate-identity".as_ref(),
        crate::common::WHEEL_IDENTITY.as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        crate::common::WHEEL_ISSUER.as_ref(),
    ]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(stdout.contains("not a valid base64 signature"), "{stdout}");
    let hints = hints(&stderr);
    assert_eq!(hints.len(), 1, "{stderr}");
    assert!(hints[0].contains("base64 signature"), "{stderr}");
    assert!(!hints[0].contains(BUNDLE_HINT), "{stderr}");
}

/// A trust root that fails only once verification uses it (no CT log keys)
/// is no verdict about the bundle: exit 2, not a `bundle` failure.
#[test]
fn a_trust_root_unusable_during_verification_reaches_no_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let tsa = vectors("sigstore-python").join("tsa");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tsa.join("trust_config.json")).unwrap()).unwrap();
    let mut root = config["trustedRoot"].clone();
    root["ctlogs"] = serde_json::json!([]);
    let root_path = write(dir.path(), "no_ctlogs.json", &root.to_string());
    let (code, report) = crate::common::verify_json(&[
        tsa.join("bundle.txt").as_os_str(),
        "--bundle".as_ref(),
        tsa.join("bundle.txt.sigstore").as_os_str(),
        "--trusted-root".as_ref(),
        root_path.as_os_str(),
        "--certificate-identity-regexp".as_ref(),
        ".*".as_ref(),
        "--certificate-oidc-issuer-regexp".as_ref(),
        ".*".as_ref(),
    ]);
    let r = &report["results"][0];
    assert_eq!(code, 2, "{report:#}");
    assert_eq!(r["failed_step"], "input", "{report:#}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("unusable trust material"),
        "{report:#}"
    );
}

/// A Fulcio whose certificate does not verify against the trust root (an
/// SCT from an unknown CT log) is not a network problem.
#[test]
fn an_untrusted_fulcio_certificate_is_not_reported_as_a_network_error() {
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    tb.add_fault("fulcio=untrusted-sct".parse().unwrap());
    let file = write(dir.path(), "pkg-1.0.tar.gz", "pkg");
    let token = tb.mint(&TokenSpec::gitlab("https://gitlab.com"), JwsAlg::ES256);
    let out = keyless()
        .arg("sign")
        .arg("--trust-config")
        .arg(tb.trust_config_path())
        .arg(&file)
        .env("SIGSTORE_ID_TOKEN", token)
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("does not verify against the trust root"),
        "{stderr}"
    );
    let hints = hints(&stderr);
    assert_eq!(hints.len(), 1, "{stderr}");
    assert!(hints[0].contains("trust root"), "{stderr}");
    assert!(!hints[0].contains("network"), "{stderr}");
    assert!(!dir.path().join("pkg-1.0.tar.gz.sigstore.json").exists());
}

/// `rekor get --bundle-out` into a folder that does not exist: the write
/// fails, and says so.
#[test]
fn a_failed_bundle_export_is_a_write_error() {
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    let file = write(dir.path(), "pkg-1.0.tar.gz", "exported");
    let token = tb.mint(&TokenSpec::gitlab("https://gitlab.com"), JwsAlg::ES256);
    let out = keyless()
        .arg("sign")
        .arg("--trust-config")
        .arg(tb.trust_config_path())
        .arg("--json")
        .arg(&file)
        .env("SIGSTORE_ID_TOKEN", token)
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let index = summary["files"][0]["log_index"]
        .as_u64()
        .unwrap()
        .to_string();
    let target = dir.path().join("no-such-dir/exported.sigstore.json");
    let (code, _, stderr) = run(&[
        "rekor".as_ref(),
        "get".as_ref(),
        "--log-index".as_ref(),
        index.as_ref(),
        "--bundle-out".as_ref(),
        target.as_os_str(),
        "--trust-config".as_ref(),
        tb.trust_config_path().as_os_str(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert!(!stderr.contains("cannot read"), "{stderr}");
}
