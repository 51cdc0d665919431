//! `--json` in one style: every document has a top-level `ok`; an error
//! that reaches no verdict is `{"ok": false, "error": ..., "hint": ...}` on
//! stdout (and said on stderr), for `rekor` and `inspect` alike.

use super::{PROJECT, raw_entry, start, strs};
use crate::common::{keyless, run, vectors};
use serde_json::Value;

/// An error document: exactly ok (false), error and hint.
fn assert_error_doc(what: &str, doc: &Value, error: &str, hint: Option<&str>) {
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 3, "{what}: {doc}");
    assert_eq!(doc["ok"], false, "{what}: {doc}");
    assert!(
        doc["error"].as_str().unwrap().contains(error),
        "{what}: {doc}"
    );
    match hint {
        Some(h) => assert!(doc["hint"].as_str().unwrap().contains(h), "{what}: {doc}"),
        None => assert!(doc["hint"].is_null(), "{what}: {doc}"),
    }
}

#[test]
fn every_json_document_has_ok_and_errors_share_one_shape() {
    let log = start();
    let signed = log.sign_one("pkg-1.0.tar.gz");
    let index = signed.index.to_string();
    let entry = log.write("entry.json", raw_entry(&log, signed.index));
    let entry = entry.to_str().unwrap();
    let state = log.path("state.json");
    let state = state.to_str().unwrap();

    for args in [
        vec!["get", "--log-index", &index],
        vec!["search", "--sha256", &signed.digest],
        vec!["log-info"],
        vec!["verify-entry", entry],
        vec!["monitor", "--state", state, "--gitlab-project", PROJECT],
    ] {
        let r = log.rekor(&strs(&args), true);
        assert_eq!(
            (r.code, &r.json["ok"]),
            (0, &Value::Bool(true)),
            "{args:?}: {}",
            r.stdout
        );
    }

    let missing = log.path("missing.json");
    let missing = missing.to_str().unwrap();
    for (args, error, hint) in [
        (
            vec!["verify-entry", missing],
            "missing.json",
            Some("check the path"),
        ),
        (
            vec!["search", "--sha256", "abc"],
            "not a SHA-256 digest",
            Some("see 'keyless rekor search --help'"),
        ),
        (
            vec!["get", "--log-index", "99"],
            "no entry at log index 99",
            Some("check the log index"),
        ),
        (
            vec![
                "monitor",
                "--state",
                state,
                "--gitlab-project",
                PROJECT,
                "--since",
                "0",
            ],
            "asks for earlier entries",
            Some("see 'keyless rekor monitor --help'"),
        ),
    ] {
        let r = log.rekor(&strs(&args), true);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert_error_doc(&format!("{args:?}"), &r.json, error, hint);
        assert!(
            r.stderr.contains(&format!(
                "keyless: error: {}",
                r.json["error"].as_str().unwrap()
            )),
            "{}",
            r.stderr
        );
    }

    // inspect: a document with ok, and the same error shape.
    let att =
        vectors("pypi-attestations").join("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation");
    let r = run(keyless().args(["inspect", "--json"]).arg(&att));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        (&r.json()["ok"], &r.json()["verified"]),
        (&Value::Bool(true), &Value::Bool(false))
    );
    let r = run(keyless().args(["inspect", "--json", missing]));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_error_doc("inspect", &r.json(), "missing.json", Some("check the path"));
    assert!(r.stderr.contains("keyless: error: "), "{}", r.stderr);
    // Without --json, errors stay on stderr.
    let r = run(keyless().args(["inspect", missing]));
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
}
