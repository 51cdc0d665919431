//! `keyless rekor monitor --gitlab-project/--identity`: the identity scan
//! finds exactly one project's signatures among others' (forks, other
//! projects, a self-managed instance claiming the name), bounded and
//! resumable; bad watch options are usage errors. Every entry it reads is
//! the one asked for, proven in the tree the run verified (a forked or
//! stale-and-forked proof is an alarm); an entry it cannot read fails the
//! run by name; one it cannot fetch is an error that the next run retries.

use super::{GITLAB, PROJECT, SELF_MANAGED, start};
use crate::common::read_json;

#[test]
fn the_identity_scan_finds_exactly_one_projects_signatures() {
    let log = start();
    let (project_state, identity_state) = (log.path("project.json"), log.path("identity.json"));
    let fork = "keyless-demo/hello-py-fork";
    let fork_san = format!("https://gitlab.com/{fork}//.gitlab-ci.yml@refs/heads/main");
    log.sign_as(GITLAB, "other/thing", &["before.tar.gz"], false);
    assert_eq!(
        log.monitor(&project_state, &["--gitlab-project", PROJECT])
            .code,
        0
    );
    assert_eq!(
        log.monitor(&identity_state, &["--identity", &fork_san])
            .code,
        0
    );

    let mut ours = Vec::new();
    ours.extend(
        log.sign(&["app-1.tar.gz", "app-1.whl"])
            .into_iter()
            .map(|(i, _)| i),
    );
    let others = log.sign_as(GITLAB, "other/thing", &["thing.tar.gz"], false);
    let forks = log.sign_as(GITLAB, fork, &["fork.tar.gz"], false);
    // The project's path on a self-managed instance: Fulcio still writes
    // https://gitlab.com/<path> into .12, so it claims the project's name.
    ours.extend(
        log.sign_as(SELF_MANAGED, PROJECT, &["self-managed.tar.gz"], false)
            .into_iter()
            .map(|(i, _)| i),
    );
    assert_eq!(others.len() + forks.len() + ours.len(), 5);

    // Bounded and resumable: three entries, then the rest.
    let mut found = Vec::new();
    for (run, remaining) in [(0, 2), (1, 0)] {
        let r = log.monitor(
            &project_state,
            &["--gitlab-project", PROJECT, "--max-entries", "3"],
        );
        assert_eq!(r.code, 0, "run {run}: {}", r.stdout);
        assert_eq!(r.json["scan"]["remaining"], remaining, "{}", r.json["scan"]);
        for m in r.json["scan"]["matches"].as_array().unwrap() {
            assert!(!m["reasons"].as_array().unwrap().is_empty());
            found.push(m["log_index"].as_u64().unwrap());
        }
    }
    ours.sort();
    assert_eq!(found, ours, "exactly our signatures, each once");
    let r = log.monitor(&project_state, &["--gitlab-project", PROJECT]);
    assert_eq!(r.json["scan"]["matches"].as_array().unwrap().len(), 0);

    // Text output names the match and why.
    let r = log.monitor(&identity_state, &["--identity", &fork_san]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let found: Vec<u64> = r.json["scan"]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["log_index"].as_u64().unwrap())
        .collect();
    assert_eq!(found, [forks[0].0]);
    let text = log.monitor_text(&log.path("text.json"), &["--gitlab-project", PROJECT]);
    assert!(text.contains("watching GitLab project"), "{text}");

    // Bad watch options are usage errors.
    let r = log.monitor(&project_state, &["--gitlab-project", "not-a-path"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
}

const WATCH: [&str; 2] = ["--gitlab-project", PROJECT];

/// The log indexes of a monitor report's matches.
fn matched(r: &super::Reply) -> Vec<u64> {
    r.json["scan"]["matches"]
        .as_array()
        .unwrap_or_else(|| panic!("no scan: {}", r.stdout))
        .iter()
        .map(|m| m["log_index"].as_u64().unwrap())
        .collect()
}

/// A log that answers a scan with another genuine entry than the one asked
/// for (as it is, or filed under the index asked for: entry #n-1 as #n
/// hides #n), proves the entries under another shard's origin, or in a fork of
/// the tree this run verified (at its size, or stale: a smaller forked
/// tree), raises the alarm at the step that caught it, and the state stays. Each lie is one an entry's
/// own proof does not show: the entry, its SET and its proof to a
/// checkpoint the log's key signed all verify on their own. An honest
/// stale proof (an older tree, consistent with the verified one) is no
/// alarm.
#[test]
fn scanned_entries_are_the_ones_asked_for_and_in_the_verified_tree() {
    let log = start();
    let state = log.path("bound.json");
    log.monitor(&state, &WATCH).assert_status(0, "initialized");
    let mut ours: Vec<u64> = log
        .sign(&["a.tar.gz", "b.tar.gz", "c.tar.gz"])
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    ours.sort();
    let before = std::fs::read(&state).unwrap();
    for (faults, check, says) in [
        (
            &["rekor-v1=other-entry"][..],
            "log-entry",
            format!(
                "asked for entry #{}, the log answered with entry #{}",
                ours[0], ours[1]
            ),
        ),
        (
            &["rekor-v1=misnumbered-entry"],
            "inclusion-proof",
            format!(
                "entry #{}: its proof is for leaf {} of the tree",
                ours[0],
                ours[0] - 1
            ),
        ),
        (
            &["rekor-v1=other-shard"],
            "log-identity",
            format!(
                "entry #{}: its checkpoint names \"rekor.keyless-testbed - 1\"",
                ours[0]
            ),
        ),
        (
            &["rekor-v1=forked-proof"],
            "fork",
            format!("entry #{}: its tree of size 4 has another root", ours[0]),
        ),
        (
            &["rekor-v1=forked-proof", "rekor-v1=stale-proof:1"],
            "consistency-proof",
            format!(
                "entry #{}: its tree (size 3) is not consistent with the checkpoint (size 4)",
                ours[0]
            ),
        ),
    ] {
        for f in faults {
            log.fault(f);
        }
        let r = log.monitor(&state, &WATCH);
        assert_eq!(
            (
                r.code,
                r.json["status"].as_str(),
                r.json["alarm"]["check"].as_str()
            ),
            (1, Some("alarm"), Some(check)),
            "{faults:?}: {}",
            r.stdout
        );
        let reason = r.json["alarm"]["reason"].as_str().unwrap();
        assert!(reason.contains(&says), "{faults:?}: {reason}");
        assert!(r.json["scan"].is_null(), "{faults:?}: {}", r.json);
        assert_eq!(std::fs::read(&state).unwrap(), before, "{faults:?}");
        log.tb.clear_faults();
    }

    // An honest proof for an older tree is tied to the verified one by a
    // consistency proof, not refused.
    log.fault("rekor-v1=stale-proof:1");
    let r = log.monitor(&state, &WATCH);
    r.assert_status(0, "grew");
    assert_eq!(matched(&r), ours);
    log.tb.clear_faults();
}

/// `POST <base><path>` with `body` exactly as given; the status.
pub(super) fn raw_post(base: &str, path: &str, body: &[u8]) -> u16 {
    let url = format!("{base}{path}");
    let body = body.to_vec();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let r = sigstore_rekor::reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        })
}

