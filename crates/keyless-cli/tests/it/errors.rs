//! Errors keep their meaning: each names what went wrong, gets the hint
//! that fits its kind, and the exit status says whether a verdict was
//! reached. Every test here failed before the error types were made typed.

use crate::common::bed::Bed;
use crate::common::{WHEEL_IDENTITY, WHEEL_ISSUER, keyless, run, vectors, verify_json, wheel};
use keyless_testbed::JwsAlg;
use std::ffi::OsStr;

/// The one `hint:` line of stderr, which must not be the bundle hint (the
/// hint every malformed file used to get).
fn the_hint(stderr: &str) -> &str {
    let hints: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("hint: "))
        .collect();
    assert_eq!(hints.len(), 1, "{stderr}");
    assert!(
        !hints[0].contains("a Sigstore bundle is a JSON document"),
        "{stderr}"
    );
    hints[0]
}

/// `keyless verify <the wheel vector> <args> <its identity>`.
fn verify_wheel(args: &[&OsStr]) -> crate::common::Run {
    let w = wheel();
    run(keyless()
        .arg("verify")
        .arg(&w.artifact)
        .args(args)
        .args(["--certificate-identity", WHEEL_IDENTITY])
        .args(["--certificate-oidc-issuer", WHEEL_ISSUER]))
}

#[test]
fn a_bad_public_key_gets_a_public_key_hint() {
    let bed = Bed::start();
    let key = bed.write("cosign.pub", "not a key");
    let artifact = bed.write("a.txt", "a");
    let r = run(keyless()
        .arg("verify")
        .arg(&artifact)
        .arg("--key")
        .arg(&key));
    r.assert_code(2);
    assert!(
        r.stderr.contains("not a valid PEM public key"),
        "{}",
        r.stderr
    );
    assert!(the_hint(&r.stderr).contains("-----BEGIN PUBLIC KEY-----"));
}

#[test]
fn a_bad_trusted_root_gets_a_trust_hint() {
    let bed = Bed::start();
    let root = bed.write("trusted_root.json", "{\"not\": \"a root\"}");
    let r = verify_wheel(&["--trusted-root".as_ref(), root.as_os_str()]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("not a valid trusted root"),
        "{}",
        r.stderr
    );
    assert!(the_hint(&r.stderr).contains("--trusted-root"));
}

#[test]
fn a_bad_detached_signature_gets_a_signature_hint() {
    let bed = Bed::start();
    let sig = bed.write("a.sig", "%%% not base64 %%%");
    let crt = bed.write("a.crt", "not used");
    let r = verify_wheel(&[
        "--signature".as_ref(),
        sig.as_os_str(),
        "--certificate".as_ref(),
        crt.as_os_str(),
        "--rekor-url".as_ref(),
        "http://127.0.0.1:9".as_ref(),
    ]);
    r.assert_code(2);
    assert!(
        r.stdout.contains("not a valid base64 signature"),
        "{}",
        r.stdout
    );
    assert!(the_hint(&r.stderr).contains("base64 signature"));
}

/// A trust root that fails only once verification uses it (no CT log keys)
/// is no verdict about the bundle: exit 2, not a `bundle` failure.
#[test]
fn a_trust_root_unusable_during_verification_reaches_no_verdict() {
    let bed = Bed::start();
    let tsa = vectors("sigstore-python").join("tsa");
    let mut root = crate::common::read_json(&tsa.join("trust_config.json"))["trustedRoot"].clone();
    root["ctlogs"] = serde_json::json!([]);
    let root_path = bed.write("no_ctlogs.json", root.to_string());
    let (code, report) = verify_json(&[
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
    assert_eq!(
        (code, &r["failed_step"]),
        (2, &"input".into()),
        "{report:#}"
    );
    let reason = r["reason"].as_str().unwrap();
    assert!(reason.contains("unusable trust material"), "{report:#}");
}

/// A Fulcio whose certificate does not verify against the trust root (an
/// SCT from an unknown CT log) is not a network problem.
#[test]
fn an_untrusted_fulcio_certificate_is_not_reported_as_a_network_error() {
    let bed = Bed::start();
    bed.fault("fulcio=untrusted-sct");
    let file = bed.write("pkg-1.0.tar.gz", "pkg");
    let token = bed.gitlab_token(JwsAlg::ES256);
    let r = bed.keyless_sign(&token, &bed.tb.trust_config_path(), &[file.as_os_str()]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("does not verify against the trust root"),
        "{}",
        r.stderr
    );
    let hint = the_hint(&r.stderr);
    assert!(
        hint.contains("trust root") && !hint.contains("network"),
        "{hint}"
    );
    assert!(!bed.path("pkg-1.0.tar.gz.sigstore.json").exists());
}

/// `rekor get --bundle-out` into a folder that does not exist: the write
/// fails, and says so.
#[test]
fn a_failed_bundle_export_is_a_write_error() {
    let bed = Bed::start();
    let file = bed.write("pkg-1.0.tar.gz", "exported");
    let token = bed.gitlab_token(JwsAlg::ES256);
    let trust = bed.tb.trust_config_path();
    let signed = bed.keyless_sign(&token, &trust, &["--json".as_ref(), file.as_os_str()]);
    signed.assert_code(0);
    let index = signed.json()["files"][0]["log_index"].to_string();
    let target = bed.path("no-such-dir/exported.sigstore.json");
    let r = run(keyless()
        .args(["rekor", "get", "--log-index", &index, "--bundle-out"])
        .arg(&target)
        .arg("--trust-config")
        .arg(&trust));
    r.assert_code(2);
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
    assert!(!r.stderr.contains("cannot read"), "{}", r.stderr);
}

/// With `--json`, an error before any input is checked is still one JSON
/// document on stdout (as every command's `--json` errors are).
#[test]
fn a_json_run_that_stops_early_prints_a_json_error() {
    let bed = Bed::start();
    let root = bed.write("trusted_root.json", "not json");
    let r = verify_wheel(&[
        "--json".as_ref(),
        "--trusted-root".as_ref(),
        root.as_os_str(),
    ]);
    r.assert_code(2);
    let doc = r.json();
    assert_eq!(doc["ok"], false, "{doc:#}");
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("not a valid trusted root"),
        "{doc:#}"
    );
    assert!(
        doc["hint"].as_str().unwrap().contains("--trusted-root"),
        "{doc:#}"
    );
}
