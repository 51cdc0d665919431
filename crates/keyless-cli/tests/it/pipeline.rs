//! The example release pipeline (`examples/gitlab-python/.gitlab-ci.yml`
//! with the components of `templates/`) run for real with gitlab-ci-local
//! 4.65.0 in shell mode: build, test, keyless-sign, keyless-verify,
//! publish-pypi, publish-bundles and consume, against the in-process testbed
//! (Fulcio, Rekor and the generic package registry stand-in) and a local
//! pypiserver as the project's PyPI registry. Every run validates the
//! expanded YAML against GitLab's CI JSON schema (the one gitlab-ci-local
//! ships). The consumer must catch a swapped file, and its source must
//! follow CONSUME_PROJECT and CONSUME_TAG: another project's registry (the
//! release copied there, refused by the pin), a version never published
//! (nothing to download), and a release's files republished as another
//! version (refused by the pin).
//!
//! Stand-ins for what a GitLab runner provides:
//! - `id_tokens`: the testbed mints the tag pipeline's token (as its `token`
//!   command does) into `SIGSTORE_ID_TOKEN` of gitlab-ci-local's
//!   environment, which the shell jobs inherit;
//! - predefined variables (`CI_COMMIT_TAG`, `CI_SERVER_URL`, `CI_API_V4_URL`,
//!   `CI_PROJECT_ID`, `CI_JOB_TOKEN`) as `--variable`s, `CI_PROJECT_PATH`
//!   from the repository's `origin` (gitlab.com/keyless-demo/hello-py);
//! - the images: shell mode runs every job on this machine's Python (3.11)
//!   in a fresh venv with the pinned wheels `.ci/run` downloads (offline).
//!   Python 3.10 and 3.12 images cannot run here, so the 3.11 test job runs
//!   and the 3.10 and 3.12 jobs are checked to be the same job on another
//!   image;
//! - `PYPI_REGISTRY` and `CONSUME_PYPI_INDEX` point at pypiserver (GitLab
//!   derives them from `CI_API_V4_URL`, which points at the testbed's
//!   generic registry). That registry redirects downloads to an object
//!   storage stand-in on another port, which refuses any request carrying
//!   a credential: the job token must not follow the redirect;
//! - the component includes name this repository at its commit (GitLab's
//!   way to test components in their own project), instead of the keyless
//!   project's release.

use crate::common::bed::{Bed, tag_v1_0};
use crate::common::peers::{junit_report, python_with};
use crate::common::repo_root;
use keyless_testbed::JwsAlg;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

const PROJECT: &str = "keyless-demo/hello-py";
const PROJECT_ID: &str = "42";

