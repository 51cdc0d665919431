//! Leniency beyond the peers (issue 11, item 9): what sigstore-python (and
//! sigstore-go) refuse, keyless refuses too. Each mutant of a testbed
//! bundle is checked with keyless and with sigstore-python; SECURITY.md
//! ("How strictly bundles are read") gives the reasons.

use crate::common::bed::{Bed, GITLAB, TAG_SAN, tag_v1_0};
use crate::common::peers::sigstore_python_verify;
use crate::common::{read_json, verify_identity};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::Path;

type Mutation = (&'static str, fn(&mut Value));

const MUTATIONS: &[Mutation] = &[
    ("an unknown top-level field", |d| {
        d["unknownField"] = Value::from(1);
    }),
    ("an unknown field in a log entry", |d| {
        d["verificationMaterial"]["tlogEntries"][0]["unknownField"] = Value::from("x");
    }),
    ("the digest algorithm spelled sha2_256", |d| {
        d["messageSignature"]["messageDigest"]["algorithm"] = Value::from("sha2_256");
    }),
    ("a v0.3 bundle relabelled v0.1", |d| {
        d["mediaType"] = Value::from("application/vnd.dev.sigstore.bundle+json;version=0.1");
    }),
    ("a certificate chain under the v0.3 label", |d| {
        let material = d["verificationMaterial"].as_object_mut().unwrap();
        let cert = material.remove("certificate").unwrap();
        material.insert(
            "x509CertificateChain".into(),
            serde_json::json!({ "certificates": [cert] }),
        );
    }),
];

#[test]
fn what_sigstore_python_refuses_keyless_refuses() {
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), keyless_testbed::JwsAlg::RS256);
    for (trust, extra) in [
        ("trust_config.json", &[][..]),
        ("trust_config_v2.json", &["--rekor-version", "2"][..]),
    ] {
        let trust = bed.state_file(trust);
        let artifact = bed.write("pkg-1.0.tar.gz", trust.display().to_string());
        let signed = bed.path("pkg-1.0.tar.gz.sigstore.json");
        let _ = std::fs::remove_file(&signed);
        let mut args: Vec<&OsStr> = vec![artifact.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        bed.keyless_sign(&token, &trust, &args).assert_code(0);
        let original = read_json(&signed);
        let (accepted, out) =
            sigstore_python_verify(&trust, std::slice::from_ref(&artifact), TAG_SAN, GITLAB);
        assert!(accepted, "sigstore-python refuses the original: {out}");
        for (name, mutate) in MUTATIONS {
            let mut doc = original.clone();
            mutate(&mut doc);
            std::fs::write(&signed, doc.to_string()).unwrap();
            let (code, report) = verify(&artifact, &signed, &trust);
            assert_eq!(
                code, 2,
                "{name}: keyless must refuse the bundle: {report:#}"
            );
            assert!(
                report["results"][0]["reason"]
                    .as_str()
                    .is_some_and(|e| e.contains("not a valid Sigstore bundle")),
                "{name}: {report:#}"
            );
            let (accepted, out) =
                sigstore_python_verify(&trust, std::slice::from_ref(&artifact), TAG_SAN, GITLAB);
            assert!(!accepted, "{name}: sigstore-python accepts it: {out}");
        }
    }
}

fn verify(artifact: &Path, bundle: &Path, trust: &Path) -> (i32, Value) {
    let args: [&OsStr; 3] = [
        artifact.as_os_str(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
    ];
    verify_identity(&args, Some(trust), TAG_SAN, GITLAB)
}

/// A Rekor v2 bundle's only signing time is its RFC 3161 timestamp: with
/// the TSA certificate embedded in the token corrupted, sigstore-tsa still
/// verifies it (lib: `verify/timestamp.rs`), sigstore-go and sigstore-python
/// refuse it, and keyless does not count it, so the bundle fails.
#[test]
fn a_corrupted_tsa_certificate_in_a_rekor_v2_timestamp_is_not_counted() {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as B64;
    let dir = crate::common::vectors("sigstore-python");
    let mut doc = read_json(&dir.join("staging-rekor-v2.txt.sigstore.json"));
    let ts = &mut doc["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"];
    let mut raw = B64.decode(ts.as_str().unwrap()).unwrap();
    // The token's certificates: [0] IMPLICIT after the encapsulated TSTInfo;
    // the last bytes of its first certificate are its signature.
    let at = raw
        .windows(2)
        .skip(100)
        .position(|w| w == [0xa0, 0x82])
        .unwrap()
        + 100;
    let cert = at + 4;
    let len = u16::from_be_bytes([raw[cert + 2], raw[cert + 3]]) as usize + 4;
    raw[cert + len - 5] ^= 1;
    *ts = Value::from(B64.encode(raw));
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("b.sigstore.json");
    std::fs::write(&bundle, doc.to_string()).unwrap();
    let artifact = dir.join("staging-rekor-v2.txt");
    let args: [&OsStr; 4] = [
        artifact.as_os_str(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
        "--staging".as_ref(),
    ];
    let (code, report) =
        verify_identity(&args, None, "jku@goto.fi", "https://github.com/login/oauth");
    let r = &report["results"][0];
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(r["failed_step"], "timestamp", "{report:#}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("not one of the trusted TSA's"),
        "{report:#}"
    );
}
