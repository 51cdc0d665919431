//! The example release pipeline (`examples/gitlab-python/.gitlab-ci.yml`
//! with the components of `templates/`) run for real with gitlab-ci-local
//! 4.65.0 in shell mode: build, test, keyless-sign (with PEP 740
//! attestations), keyless-verify, keyless-provenance,
//! keyless-provenance-verify, publish-pypi (Trusted Publishing's token
//! exchange, `twine upload --attestations`), publish-bundles and consume,
//! against the in-process testbed (Fulcio, Rekor, the generic package
//! registry stand-in and the PyPI stand-in). Every run validates the
//! expanded YAML against GitLab's CI JSON schema (the one gitlab-ci-local
//! ships). The consumer must catch a swapped file, and its source must
//! follow CONSUME_PROJECT and CONSUME_TAG: another project's registry (the
//! release copied there, refused by the pin), a version never published
//! (nothing to download), and a release's files republished as another
//! version (refused by the pin).
//!
//! Stand-ins for what a GitLab runner provides:
//! - the runner's provenance (`RUNNER_GENERATE_ARTIFACTS_METADATA`): the
//!   test writes `artifacts-metadata.json` into build's artifacts in the
//!   runner's format ([`crate::common::runner_provenance`]) between the
//!   build and the rest, as a runner adds it when it uploads them; a
//!   provenance of another commit must be refused by the verify job;
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
//! - `PYPI_URL`, `PYPI_REGISTRY` and `CONSUME_PYPI_INDEX` point at the
//!   testbed's PyPI stand-in instead of pypi.org, and `PYPI_ID_TOKEN` (the
//!   publish job's `id_tokens`, audience `pypi`) is minted by the testbed;
//! - `CI_API_V4_URL` points at the testbed's generic registry, which
//!   redirects downloads to an object storage stand-in on another port that
//!   refuses any request carrying a credential: the job token must not
//!   follow the redirect;
//! - the component includes name this repository at its commit (GitLab's
//!   way to test components in their own project), instead of the keyless
//!   project's release.

use crate::common::bed::{Bed, tag_v1_0};
use crate::common::peers::{junit_report, python_with};
use crate::common::repo_root;
use crate::common::runner_provenance::{RUNNER_V19_3_0, RunnerJob, demo_build_job_variables};
use crate::runner_provenance::{BUILD_JOB_ID, DEMO_SHA};
use keyless_testbed::JwsAlg;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROJECT: &str = "keyless-demo/hello-py";
const PROJECT_ID: &str = "42";

mod components;
mod crates;
mod release;
mod wheel;

