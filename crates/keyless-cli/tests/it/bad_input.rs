//! Bad input gets a clear error naming the file and exit status 2: never a
//! panic, a hang, or a verdict.

use crate::common::{WHEEL_IDENTITY, WHEEL_ISSUER, keyless, verify_identity, wheel};
use predicates::prelude::*;
use std::ffi::OsStr;
use std::path::Path;

const POLICY: [&str; 4] = [
    "--certificate-identity",
    "someone@example.com",
    "--certificate-oidc-issuer",
    "https://accounts.example.com",
];

/// Verify `artifact` against `bundle` and expect exit 2 with `message` and the
/// bundle's name on the FAIL line.
fn expect_input_error(artifact: &Path, bundle: &Path, message: &str) {
    expect_error_naming(artifact, bundle, bundle, message)
}

/// As [`expect_input_error`], with the FAIL line naming `culprit`.
fn expect_error_naming(artifact: &Path, bundle: &Path, culprit: &Path, message: &str) {
    let out = keyless()
        .arg("verify")
        .arg(artifact)
        .arg("--bundle")
        .arg(bundle)
        .args(POLICY)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stdout(predicate::str::starts_with("FAIL "))
        .stdout(predicate::str::contains(culprit.to_str().unwrap()))
        .stdout(predicate::str::contains(message))
        .stderr(predicate::str::contains("panicked").not());
    drop(out);
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let artifact = tmp.path().join("pkg-1.0.tar.gz");
    std::fs::write(&artifact, b"not really a tarball").unwrap();
    (tmp, artifact)
}

/// A bundle file `name` holding `contents`, for an artifact it does not
/// sign: exit 2 with `message` (see [`expect_input_error`]).
fn expect_bundle_error(name: &str, contents: impl AsRef<[u8]>, message: &str) {
    let (tmp, artifact) = setup();
    let b = tmp.path().join(name);
    std::fs::write(&b, contents).unwrap();
    expect_input_error(&artifact, &b, message);
}

#[test]
fn malformed_json() {
    expect_bundle_error(
        "malformed.sigstore.json",
        r#"{"mediaType": application/vnd.dev.sigstore.bundle.v0.3+json}"#,
        "not JSON",
    );
}

#[test]
fn truncated_json() {
    expect_bundle_error(
        "truncated.sigstore.json",
        r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verif"#,
        "truncated JSON",
    );
}

#[test]
fn truncated_real_bundle() {
    let w = wheel();
    let (tmp, _) = setup();
    let text = std::fs::read(&w.bundle).unwrap();
    let b = tmp.path().join("cut.sigstore.json");
    std::fs::write(&b, &text[..text.len() / 2]).unwrap();
    expect_input_error(&w.artifact, &b, "truncated JSON");
}

#[test]
fn binary_garbage() {
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    expect_bundle_error("garbage.sigstore.json", bytes, "not UTF-8");
}

#[test]
fn unknown_media_type() {
    expect_bundle_error(
        "future.sigstore.json",
        r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.9+json"}"#,
        "unsupported bundle media type",
    );
}

#[test]
fn a_bundle_of_the_wrong_shape() {
    expect_bundle_error(
        "shape.sigstore.json",
        r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": 7}"#,
        "not a valid Sigstore bundle",
    );
}

#[test]
fn a_2_gib_bundle_is_refused_before_reading() {
    let (tmp, artifact) = setup();
    let b = tmp.path().join("huge.sigstore.json");
    // Sparse: costs no disk, and would take seconds to read if we tried.
    std::fs::File::create(&b).unwrap().set_len(2 << 30).unwrap();
    expect_input_error(&artifact, &b, "larger than the 33554432-byte limit");
}

#[test]
fn a_directory_as_bundle() {
    let (tmp, artifact) = setup();
    let b = tmp.path().join("bundle-dir");
    std::fs::create_dir(&b).unwrap();
    expect_input_error(&artifact, &b, "is a directory");
}

#[test]
fn a_missing_bundle_names_the_default_path() {
    let (_tmp, artifact) = setup();
    keyless()
        .arg("verify")
        .arg(&artifact)
        .args(POLICY)
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "pkg-1.0.tar.gz.sigstore.json: cannot read",
        ))
        .stderr(predicate::str::contains("hint:"));
}

#[test]
fn a_missing_artifact() {
    let w = wheel();
    let (tmp, _) = setup();
    let missing = tmp.path().join("gone.whl");
    expect_error_naming(&missing, &w.bundle, &missing, "cannot read");
}

#[test]
fn a_digest_input_verifies_with_bundle() {
    let w = wheel();
    let digest = sigstore_crypto::sha256(&std::fs::read(&w.artifact).unwrap()).to_hex();
    let verify = |input: &str| {
        let args: [&OsStr; 3] = [input.as_ref(), "--bundle".as_ref(), w.bundle.as_os_str()];
        verify_identity(&args, None, WHEEL_IDENTITY, WHEEL_ISSUER)
    };
    let (code, report) = verify(&format!("sha256:{digest}"));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["results"][0]["sha256"], digest.as_str());

    // Another digest must not verify.
    let (code, report) = verify(&format!("sha256:{}", "ab".repeat(32)));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["results"][0]["failed_step"], "artifact");
}

#[test]
fn a_digest_input_needs_a_bundle() {
    let input = format!("sha256:{}", "ab".repeat(32));
    keyless()
        .args(["verify", &input])
        .args(POLICY)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("needs --bundle"));
}

#[test]
fn a_malformed_digest_is_a_usage_error() {
    keyless()
        .args(["verify", "sha256:abc"])
        .args(POLICY)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("sha256:<64 hex digits>"));
}

#[test]
fn several_inputs_each_get_a_line_and_errors_win_the_exit_code() {
    let w = wheel();
    let (tmp, artifact) = setup();
    // A copy of the wheel next to its bundle (found by the default name), a
    // file with no bundle, and the original again.
    let copy = tmp.path().join("bundle_v3_github.whl");
    std::fs::copy(&w.artifact, &copy).unwrap();
    std::fs::copy(&w.bundle, tmp.path().join("bundle_v3_github.whl.sigstore")).unwrap();
    let out = keyless()
        .arg("verify")
        .arg(&copy)
        .arg(&artifact)
        .arg(&w.artifact)
        .args(["--certificate-identity", WHEEL_IDENTITY])
        .args(["--certificate-oidc-issuer", WHEEL_ISSUER])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("OK   ")
            && lines[0].contains("Rekor #79605083 at 2024-03-19T22:41:16Z"),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("FAIL ") && lines[1].contains("pkg-1.0.tar.gz"),
        "{stdout}"
    );
    assert!(lines[2].starts_with("OK   "), "{stdout}");
}

#[test]
fn a_verification_failure_among_successes_exits_1() {
    let w = wheel();
    keyless()
        .arg("verify")
        .arg(&w.artifact)
        .arg(&w.artifact)
        .args(["--certificate-identity", "someone-else"])
        .args(["--certificate-oidc-issuer", WHEEL_ISSUER])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL").count(2));
}