/// Entries proven in the log that the scan cannot read for identities (a
/// body that is not JSON, a certificate that does not parse) are listed by
/// index with the reason, in JSON and text, and fail the run (exit 1): a
/// signature in the project's name could hide in them. The state moves on
/// past them, as past a reported match: the log proved them immutable, so
/// a later run could not read them either, and holding the state back
/// would leave every later entry unscanned.
#[test]
fn entries_the_scan_cannot_read_fail_the_run_by_name() {
    let log = start();
    let state = log.path("unreadable.json");
    log.monitor(&state, &WATCH).assert_status(0, "initialized");
    let pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let odd_cert = serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": "00".repeat(32)}},
        "signature": {"content": "AAAA", "publicKey": {
            "content": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pem)}}}});
    log.fault("rekor-v1=log-as-sent");
    for body in [
        b"not JSON at all".to_vec(),
        odd_cert.to_string().into_bytes(),
    ] {
        assert_eq!(raw_post(log.tb.url(), "/api/v1/log/entries", &body), 201);
    }
    log.tb.clear_faults();
    let ours = log.sign(&["ours.tar.gz"])[0].0;
    let (not_json, bad_cert) = (ours - 2, ours - 1);

    let r = log.monitor(&state, &WATCH);
    assert_eq!(
        (r.code, r.json["status"].as_str(), r.json["ok"].as_bool()),
        (1, Some("grew"), Some(false)),
        "{}",
        r.stdout
    );
    // The readable entry is still scanned and matched.
    assert_eq!(matched(&r), [ours]);
    let unreadable = r.json["scan"]["unreadable"].as_array().unwrap();
    let listed: Vec<(u64, &str)> = unreadable
        .iter()
        .map(|u| {
            (
                u["log_index"].as_u64().unwrap(),
                u["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed.len(), 2, "{}", r.json["scan"]);
    assert_eq!(listed[0].0, not_json);
    assert!(listed[0].1.contains("not JSON"), "{}", listed[0].1);
    assert_eq!(listed[1].0, bad_cert);
    assert!(listed[1].1.contains("does not parse"), "{}", listed[1].1);
    // The state moved on past them (the report said so).
    assert_eq!(read_json(&state)["next_index"], ours + 1);

    // Text: each by index, and a FAIL line.
    let r = log.monitor_as(
        &log.path("unreadable-text-2.json"),
        &[
            "--gitlab-project",
            PROJECT,
            "--since",
            &not_json.to_string(),
        ],
        false,
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    for line in [
        format!("UNREADABLE #{not_json} "),
        format!("UNREADABLE #{bad_cert} "),
    ] {
        assert!(r.stdout.contains(&line), "{}", r.stdout);
    }
    assert!(
        r.stdout.contains(&format!(
            "FAIL 2 scanned entries could not be read for watched identities (the next run \
             does not scan them again): #{not_json}, #{bad_cert}"
        )),
        "{}",
        r.stdout
    );

    // The next run does not list them again.
    let r = log.monitor(&state, &WATCH);
    r.assert_status(0, "unchanged");
    assert_eq!(r.json["scan"]["unreadable"].as_array().unwrap().len(), 0);
}

/// An entry the scan cannot fetch is no verdict: the run exits 2 naming
/// it, the state stays where it was, and the next run scans from there, so
/// no entry is skipped because the log failed to serve it once.
#[test]
fn an_entry_that_cannot_be_fetched_is_retried_by_the_next_run() {
    let log = start();
    let state = log.path("fetch.json");
    log.monitor(&state, &WATCH).assert_status(0, "initialized");
    let mut ours: Vec<u64> = log
        .sign(&["x.tar.gz", "y.tar.gz"])
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    ours.sort();
    let before = std::fs::read(&state).unwrap();
    // The log info and the consistency proof are served; the entries not.
    log.fault("rekor-v1=status:404,after=2");
    let r = log.monitor(&state, &["--gitlab-project", PROJECT, "--timeout", "5"]);
    assert_eq!(
        (r.code, r.json["ok"].as_bool(), r.json.get("status")),
        (2, Some(false), None),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(&format!("entry #{}", ours[0])),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&state).unwrap(), before);
    log.tb.clear_faults();

    let r = log.monitor(&state, &WATCH);
    r.assert_status(0, "grew");
    assert_eq!(matched(&r), ours);
}

/// A run that watches nothing (no `--identity`/`--gitlab-project`) on a
/// state whose identity scan is partway keeps the scan position: the next
/// identity run continues from it and finds the signature in the entries
/// not yet scanned. Moved to the log's end, those entries would be skipped
/// without a word.
#[test]
fn a_run_watching_nothing_keeps_the_scan_position() {
    let log = start();
    let state = log.path("partway.json");
    log.monitor(&state, &WATCH).assert_status(0, "initialized");
    let ours = log.sign(&["a.tar.gz", "b.tar.gz", "c.tar.gz"]);
    let mut ours: Vec<u64> = ours.into_iter().map(|(i, _)| i).collect();
    ours.sort();
    let r = log.monitor(&state, &["--gitlab-project", PROJECT, "--max-entries", "1"]);
    r.assert_status(0, "grew");
    assert_eq!(matched(&r), ours[..1]);
    let position = read_json(&state)["next_index"].clone();
    assert_eq!(position, ours[0] + 1);

    let r = log.monitor(&state, &[]);
    r.assert_status(0, "unchanged");
    assert_eq!(read_json(&state)["next_index"], position, "{}", r.stdout);

    let r = log.monitor(&state, &WATCH);
    r.assert_status(0, "unchanged");
    assert_eq!(matched(&r), ours[1..]);
}