#[test]
fn the_example_pipeline_runs_and_its_consumer_catches_a_swap_and_a_wrong_tag() {
    let bed = Bed::start_with(|o| o.redirect_package_downloads = true);
    let pypi = PyPiServer::start(&bed.path("pypi"));
    let env = JobEnv::create(&bed.path("jobenv"));
    let repo = example_repo(&bed.path("repo"));
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::ES256);
    let gcl = |jobs: &[&str], extra: &[&str]| {
        let mut cmd = gitlab_ci_local();
        cmd.current_dir(&repo)
            .env("HOME", bed.path("home"))
            .env("PATH", env.path())
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", ci_wheels())
            .env("SIGSTORE_ID_TOKEN", &token)
            .env("NO_COLOR", "1")
            .env(
                "KEYLESS_CACHE_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-trust-cache"),
            )
            .env(
                "GCL_IGNORE_PREDEFINED_VARS",
                "CI_COMMIT_TAG,CI_SERVER_URL,CI_API_V4_URL,CI_PROJECT_ID,CI_JOB_TOKEN",
            )
            .args(["--force-shell-executor", "--shell-isolation"]);
        let trust = bed.state_file("trust_config.json");
        for (name, value) in [
            ("CI_COMMIT_TAG", "v1.0".to_string()),
            ("CI_SERVER_URL", "https://gitlab.com".to_string()),
            ("CI_API_V4_URL", format!("{}/api/v4", bed.tb.url())),
            ("CI_PROJECT_ID", PROJECT_ID.to_string()),
            ("CI_JOB_TOKEN", "job-token-stand-in".to_string()),
            ("PYPI_REGISTRY", pypi.url.clone()),
            ("CONSUME_PYPI_INDEX", format!("{}/simple", pypi.url)),
            ("KEYLESS_TRUST_CONFIG", trust.display().to_string()),
        ] {
            cmd.arg("--variable").arg(format!("{name}={value}"));
        }
        cmd.args(extra).args(jobs);
        let out = cmd.output().expect("gitlab-ci-local runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains(&token),
            "the identity token was printed:\n{text}"
        );
        (out.status.success(), text)
    };

    // The release pipeline, every job that can run here.
    let jobs = [
        "build",
        "test-py3.11",
        "keyless-sign",
        "keyless-verify",
        "publish-pypi",
        "publish-bundles",
        "consume",
    ];
    let (ok, out) = gcl(&jobs, &[]);
    assert!(ok, "the pipeline failed:\n{out}");
    assert!(out.contains("json schema validated"), "{out}");
    for job in jobs {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(&format!("PASS  {job}"))),
            "{job} did not pass:\n{out}"
        );
    }
    // The version and homepage came from the tag and the project.
    let metadata = Command::new(python_with("zipfile"))
        .args([
            "-c",
            "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read('hello_py-1.0.dist-info/METADATA').decode())",
        ])
        .arg(bed.path("pypi/hello_py-1.0-py3-none-any.whl"))
        .output()
        .unwrap();
    let metadata = String::from_utf8_lossy(&metadata.stdout);
    assert!(metadata.contains("\nVersion: 1.0\n"), "{metadata}");
    assert!(
        metadata.contains(&format!(
            "\nProject-URL: Homepage, https://gitlab.com/{PROJECT}\n"
        )),
        "{metadata}"
    );
    // Both registries hold the release; the verify and consume jobs wrote
    // JUnit reports with one passed case per file.
    let published = |dir: &Path| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        published(&bed.path("pypi")),
        ["hello_py-1.0-py3-none-any.whl", "hello_py-1.0.tar.gz"]
    );
    let packages = bed.tb.state_dir().join("generic-packages").join(PROJECT);
    let bundles = packages.join("hello-py/1.0");
    assert_eq!(
        published(&bundles),
        [
            "hello_py-1.0-py3-none-any.whl.sigstore.json",
            "hello_py-1.0.tar.gz.sigstore.json"
        ]
    );
    for (job, report) in [
        ("keyless-verify", "keyless-verify.xml"),
        ("consume", "consume.xml"),
    ] {
        let doc = junit_report(&repo.join(".gitlab-ci-local/builds").join(job).join(report));
        assert_eq!(
            doc["suite"],
            serde_json::json!({"tests": 2, "failures": 0, "errors": 0}),
            "{job}"
        );
        let text = doc["cases"][0]["text"].as_str().unwrap();
        assert!(
            text.contains(&format!(
                "identity: https://gitlab.com/{PROJECT}//.gitlab-ci.yml@refs/tags/v1.0"
            )),
            "{job}: {text}"
        );
    }
    // The consumer's two bundle downloads were redirected to object
    // storage and arrived there without the job token.
    assert_eq!(
        bed.tb.object_storage_requests(),
        keyless_testbed::ObjectStorageRequests {
            served: 2,
            with_credentials: 0
        }
    );
    the_other_python_jobs_differ_only_in_their_image(&repo);

    // A swapped wheel in the registry: the consumer fails on it.
    let wheel = bed.path("pypi/hello_py-1.0-py3-none-any.whl");
    let genuine = std::fs::read(&wheel).unwrap();
    let mut swapped = genuine.clone();
    swapped.extend_from_slice(b"swapped");
    std::fs::write(&wheel, &swapped).unwrap();
    let (ok, out) = gcl(&["consume"], &[]);
    assert!(!ok, "the consumer accepted a swapped wheel:\n{out}");
    assert!(
        out.contains("FAIL downloaded/hello_py-1.0-py3-none-any.whl  artifact: ")
            && out.contains("OK   downloaded/hello_py-1.0.tar.gz"),
        "{out}"
    );
    std::fs::write(&wheel, &genuine).unwrap();

    // Another project: the bundles come from its registry (the release
    // copied there), and the pin follows, so they are refused.
    let fork = bed
        .tb
        .state_dir()
        .join("generic-packages/keyless-demo/fork/hello-py/1.0");
    copy_dir(&bundles, &fork);
    let (ok, out) = gcl(
        &["consume"],
        &["--variable", "CONSUME_PROJECT=keyless-demo/fork"],
    );
    assert!(
        !ok,
        "the consumer accepted hello-py's release as the fork's:\n{out}"
    );
    assert!(
        out.contains("/projects/keyless-demo%2Ffork/packages/generic/hello-py/1.0/hello_py-1.0.tar.gz.sigstore.json")
            && out.contains(
                "expected \"https://gitlab.com/keyless-demo/fork//.gitlab-ci.yml@refs/tags/v1.0\""
            ),
        "{out}"
    );

    // Another tag: the files come from that version, which was never
    // published: nothing to verify.
    let (ok, out) = gcl(&["consume"], &["--variable", "CONSUME_TAG=v1.1"]);
    assert!(!ok, "{out}");
    assert!(out.contains("no file of hello-py 1.1"), "{out}");

    // The v1.0 files and bundles republished as 1.1 (a replayed release):
    // downloaded from 1.1, refused as not signed for v1.1.
    for (from, to) in [
        (
            "hello_py-1.0-py3-none-any.whl",
            "hello_py-1.1-py3-none-any.whl",
        ),
        ("hello_py-1.0.tar.gz", "hello_py-1.1.tar.gz"),
    ] {
        std::fs::copy(bed.path("pypi").join(from), bed.path("pypi").join(to)).unwrap();
        let replayed = packages.join("hello-py/1.1");
        std::fs::create_dir_all(&replayed).unwrap();
        std::fs::copy(
            bundles.join(format!("{from}.sigstore.json")),
            replayed.join(format!("{to}.sigstore.json")),
        )
        .unwrap();
    }
    let (ok, out) = gcl(&["consume"], &["--variable", "CONSUME_TAG=v1.1"]);
    assert!(!ok, "the consumer accepted tag v1.0 for v1.1:\n{out}");
    assert!(
        out.contains("fetched hello_py-1.1.tar.gz")
            && out.contains(&format!(
                "expected \"https://gitlab.com/{PROJECT}//.gitlab-ci.yml@refs/tags/v1.1\""
            )),
        "{out}"
    );
    let doc = junit_report(&repo.join(".gitlab-ci-local/builds/consume/consume.xml"));
    assert_eq!(
        doc["suite"],
        serde_json::json!({"tests": 2, "failures": 2, "errors": 0})
    );
    // No download along the way sent the token to object storage.
    assert_eq!(bed.tb.object_storage_requests().with_credentials, 0);

    // And with both right again, it passes.
    let (ok, out) = gcl(&["consume"], &[]);
    assert!(ok, "{out}");
}

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
        "keyless-rekor-monitor",
    ] {
        assert!(names.contains(&job), "{job} missing from {names:?}");
    }
    // The signing jobs ask GitLab for the token with Sigstore's audience.
    let expanded =
        std::fs::read_to_string(repo.join(".gitlab-ci-local/expanded-gitlab-ci.yml")).unwrap();
    for job in ["keyless-sign", "keyless-attest"] {
        let block = top_level_block(&expanded, job);
        assert!(
            block.contains("  id_tokens:\n    SIGSTORE_ID_TOKEN:\n      aud: sigstore\n"),
            "{job}:\n{block}"
        );
    }
    let verify = top_level_block(&expanded, "keyless-verify");
    assert!(verify.contains("junit: keyless-verify.xml"), "{verify}");
    // Signing publishes the project, ref and commit in a public log: by
    // default only tag pipelines sign.
    // verify follows, as it needs keyless-sign.
    for job in ["keyless-sign", "keyless-attest", "keyless-verify"] {
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
    for component in ["sign", "verify", "attest", "rekor-monitor"] {
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
    for (name, re) in verify.iter().chain(&monitor) {
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
    accepts(&monitor["rekor_url"], "");
    accepts(&monitor["rekor_url"], "https://rekor.sigstore.dev");
}

/// The 3.10 and 3.12 test jobs are the 3.11 job (which ran) on another
/// image: same stage, needs, script and reports.
fn the_other_python_jobs_differ_only_in_their_image(repo: &Path) {
    let expanded =
        std::fs::read_to_string(repo.join(".gitlab-ci-local/expanded-gitlab-ci.yml")).unwrap();
    let ran = top_level_block(&expanded, "test-py3.11");
    assert!(ran.contains("    name: python:3.11\n"), "{ran}");
    for version in ["3.10", "3.12"] {
        let other = top_level_block(&expanded, &format!("test-py{version}"));
        assert_eq!(
            other
                .replace(&format!("test-py{version}:"), "test-py3.11:")
                .replace(&format!("python:{version}\n"), "python:3.11\n"),
            ran,
            "test-py{version} is not the 3.11 job on another image"
        );
    }
}

/// The lines of top-level key `name` in a YAML document written one key per
/// unindented line (as gitlab-ci-local writes its expanded configuration).
fn top_level_block(yaml: &str, name: &str) -> String {
    let header = format!("{name}:");
    let mut lines = yaml.lines().skip_while(|l| *l != header);
    let first = lines.next().unwrap_or_else(|| panic!("no job {name}"));
    let mut block = format!("{first}\n");
    // Block scalars (a script's folded lines) hold empty lines.
    for line in lines.take_while(|l| l.is_empty() || l.starts_with(' ')) {
        block.push_str(line);
        block.push('\n');
    }
    block.trim_end_matches('\n').to_string() + "\n"
}

/// gitlab-ci-local 4.65.0 as `.ci/run` installs it (or
/// `$KEYLESS_GITLAB_CI_LOCAL`), and the rsync it needs.
fn gitlab_ci_local() -> Command {
    let path = std::env::var_os("KEYLESS_GITLAB_CI_LOCAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            repo_root().join("target/gitlab-ci-local/node_modules/.bin/gitlab-ci-local")
        });
    let version = Command::new(&path).arg("--version").output();
    assert!(
        version
            .as_ref()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "4.65.0"),
        "gitlab-ci-local 4.65.0 is missing at {} (.ci/run installs it; run the tests with .ci/run)",
        path.display()
    );
    assert!(
        Command::new("rsync")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success()),
        "rsync is missing (.ci/run installs it)"
    );
    Command::new(path)
}

