//! `keyless inspect`: claims of bundles, attestations and certificates,
//! never a verdict.

use crate::common::{bundle_certificate_der, keyless, read_json, run, vectors};
use predicates::prelude::*;
use std::path::Path;

/// `keyless inspect --json <path>`: (exit code, the parsed claims).
fn inspect_json(path: &Path) -> (i32, serde_json::Value) {
    let r = run(keyless().args(["inspect", "--json"]).arg(path));
    (r.code, r.json())
}

#[test]
fn the_real_gitlab_certificate_lists_all_fifteen_fulcio_extensions_by_name() {
    let dir = vectors("pypi-attestations");
    let att = dir.join("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation");
    let (code, i) = inspect_json(&att);
    assert_eq!(code, 0, "{i:#}");
    assert_eq!(i["verified"], false);
    assert_eq!(i["kind"], "attestation");
    let names: Vec<&str> = i["certificate"]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 15, "{names:?}");
    for name in [
        "Issuer",
        "Build Signer URI",
        "Build Signer Digest",
        "Runner Environment",
        "Source Repository URI",
        "Source Repository Digest",
        "Source Repository Ref",
        "Source Repository Identifier",
        "Source Repository Owner URI",
        "Source Repository Owner Identifier",
        "Build Config URI",
        "Build Config Digest",
        "Build Trigger",
        "Run Invocation URI",
        "Source Repository Visibility At Signing",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert_eq!(i["log_entries"][0]["log"], "https://rekor.sigstore.dev");
    assert_eq!(
        i["dsse_subjects"][0]["name"],
        "gitlab_oidc_project-0.0.3.tar.gz"
    );
    assert_eq!(
        i["predicate_type"],
        "https://docs.pypi.org/attestations/publish/v1"
    );
    keyless()
        .arg("inspect")
        .arg(&att)
        .assert()
        .success()
        .stdout(predicate::str::contains("NOT VERIFIED"))
        .stdout(predicate::str::contains(
            "Source Repository Ref                    refs/heads/main",
        ));
}

#[test]
fn bundles_and_certificates_in_pem_and_der() {
    let dir = vectors("sigstore-python");
    let bundle_path = dir.join("staging-rekor-v2.txt.sigstore.json");
    let (code, i) = inspect_json(&bundle_path);
    assert_eq!(code, 0, "{i:#}");
    assert_eq!(
        i["media_type"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(i["certificate"]["identity"], "jku@goto.fi");
    assert_eq!(i["log_entries"][0]["kind"], "hashedrekord 0.0.2");
    assert_eq!(
        i["log_entries"][0]["log"],
        "https://log2025-alpha1.rekor.sigstage.dev"
    );
    assert_eq!(i["rfc3161_timestamps"], 1);

    // The same certificate alone, as PEM and as DER.
    let der = bundle_certificate_der(&read_json(&bundle_path));
    let tmp = tempfile::tempdir().unwrap();
    let pem = sigstore_types::DerCertificate::new(der.clone()).to_pem();
    std::fs::write(tmp.path().join("c.pem"), pem).unwrap();
    std::fs::write(tmp.path().join("c.der"), &der).unwrap();
    for f in ["c.pem", "c.der"] {
        let (code, i) = inspect_json(&tmp.path().join(f));
        assert_eq!(code, 0, "{f}: {i:#}");
        assert_eq!(i["kind"], "certificate", "{f}");
        assert_eq!(i["certificate"]["identity"], "jku@goto.fi", "{f}");
    }
    std::fs::write(tmp.path().join("junk"), b"\x00\x01 junk").unwrap();
    keyless()
        .arg("inspect")
        .arg(tmp.path().join("junk"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "junk: not a valid bundle, PEP 740 attestation or certificate",
        ));
}

/// `inspect` of an endless input (/dev/zero, a FIFO fed forever) is refused
/// as too large after the 32 MiB cap, quickly, instead of reading until
/// memory runs out.
#[test]
fn inspect_of_an_endless_input_is_refused_as_too_large_in_bounded_time() {
    use std::io::Write;
    use std::time::{Duration, Instant};
    let check = |path: &Path| {
        let started = Instant::now();
        let r = run(keyless()
            .arg("inspect")
            .arg(path)
            .timeout(Duration::from_secs(60)));
        r.assert_code(2);
        assert!(
            r.stderr.contains("is larger than the 33554432-byte limit"),
            "{}",
            r.stderr
        );
        assert!(started.elapsed() < Duration::from_secs(60));
    };
    check(Path::new("/dev/zero"));

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("endless.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let writer_path = fifo.clone();
    std::thread::spawn(move || {
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open(writer_path)
            .unwrap();
        let chunk = vec![b'{'; 1 << 20];
        while w.write_all(&chunk).is_ok() {}
    });
    check(&fifo);

    // A sparse 2 GiB file is refused before a byte is read.
    let sparse = dir.path().join("sparse.json");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    check(&sparse);
}
