//! The CI/CD components of `templates/`: each expands to valid GitLab CI,
//! inputs reach scripts only as variables, and the monitor keeps its state.

use super::*;

#[test]
fn every_component_expands_to_valid_gitlab_ci() {
    let dir = tempfile::tempdir().unwrap();
    let repo = example_repo(&dir.path().join("repo"));
    let sha = git_head(&repo);
    // Each component with its default inputs (and the one required,
    // `needs`), in one configuration.
    let config: String = [
        ("sign", "[build]"),
        ("verify", "[keyless-sign]"),
        ("attest", "[build]"),
        ("provenance", "[build]"),
        ("rekor-monitor", ""),
    ]
    .iter()
    .map(|(c, needs)| {
        let inputs = if needs.is_empty() {
            String::new()
        } else {
            format!("    inputs:\n      needs: {needs}\n")
        };
        format!("  - component: gitlab.com/{PROJECT}/{c}@{sha}\n{inputs}")
    })
    .collect();
    std::fs::write(
        repo.join("components.gitlab-ci.yml"),
        format!(
            "stages: [build, test, sign, verify]\ninclude:\n{config}\
             build:\n  stage: build\n  script: [python -m build]\n  artifacts:\n    paths: [dist/]\n"
        ),
    )
    .unwrap();
    let out = gitlab_ci_local()
        .current_dir(&repo)
        .env("HOME", dir.path().join("home"))
        .env("NO_COLOR", "1")
        .args(["--file", "components.gitlab-ci.yml", "--list-json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("json schema validated"), "{stderr}");
    // gitlab-ci-local warns on stdout that it does not check `regex:`
    // (GitLab does; `the_input_patterns_accept_real_values_and_refuse_shell_code`
    // checks the patterns), before the JSON.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = &stdout[stdout.find("\n[").map_or(0, |i| i + 1)..];
    let jobs: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let names: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    for job in [
        "keyless-sign",
        "keyless-verify",
        "keyless-attest",
        "keyless-provenance",
        "keyless-rekor-monitor",
    ] {
        assert!(names.contains(&job), "{job} missing from {names:?}");
    }
    // The signing jobs ask GitLab for the token with Sigstore's audience.
    let expanded =
        std::fs::read_to_string(repo.join(".gitlab-ci-local/expanded-gitlab-ci.yml")).unwrap();
    for job in ["keyless-sign", "keyless-attest", "keyless-provenance"] {
        let block = top_level_block(&expanded, job);
        assert!(
            block.contains("  id_tokens:\n    SIGSTORE_ID_TOKEN:\n      aud: sigstore\n"),
            "{job}:\n{block}"
        );
    }
    let verify = top_level_block(&expanded, "keyless-verify");
    assert!(verify.contains("junit: keyless-verify.xml"), "{verify}");
    // Verifying against the runner's provenance is opt-in.
    assert!(verify.contains("KEYLESS_INPUT_PROVENANCE: ''"), "{verify}");
    // The provenance job keeps the statement and its bundle.
    let provenance = top_level_block(&expanded, "keyless-provenance");
    assert!(
        provenance.contains(
            "  artifacts:\n    paths:\n      - artifacts-metadata.json\n      - provenance.intoto.sigstore.json\n"
        ),
        "{provenance}"
    );
    // Signing publishes the project, ref and commit in a public log: by
    // default only tag pipelines sign.
    // verify follows, as it needs keyless-sign.
    for job in [
        "keyless-sign",
        "keyless-attest",
        "keyless-provenance",
        "keyless-verify",
    ] {
        let block = top_level_block(&expanded, job);
        assert!(
            block.contains("  rules:\n    - if: $CI_COMMIT_TAG\n"),
            "{job}:\n{block}"
        );
    }
    // An empty rekor_version passes no --rekor-version.
    let sign = top_level_block(&expanded, "keyless-sign");
    assert!(sign.contains("KEYLESS_INPUT_REKOR_VERSION: ''"), "{sign}");
    let monitor = top_level_block(&expanded, "keyless-rekor-monitor");
    assert!(monitor.contains("    when: always\n"), "{monitor}");
    assert!(
        monitor.contains("KEYLESS_INPUT_MAX_ENTRIES: '1000'"),
        "{monitor}"
    );
    assert!(
        monitor.contains("KEYLESS_INPUT_REKOR_VERSION: '1'"),
        "{monitor}"
    );
}

/// String inputs reach the scripts as job variables, never as text in the
/// script (where `$(...)` or a quote in a value would be shell code); only
/// boolean inputs, whose values are `true` and `false`, may appear there.
#[test]
fn no_string_input_is_interpolated_into_a_script() {
    for component in ["sign", "verify", "attest", "provenance", "rekor-monitor"] {
        let text = std::fs::read_to_string(repo_root().join(format!("templates/{component}.yml")))
            .unwrap();
        let (spec, job) = text.split_once("\n---\n").unwrap();
        let script = job
            .split_once("  script:\n")
            .unwrap()
            .1
            .lines()
            .take_while(|l| l.starts_with("    ") || l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        for (_, rest) in script
            .match_indices("$[[ inputs.")
            .map(|(i, _)| ((), &script[i + 11..]))
        {
            let name = rest.split_once(' ').unwrap().0;
            let declared = spec
                .split_once(&format!("\n    {name}:\n"))
                .unwrap_or_else(|| panic!("{component}: no input {name}"))
                .1;
            assert!(
                declared.starts_with("      type: boolean\n"),
                "{component}: the string input {name} is interpolated into the script"
            );
        }
    }
}

/// The `regex:` of each input (GitLab matches inputs with RE2, as the
/// `regex` crate does) accepts the default and values a pipeline uses, and
/// refuses shell metacharacters.
#[test]
fn the_input_patterns_accept_real_values_and_refuse_shell_code() {
    let patterns = |component: &str| -> Vec<(String, regex::Regex)> {
        let text = std::fs::read_to_string(repo_root().join(format!("templates/{component}.yml")))
            .unwrap();
        let spec = text.split_once("\n---\n").unwrap().0;
        let mut name = String::new();
        let mut out = Vec::new();
        for line in spec.lines() {
            if let Some(n) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
                && !n.starts_with(' ')
            {
                name = n.to_string();
            }
            if let Some(r) = line.trim_start().strip_prefix("regex: ") {
                let r = r.trim_matches('\'');
                out.push((name.clone(), regex::Regex::new(r).unwrap()));
            }
        }
        out
    };
    let verify: std::collections::HashMap<_, _> = patterns("verify").into_iter().collect();
    let monitor: std::collections::HashMap<_, _> = patterns("rekor-monitor").into_iter().collect();
    let provenance: std::collections::HashMap<_, _> = patterns("provenance").into_iter().collect();
    for (name, re) in verify.iter().chain(&monitor).chain(&provenance) {
        for bad in [
            "a;b", "$(id)", "`id`", "a b", "a\"b", "a'b", "a|b", "a&b", "x\ny",
        ] {
            assert!(!re.is_match(bad), "{name} accepts {bad:?}");
        }
    }
    let accepts = |re: &regex::Regex, v: &str| assert!(re.is_match(v), "{re} refuses {v:?}");
    for v in [
        "$CI_PROJECT_PATH",
        "group/project",
        "group/sub/my.project-2",
    ] {
        accepts(&verify["project"], v);
        accepts(&monitor["project"], v);
    }
    assert!(
        !verify["project"].is_match("project"),
        "a project has a group"
    );
    for v in ["$CI_COMMIT_TAG", "v1.0", "", "release/1.2+build"] {
        accepts(&verify["tag"], v);
        accepts(&verify["branch"], v);
    }
    for v in [
        "$CI_SERVER_URL",
        "https://gitlab.com",
        "https://gitlab.example.com:8443/gitlab",
    ] {
        accepts(&verify["instance"], v);
    }
    assert!(!verify["instance"].is_match("http://gitlab.com"));
    for v in ["$CI_CONFIG_PATH", ".gitlab-ci.yml", "ci/release.yml", ""] {
        accepts(&verify["config_path"], v);
    }
    accepts(&verify["junit"], "keyless-verify.xml");
    accepts(&verify["junit"], "reports/keyless.xml");
    assert!(!verify["junit"].is_match("/etc/x.xml"));
    for v in ["refs/tags/*", "refs/heads/main", "refs/tags/v?.*"] {
        accepts(&monitor["expect_ref"], v);
    }
    for v in [
        "artifacts-metadata.json",
        "release-metadata.json",
        "out/hello_py-1.0-metadata.json",
    ] {
        accepts(&provenance["metadata"], v);
    }
    assert!(!provenance["metadata"].is_match("/builds/x/artifacts-metadata.json"));
    accepts(&provenance["bundle"], "provenance.intoto.sigstore.json");
    accepts(&provenance["bundle"], "dist/provenance.sigstore.json");
    // A bundle name keyless verify reads as evidence, never a file to verify.
    assert!(!provenance["bundle"].is_match("provenance.json"));
    for v in ["", "provenance.intoto.sigstore.json"] {
        accepts(&verify["provenance"], v);
    }
    assert!(!verify["provenance"].is_match("/tmp/provenance.intoto.sigstore.json"));
    accepts(&monitor["rekor_url"], "");
    accepts(&monitor["rekor_url"], "https://rekor.sigstore.dev");
}

/// The provenance component in a pipeline whose build job did not ask the
/// runner for provenance: the job fails before signing anything, saying
/// what to set.
#[test]
fn the_provenance_component_without_runner_metadata_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let repo = example_repo(&dir.path().join("repo"));
    let sha = git_head(&repo);
    std::fs::write(
        repo.join("provenance.gitlab-ci.yml"),
        format!(
            "stages: [sign]\ninclude:\n  - component: gitlab.com/{PROJECT}/provenance@{sha}\n    inputs:\n      needs: []\n      rules: [{{when: always}}]\n"
        ),
    )
    .unwrap();
    let env = JobEnv::create(&dir.path().join("jobenv"));
    let out = gitlab_ci_local()
        .current_dir(&repo)
        .env("HOME", dir.path().join("home"))
        .env("PATH", env.path())
        .env("NO_COLOR", "1")
        .env("SIGSTORE_ID_TOKEN", "not-a-token")
        .args([
            "--file",
            "provenance.gitlab-ci.yml",
            "--force-shell-executor",
            "--shell-isolation",
            "keyless-provenance",
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("keyless-provenance: no artifacts-metadata.json from the jobs in needs: set RUNNER_GENERATE_ARTIFACTS_METADATA: \"true\" in the build job"),
        "{text}"
    );
    // The job's image ran keyless (--version) before the check.
    assert!(
        text.contains(concat!("keyless ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
}

/// A hostile input value (command substitution) reaches keyless as a
/// literal argument: the verify component's job runs for real and nothing
/// it names is executed.
#[test]
fn a_hostile_input_value_is_an_argument_not_shell_code() {
    let dir = tempfile::tempdir().unwrap();
    let repo = example_repo(&dir.path().join("repo"));
    let sha = git_head(&repo);
    std::fs::write(
        repo.join("hostile.gitlab-ci.yml"),
        format!(
            "stages: [verify]\ninclude:\n  - component: gitlab.com/{PROJECT}/verify@{sha}\n    inputs:\n      needs: []\n      project: 'g/p$(touch pwned-project)'\n      tag: 'v1\"; touch pwned-tag; echo \"'\n      files: 'dist/'\n"
        ),
    )
    .unwrap();
    let env = JobEnv::create(&dir.path().join("jobenv"));
    let out = gitlab_ci_local()
        .current_dir(&repo)
        .env("HOME", dir.path().join("home"))
        .env("PATH", env.path())
        .env("NO_COLOR", "1")
        .args([
            "--file",
            "hostile.gitlab-ci.yml",
            "--force-shell-executor",
            "--shell-isolation",
            "keyless-verify",
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The job ran keyless, which refused the (literal) values.
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(concat!("keyless ", env!("CARGO_PKG_VERSION"))) && text.contains("error"),
        "{text}"
    );
    let mut stack = vec![repo.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            assert!(
                !e.file_name().to_string_lossy().starts_with("pwned"),
                "an input ran as shell code: {}\n{text}",
                e.path().display()
            );
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            }
        }
    }
}

/// The rekor-monitor component run for real (gitlab-ci-local, shell mode,
/// as a scheduled pipeline) against the testbed's Rekor v1: the first run
/// starts watching at the log's end and its state goes to the job cache;
/// after a main-branch signature the next run, starting from that cached
/// state, fails on the ref outside `expect_ref` (refs/tags/*), and the cache
/// is saved although the job failed (`when: always`).
#[test]
fn the_monitor_component_keeps_its_state_in_the_cache_and_fails_on_an_unexpected_ref() {
    let bed = Bed::start();
    let repo = example_repo(&bed.path("repo"));
    let sha = git_head(&repo);
    std::fs::write(
        repo.join("monitor.gitlab-ci.yml"),
        format!("include:\n  - component: gitlab.com/{PROJECT}/rekor-monitor@{sha}\n"),
    )
    .unwrap();
    let env = JobEnv::create(&bed.path("jobenv"));
    let trust = bed.state_file("trust_config.json");
    let gcl = || {
        let out = gitlab_ci_local()
            .current_dir(&repo)
            .env("HOME", bed.path("home"))
            .env("PATH", env.path())
            .env("NO_COLOR", "1")
            .env("GCL_IGNORE_PREDEFINED_VARS", "CI_PIPELINE_SOURCE")
            .args([
                "--file",
                "monitor.gitlab-ci.yml",
                "--force-shell-executor",
                "--shell-isolation",
            ])
            .args(["--variable", "CI_PIPELINE_SOURCE=schedule", "--variable"])
            .arg(format!("KEYLESS_TRUST_CONFIG={}", trust.display()))
            .arg("keyless-rekor-monitor")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let cached_state = || {
        let mut found = Vec::new();
        let mut stack = vec![repo.join(".gitlab-ci-local/cache")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.ends_with(".keyless-monitor/state.json") {
                    found.push(std::fs::read(&p).unwrap());
                }
            }
        }
        found
    };

    let (ok, out) = gcl();
    assert!(ok, "{out}");
    let first = cached_state();
    assert_eq!(first.len(), 1, "the state is cached:\n{out}");

    // A signature from the main branch (not a tag).
    let file = bed.write("main-build.txt", "built on main");
    let r = bed.keyless_sign(
        &bed.gitlab_token(JwsAlg::ES256),
        &trust,
        &[file.as_os_str()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    let (ok, out) = gcl();
    assert!(!ok, "the monitor accepted a main-branch signature:\n{out}");
    assert!(out.contains("refs/heads/main"), "{out}");
    let second = cached_state();
    assert_eq!(second.len(), 1);
    assert_ne!(
        second, first,
        "the failed run's state was cached too:\n{out}"
    );
}