#[test]
fn the_example_pipeline_runs_and_its_consumer_catches_a_swap_and_a_wrong_tag() {
    let bed = Bed::start_with(|o| o.redirect_package_downloads = true);
    let pypi = bed.tb.state_dir().join("pypi/hello-py");
    let env = JobEnv::create(&bed.path("jobenv"));
    let repo = example_repo(&bed.path("repo"));
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::ES256);
    let mut pypi_spec = tag_v1_0();
    pypi_spec.audience = "pypi".into();
    let pypi_token = bed.tb.mint(&pypi_spec, JwsAlg::ES256);
    let gcl = |jobs: &[&str], extra: &[&str]| {
        let mut cmd = gitlab_ci_local();
        cmd.current_dir(&repo)
            .env("HOME", bed.path("home"))
            .env("PATH", env.path())
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", ci_wheels())
            .env("SIGSTORE_ID_TOKEN", &token)
            .env("PYPI_ID_TOKEN", &pypi_token)
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
            ("PYPI_URL", bed.tb.url().to_string()),
            ("PYPI_REGISTRY", bed.tb.pypi_upload_url()),
            ("CONSUME_PYPI_INDEX", bed.tb.pypi_index_url()),
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
            !text.contains(&token) && !text.contains(&pypi_token),
            "an identity token was printed:\n{text}"
        );
        assert!(
            !text.contains("pypi-testbed-"),
            "the PyPI API token was printed:\n{text}"
        );
        (out.status.success(), text)
    };

    // The release pipeline, every job that can run here, in two runs: the
    // build, then (once the runner's provenance is in build's artifacts)
    // the rest.
    let passed = |jobs: &[&str], out: &str| {
        for job in jobs {
            assert!(
                out.lines()
                    .any(|l| l.trim_start().starts_with(&format!("PASS  {job}"))),
                "{job} did not pass:\n{out}"
            );
        }
    };
    let built = ["build", "test-py3.11"];
    let (ok, out) = gcl(&built, &[]);
    assert!(ok, "the build failed:\n{out}");
    assert!(out.contains("json schema validated"), "{out}");
    passed(&built, &out);
    // gitlab-ci-local writes no runner provenance: the test writes what a
    // runner would add to build's artifacts (RUNNER_GENERATE_ARTIFACTS_METADATA
    // is set in the example's build job), in the runner's format, for the
    // commit the tag pipeline's token names.
    let build_artifacts = repo.join(".gitlab-ci-local/artifacts/build");
    let provenance = write_runner_provenance(&build_artifacts, DEMO_SHA);
    let jobs = [
        "keyless-sign",
        "keyless-verify",
        "keyless-provenance",
        "keyless-provenance-verify",
        "publish-pypi",
        "publish-bundles",
        "consume",
        "consume-pypi",
    ];
    let (ok, out) = gcl(&jobs, &[]);
    assert!(ok, "the pipeline failed:\n{out}");
    passed(&jobs, &out);
    // The provenance was signed byte for byte; its verification passed for
    // each file, the runner's project and commit checked.
    let signed = repo.join(".gitlab-ci-local/artifacts/keyless-provenance");
    assert_eq!(
        std::fs::read_to_string(signed.join("artifacts-metadata.json")).unwrap(),
        provenance
    );
    let envelope: serde_json::Value = serde_json::from_slice(
        &std::fs::read(signed.join("provenance.intoto.sigstore.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            envelope["dsseEnvelope"]["payload"].as_str().unwrap()
        )
        .unwrap(),
        provenance.as_bytes()
    );
    let doc =
        junit_report(&repo.join(
            ".gitlab-ci-local/builds/keyless-provenance-verify/keyless-provenance-verify.xml",
        ));
    assert_eq!(
        doc["suite"],
        serde_json::json!({"tests": 2, "failures": 0, "errors": 0}),
        "keyless-provenance-verify"
    );
    // The version and homepage came from the tag and the project.
    let metadata = Command::new(python_with("zipfile"))
        .args([
            "-c",
            "import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read('hello_py-1.0.dist-info/METADATA').decode())",
        ])
        .arg(pypi.join("hello_py-1.0-py3-none-any.whl"))
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
    // PyPI holds each file with its attestation as provenance, published
    // by this project's .gitlab-ci.yml (from the certificate, as PyPI
    // derives a Trusted Publisher's).
    assert_eq!(
        published(&pypi),
        [
            "hello_py-1.0-py3-none-any.whl",
            "hello_py-1.0-py3-none-any.whl.provenance",
            "hello_py-1.0.tar.gz",
            "hello_py-1.0.tar.gz.provenance"
        ]
    );
    for file in ["hello_py-1.0-py3-none-any.whl", "hello_py-1.0.tar.gz"] {
        let prov = crate::common::read_json(&pypi.join(format!("{file}.provenance")));
        assert_eq!(
            prov["attestation_bundles"][0]["publisher"],
            serde_json::json!({"kind": "GitLab", "repository": PROJECT,
                               "workflow_filepath": ".gitlab-ci.yml", "environment": null}),
            "{file}"
        );
    }
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
    let wheel = pypi.join("hello_py-1.0-py3-none-any.whl");
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
    // The consumer of what pip installs fails on it too, from the index
    // alone: the index's sha256 is not the one the attestation signs.
    let (ok, out) = gcl(&["consume-pypi"], &[]);
    assert!(!ok, "consume-pypi accepted a swapped wheel:\n{out}");
    assert!(
        out.contains("FAIL hello_py-1.0-py3-none-any.whl  artifact: ")
            && out.contains("OK   hello_py-1.0.tar.gz  "),
        "{out}"
    );
    std::fs::write(&wheel, &genuine).unwrap();
    // The same release expected of another project: refused.
    let (ok, out) = gcl(
        &["consume-pypi"],
        &["--variable", "CONSUME_PROJECT=keyless-demo/fork"],
    );
    assert!(!ok, "consume-pypi accepted hello-py as the fork's:\n{out}");
    assert!(
        out.contains("FAIL hello_py-1.0.tar.gz  identity: ")
            && out.contains("expected \"keyless-demo/fork\""),
        "{out}"
    );

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
        std::fs::copy(pypi.join(from), pypi.join(to)).unwrap();
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

    // The runner's provenance of another commit (a build's artifacts
    // carried over into this tag's pipeline): signed as it is, refused by
    // the verify job, which names the commit field.
    write_runner_provenance(&build_artifacts, "1111111111111111111111111111111111111111");
    let (ok, out) = gcl(&["keyless-provenance", "keyless-provenance-verify"], &[]);
    assert!(!ok, "another commit's provenance was accepted:\n{out}");
    let summary = |verdict: &str, job: &str| {
        out.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == [verdict, job])
    };
    assert!(summary("PASS", "keyless-provenance"), "{out}");
    assert!(summary("FAIL", "keyless-provenance-verify"), "{out}");
    assert!(out.contains("resolvedDependencies"), "{out}");
    let doc =
        junit_report(&repo.join(
            ".gitlab-ci-local/builds/keyless-provenance-verify/keyless-provenance-verify.xml",
        ));
    assert_eq!(
        doc["suite"],
        serde_json::json!({"tests": 2, "failures": 2, "errors": 0})
    );
}

/// Write into `artifacts` (a build job's artifacts) the provenance a GitLab
/// runner adds to them: `artifacts-metadata.json`, SLSA v1, over the files
/// of `dist/` there, for `commit`; its text.
fn write_runner_provenance(artifacts: &Path, commit: &str) -> String {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(artifacts.join("dist"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                format!("dist/{}", e.file_name().to_string_lossy()),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    let files: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let vars = demo_build_job_variables(commit, BUILD_JOB_ID);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let text = RunnerJob::saas(&vars, RUNNER_V19_3_0, "2026-12-08T00:43:12Z").statement_v1(&files);
    std::fs::write(artifacts.join("artifacts-metadata.json"), &text).unwrap();
    text
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
    for c in ["sign", "verify", "provenance"] {
        rewritten = rewritten.replace(
            &format!("$CI_SERVER_FQDN/keyless/keyless/{c}@0.1.0"),
            &format!("gitlab.com/{PROJECT}/{c}@{sha}"),
        );
    }
    assert_eq!(
        rewritten.matches(&format!("@{sha}")).count(),
        4,
        "the example includes the sign, verify (twice) and provenance components"
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
