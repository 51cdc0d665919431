//! `keyless rekor monitor` and `log-info`: consistent growth is followed;
//! every log fault (rollback, fork, wrong checkpoint key, bad consistency
//! proof) raises the alarm with its evidence and leaves the state alone;
//! network faults are errors (exit 2), never a false OK or a false alarm; a
//! locked state refuses a second monitor.

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
