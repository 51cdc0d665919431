//! `keyless rekor monitor` and `log-info`: consistent growth is followed;
//! every log fault (rollback, fork, wrong checkpoint key, bad consistency
//! proof) raises the alarm with its evidence and leaves the state alone;
//! network faults are errors (exit 2), never a false OK or a false alarm; a
//! locked state refuses a second monitor; a lock path that is a symlink or a
//! FIFO is refused, not followed or waited on; a state whose scan position
//! its own checkpoint cannot hold is an alarm, not clamped.

use super::{start, strs};
use crate::common::read_json;
use std::path::PathBuf;

#[test]
fn monitor_follows_consistent_growth_and_raises_the_alarm_for_each_log_fault() {
    let log = start();
    log.sign(&["first.tar.gz"]);
    let state = log.path("rekor-state.json");

    let r = log.monitor(&state, &[]);
    r.assert_status(0, "initialized");
    // The log's genesis entry and ours.
    assert_eq!(r.json["current"]["tree_size"], 2);
    let stored = read_json(&state);
    assert_eq!(stored["tree_size"], 2);

    log.sign(&["second.tar.gz", "third.tar.gz"]);
    let r = log.monitor(&state, &[]);
    r.assert_status(0, "grew");
    assert_eq!(r.json["proof"]["first_size"], 2);
    assert_eq!(r.json["proof"]["last_size"], 4);
    let r = log.monitor(&state, &[]);
    r.assert_status(0, "unchanged");

    let log_info = log.rekor(&strs(&["log-info"]), true);
    assert_eq!(
        (log_info.code, log_info.json["tree_size"].as_u64()),
        (0, Some(4))
    );
    assert_eq!(log_info.json["log_id"], r.json["current"]["log_id"]);

    // Each fault: exit 1, the evidence printed, the state file untouched.
    for (fault, check) in [
        ("rekor-v1=rolled-back", "rollback"),
        ("rekor-v1=forked-root", "fork"),
        ("rekor-v1=wrong-checkpoint-key", "checkpoint"),
    ] {
        let before = std::fs::read(&state).unwrap();
        log.fault(fault);
        let r = log.monitor(&state, &[]);
        assert_eq!(
            (
                r.code,
                r.json["status"].as_str(),
                r.json["alarm"]["check"].as_str()
            ),
            (1, Some("alarm"), Some(check)),
            "{fault}: {}",
            r.stdout
        );
        assert_eq!(r.json["stored"]["tree_size"], 4);
        assert!(
            r.json["current_checkpoint"]
                .as_str()
                .unwrap()
                .contains('\u{2014}')
        );
        let text = log.monitor_text(&state, &[]);
        assert!(text.starts_with(&format!("ALARM {check}: ")), "{text}");
        assert!(
            text.contains("stored checkpoint") && text.contains("left unchanged"),
            "{text}"
        );
        assert_eq!(
            std::fs::read(&state).unwrap(),
            before,
            "{fault} changed the state"
        );
        log.tb.clear_faults();
    }
    let r = log.rekor(&strs(&["log-info"]), true);
    assert_eq!(r.code, 0);
    log.fault("rekor-v1=wrong-checkpoint-key");
    let r = log.rekor(&strs(&["log-info"]), true);
    assert_eq!(
        (r.code, r.json["failed_check"].as_str()),
        (1, Some("checkpoint")),
        "{}",
        r.json
    );
    log.tb.clear_faults();

    // A consistency proof that does not verify (the tree must grow for one).
    log.sign(&["fourth.tar.gz"]);
    let before = std::fs::read(&state).unwrap();
    log.fault("rekor-v1=wrong-proof");
    let r = log.monitor(&state, &[]);
    assert_eq!(
        (r.code, r.json["alarm"]["check"].as_str()),
        (1, Some("consistency-proof")),
        "{}",
        r.stdout
    );
    assert_eq!(r.json["proof"]["last_size"], 5);
    assert_eq!(std::fs::read(&state).unwrap(), before);
    log.tb.clear_faults();

    // The alarms did not poison the state: honest growth verifies again.
    let r = log.monitor(&state, &[]);
    r.assert_status(0, "grew");
    assert_eq!(r.json["proof"]["first_size"], 4);
}

#[test]
fn network_faults_are_errors_never_a_false_ok_or_a_false_alarm() {
    let log = start();
    let [(index, _)]: [(u64, PathBuf); 1] = log.sign(&["pkg.tar.gz"]).try_into().unwrap();
    let state = log.path("state.json");
    assert_eq!(log.monitor(&state, &[]).code, 0);
    log.sign(&["pkg-2.tar.gz"]);
    let before = std::fs::read(&state).unwrap();

    for (fault, says) in [
        ("rekor-v1=status:503", "503"),
        ("rekor-v1=truncate", "JSON"),
        ("rekor-v1=delay:1500,times=1", "no answer within 1 s"),
        // The consistency proof request (the second) fails.
        ("rekor-v1=truncate,after=1,times=1", "JSON"),
    ] {
        log.fault(fault);
        let r = log.monitor(&state, &["--timeout", "1"]);
        assert_eq!(
            (r.code, r.json["ok"].as_bool()),
            (2, Some(false)),
            "{fault}: {}",
            r.stdout
        );
        assert!(
            r.json["alarm"].is_null() && r.json.get("status").is_none(),
            "{fault}: {}",
            r.json
        );
        assert!(r.stderr.contains(says), "{fault}: {}", r.stderr);
        assert!(r.stderr.contains("hint:"), "{}", r.stderr);
        assert_eq!(std::fs::read(&state).unwrap(), before, "{fault}");
        log.tb.clear_faults();
    }
    let index = index.to_string();
    for args in [vec!["log-info"], vec!["get", "--log-index", index.as_str()]] {
        log.fault("rekor-v1=status:503");
        let mut args = args.clone();
        args.extend(["--timeout", "1"]);
        let r = log.rekor(&strs(&args), true);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        log.tb.clear_faults();
    }
    // A transient failure is retried within the timeout.
    log.fault("rekor-v1=status:503,times=1");
    let r = log.monitor(&state, &[]);
    r.assert_status(0, "grew");
}

