//! Service failures during `keyless sign`: what is retried and recovered
//! (transient 5xx, 409 duplicates, rate limits), what ends the run (Fulcio
//! down, Rekor refusing mid-batch, a certificate that does not verify
//! without a TSA), and that only finished outputs are kept.

use super::{SAN, setup};
use crate::common::{keyless_with_token, read_json, run};
use keyless_testbed::faults::Endpoint;

#[test]
fn fulcio_down_is_retried_then_exit_2() {
    let s = setup();
    s.add("pkg-1.0.tar.gz");
    s.fault("fulcio=status:503");
    let dist = s.dist();
    let r = s.sign(
        "trust_config.json",
        &[dist.as_os_str(), "--timeout".as_ref(), "3".as_ref()],
    );
    r.assert_code(2);
    assert!(
        // Retried until the budget ran out, however many attempts fit.
        r.stderr.contains("Fulcio")
            && (r.stderr.contains("attempts") || r.stderr.contains("no answer within")),
        "{}",
        r.stderr
    );
    assert!(s.tb.requests(Endpoint::Fulcio) >= 2, "503 is retried");
    assert!(s.outputs().is_empty());
}

#[test]
fn a_transient_rekor_failure_is_retried() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.fault("rekor-v1=status:503,times=2");
    s.sign("trust_config.json", &[f.as_os_str()]).assert_code(0);
    assert_eq!(s.tb.requests(Endpoint::RekorV1), 3);
}

#[test]
fn rekor_failing_mid_batch_keeps_finished_outputs_only() {
    let s = setup();
    for i in 0..5 {
        s.add(&format!("pkg-1.{i}.tar.gz"));
    }
    // Two uploads succeed, then Rekor refuses everything (a permanent 400).
    s.fault("rekor-v1=status:400,after=2");
    let dist = s.dist();
    let r = s.sign(
        "trust_config.json",
        &[dist.as_os_str(), "--jobs".as_ref(), "1".as_ref()],
    );
    r.assert_code(1);
    assert_eq!(r.lines_starting("OK   "), 2, "{}", r.stdout);
    assert_eq!(r.lines_starting("FAIL "), 3, "{}", r.stdout);
    assert_eq!(
        s.outputs(),
        [
            "pkg-1.0.tar.gz.sigstore.json",
            "pkg-1.1.tar.gz.sigstore.json"
        ]
    );
    let good = [
        s.dist().join("pkg-1.0.tar.gz"),
        s.dist().join("pkg-1.1.tar.gz"),
    ];
    assert_eq!(s.verify("trust_config.json", &good, SAN).0, 0);
}

#[test]
fn a_duplicate_409_recovers_the_existing_entry() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.fault("rekor-v1=duplicate,times=1");
    s.sign("trust_config.json", &[f.as_os_str()]).assert_code(0);
    assert_eq!(s.verify("trust_config.json", &[f], SAN).0, 0);
}

/// Without a TSA the certificate cannot be checked before logging: the first
/// file goes alone, and when its bundle does not verify nothing else is logged.
#[test]
fn without_a_tsa_a_bad_certificate_logs_only_one_entry() {
    let s = setup();
    for i in 0..4 {
        s.add(&format!("pkg-1.{i}.tar.gz"));
    }
    let mut config = read_json(&s.tb.trust_config_path());
    config["signingConfig"]["tsaUrls"] = serde_json::json!([]);
    std::fs::write(s.state_file("trust_config_no_tsa.json"), config.to_string()).unwrap();
    s.fault("fulcio=untrusted-sct");
    let before = s.tb.requests(Endpoint::RekorV1);
    let dist = s.dist();
    let r = s.sign("trust_config_no_tsa.json", &[dist.as_os_str()]);
    r.assert_code(1);
    assert_eq!(
        s.tb.requests(Endpoint::RekorV1) - before,
        1,
        "only the first file was logged"
    );
    let lines_with = |text: &str| r.stdout.lines().filter(|l| l.contains(text)).count();
    assert_eq!(lines_with("does not verify"), 1, "{}", r.stdout);
    assert_eq!(
        lines_with("not signed: the first bundle"),
        3,
        "{}",
        r.stdout
    );
    assert!(s.outputs().is_empty());
}

#[test]
fn lost_answers_and_rate_limits_are_recovered() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    // Rekor v2 409 (already logged): signed again with a fresh signature.
    s.fault("rekor-v2=duplicate,times=1");
    s.sign(
        "trust_config_v2.json",
        &[f.as_os_str(), "--rekor-version".as_ref(), "2".as_ref()],
    )
    .assert_code(0);
    // A TSA that rate-limits once.
    s.tb.clear_faults();
    s.fault("tsa=status:429,times=1");
    s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--overwrite".as_ref()],
    )
    .assert_code(0);
    // A DSSE upload answered 409 (attest): the existing entry is fetched.
    s.tb.clear_faults();
    s.fault("rekor-v1=duplicate,times=1");
    run(keyless_with_token(&s.token)
        .args(["attest", "--trust-config"])
        .arg(s.tb.trust_config_path())
        .arg(&f))
    .assert_code(0);
}
