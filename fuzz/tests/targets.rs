//! The harness itself: seeds reach the end of the pipeline they feed (so
//! mutants are tested where it matters), every target survives a short,
//! execution-bounded smoke run, and every input that once crashed a target
//! is replayed (fuzz/regressions/<target>/<name>).

use keyless_fuzz::engine::{Budget, fuzz, run_one};
use keyless_fuzz::targets::{NAMES, Target, by_name, repo_root};

fn target(name: &str) -> Box<dyn Target> {
    by_name(name).unwrap_or_else(|| panic!("no target {name}"))
}

/// How far each seed of `name` gets, by seed name.
fn outcomes(name: &str) -> Vec<(String, String)> {
    let t = target(name);
    t.seeds()
        .iter()
        .map(|s| (s.name.clone(), t.run(s.context, &s.data)))
        .collect()
}

fn outcome_of<'a>(outcomes: &'a [(String, String)], seed: &str) -> &'a str {
    outcomes
        .iter()
        .find(|(n, _)| n.ends_with(seed))
        .map(|(_, o)| o.as_str())
        .unwrap_or_else(|| panic!("no seed {seed} in {outcomes:?}"))
}

#[test]
fn bundle_and_attestation_seeds_verify_under_the_fixed_root_and_clock() {
    let bundles = outcomes("bundle");
    for seed in [
        "testbed/v1/hello_py-1.0.tar.gz.sigstore.json",
        "testbed/v2/hello_py-1.0.tar.gz.sigstore.json",
        "sigstore-python/bundle_v3_github.whl.sigstore",
        "sigstore-python/staging-rekor-v2.txt.sigstore.json",
        "sigstore-python/tsa/bundle.txt.sigstore",
    ] {
        assert_eq!(
            outcome_of(&bundles, seed),
            "verified",
            "{seed}: {bundles:#?}"
        );
    }
    // The vectors that must fail still fail, at a step (a verdict).
    assert_eq!(
        outcome_of(&bundles, "bundle_cve_2022_36056.txt.sigstore"),
        "failed at SET"
    );
    let attestations = outcomes("attestation");
    for seed in [
        "testbed/v1/hello_py-1.0.tar.gz.publish.attestation",
        "pypi-attestations/gitlab_oidc_project-0.0.3.tar.gz.publish.attestation",
    ] {
        assert_eq!(
            outcome_of(&attestations, seed),
            "verified",
            "{seed}: {attestations:#?}"
        );
    }
}

#[test]
fn the_other_seeds_reach_the_end_of_their_parsers() {
    let tokens = outcomes("token");
    assert!(tokens.iter().all(|(_, o)| o == "accepted"), "{tokens:#?}");
    let checkpoints = outcomes("checkpoint");
    // Some vectors are meant to fail under the root they are checked with
    // (a staging bundle under the production root, the CVE's old key);
    // most checkpoints, and the testbed's, verify.
    let verified = checkpoints.iter().filter(|(_, o)| o == "verified").count();
    assert!(verified * 2 > checkpoints.len(), "{checkpoints:#?}");
    assert_eq!(outcome_of(&checkpoints, "testbed log info"), "verified");
    let entries = outcomes("rekor-entry");
    assert_eq!(
        outcome_of(&entries, "rekor-v1-entry-hashedrekord.json"),
        "proven"
    );
    assert_eq!(outcome_of(&entries, "rekor-v1-entry-dsse.json"), "proven");
    assert!(
        entries.iter().filter(|(_, o)| o == "proven").count() >= 10,
        "{entries:#?}"
    );
    let answers = outcomes("rekor-answer");
    assert!(
        outcome_of(&answers, "rekor-v1-log-info.json").ends_with("log info verified"),
        "{answers:#?}"
    );
    for entry in [
        "rekor-v1-entry-hashedrekord.json",
        "rekor-v1-entry-dsse.json",
    ] {
        assert!(
            outcome_of(&answers, entry).starts_with("proven"),
            "{answers:#?}"
        );
    }
    let trust = outcomes("trust");
    assert!(trust.iter().all(|(_, o)| o != "refused"), "{trust:#?}");
    let lists = outcomes("checksums");
    assert!(
        lists.iter().all(|(_, o)| o.starts_with("listed ")),
        "{lists:#?}"
    );
}

/// A short run of every target, bounded by executions (never by time).
#[test]
fn every_target_survives_a_smoke_run() {
    for name in NAMES {
        let t = target(name);
        let runs = t.seeds().len() as u64 + 60;
        let stats = fuzz(t.as_ref(), Budget::Executions(runs), 1, None);
        assert_eq!(stats.executions, runs, "{name}");
        let crashes: Vec<_> = stats
            .crashes
            .iter()
            .map(|c| {
                (
                    c.message.clone(),
                    String::from_utf8_lossy(&c.input).into_owned(),
                )
            })
            .collect();
        assert!(crashes.is_empty(), "{name}: {crashes:#?}");
    }
}

/// Every input that once crashed a target, replayed: none may panic again.
#[test]
fn crashes_found_before_do_not_come_back() {
    let dir = repo_root().join("fuzz/regressions");
    let mut replayed = 0;
    for name in NAMES {
        let sub = dir.join(name);
        let Ok(entries) = std::fs::read_dir(&sub) else {
            continue;
        };
        let t = target(name);
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            // Regressions run in the first context of their target.
            if let Some(panic) = run_one(t.as_ref(), 0, &data) {
                panic!("{} panics again: {panic}", path.display());
            }
            replayed += 1;
        }
    }
    let expected = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| std::fs::read_dir(e.path()).map(|f| f.count()).unwrap_or(0))
                .sum::<usize>()
        })
        .unwrap_or(0);
    assert_eq!(replayed, expected, "a regression folder names no target");
    // A replay of nothing passes whatever the code does: a moved or emptied
    // folder must fail here, not turn the test into a no-op.
    assert!(
        replayed > 0,
        "no regression input found in {}: nothing was replayed",
        dir.display()
    );
}
