//! `keyless rekor log-info` and `monitor` with `--rekor-version 2`: the
//! testbed's Rekor v2 log read through its C2SP tlog-tiles API. Growth is
//! followed (the consistency proof computed from the tiles, checked by
//! sigstore-merkle); a rolled-back, forked or wrongly signed checkpoint
//! raises the alarm and leaves the state alone; the identity scan reads the
//! entry bundles and proves each entry from the tiles (a changed bundle or
//! forked tiles are alarms); `get` proves one
//! entry from the tiles; what only the Rekor v1 API answers is refused.

use super::{GITLAB, PROJECT, start, strs};
use crate::common::read_json;

const V2: [&str; 2] = ["--rekor-version", "2"];

#[test]
fn monitor_follows_a_growing_rekor_v2_log_and_alarms_on_rollback_and_fork() {
    let log = start();
    log.sign_as(GITLAB, PROJECT, &["a.tar.gz"], true);
    let state = log.path("v2-state.json");

    let r = log.monitor(&state, &V2);
    r.assert_status(0, "initialized");
    // The genesis entry and ours.
    assert_eq!(r.json["current"]["tree_size"], 2);
    let info = log.rekor(&strs(&["log-info", "--rekor-version", "2"]), true);
    assert_eq!((info.code, info.json["tree_size"].as_u64()), (0, Some(2)));
    assert_eq!(info.json["log_id"], r.json["current"]["log_id"]);
    // Not the Rekor v1 log at the same URL.
    let v1 = log.rekor(&strs(&["log-info"]), true);
    assert_ne!(v1.json["log_id"], info.json["log_id"]);

    // Growth (one run each, so in this order).
    for name in ["b.tar.gz", "c.tar.gz", "d.tar.gz"] {
        log.sign_as(GITLAB, PROJECT, &[name], true);
    }
    let r = log.monitor(&state, &V2);
    r.assert_status(0, "grew");
    assert_eq!(
        (
            &r.json["proof"]["first_size"],
            &r.json["proof"]["last_size"]
        ),
        (&2.into(), &5.into())
    );
    log.monitor(&state, &V2).assert_status(0, "unchanged");
    assert_eq!(read_json(&state)["tree_size"], 5);

    // Each fault: exit 1, the state file untouched.
    for (fault, check) in [
        ("rekor-v2=rolled-back", "rollback"),
        ("rekor-v2=forked-root", "fork"),
        ("rekor-v2=wrong-checkpoint-key", "checkpoint"),
    ] {
        let before = std::fs::read(&state).unwrap();
        log.fault(fault);
        let r = log.monitor(&state, &V2);
        assert_eq!(
            (r.code, r.json["alarm"]["check"].as_str()),
            (1, Some(check)),
            "{fault}: {}",
            r.stdout
        );
        assert_eq!(std::fs::read(&state).unwrap(), before, "{fault}");
        log.tb.clear_faults();
    }

    // A fork that also grew: the log's tiles do not lead from the stored
    // checkpoint to the signed one.
    log.sign_as(GITLAB, PROJECT, &["e.tar.gz"], true);
    let before = std::fs::read(&state).unwrap();
    log.fault("rekor-v2=forked-root");
    let r = log.monitor(&state, &V2);
    assert_eq!(
        (r.code, r.json["alarm"]["check"].as_str()),
        (1, Some("consistency-proof")),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::read(&state).unwrap(), before);
    log.tb.clear_faults();

    // The alarms did not poison the state.
    let r = log.monitor(&state, &V2);
    r.assert_status(0, "grew");
    assert_eq!(r.json["proof"]["last_size"], 6);
}

#[test]
fn the_identity_scan_reads_rekor_v2_entry_bundles() {
    let log = start();
    let state = log.path("v2-scan.json");
    let watch = ["--rekor-version", "2", "--gitlab-project", PROJECT];
    log.monitor(&state, &watch).assert_status(0, "initialized");

    let ours = log.sign_as(GITLAB, PROJECT, &["mine.tar.gz"], true)[0].0;
    log.sign_as(GITLAB, "other/project", &["theirs.tar.gz"], true);
    let r = log.monitor(&state, &watch);
    r.assert_status(0, "grew");
    let matches = r.json["scan"]["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{}", r.json["scan"]);
    assert_eq!(matches[0]["log_index"], ours);
    assert_eq!(matches[0]["kind"], "hashedrekord 0.0.2");
    assert!(matches[0]["integrated_time"].is_null());
    assert_eq!(r.json["scan"]["remaining"], 0);
}

