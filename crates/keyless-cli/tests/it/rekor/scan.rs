//! `keyless rekor monitor --gitlab-project/--identity`: the identity scan
//! finds exactly one project's signatures among others' (forks, other
//! projects, a self-managed instance claiming the name), bounded and
//! resumable; bad watch options are usage errors.

use super::{GITLAB, PROJECT, SELF_MANAGED, start};

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