/// The pinned wheels the jobs install from (`.ci/run` downloads them).
fn ci_wheels() -> PathBuf {
    let dir = std::env::var_os("KEYLESS_CI_WHEELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/ci-wheels"));
    assert!(
        dir.join(".complete").is_file(),
        "the job wheels are missing at {} (.ci/run downloads them)",
        dir.display()
    );
    dir
}

/// The example project as its own git repository at `dir`: its files and
/// the components, committed and tagged v1.0, `origin` on gitlab.com; the
/// component includes rewritten to this repository at HEAD (left
/// uncommitted, as they name the commit).
fn example_repo(dir: &Path) -> PathBuf {
    copy_dir(&repo_root().join("examples/gitlab-python"), dir);
    copy_dir(&repo_root().join("templates"), &dir.join("templates"));
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=ci", "-c", "user.email=ci@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["config", "user.name", "ci"]);
    git(&["config", "user.email", "ci@example.com"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "release 1.0"]);
    git(&["tag", "v1.0"]);
    git(&[
        "remote",
        "add",
        "origin",
        &format!("https://gitlab.com/{PROJECT}.git"),
    ]);
    let sha = git_head(dir);
    let ci = dir.join(".gitlab-ci.yml");
    let text = std::fs::read_to_string(&ci).unwrap();
    let mut rewritten = text.clone();
    for c in ["sign", "verify"] {
        rewritten = rewritten.replace(
            &format!("$CI_SERVER_FQDN/keyless/keyless/{c}@0.1.0"),
            &format!("gitlab.com/{PROJECT}/{c}@{sha}"),
        );
    }
    assert_eq!(
        rewritten.matches(&format!("@{sha}")).count(),
        2,
        "the example includes the sign and verify components"
    );
    std::fs::write(&ci, rewritten).unwrap();
    dir.to_path_buf()
}