/// The identity scan proves every Rekor v2 entry it reads from the tiles
/// against the checkpoint this run verified: an entry bundle whose bodies
/// were changed, or hash tiles of a fork (leaf 0 replaced), raise the alarm
/// at the inclusion proof, name the entry, and leave the state alone. (A
/// later run's consistency proof, computed from the same tiles, already
/// refuses forked tiles; a first run scanning `--since` has none, so there
/// only the entries' inclusion proofs can tell.)
#[test]
fn the_rekor_v2_scan_proves_each_entry_from_the_tiles() {
    let log = start();
    let state = log.path("v2-proven.json");
    let watch = ["--rekor-version", "2", "--gitlab-project", PROJECT];
    log.monitor(&state, &watch).assert_status(0, "initialized");
    let mut ours: Vec<u64> = log
        .sign_as(GITLAB, PROJECT, &["one.tar.gz", "two.tar.gz"], true)
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    ours.sort();
    assert_eq!(ours, [1, 2]);
    let before = std::fs::read(&state).unwrap();
    let fresh = log.path("v2-fresh.json");
    let since = ["--since", "1"];
    for (fault, state) in [
        ("rekor-v2=corrupt-entry-bundle", &state),
        ("rekor-v2=corrupt-entry-bundle", &fresh),
        ("rekor-v2=forked-proof", &fresh),
    ] {
        log.fault(fault);
        let args = [&watch[..], if state == &fresh { &since } else { &[] }].concat();
        let r = log.monitor(state, &args);
        assert_eq!(
            (r.code, r.json["alarm"]["check"].as_str()),
            (1, Some("inclusion-proof")),
            "{fault}: {}",
            r.stdout
        );
        let reason = r.json["alarm"]["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("entry #1: the log's tiles do not prove it"),
            "{fault}: {reason}"
        );
        log.tb.clear_faults();
    }
    assert_eq!(std::fs::read(&state).unwrap(), before);
    assert!(!fresh.exists());
    for (state, status) in [(&state, "grew"), (&fresh, "initialized")] {
        let args = [&watch[..], if state == &fresh { &since } else { &[] }].concat();
        let r = log.monitor(state, &args);
        r.assert_status(0, status);
        let found: Vec<u64> = r.json["scan"]["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["log_index"].as_u64().unwrap())
            .collect();
        assert_eq!(found, ours, "{status}");
    }
}

/// A Rekor v2 entry proven from the tiles that cannot be read for
/// identities fails the run by index, as on Rekor v1.
#[test]
fn an_unreadable_rekor_v2_entry_fails_the_run_by_name() {
    let log = start();
    let state = log.path("v2-unreadable.json");
    let watch = ["--rekor-version", "2", "--gitlab-project", PROJECT];
    log.monitor(&state, &watch).assert_status(0, "initialized");
    log.fault("rekor-v2=log-as-sent");
    let posted = super::scan::raw_post(log.tb.url(), "/api/v2/log/entries", b"[\"no kind\"]");
    assert_eq!(posted, 201);
    log.tb.clear_faults();
    let r = log.monitor(&state, &watch);
    assert_eq!(
        (r.code, r.json["status"].as_str()),
        (1, Some("grew")),
        "{}",
        r.stdout
    );
    let unreadable = &r.json["scan"]["unreadable"];
    assert_eq!(unreadable[0]["log_index"], 1, "{unreadable}");
    assert_eq!(unreadable[0]["reason"], "the body is not a JSON object");
}

/// `get --log-index` proves a Rekor v2 entry from the tiles; what the tiles
/// API cannot answer (UUID lookup, search, a bundle without a signed time)
/// is a usage error.
#[test]
fn get_proves_a_rekor_v2_entry_from_the_tiles() {
    let log = start();
    let index = log.sign_as(GITLAB, PROJECT, &["a.tar.gz"], true)[0].0;
    log.sign_as(GITLAB, PROJECT, &["b.tar.gz"], true);
    let get = |extra: &[&str]| {
        let mut args = vec!["get", "--rekor-version", "2"];
        args.extend(extra);
        log.rekor(&strs(&args), true)
    };
    let index_arg = index.to_string();
    let r = get(&["--log-index", &index_arg]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json["log_index"], index);
    assert_eq!(
        (r.json["kind"].as_str(), r.json["version"].as_str()),
        (Some("hashedrekord"), Some("0.0.2"))
    );
    assert_eq!(r.json["certificate"]["identity"], super::SAN);

    // A checkpoint no trusted key signed: the entry is not proven.
    log.fault("rekor-v2=wrong-checkpoint-key");
    let r = get(&["--log-index", &index_arg]);
    assert_eq!(
        (r.code, r.json["failed_check"].as_str()),
        (1, Some("checkpoint")),
        "{}",
        r.json
    );
    log.tb.clear_faults();

    let r = get(&["--log-index", "99"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    for (args, says) in [
        (vec!["--uuid", &"a".repeat(64)], "no lookup by UUID"),
        (
            vec!["--log-index", &index_arg, "--bundle-out", "x.json"],
            "no signed time",
        ),
    ] {
        let r = get(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert!(
            r.json["error"].as_str().unwrap().contains(says),
            "{}",
            r.json
        );
    }
    let r = log.rekor(
        &strs(&[
            "search",
            "--sha256",
            &"00".repeat(32),
            "--rekor-version",
            "2",
        ]),
        true,
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.json["error"]
            .as_str()
            .unwrap()
            .contains("needs the Rekor v1 API"),
        "{}",
        r.json
    );
}