/// A second monitor on the same state exits 2 at once; the first is not
/// disturbed.
#[test]
fn a_locked_state_refuses_a_second_monitor() {
    let log = start();
    let state = log.path("state.json");
    assert_eq!(log.monitor(&state, &[]).code, 0);
    let _held = keyless::rekor::monitor::lock_state(&state).unwrap();
    let before = std::fs::read(&state).unwrap();
    let run = log.monitor(&state, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("another keyless rekor monitor"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&state).unwrap(), before);
}

/// `<state>.lock` is opened without following a symlink or blocking: a
/// symlink planted there (dangling, to make the monitor create a file
/// where it points, or to an existing file) and a FIFO (which would hang
/// the run) are refused with exit 2, and nothing is created or changed.
#[test]
fn a_lock_path_that_is_a_symlink_or_a_fifo_is_refused() {
    let log = start();
    let state = log.path("linked.json");
    let lock = log.path("linked.json.lock");
    let elsewhere = log.path("elsewhere");
    std::os::unix::fs::symlink(&elsewhere, &lock).unwrap();
    let r = log.monitor(&state, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert!(
        !elsewhere.exists(),
        "the lock was followed to {elsewhere:?}"
    );
    assert!(!state.exists());
    // An existing target is not locked (or touched) either.
    std::fs::write(&elsewhere, "someone else's").unwrap();
    let r = log.monitor(&state, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(&elsewhere).unwrap(),
        "someone else's"
    );

    std::fs::remove_file(&lock).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&lock)
        .status()
        .unwrap();
    assert!(status.success());
    let r = log.monitor(&state, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("linked.json.lock"), "{}", r.stderr);
    assert!(!state.exists());

    // A regular lock file (left by an earlier run) is fine.
    std::fs::remove_file(&lock).unwrap();
    std::fs::write(&lock, "").unwrap();
    log.monitor(&state, &[]).assert_status(0, "initialized");
}

/// A stored `next_index` past the end of the state's own checkpoint claims
/// entries scanned that the log had not logged when the state was stored.
/// Clamped (to the log's end, once it has grown past it), the entries in
/// between would go unscanned without a word: here, a signature in the
/// project's name. It is an alarm that names the state (exit 1), and the
/// state stays as it is. So is a scan said to begin after where it stopped.
#[test]
fn a_scan_position_past_the_stored_tree_is_an_alarm_not_a_clamp() {
    let log = start();
    let state = log.path("position.json");
    let watch = ["--gitlab-project", super::PROJECT];
    log.monitor(&state, &watch).assert_status(0, "initialized");
    let mut stored = read_json(&state);
    let end = stored["tree_size"].as_u64().unwrap();
    assert_eq!(stored["next_index"], end);
    let mut ours: Vec<u64> = log
        .sign(&["p.tar.gz", "q.tar.gz", "r.tar.gz"])
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    ours.sort();
    assert_eq!(ours[0], end);

    for (field, value, says) in [
        (
            "next_index",
            end + 2,
            "but its stored checkpoint holds entries only up to",
        ),
        ("scan_start", end + 1, "began at log index"),
    ] {
        let mut edited = stored.clone();
        edited[field] = value.into();
        std::fs::write(&state, serde_json::to_vec_pretty(&edited).unwrap()).unwrap();
        let before = std::fs::read(&state).unwrap();
        let r = log.monitor(&state, &watch);
        assert_eq!(
            (r.code, r.json["alarm"]["check"].as_str()),
            (1, Some("monitor-state")),
            "{field}: {}",
            r.stdout
        );
        let reason = r.json["alarm"]["reason"].as_str().unwrap();
        assert!(
            reason.contains(says) && reason.contains("--state"),
            "{reason}"
        );
        assert_eq!(std::fs::read(&state).unwrap(), before, "{field}");
        let text = log.monitor_text(&state, &watch);
        assert!(text.starts_with("ALARM monitor state: "), "{text}");
    }

    // The state as keyless wrote it scans every one of them.
    stored["scan_start"] = end.into();
    std::fs::write(&state, serde_json::to_vec_pretty(&stored).unwrap()).unwrap();
    let r = log.monitor(&state, &watch);
    r.assert_status(0, "grew");
    let found: Vec<u64> = r.json["scan"]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["log_index"].as_u64().unwrap())
        .collect();
    assert_eq!(found, ours);
}

/// The state is read without blocking and only from a regular file: a FIFO
/// at the state path (or a symlink to one) would otherwise hang the run
/// while it holds the lock. It is refused at once with exit 2, and nothing
/// is written in its place. (The run is bounded: `monitor` kills it after
/// 60 s, and the test then fails.)
#[test]
fn a_state_path_that_is_a_fifo_is_refused_without_blocking() {
    let log = start();
    let fifo = log.path("fifo-state.json");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let linked = log.path("linked-state.json");
    std::os::unix::fs::symlink(&fifo, &linked).unwrap();
    for state in [&fifo, &linked] {
        let r = log.monitor(state, &[]);
        assert_eq!(r.code, 2, "{state:?}: {}", r.stdout);
        assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
        let meta = std::fs::symlink_metadata(state).unwrap();
        assert!(!meta.is_file(), "{state:?} was replaced");
    }
}
