//! What `keyless sign` refuses, and what it leaves behind when it does:
//! bad tokens, no token, missing inputs and empty selections exit 2 before
//! signing; existing outputs need `--overwrite`; an output that cannot be
//! written fails that file and leaves none of its outputs.

use super::{SAN, setup};
use crate::common::bed::GITLAB;
use crate::common::{keyless_without_token, run};
use keyless_testbed::faults::Endpoint;
use keyless_testbed::{JwsAlg, TokenSpec};

#[test]
fn refusals_before_signing_exit_2_and_write_nothing() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let dist = s.dist();
    let mut expired = TokenSpec::gitlab(GITLAB);
    expired.expires_in = -30;
    let mut wrong_aud = TokenSpec::gitlab(GITLAB);
    wrong_aud.audience = "gitlab".into();
    let untrusted = TokenSpec::gitlab("https://gitlab.evil.example");
    for (spec, message) in [
        (expired, "expired"),
        (wrong_aud, "aud: sigstore"),
        (untrusted, "not accepted"),
    ] {
        let token = s.tb.mint(&spec, JwsAlg::RS256);
        let r = s.sign_with_token(&token, "trust_config.json", &[dist.as_os_str()]);
        assert_eq!(r.code, 2, "{message}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(message), "{message}: {}", r.stderr);
        assert!(s.outputs().is_empty(), "{message}: {:?}", s.outputs());
    }
    // No token at all: the error shows the GitLab YAML that provides one.
    let r = run(keyless_without_token()
        .args(["sign", "--trust-config"])
        .arg(s.tb.trust_config_path())
        .arg(&f));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("SIGSTORE_ID_TOKEN:") && r.stderr.contains("aud: sigstore"),
        "{}",
        r.stderr
    );
    // A missing input, and an empty selection.
    let r = s.sign(
        "trust_config.json",
        &[s.dist().join("nope.whl").as_os_str()],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nope.whl"), "{}", r.stderr);
    let empty = s.path("empty");
    std::fs::create_dir(&empty).unwrap();
    let r = s.sign("trust_config.json", &[empty.as_os_str()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("nothing to sign"), "{}", r.stderr);
    assert!(s.outputs().is_empty());
}

/// `keyless sign --overwrite dist/*` once bundles are there: the old bundle
/// is an input and also the new output of its file. It would be replaced
/// after it was hashed, so the bundle signed for it could never match.
#[test]
fn a_file_that_is_also_an_output_of_the_run_is_refused() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let bundle = s.dist().join("pkg-1.0.tar.gz.sigstore.json");
    std::fs::write(&bundle, "old").unwrap();
    let r = s.sign(
        "trust_config.json",
        &[f.as_os_str(), bundle.as_os_str(), "--overwrite".as_ref()],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("both a file to sign and an output"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&bundle).unwrap(), "old");
    assert_eq!(s.tb.requests(Endpoint::Fulcio), 0);
}

#[test]
fn existing_outputs_need_overwrite_and_unwritable_outputs_fail_cleanly() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let bundle = s.dist().join("pkg-1.0.tar.gz.sigstore.json");
    std::fs::write(&bundle, "old").unwrap();
    let r = s.sign("trust_config.json", &[f.as_os_str()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("already exists") && r.stderr.contains("--overwrite"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&bundle).unwrap(), "old");
    assert_eq!(
        s.tb.requests(Endpoint::Fulcio),
        0,
        "refused before any network call"
    );

    s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--overwrite".as_ref()],
    )
    .assert_code(0);
    assert_eq!(
        s.verify("trust_config.json", std::slice::from_ref(&f), SAN)
            .0,
        0
    );

    // An output folder that cannot be written (here: does not exist; root
    // ignores permission bits) fails that file, leaving nothing behind.
    let unwritable = s.path("no-such-dir/b.sigstore.json");
    let r = s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--bundle".as_ref(), unwritable.as_os_str()],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("cannot write"), "{}", r.stdout);
    assert!(!s.path("no-such-dir").exists());
}

#[test]
fn a_failed_output_write_leaves_no_output_of_that_file() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let bad_sig = s.path("missing/pkg.sig");
    let r = s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--output-signature".as_ref(),
            bad_sig.as_os_str(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        s.outputs().is_empty(),
        "the bundle must not stay behind: {:?}",
        s.outputs()
    );
}

