//! A log key the trust root retired (`validFor.end`), in `keyless rekor`:
//! a SET is held to the key's window at its integrated time (offline and
//! online), and a checkpoint the log serves now (`get`, `log-info`,
//! `monitor`) to the window now: a retired key, perhaps compromised, must
//! not sign the current tree head. An entry file proven offline keeps
//! verifying after its log key is retired: it is historical material.

use super::{Log, raw_entry, start, strs};
use keyless_testbed::TrustedKey;
use serde_json::Value;

/// `keyless rekor <args> --json`: exit code and the failed check (if any).
fn check(log: &Log, args: &[&str]) -> (i32, Option<String>, Value) {
    let r = log.rekor(&strs(args), true);
    let failed = r.json["failed_check"].as_str().map(str::to_string);
    (r.code, failed, r.json.clone())
}

/// `keyless rekor verify-entry --json` of `entry`.
fn verify_entry(log: &Log, entry: &str) -> (i32, Option<String>, Value) {
    let path = log.write("entry.json", entry);
    check(log, &["verify-entry", path.to_str().unwrap()])
}

fn assert_fails(got: (i32, Option<String>, Value), check: &str, what: &str) {
    assert_eq!(
        (got.0, got.1.as_deref()),
        (1, Some(check)),
        "{what}: {:#}",
        got.2
    );
}

fn assert_ok(got: (i32, Option<String>, Value), what: &str) {
    assert_eq!(got.0, 0, "{what}: {:#}", got.2);
}

#[test]
fn a_rekor_v1_key_retired_before_an_entry_was_logged_proves_nothing() {
    let log = start();
    let signed = log.sign_one("pkg.tar.gz");
    let index = signed.index.to_string();
    let entry = raw_entry(&log, signed.index);
    assert_ok(check(&log, &["get", "--log-index", &index]), "control");

    log.retire(&[TrustedKey::RekorV1], log.before_signing());
    // Offline, the SET is what fails: signed by a key out of its window at
    // the integrated time it signs. Online too, before the checkpoint.
    assert_fails(verify_entry(&log, &entry), "set", "verify-entry");
    let get = check(&log, &["get", "--log-index", &index]);
    assert_fails(get, "set", "get");
    assert_fails(check(&log, &["log-info"]), "checkpoint", "log-info");
}

#[test]
fn a_rekor_v1_key_retired_after_an_entry_was_logged_signs_no_current_tree_head() {
    let log = start();
    let signed = log.sign_one("pkg.tar.gz");
    let index = signed.index.to_string();
    let entry = raw_entry(&log, signed.index);

    log.retire(&[TrustedKey::RekorV1], jiff::Timestamp::now());
    // Offline, the entry is historical: its SET was signed while the key
    // was valid.
    let offline = verify_entry(&log, &entry);
    assert_eq!(
        offline.2["integrated_time_verified"], true,
        "{:#}",
        offline.2
    );
    assert_ok(offline, "verify-entry");
    // Online, the log's answer carries its current checkpoint, which the
    // retired key signed just now.
    let get = check(&log, &["get", "--log-index", &index]);
    let reason = get.2["reason"].clone();
    assert_fails(get, "checkpoint", "get");
    assert!(
        reason.as_str().unwrap().contains("no longer valid"),
        "{reason}"
    );
    assert_fails(check(&log, &["log-info"]), "checkpoint", "log-info");
}

#[test]
fn a_retired_rekor_v2_key_signs_no_current_tree_head() {
    let log = start();
    let index = log.sign_as(super::GITLAB, super::PROJECT, &["a.tar.gz"], true)[0].0;
    let index = index.to_string();
    let bundle = crate::common::read_json(&log.path("a.tar.gz.sigstore.json"));
    let entry = bundle["verificationMaterial"]["tlogEntries"][0].to_string();
    let v2 = ["--rekor-version", "2"];
    assert_ok(check(&log, &[&["log-info"][..], &v2].concat()), "control");

    log.retire(&[TrustedKey::RekorV2], jiff::Timestamp::now());
    assert_fails(
        check(&log, &[&["log-info"][..], &v2].concat()),
        "checkpoint",
        "log-info",
    );
    assert_fails(
        check(&log, &[&["get", "--log-index", &index][..], &v2].concat()),
        "checkpoint",
        "get",
    );
    // The Rekor v1 log at the same URL is not affected.
    assert_ok(check(&log, &["log-info"]), "Rekor v1 log-info");
    // The bundle's entry, proven offline, is historical material.
    assert_ok(verify_entry(&log, &entry), "verify-entry");
}

/// Not in monitor.rs: the monitor's alarm for a checkpoint signed by a key
/// retired since the last run, and the state left alone.
#[test]
fn the_monitor_alarms_when_the_log_key_is_retired() {
    let log = start();
    log.sign(&["first.tar.gz"]);
    let state = log.path("rekor-state.json");
    log.monitor(&state, &[]).assert_status(0, "initialized");
    log.monitor(&state, &[]).assert_status(0, "unchanged");
    let before = std::fs::read(&state).unwrap();

    log.retire(&[TrustedKey::RekorV1], jiff::Timestamp::now());
    let r = log.monitor(&state, &[]);
    assert_eq!(
        (r.code, r.json["alarm"]["check"].as_str()),
        (1, Some("checkpoint")),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::read(&state).unwrap(), before, "the state changed");
    // A first run trusts no retired key either.
    let fresh = log.path("fresh-state.json");
    let r = log.monitor(&fresh, &[]);
    assert_eq!(
        (r.code, r.json["alarm"]["check"].as_str()),
        (1, Some("checkpoint")),
        "{}",
        r.stdout
    );
    assert!(!fresh.exists(), "an alarm wrote a state");
}
