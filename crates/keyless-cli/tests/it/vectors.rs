//! Every case of the real sigstore-python vectors reaches its expected
//! outcome through the CLI, and fails at the step we expect.

use crate::common::{read_json, vectors, verify_json};
use std::ffi::OsStr;

/// The step each failing vector must stop at, or `None` for exit 2 (no
/// verdict: the file is not a bundle keyless can read).
fn expected_step(bundle: &str) -> Option<&'static str> {
    match bundle {
        // Production root: the staging TSA's token is not trusted, and a
        // Rekor v2 entry has no integrated time to fall back on.
        "a.dsse.staging-rekor-v2.txt.sigstore.json" => Some("timestamp"),
        // CVE-2022-36056: the log entry is for another artifact, under a log
        // key that was not valid at its claimed integration time.
        "bundle_cve_2022_36056.txt.sigstore" => Some("SET"),
        "bundle_invalid_version.txt.sigstore" => None,
        "bundle_no_cert_v1.txt.sigstore" => Some("checkpoint"),
        "bundle_no_checkpoint.txt.sigstore" => Some("checkpoint"),
        "bundle_no_log_entry.txt.sigstore" => Some("log entry"),
        "bundle_v3_no_signed_time.txt.sigstore.json" => Some("signing time"),
        "tsa/bundle.duplicate.sigstore" => Some("timestamp"),
        "tsa/bundle.many_timestamp.sigstore" => Some("timestamp"),
        "tsa/bundle.txt.late_timestamp.sigstore" => Some("certificate"),
        other => panic!("no expected step recorded for failing vector {other}"),
    }
}

#[test]
fn sigstore_python_vectors_reach_expected_outcomes() {
    let dir = vectors("sigstore-python");
    let cases: Vec<serde_json::Value> =
        serde_json::from_value(read_json(&dir.join("expected.json"))).unwrap();
    assert!(cases.len() >= 17, "expected.json has {} cases", cases.len());
    let (mut ok, mut failed) = (0, 0);
    for case in &cases {
        let field = |k: &str| case[k].as_str().map(str::to_string);
        let bundle = field("bundle").unwrap();
        let artifact = dir.join(field("artifact").unwrap());
        let bundle_path = dir.join(&bundle);
        let mut args: Vec<std::ffi::OsString> =
            vec![artifact.into(), "--bundle".into(), bundle_path.into()];
        if bundle.starts_with("tsa/") {
            args.push("--trust-config".into());
            args.push(dir.join("tsa/trust_config.json").into());
        } else if field("instance").as_deref() == Some("staging") {
            args.push("--staging".into());
        }
        match (field("identity"), field("issuer")) {
            (Some(id), Some(iss)) => {
                args.extend(["--certificate-identity".into(), id.into()]);
                args.extend(["--certificate-oidc-issuer".into(), iss.into()]);
            }
            _ => {
                // No identity recorded: the bundle must fail before identity
                // matters, so accept any identity to prove it.
                args.extend(["--certificate-identity-regexp".into(), ".*".into()]);
                args.extend(["--certificate-oidc-issuer-regexp".into(), ".*".into()]);
            }
        }
        let refs: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (code, report) = verify_json(&refs);
        let result = &report["results"][0];
        match field("expect").as_deref() {
            Some("ok") => {
                assert_eq!(code, 0, "{bundle} must verify: {report:#}");
                assert_eq!(result["identity"], case["identity"], "{bundle}");
                assert_eq!(result["issuer"], case["issuer"], "{bundle}");
                assert!(result["log_index"].is_u64(), "{bundle}: {result}");
                ok += 1;
            }
            Some("fail") => {
                assert_eq!(result["ok"], false, "{bundle} must fail: {report:#}");
                match expected_step(&bundle) {
                    Some(step) => {
                        assert_eq!(code, 1, "{bundle}: {report:#}");
                        assert_eq!(result["failed_step"], step, "{bundle}: {report:#}");
                    }
                    None => {
                        assert_eq!(code, 2, "{bundle}: {report:#}");
                        assert_eq!(result["failed_step"], "input", "{bundle}");
                    }
                }
                failed += 1;
            }
            other => panic!("{bundle}: unknown expectation {other:?}"),
        }
    }
    assert!(ok >= 7 && failed >= 10, "ok {ok}, failed {failed}");
}

