//! What a successful `keyless sign` writes: one certificate for a whole
//! `dist/`, bundles keyless and sigstore-python verify (Rekor v1, and v2
//! with a TSA), the JSON summary, legacy `.sig`/`.crt` outputs matching the
//! bundle, and one signature for a file named twice.

use super::{SAN, setup};
use crate::common::bed::GITLAB;
use crate::common::bundle_certificate_der;
use crate::common::peers::sigstore_python_verify;
use crate::common::read_json;
use keyless_testbed::faults::Endpoint;

#[test]
fn twenty_files_one_certificate_verified_by_keyless_and_sigstore_python() {
    let s = setup();
    let mut files = Vec::new();
    for i in 0..10 {
        files.push(s.add(&format!("hello_py-1.0.{i}-py3-none-any.whl")));
        files.push(s.add(&format!("hello_py-1.0.{i}.tar.gz")));
    }
    s.add("README.md"); // not selected from a directory
    files.sort();
    let dist = s.dist();
    let r = s.sign("trust_config.json", &[dist.as_os_str()]);
    r.assert_code(0);
    assert_eq!(r.lines_starting("OK   "), 20, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("GitLab project keyless-demo/hello-py at refs/tags/v1.0"),
        "{}",
        r.stderr
    );
    assert_eq!(
        s.tb.requests(Endpoint::Fulcio),
        1,
        "one certificate for the whole run"
    );
    assert!(!s.dist().join("README.md.sigstore.json").exists());

    let (code, report) = s.verify("trust_config.json", &files, SAN);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["results"].as_array().unwrap().len(), 20);
    let (code, _) = s.verify(
        "trust_config.json",
        &files[..1],
        "https://gitlab.com/other/project//.gitlab-ci.yml@refs/tags/v1.0",
    );
    assert_eq!(code, 1);

    let (ok, out) = sigstore_python_verify(&s.tb.trust_config_path(), &files, SAN, GITLAB);
    assert!(ok, "sigstore-python rejects keyless bundles:\n{out}");
}

#[test]
fn rekor_v2_with_a_tsa_and_json_summary() {
    let s = setup();
    let a = s.add("pkg-2.0.tar.gz");
    let b = s.add("pkg-2.0-py3-none-any.whl");
    let dist = s.dist();
    let r = s.sign(
        "trust_config_v2.json",
        &[
            dist.as_os_str(),
            "--rekor-version".as_ref(),
            "2".as_ref(),
            "--json".as_ref(),
        ],
    );
    r.assert_code(0);
    let summary = r.json();
    assert_eq!(summary["services"]["rekor_version"], 2);
    assert_eq!(summary["identity"], SAN);
    for f in summary["files"].as_array().unwrap() {
        assert_eq!(f["ok"], true);
        assert!(f["integrated_time"].is_null(), "Rekor v2 has none: {f}");
        assert_eq!(
            f["timestamps"].as_array().unwrap().len(),
            1,
            "the TSA's: {f}"
        );
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    }
    let files = vec![a, b];
    let (code, report) = s.verify("trust_config_v2.json", &files, SAN);
    assert_eq!(code, 0, "{report:#}");
    let (ok, out) = sigstore_python_verify(&s.tb.trust_config_v2_path(), &files, SAN, GITLAB);
    assert!(
        ok,
        "sigstore-python rejects keyless Rekor v2 bundles:\n{out}"
    );
}

#[test]
fn legacy_outputs_match_the_bundle() {
    let s = setup();
    let f = s.add("tool-0.1.tar.gz");
    s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--legacy-outputs".as_ref()],
    )
    .assert_code(0);
    let bundle = read_json(&s.dist().join("tool-0.1.tar.gz.sigstore.json"));
    let sig = std::fs::read_to_string(s.dist().join("tool-0.1.tar.gz.sig")).unwrap();
    assert_eq!(
        sig,
        bundle["messageSignature"]["signature"].as_str().unwrap()
    );
    let crt = std::fs::read_to_string(s.dist().join("tool-0.1.tar.gz.crt")).unwrap();
    let der = sigstore_types::DerCertificate::from_pem(&crt).unwrap();
    assert_eq!(der.as_bytes(), bundle_certificate_der(&bundle));
}

#[test]
fn a_file_named_twice_is_signed_once() {
    let s = setup();
    let f = s.add("pkg-1.0-py3-none-any.whl");
    let dist = s.dist();
    let dotted = s.dist().join(".").join("pkg-1.0-py3-none-any.whl");
    let r = s.sign(
        "trust_config.json",
        &[dist.as_os_str(), f.as_os_str(), dotted.as_os_str()],
    );
    r.assert_code(0);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert_eq!(s.tb.requests(Endpoint::RekorV1), 1);
}

/// A run killed mid-write (a cancelled CI job) leaves hidden temporary files
/// next to its outputs. The next run writing those outputs removes the old
/// ones; a fresh one (a run writing right now) and another output's stay,
/// and so does a kept copy (`.old.tmp`) linked just now, though its mtime is
/// old (a kept copy has its output's mtime: it is aged by its ctime too).
#[test]
fn a_later_run_removes_old_temporary_files_of_its_outputs() {
    use std::time::{Duration, SystemTime};
    let s = setup();
    let f = s.add("tool-0.2.tar.gz");
    let old = ".tool-0.2.tar.gz.sigstore.json.0123456789abcdef.tmp";
    let kept = ".tool-0.2.tar.gz.sig.fedcba9876543210.old.tmp";
    let fresh = ".tool-0.2.tar.gz.sigstore.json.fedcba9876543210.tmp";
    let other = ".other-1.0.tar.gz.sigstore.json.0123456789abcdef.tmp";
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    for name in [old, kept, fresh, other] {
        let path = s.dist().join(name);
        std::fs::write(&path, "half a bundle").unwrap();
        if name != fresh {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(two_hours_ago).unwrap();
        }
    }
    s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--legacy-outputs".as_ref()],
    )
    .assert_code(0);
    assert_eq!(
        s.outputs(),
        [
            other,
            kept,
            fresh,
            "tool-0.2.tar.gz.crt",
            "tool-0.2.tar.gz.sig",
            "tool-0.2.tar.gz.sigstore.json"
        ]
    );
}
