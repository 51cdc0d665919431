//! `keyless rekor search`: a signed file's entry is found by its digest, by
//! the file, and by its signing certificate's key (and only it: each
//! `keyless sign` run has its own certificate); no match is 0 entries.

use super::{start, strs};
use crate::common::bundle_certificate_der;

#[test]
fn signed_entries_are_found_by_digest_file_and_signing_key() {
    let log = start();
    let signed = log.sign_one("pkg-1.0.tar.gz");
    let other = log.sign(&["pkg-1.1.tar.gz"]);
    let (index, digest, uuid) = (signed.index, &signed.digest, &signed.uuid);

    // Search by digest, by the file, and by the signing certificate's key.
    let cert = log.write(
        "signer.crt",
        sigstore_types::DerCertificate::new(bundle_certificate_der(&signed.bundle)).to_pem(),
    );
    for query in [
        vec!["--sha256", digest.as_str()],
        vec!["--artifact", signed.file.to_str().unwrap()],
    ] {
        let mut args = vec!["search"];
        args.extend(query);
        let r = log.rekor(&strs(&args), true);
        assert_eq!(r.code, 0, "{}", r.stdout);
        assert_eq!(r.json["total"], 1, "{}", r.json);
        let e = &r.json["entries"][0];
        assert_eq!(
            (e["ok"].as_bool(), e["uuid"].as_str()),
            (Some(true), Some(uuid.as_str()))
        );
        assert_eq!(e["log_index"], index);
        assert_eq!(e["digest"]["hex"], digest.as_str());
    }
    // Each `keyless sign` run has its own certificate: only this entry.
    let r = log.rekor(
        &strs(&["search", "--public-key", cert.to_str().unwrap()]),
        true,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let found: Vec<u64> = r.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["log_index"].as_u64().unwrap())
        .collect();
    assert_eq!(found, [index], "the second file had its own certificate");
    assert_ne!(other[0].0, index);
    // --junit: one case per entry fetched, valid against the JUnit schema.
    let report = log.path("search.xml");
    let r = log.rekor(
        &strs(&[
            "search",
            "--sha256",
            digest,
            "--junit",
            report.to_str().unwrap(),
        ]),
        false,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let doc = crate::common::peers::junit_report(&report);
    assert_eq!(doc["suite"]["tests"], 1);
    assert_eq!(doc["cases"][0]["name"], format!("#{index} {uuid}"));
    assert_eq!(doc["cases"][0]["classname"], "keyless rekor search");
    assert_eq!(doc["cases"][0]["verdict"], "passed");
    let r = log.rekor(&strs(&["search", "--sha256", &"00".repeat(32)]), false);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with("0 entries for sha256:00"),
        "{}",
        r.stdout
    );
}
