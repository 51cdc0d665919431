//! What the log says about itself beyond its signed checkpoint: the
//! unsigned tree size and root of `GET /api/v1/log` must agree with the
//! checkpoint, and a monitored log that starts signing checkpoints under
//! another origin (its key unchanged) raises the alarm. The answers are the
//! testbed's, served by a fake log at one URL.

use super::{raw_get, start, strs};
use crate::common::serve::serve;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// `GET <url>/api/v1/log`, as served.
fn log_info_of(url: &str) -> Value {
    serde_json::from_str(&raw_get(url, "/api/v1/log")).unwrap()
}

/// A fake log answering every request with the JSON `answer` holds now.
fn serve_answer(answer: Arc<Mutex<Value>>) -> crate::common::serve::Served {
    serve(axum::Router::new().fallback(move || {
        let body = answer.lock().unwrap().to_string();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
        }
    }))
}

#[test]
fn an_unsigned_tree_size_or_root_disagreeing_with_the_checkpoint_fails() {
    let log = start();
    log.sign(&["a.tar.gz", "b.tar.gz"]);
    let honest = log_info_of(log.tb.url());
    let answer = Arc::new(Mutex::new(honest.clone()));
    let fake = serve_answer(answer.clone());
    let log_info = || {
        log.rekor(
            &strs(&["log-info", "--rekor-url", &fake.url, "--timeout", "10"]),
            true,
        )
    };
    let r = log_info();
    assert_eq!(
        (r.code, r.json["ok"].as_bool()),
        (0, Some(true)),
        "the control: {}",
        r.stdout
    );

    let mut bigger = honest.clone();
    bigger["treeSize"] = Value::from(honest["treeSize"].as_u64().unwrap() + 1);
    let mut other_root = honest.clone();
    other_root["rootHash"] = Value::from("ab".repeat(32));
    for (what, lie) in [("tree size", bigger), ("root", other_root)] {
        *answer.lock().unwrap() = lie;
        let r = log_info();
        assert_eq!(
            (r.code, r.json["ok"].as_bool()),
            (1, Some(false)),
            "{what}: {}",
            r.stdout
        );
        let text = log.rekor(
            &strs(&["log-info", "--rekor-url", &fake.url, "--timeout", "10"]),
            false,
        );
        assert!(
            text.stdout.starts_with("FAIL") && text.stdout.contains("but its checkpoint signs"),
            "{what}: {}",
            text.stdout
        );
    }
}

#[test]
fn a_monitored_log_under_a_new_origin_raises_the_alarm() {
    let log = start();
    log.sign(&["a.tar.gz"]);
    // The same log keys and entries, at another origin: a copy of the
    // testbed's state with the Rekor v1 origin renamed.
    let copy = log.path("renamed-state");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(log.tb.state_dir()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    let mut keys = crate::common::read_json(&copy.join("keys.json"));
    let origin = keys["rekor_v1"]["origin"].as_str().unwrap().to_string();
    let renamed = format!(
        "elsewhere.example - {}",
        origin.split(" - ").last().unwrap()
    );
    keys["rekor_v1"]["origin"] = Value::from(renamed.clone());
    std::fs::write(copy.join("keys.json"), keys.to_string()).unwrap();
    let other =
        keyless_testbed::Testbed::start(keyless_testbed::TestbedOptions::new(&copy)).unwrap();

    let answer = Arc::new(Mutex::new(log_info_of(log.tb.url())));
    let fake = serve_answer(answer.clone());
    let state = log.path("monitor.json");
    let monitor = || {
        let mut args = strs(&[
            "monitor",
            "--rekor-url",
            &fake.url,
            "--timeout",
            "10",
            "--state",
        ]);
        args.push(state.as_os_str());
        log.rekor(&args, true)
    };
    monitor().assert_status(0, "initialized");
    monitor().assert_status(0, "unchanged");

    let before = std::fs::read(&state).unwrap();
    *answer.lock().unwrap() = log_info_of(other.url());
    let r = monitor();
    r.assert_status(1, "alarm");
    assert_eq!(r.json["alarm"]["check"], "log-identity", "{}", r.stdout);
    assert!(
        r.stdout.contains(&renamed) && r.stdout.contains(&origin),
        "names both origins: {}",
        r.stdout
    );
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "the state is untouched"
    );
}