fn git_head(dir: &Path) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A venv for the jobs, the pinned build, twine and pytest installed from
/// the local wheels; its `bin` first on PATH, then the keyless under test.
struct JobEnv {
    bin: PathBuf,
}

impl JobEnv {
    fn create(dir: &Path) -> Self {
        let python = python_with("venv");
        let ok = |cmd: &mut Command| {
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        ok(Command::new(&python).arg("-m").arg("venv").arg(dir));
        let bin = dir.join("bin");
        ok(Command::new(bin.join("python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-index",
                "--find-links",
            ])
            .arg(ci_wheels())
            .args(["build==1.6.1", "twine==7.0.0", "pytest==9.2.0"]));
        Self { bin }
    }

    /// PATH for the jobs.
    fn path(&self) -> std::ffi::OsString {
        let keyless = Path::new(env!("CARGO_BIN_EXE_keyless")).parent().unwrap();
        let mut dirs = vec![self.bin.clone(), keyless.to_path_buf()];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    }
}

/// pypiserver on a free loopback port, serving and accepting uploads into
/// `dir` without authentication; stopped on drop.
struct PyPiServer {
    url: String,
    child: Child,
}

impl PyPiServer {
    fn start(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let python = python_with("pypiserver");
        // A port the OS just handed out (pypiserver does not report one it
        // picks itself).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .args(["-m", "pypiserver", "run", "-i", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .args(["-a", ".", "-P", "."])
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            url: format!("http://127.0.0.1:{port}"),
            child,
        };
        // Ready when it accepts a connection: at most 20 s.
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("pypiserver did not start on port {port}");
    }
}

