//! `keyless rekor` with a closed stdout: each command stops quietly and
//! keeps its verdict's exit status; a monitor whose report was not
//! delivered leaves its state file alone (as after an alarm).

use super::{Log, raw_entry, start};
use crate::common::{Run, keyless_process, run_with_closed_stdout, run_with_stdout};
use std::path::Path;

impl Log {
    /// `keyless rekor <args> --trust-config <testbed> [--json]` with a
    /// closed stdout.
    fn rekor_closed(&self, args: &[&str], json: bool) -> Run {
        let mut cmd = keyless_process();
        cmd.arg("rekor")
            .args(args)
            .arg("--trust-config")
            .arg(self.trust());
        if json {
            cmd.arg("--json");
        }
        run_with_closed_stdout(&mut cmd)
    }
}

fn assert_quiet(what: &str, r: &Run, code: i32) {
    assert_eq!(r.code, code, "{what}: {}", r.stderr);
    assert!(r.stderr.is_empty(), "{what}: {}", r.stderr);
}

#[test]
fn every_rekor_command_stops_quietly_on_a_closed_stdout() {
    let log = start();
    let signed = log.sign_one("pkg-1.0.tar.gz");
    let index = signed.index.to_string();
    let entry = log.write("entry.json", raw_entry(&log, signed.index));
    let entry = entry.to_str().unwrap();
    for json in [false, true] {
        for args in [
            vec!["log-info"],
            vec!["get", "--log-index", &index],
            vec!["get", "--uuid", &signed.uuid],
            vec!["search", "--sha256", &signed.digest],
            vec!["verify-entry", entry],
        ] {
            let r = log.rekor_closed(&args, json);
            assert_quiet(&format!("{args:?} json={json}"), &r, 0);
        }
    }

    // A verdict keeps its status: an entry that does not verify is 1.
    let mut cmd = keyless_process();
    cmd.args([
        "rekor",
        "get",
        "--log-index",
        &index,
        "--rekor-url",
        log.tb.url(),
    ]);
    let r = run_with_closed_stdout(&mut cmd);
    assert_quiet("get from an unknown log", &r, 1);
}

#[test]
fn a_monitor_report_not_delivered_does_not_move_the_state() {
    let log = start();
    log.sign(&["first.tar.gz"]);
    let state = log.path("state.json");
    let monitor = |state: &Path, json| {
        let state = state.to_str().unwrap();
        let args = [
            "monitor",
            "--state",
            state,
            "--gitlab-project",
            super::PROJECT,
        ];
        log.rekor_closed(&args, json)
    };

    // A first run whose report went nowhere stores nothing.
    for json in [false, true] {
        assert_quiet("first run", &monitor(&state, json), 0);
        assert!(!state.exists(), "the state was stored");
    }
    assert_eq!(log.monitor(&state, &[]).code, 0);
    log.sign(&["second.tar.gz"]);
    let before = std::fs::read(&state).unwrap();
    for json in [false, true] {
        assert_quiet("growth", &monitor(&state, json), 0);
        assert_eq!(std::fs::read(&state).unwrap(), before);
    }
    // Delivered, it moves on.
    log.monitor(&state, &[]).assert_status(0, "grew");
    assert_ne!(std::fs::read(&state).unwrap(), before);
}

#[cfg(target_os = "linux")]
#[test]
fn a_monitor_report_that_cannot_be_written_is_an_error_and_stores_nothing() {
    let log = start();
    let state = log.path("state.json");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let r = run_with_stdout(
        keyless_process()
            .args(["rekor", "monitor", "--state"])
            .arg(&state)
            .arg("--trust-config")
            .arg(log.trust()),
        full.into(),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("standard output: cannot write"),
        "{}",
        r.stderr
    );
    assert!(!state.exists());
}