#[test]
fn a_failed_overwrite_keeps_the_previous_outputs() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--legacy-outputs".as_ref()],
    )
    .assert_code(0);
    let bundle = s.dist().join("pkg-1.0.tar.gz.sigstore.json");
    let sig = s.dist().join("pkg-1.0.tar.gz.sig");
    let crt = s.dist().join("pkg-1.0.tar.gz.crt");
    let (old_bundle, old_sig) = (
        std::fs::read(&bundle).unwrap(),
        std::fs::read(&sig).unwrap(),
    );
    // The certificate cannot be replaced: a non-empty folder holds its name.
    std::fs::remove_file(&crt).unwrap();
    std::fs::create_dir(&crt).unwrap();
    std::fs::write(crt.join("keep"), "keep").unwrap();
    let r = s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--legacy-outputs".as_ref(),
            "--overwrite".as_ref(),
            "--json".as_ref(),
        ],
    );
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let file = &r.json()["files"][0];
    assert_eq!(file["ok"], false, "{file}");
    assert!(
        file["error"].as_str().unwrap().contains("cannot write"),
        "{file}"
    );
    assert_eq!(
        std::fs::read(&bundle).ok(),
        Some(old_bundle),
        "the previous bundle is gone or replaced"
    );
    assert_eq!(
        std::fs::read(&sig).ok(),
        Some(old_sig),
        "the previous .sig is gone or replaced"
    );
    assert!(crt.join("keep").exists());
    assert_eq!(
        s.outputs(),
        [
            "pkg-1.0.tar.gz.crt",
            "pkg-1.0.tar.gz.sig",
            "pkg-1.0.tar.gz.sigstore.json"
        ],
        "no temporary or kept copies left"
    );
    assert_eq!(
        s.verify("trust_config.json", std::slice::from_ref(&f), SAN)
            .0,
        0
    );
}

#[test]
fn concurrent_runs_never_replace_each_others_outputs() {
    const RUNS: usize = 4;
    let s = setup();
    let files: Vec<_> = (0..3).map(|i| s.add(&format!("pkg-{i}.tar.gz"))).collect();
    let dist = s.dist();
    let runs: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RUNS)
            .map(|_| {
                scope.spawn(|| {
                    s.sign(
                        "trust_config.json",
                        &[
                            dist.as_os_str(),
                            "--legacy-outputs".as_ref(),
                            "--json".as_ref(),
                        ],
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for f in &files {
        let name = f.display().to_string();
        let bundle = std::fs::read_to_string(format!("{name}.sigstore.json")).unwrap();
        let sig = std::fs::read_to_string(format!("{name}.sig")).unwrap();
        let written: serde_json::Value = serde_json::from_str(&bundle).unwrap();
        let mut winners = Vec::new();
        for r in &runs {
            // A run that started after another finished refuses before
            // signing (exit 2); every other run reports each file.
            if r.code == 2 {
                assert!(r.stderr.contains("already exists"), "{}", r.stderr);
                continue;
            }
            let report = r.json();
            let entry = report["files"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["path"] == name.as_str())
                .unwrap_or_else(|| panic!("{name} not reported: {report:#}"))
                .clone();
            if entry["ok"] == true {
                winners.push(entry);
            } else {
                assert_eq!(r.code, 1, "{report:#}");
                let error = entry["error"].as_str().unwrap();
                assert!(error.contains("already signed"), "{entry}");
            }
        }
        assert_eq!(winners.len(), 1, "{name}: reported OK by {winners:#?}");
        // What is on disk is the winner's: its log entry, its .sig.
        assert_eq!(
            written["verificationMaterial"]["tlogEntries"][0]["logIndex"],
            winners[0]["log_index"].to_string(),
            "{name}"
        );
        let signature = written["messageSignature"]["signature"].as_str().unwrap();
        assert_eq!(sig, signature, "{name}: the .sig is not the bundle's");
    }
    assert!(
        !s.outputs().iter().any(|n| n.contains(".tmp")),
        "{:?}",
        s.outputs()
    );
    let (code, report) = s.verify("trust_config.json", &files, SAN);
    assert_eq!(code, 0, "{report:#}");
}