impl Drop for PyPiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_install_script_installs_only_a_binary_with_the_pinned_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_keyless"));
    let url = format!("file://{}", binary.display());
    let sha = keyless::digest::sha256_file(binary).unwrap().to_hex();
    let install = |sha: &str, to: &Path| {
        Command::new("sh")
            .arg(repo_root().join("scripts/install-keyless.sh"))
            .args([url.as_str(), sha])
            .arg(to)
            .output()
            .unwrap()
    };

    // Another SHA-256: refused, nothing installed.
    let last = if sha.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &sha[..63]);
    let refused = dir.path().join("refused");
    let out = install(&wrong, &refused);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "has SHA-256 {sha}, expected {wrong}: not installed"
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!refused.exists(), "nothing may be installed");
    // Not a SHA-256 at all: a usage error.
    assert_eq!(install("abc", &refused).status.code(), Some(2));

    // The pinned one: installed, and it runs. A link planted under a fixed
    // temporary name is left alone (the install picks a fresh name), not
    // written through.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "victim").unwrap();
    std::os::unix::fs::symlink(&victim, bin.join(".keyless.new")).unwrap();
    let out = install(&sha, &bin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("keyless "));
    assert_eq!(
        std::fs::read(bin.join("keyless")).unwrap(),
        std::fs::read(binary).unwrap()
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim");
    let mut names: Vec<_> = std::fs::read_dir(&bin)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [".keyless.new", "keyless"],
        "no temporary file left behind"
    );
}

/// Two loopback origins for `ci/fetch_release.py`: a PyPI simple index that
/// requires the job token (basic auth) and redirects each file to an
/// "object storage" origin on another port, which refuses any request
/// carrying an Authorization header. `/evil/` serves an index whose file
/// name would escape the download folder.
const REDIRECTING_INDEX: &str = r#"
import base64, hashlib, http.server, json, sys, threading
DATA = b"the sdist bytes"
SHA = hashlib.sha256(DATA).hexdigest()
AUTH = "Basic " + base64.b64encode(b"gitlab-ci-token:job-token").decode()
class Storage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if "Authorization" in self.headers:
            self.send_error(400, "a credential reached object storage")
        else:
            self.send_response(200); self.end_headers(); self.wfile.write(DATA)
    def log_message(self, *a): pass
storage = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Storage)
class Index(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != AUTH:
            return self.send_error(401)
        if self.path.endswith("/simple/hello-py/"):
            name = "hello_py-1.0-..%2F..%2Fescaped.tar.gz" if self.path.startswith("/evil/") else "hello_py-1.0.tar.gz"
            body = f'<a href="/files/{name}#sha256={SHA}">{name}</a>'.encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)
        elif self.path.startswith("/files/"):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{storage.server_port}/objects/{self.path[7:]}")
            self.end_headers()
        else:
            self.send_error(404)
    def log_message(self, *a): pass
index = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
threading.Thread(target=storage.serve_forever, daemon=True).start()
print(index.server_port, flush=True)
index.serve_forever()
"#;

