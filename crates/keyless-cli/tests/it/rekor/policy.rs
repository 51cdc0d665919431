//! `keyless rekor monitor --fail-on-match / --expect-ref / --since`: a match
//! the policy does not allow fails the run (exit 1) once, listed as
//! unexpected, while the state moves on past it; matches that fit stay
//! informational; `--since` scans what was logged before the first run,
//! bounded and resumable, and is refused where it would skip entries.

use super::{GITLAB, Log, PROJECT, start};
use crate::common::read_json;
use serde_json::Value;

const TAGS: &str = "refs/tags/*";

impl Log {
    /// Sign `names` as the project's pipeline for `tag` (or `main`).
    fn sign_on(&self, tag: Option<&str>, names: &[&str]) -> Vec<u64> {
        let mut spec = keyless_testbed::TokenSpec::gitlab(GITLAB);
        spec.project = PROJECT.into();
        spec.tag = tag.map(str::to_string);
        self.sign_with(&spec, names, false)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    }
}

/// The matches of a JSON monitor report: (log index, unexpected).
fn matches(report: &Value) -> Vec<(u64, bool)> {
    report["scan"]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["log_index"].as_u64().unwrap(),
                m["unexpected"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn expect_ref_fails_the_run_once_for_a_match_from_another_ref() {
    let log = start();
    let state = log.path("state.json");
    let watch = ["--gitlab-project", PROJECT, "--expect-ref", TAGS];
    let r = log.monitor(&state, &watch);
    r.assert_status(0, "initialized");
    assert_eq!(
        r.json["policy"],
        serde_json::json!({"fail_on_match": false, "expect_ref": [TAGS]})
    );

    let tag = log.sign_on(Some("v1.0"), &["pkg-1.0.tar.gz"])[0];
    let branch = log.sign_on(None, &["pkg-main.tar.gz"])[0];
    let r = log.monitor(&state, &watch);
    // The log is fine; the run fails on the branch signature alone.
    r.assert_status(1, "grew");
    assert_eq!(r.json["ok"], false);
    assert!(r.json["alarm"].is_null(), "{}", r.json);
    assert_eq!(matches(&r.json), [(tag, false), (branch, true)]);
    assert_eq!(r.json["scan"]["unexpected"], 1);
    let m = &r.json["scan"]["matches"][1];
    assert_eq!(m["source_repository_ref"], "refs/heads/main");
    assert_eq!(
        m["unexpected_reason"],
        format!("Source Repository Ref \"refs/heads/main\" fits none of {TAGS}")
    );
    let fitting = &r.json["scan"]["matches"][0];
    assert_eq!(fitting["source_repository_ref"], "refs/tags/v1.0");
    assert!(fitting["unexpected_reason"].is_null());
    // The state moved past what was reported: the next run does not fail
    // on the same entry again.
    assert_eq!(read_json(&state)["next_index"], branch + 1);
    log.monitor(&state, &watch).assert_status(0, "unchanged");

    // A tag signature alone is informational; text names what fails and why.
    log.sign_on(Some("v1.1"), &["pkg-1.1.tar.gz"]);
    log.monitor(&state, &watch).assert_status(0, "grew");
    let again = log.sign_on(None, &["pkg-main-2.tar.gz"])[0];
    let text = log.monitor_as(&state, &watch, false);
    assert_eq!(text.code, 1, "{}", text.stdout);
    assert!(
        text.stdout.starts_with("OK   consistent: "),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(&format!(
            "     unexpected       Source Repository Ref \"refs/heads/main\" fits none of {TAGS}"
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.ends_with(&format!(
            "\nFAIL 1 of 1 match not allowed by --expect-ref {TAGS}: #{again}\n"
        )),
        "{}",
        text.stdout
    );
    assert_eq!(read_json(&state)["next_index"], again + 1);
}

#[test]
fn fail_on_match_fails_the_run_for_any_match() {
    let log = start();
    let state = log.path("state.json");
    let watch = ["--gitlab-project", PROJECT, "--fail-on-match"];
    log.monitor(&state, &watch).assert_status(0, "initialized");
    log.sign_as(GITLAB, "other/project", &["theirs.tar.gz"], false);
    // No match: the run is fine.
    log.monitor(&state, &watch).assert_status(0, "grew");
    let ours = log.sign_on(Some("v1.0"), &["ours.tar.gz"])[0];
    let r = log.monitor(&state, &watch);
    r.assert_status(1, "grew");
    assert_eq!(matches(&r.json), [(ours, true)]);
    assert_eq!(r.json["policy"]["fail_on_match"], true);
    assert!(
        r.json["scan"]["matches"][0]["unexpected_reason"]
            .as_str()
            .unwrap()
            .contains("--fail-on-match")
    );
    // A first run that scans from --since fails on the match too, and
    // stores its state (the log verified) past it.
    let first = log.path("first.json");
    let r = log.monitor(
        &first,
        &[
            "--gitlab-project",
            PROJECT,
            "--since",
            "0",
            "--fail-on-match",
        ],
    );
    r.assert_status(1, "initialized");
    assert_eq!(matches(&r.json), [(ours, true)]);
    assert_eq!(read_json(&first)["next_index"], ours + 1);
    // Without a policy the same match is listed and the run is fine.
    let plain = log.path("plain.json");
    let r = log.monitor(&plain, &["--gitlab-project", PROJECT, "--since", "0"]);
    r.assert_status(0, "initialized");
    assert_eq!(matches(&r.json), [(ours, false)]);
    assert_eq!(r.json["ok"], true);
}

#[test]
fn policy_options_are_checked() {
    let log = start();
    let state = log.path("state.json");
    for (args, says) in [
        (&["--fail-on-match"][..], "--identity"),
        (&["--expect-ref", TAGS], "--identity"),
        (&["--since", "0"], "--identity"),
        (
            &[
                "--gitlab-project",
                PROJECT,
                "--fail-on-match",
                "--expect-ref",
                TAGS,
            ],
            "cannot be used with",
        ),
        (
            &["--gitlab-project", PROJECT, "--expect-ref", "v*"],
            "a full ref",
        ),
    ] {
        let r = log.monitor_as(&state, args, false);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert!(!state.exists(), "{args:?}");
    }
}

#[test]
fn since_scans_what_was_logged_before_the_first_run() {
    let log = start();
    let first = log.sign_on(None, &["a.tar.gz"])[0];
    log.sign_as(GITLAB, "other/project", &["theirs.tar.gz"], false);
    // One at a time: files signed together are logged in any order.
    let rest = [
        log.sign_on(Some("v1.0"), &["b.tar.gz"])[0],
        log.sign_on(Some("v1.0"), &["c.tar.gz"])[0],
    ];
    // Index 0 is the log's genesis entry.
    assert_eq!([first, rest[0], rest[1]], [1, 3, 4]);
    let state = log.path("state.json");
    let watch = [
        "--gitlab-project",
        PROJECT,
        "--since",
        "2",
        "--max-entries",
        "2",
    ];

    // Bounded by --max-entries, and resumed by the next run.
    let r = log.monitor(&state, &watch);
    r.assert_status(0, "initialized");
    assert_eq!(
        (
            &r.json["scan"]["from"],
            &r.json["scan"]["to"],
            &r.json["scan"]["remaining"]
        ),
        (&Value::from(2), &Value::from(4), &Value::from(1))
    );
    assert_eq!(matches(&r.json), [(3, false)]);
    assert_eq!(read_json(&state)["scan_start"], 2);
    let r = log.monitor(&state, &watch);
    r.assert_status(0, "unchanged");
    assert_eq!(matches(&r.json), [(4, false)]);
    assert_eq!(r.json["scan"]["remaining"], 0);
    // --since stays in the command line of later runs without effect.
    let r = log.monitor(&state, &watch);
    assert_eq!(matches(&r.json), []);

    // Earlier than the state's scan began: refused, the state untouched.
    let before = std::fs::read(&state).unwrap();
    let r = log.monitor_as(
        &state,
        &["--gitlab-project", PROJECT, "--since", "1"],
        false,
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("has scanned the log from index 2 on; --since 1 asks for earlier entries"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&state).unwrap(), before);

    // A state begun without --since scans from the log's end then.
    let plain = log.path("plain.json");
    let text = log.monitor_text(&plain, &["--gitlab-project", PROJECT]);
    assert!(text.contains("watching GitLab project"), "{text}");
    let r = log.monitor_as(
        &plain,
        &["--gitlab-project", PROJECT, "--since", "3"],
        false,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("from index 5 on"), "{}", r.stderr);
    assert_eq!(
        log.monitor(&plain, &["--gitlab-project", PROJECT, "--since", "5"])
            .code,
        0
    );

    // Text of a first run with --since; past the log's end is refused.
    let text = log.monitor_text(
        &log.path("text.json"),
        &["--gitlab-project", PROJECT, "--since", "0"],
    );
    assert!(
        text.contains(&format!(
            "scanned log indexes 0..5 for GitLab project {PROJECT}: 3 matches"
        )),
        "{text}"
    );
    let beyond = log.path("beyond.json");
    let r = log.monitor_as(
        &beyond,
        &["--gitlab-project", PROJECT, "--since", "6"],
        false,
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("--since 6 is past the log's end: its next entry will be log index 5"),
        "{}",
        r.stderr
    );
    assert!(!beyond.exists());
}