/// The bundle in `tsa/bundle.txt.sigstore` carries two RFC 3161 tokens, one
/// of which does not cover this signature. sigstore-verify 0.15.1 rejects the
/// whole bundle for it; keyless sets the bad token aside (as sigstore-python
/// and sigstore-go do) and still requires a verified time. This test shows
/// both halves: the bundle verifies, and the bad token alone does not.
#[test]
fn an_invalid_timestamp_is_set_aside_but_never_counted() {
    let dir = vectors("sigstore-python");
    let text = std::fs::read_to_string(dir.join("tsa/bundle.txt.sigstore")).unwrap();
    let bundle = sigstore_types::Bundle::from_json(&text).unwrap();
    let trust_path = dir.join("tsa/trust_config.json");
    let trust = keyless::trust::TrustMaterial::load(&keyless::trust::TrustSource::TrustConfigFile(
        trust_path.clone(),
    ))
    .unwrap();
    // The defect, shown directly against the crate.
    let raw = sigstore_verify::Verifier::new(&trust.trusted_root).unwrap();
    let artifact = std::fs::read(dir.join("tsa/bundle.txt")).unwrap();
    let err = raw
        .verify(
            artifact.as_slice(),
            &bundle,
            &sigstore_verify::VerificationPolicy::any_identity(),
        )
        .expect_err("sigstore-verify 0.15.1 rejects a bundle with one bad timestamp");
    assert!(err.to_string().contains("timestamp"), "{err}");

    // keyless accepts it, on the strength of the SET-verified integrated time.
    let artifact_path = dir.join("tsa/bundle.txt");
    let bundle_path = dir.join("tsa/bundle.txt.sigstore");
    let args: [&OsStr; 9] = [
        artifact_path.as_os_str(),
        "--bundle".as_ref(),
        bundle_path.as_os_str(),
        "--trust-config".as_ref(),
        trust_path.as_os_str(),
        "--certificate-identity".as_ref(),
        "alexis.challande@trailofbits.com".as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        "https://accounts.google.com".as_ref(),
    ];
    let (code, report) = verify_json(&args);
    assert_eq!(code, 0, "{report:#}");
    // Only one verified time: the integrated time. The bad token is not one.
    assert_eq!(
        report["results"][0]["timestamps"].as_array().unwrap().len(),
        1
    );

    // Each token alone, without the SET: only one signed by a trusted TSA
    // over this signature yields a verified time. `tsa/ca.json` is the TSA
    // that signed the good token (its leaf serial 2E4D...; trust_config.json
    // lists another test TSA), so a root with it added must accept that
    // token, and the other token must still fail.
    let mut root = read_json(&trust_path);
    let ca = read_json(&dir.join("tsa/ca.json"));
    let mut root = root["trustedRoot"].take();
    root["timestampAuthorities"] = serde_json::json!([ca]);
    let tmp = tempfile::tempdir().unwrap();
    let root_path = tmp.path().join("trusted_root.json");
    std::fs::write(&root_path, root.to_string()).unwrap();

    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .unwrap()
        .remove("inclusionPromise");
    let tokens = doc["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .unwrap()
        .clone();
    let mut outcomes = Vec::new();
    for token in tokens {
        doc["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] =
            serde_json::json!([token]);
        let path = tmp.path().join("one-token.sigstore.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        let args: [&OsStr; 9] = [
            artifact_path.as_os_str(),
            "--bundle".as_ref(),
            path.as_os_str(),
            "--trusted-root".as_ref(),
            root_path.as_os_str(),
            "--certificate-identity-regexp".as_ref(),
            ".*".as_ref(),
            "--certificate-oidc-issuer-regexp".as_ref(),
            ".*".as_ref(),
        ];
        let (code, report) = verify_json(&args);
        let result = &report["results"][0];
        outcomes.push((
            code,
            result["failed_step"].clone(),
            result["timestamps"].clone(),
        ));
    }
    assert_eq!(outcomes.len(), 2);
    assert_eq!(
        outcomes[0].0, 0,
        "the good token alone verifies: {outcomes:?}"
    );
    assert_eq!(outcomes[0].2.as_array().unwrap().len(), 1);
    assert_eq!(outcomes[1].0, 1, "the bad token alone fails: {outcomes:?}");
    assert_eq!(outcomes[1].1, "timestamp");
}

/// A DSSE envelope logged in Rekor v2 (hashedrekord-free, no SET) with an
/// RFC 3161 timestamp: the in-toto subject is `a.txt`, which the vectors do
/// not ship, so it is verified by its subject digest. The shipped text file
/// is a different artifact and must fail at the artifact step.
#[test]
fn dsse_on_rekor_v2_verifies_by_subject_digest() {
    let dir = vectors("sigstore-python");
    let bundle = dir.join("a.dsse.staging-rekor-v2.txt.sigstore.json");
    let digest = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
    let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let policy: [&OsStr; 5] = [
        "--staging".as_ref(),
        "--certificate-identity".as_ref(),
        identity.as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        "https://token.actions.githubusercontent.com".as_ref(),
    ];
    let mut args: Vec<&OsStr> = vec![digest.as_ref(), "--bundle".as_ref(), bundle.as_os_str()];
    args.extend(policy);
    let (code, report) = verify_json(&args);
    let r = &report["results"][0];
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(r["log_index"], 4026478);
    // Rekor v2 has no integrated time: the only verified time is the TSA's.
    assert!(r["integrated_time"].is_null(), "{r}");
    assert_eq!(r["timestamps"].as_array().unwrap().len(), 1, "{r}");

    let other = dir.join("a.dsse.staging-rekor-v2.txt");
    args[0] = other.as_os_str();
    let (code, report) = verify_json(&args);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["results"][0]["failed_step"], "artifact");
}