#[test]
fn fetch_release_sends_the_job_token_to_the_index_only_and_refuses_escaping_names() {
    let python = python_with("json");
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(&python)
        .args(["-c", REDIRECTING_INDEX])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut port,
    )
    .unwrap();
    let port = port.trim().to_string();
    let fetch = |index: &str, dest: &Path| {
        Command::new(&python)
            .arg(repo_root().join("examples/gitlab-python/ci/fetch_release.py"))
            .args([index, "hello-py", "1.0"])
            .arg(dest)
            .env("CI_JOB_TOKEN", "job-token")
            .output()
            .unwrap()
    };

    // The index got the token (it answers 401 without), the redirected
    // download did not (object storage answers 400 with one).
    let dest = dir.path().join("a/downloaded");
    let out = fetch(&format!("http://127.0.0.1:{port}/simple"), &dest);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        std::fs::read(dest.join("hello_py-1.0.tar.gz")).unwrap(),
        b"the sdist bytes"
    );
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        1,
        "no temporary file left"
    );

    // A file name with `..` and `/`: refused, nothing written anywhere.
    let dest = dir.path().join("b/downloaded");
    let out = fetch(&format!("http://127.0.0.1:{port}/evil/simple"), &dest);
    let _ = server.kill();
    let _ = server.wait();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success());
    assert!(
        stderr.contains("refusing the file name 'hello_py-1.0-../../escaped.tar.gz'"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
    assert!(!dir.path().join("escaped.tar.gz").exists());
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

/// keyless's own release pipeline (the root `.gitlab-ci.yml`) cannot run
/// here (no GitLab, runner or registry): it is validated against GitLab's
/// CI schema, and its jobs are checked to fit together with the
/// Containerfile, `.containerignore` and the install script's file name.
#[test]
fn the_release_pipeline_is_valid_gitlab_ci_and_builds_the_image_from_the_published_binary() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for file in [".gitlab-ci.yml", "Containerfile", ".containerignore"] {
        std::fs::copy(repo_root().join(file), repo.join(file)).unwrap();
    }
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.name=ci", "-c", "user.email=ci@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "release"]);
    git(&["tag", "0.1.0"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://gitlab.com/keyless/keyless.git",
    ]);
    let out = gitlab_ci_local()
        .current_dir(&repo)
        .env("HOME", dir.path().join("home"))
        .env("NO_COLOR", "1")
        .env("GCL_IGNORE_PREDEFINED_VARS", "CI_COMMIT_TAG")
        .args(["--variable", "CI_COMMIT_TAG=0.1.0", "--list-json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("json schema validated"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = &stdout[stdout.find('[').unwrap()..];
    let jobs: serde_json::Value = serde_json::from_str(json).unwrap();
    let names: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "build-binary",
            "publish-binary",
            "container-image",
            "release"
        ]
    );

    // Job contents from the file itself (the expanded copy folds lines).
    let expanded = std::fs::read_to_string(repo_root().join(".gitlab-ci.yml")).unwrap();
    let build = top_level_block(&expanded, "build-binary");
    let image = top_level_block(&expanded, "container-image");
    // Built once, with the lock file; the image job builds around that
    // artifact (no cargo), passing its SHA-256 to the Containerfile.
    assert!(
        build.contains("cargo build --release --locked -p keyless-cli --bin keyless"),
        "{build}"
    );
    let binary = "release/keyless-${CI_COMMIT_TAG}-x86_64-linux";
    assert!(
        build.contains(binary) && build.contains("SHA256SUMS"),
        "{build}"
    );
    assert!(!image.contains("cargo"), "{image}");
    assert!(
        image.contains("needs: [build-binary]")
            && image.contains(&format!("KEYLESS_BINARY={binary}"))
            && image.contains("KEYLESS_SHA256=${sha}")
            && image.contains("--digestfile"),
        "{image}"
    );
    let containerfile = std::fs::read_to_string(repo_root().join("Containerfile")).unwrap();
    assert!(
        containerfile.contains("COPY ${KEYLESS_BINARY} /usr/local/bin/keyless")
            && containerfile.contains("sha256sum -c -")
            && !containerfile.contains("cargo "),
        "{containerfile}"
    );
    let ignore = std::fs::read_to_string(repo_root().join(".containerignore")).unwrap();
    let rules: Vec<&str> = ignore
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(rules, ["*", "!release/"]);
    // The name the install script documents.
    let install = std::fs::read_to_string(repo_root().join("scripts/install-keyless.sh")).unwrap();
    assert!(install.contains("keyless-<version>-x86_64-linux"));
    let release = top_level_block(&expanded, "release");
    assert!(
        release.contains("  release:\n    tag_name: $CI_COMMIT_TAG\n"),
        "{release}"
    );
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
