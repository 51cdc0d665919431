//! `keyless sign --attestations`: a PyPI release's bundles and PEP 740
//! attestations from one run, under one certificate, each verified before
//! it is written; attestations keep `attest`'s Rekor v1 constraint.

use super::{SAN, setup};
use crate::common::bed::GITLAB;
use crate::common::{bundle_certificate_der, keyless, read_json, run, unb64};
use keyless_testbed::faults::Endpoint;

#[test]
fn bundles_and_attestations_under_one_certificate() {
    let s = setup();
    let names = ["hello_py-1.0-py3-none-any.whl", "hello_py-1.0.tar.gz"];
    let files: Vec<_> = names.iter().map(|n| s.add(n)).collect();
    let dist = s.dist();
    let r = s.sign(
        "trust_config.json",
        &[
            dist.as_os_str(),
            "--attestations".as_ref(),
            "--json".as_ref(),
        ],
    );
    r.assert_code(0);
    assert_eq!(
        s.tb.requests(Endpoint::Fulcio),
        1,
        "one certificate for bundles and attestations"
    );
    let summary = r.json();
    assert_eq!(summary["services"]["rekor_version"], 1);
    for f in summary["files"].as_array().unwrap() {
        assert_eq!(f["ok"], true, "{f}");
        assert!(
            f["attestation"]
                .as_str()
                .unwrap()
                .ends_with(".publish.attestation"),
            "{f}"
        );
        assert_ne!(
            f["attestation_log_index"], f["log_index"],
            "two entries: {f}"
        );
        assert!(f["attestation_log_index"].is_u64(), "{f}");
    }
    assert_eq!(
        s.outputs(),
        [
            "hello_py-1.0-py3-none-any.whl.sigstore.json",
            "hello_py-1.0.tar.gz.sigstore.json"
        ]
    );

    // Both outputs verify with keyless verify: the bundle ...
    let (code, report) = s.verify("trust_config.json", &files, SAN);
    assert_eq!(code, 0, "{report:#}");
    // ... and the attestation, and both carry the same certificate.
    for file in &files {
        let attestation =
            std::path::PathBuf::from(format!("{}.publish.attestation", file.display()));
        let r = run(keyless()
            .arg("verify")
            .arg(file)
            .arg("--attestation")
            .arg(&attestation)
            .arg("--trust-config")
            .arg(s.tb.trust_config_path())
            .args([
                "--certificate-identity",
                SAN,
                "--certificate-oidc-issuer",
                GITLAB,
            ]));
        r.assert_code(0);
        let att = read_json(&attestation);
        let bundle = read_json(&std::path::PathBuf::from(format!(
            "{}.sigstore.json",
            file.display()
        )));
        assert_eq!(
            unb64(
                att["verification_material"]["certificate"]
                    .as_str()
                    .unwrap()
            ),
            bundle_certificate_der(&bundle),
            "{}",
            file.display()
        );
    }

    // The attestation is an output like the others: kept unless --overwrite.
    std::fs::remove_file(s.dist().join("hello_py-1.0.tar.gz.sigstore.json")).unwrap();
    let r = s.sign(
        "trust_config.json",
        &[files[1].as_os_str(), "--attestations".as_ref()],
    );
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("hello_py-1.0.tar.gz.publish.attestation already exists"),
        "{}",
        r.stderr
    );
}

#[test]
fn attestations_need_rekor_v1_and_say_why() {
    let s = setup();
    let f = s.add("hello_py-1.0.tar.gz");
    let r = s.sign(
        "trust_config_v2.json",
        &[
            f.as_os_str(),
            "--attestations".as_ref(),
            "--rekor-version".as_ref(),
            "2".as_ref(),
        ],
    );
    r.assert_code(2);
    assert!(
        r.stderr.contains("PEP 740 attestations need Rekor v1")
            && r.stderr.contains("RFC 3161 timestamp")
            && r.stderr.contains("--rekor-version 1"),
        "{}",
        r.stderr
    );
    assert_eq!(
        s.tb.requests(Endpoint::Fulcio),
        0,
        "refused before any request"
    );
    assert!(s.outputs().is_empty(), "{:?}", s.outputs());
    assert!(
        !s.dist()
            .join("hello_py-1.0.tar.gz.publish.attestation")
            .exists()
    );

    // Without --rekor-version, attestations ask for v1: a config listing
    // only a v2 log says so, and a v1 log named with --rekor-url is used.
    let r = s.sign(
        "trust_config_v2.json",
        &[f.as_os_str(), "--attestations".as_ref()],
    );
    r.assert_code(2);
    assert!(
        r.stderr.contains("no Rekor v1") && r.stderr.contains("--rekor-url"),
        "{}",
        r.stderr
    );
    let r = s.sign(
        "trust_config_v2.json",
        &[
            f.as_os_str(),
            "--attestations".as_ref(),
            "--rekor-url".as_ref(),
            s.tb.url().as_ref(),
            "--json".as_ref(),
        ],
    );
    r.assert_code(0);
    assert_eq!(r.json()["services"]["rekor_version"], 1);
    assert_eq!(s.tb.requests(Endpoint::Fulcio), 1);
}
