//! The GitLab runner provenance samples in `testdata/runner-provenance/`
//! are what [`common::runner_provenance`] writes, in the runner's format
//! (see that module for the source it follows). Set
//! `KEYLESS_WRITE_RUNNER_PROVENANCE=1` to rewrite them after changing it.
//! Signed by `keyless attest --statement`, they verify with `verify gitlab
//! --provenance`, one bundle for the files they name.

use crate::common::bed::{Bed, tag_v1_0};
use crate::common::runner_provenance::{
    RUNNER_V16_11_0, RUNNER_V19_3_0, RunnerJob, demo_build_job_variables, sha256_hex,
};
use crate::common::{keyless, keyless_with_token, repo_root, run};
use keyless_testbed::JwsAlg;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The demo project's commit in the testbed's GitLab tokens
/// (`TokenSpec::gitlab`'s `sha`): the provenance names the commit Fulcio
/// certifies for the tag pipeline.
pub const DEMO_SHA: &str = "0f6c9b3d7e2a4c1b8d5e6f7a8b9c0d1e2f3a4b5c";
/// The build job's id in the samples: below every job id the testbed
/// mints (at least 10000000), as a build job precedes the job signing its
/// provenance.
pub const BUILD_JOB_ID: &str = "9358211";

/// The stand-ins for the build job's distributions (the samples' subjects).
pub const DIST: [(&str, &[u8]); 2] = [
    (
        "dist/hello_py-1.0-py3-none-any.whl",
        b"hello_py 1.0 wheel (a stand-in for the bytes `python -m build` writes)\n",
    ),
    (
        "dist/hello_py-1.0.tar.gz",
        b"hello_py 1.0 sdist (a stand-in for the bytes `python -m build` writes)\n",
    ),
];

fn samples_dir() -> PathBuf {
    repo_root().join("testdata/runner-provenance")
}

/// (file name, the runner's bytes) of both samples.
fn samples() -> [(&'static str, String); 2] {
    let vars = demo_build_job_variables(DEMO_SHA, BUILD_JOB_ID);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let v1 = RunnerJob::saas(&vars, RUNNER_V19_3_0, "2026-12-08T00:43:12Z");
    // A 16.x runner writes v0.2 when the job does not ask for v1.
    let legacy: Vec<(&str, &str)> = vars
        .iter()
        .copied()
        .filter(|(k, _)| *k != "SLSA_PROVENANCE_SCHEMA_VERSION")
        .collect();
    let v02 = RunnerJob::saas(&legacy, RUNNER_V16_11_0, "2026-12-08T00:43:12Z");
    [
        ("artifacts-metadata.json", v1.statement_v1(&DIST)),
        // A job with `artifacts: name: legacy-v0.2` on runner 16.x.
        ("legacy-v0.2-metadata.json", v02.statement_v02(&DIST)),
    ]
}

#[test]
fn the_runner_provenance_samples_are_what_the_generator_writes() {
    let dir = samples_dir();
    if std::env::var_os("KEYLESS_WRITE_RUNNER_PROVENANCE").is_some() {
        std::fs::create_dir_all(dir.join("dist")).unwrap();
        for (name, data) in DIST {
            std::fs::write(dir.join(name), data).unwrap();
        }
        for (name, text) in samples() {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    for (name, data) in DIST {
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), data, "{name}");
    }
    for (name, text) in samples() {
        let kept = std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("testdata/runner-provenance/{name}: {e}"));
        assert_eq!(kept, text, "testdata/runner-provenance/{name} is stale");
    }
}

#[test]
fn the_runner_provenance_has_the_runners_quirks() {
    let [(_, v1), (_, v02)] = samples();
    // Field order as the runner's marshallers write it.
    assert!(v1.starts_with("{\n \"_type\": \"https://in-toto.io/Statement/v0.1\",\n \"subject\": [\n  {\n   \"name\": \"dist/"), "{v1}");
    assert!(v02.starts_with("{\n \"_type\": \"https://in-toto.io/Statement/v0.1\",\n \"predicateType\": \"https://slsa.dev/provenance/v0.2\",\n \"subject\": [\n  {\n   \"name\": \"dist/"), "{v02}");
    let v1: Value = serde_json::from_str(&v1).unwrap();
    let v02: Value = serde_json::from_str(&v02).unwrap();
    for s in [&v1, &v02] {
        // The v0.1 statement type, whatever the predicate's version.
        assert_eq!(s["_type"], "https://in-toto.io/Statement/v0.1");
        let subjects = s["subject"].as_array().unwrap();
        assert_eq!(subjects.len(), 2);
        for ((name, data), subject) in DIST.iter().zip(subjects) {
            assert_eq!(subject["name"], *name);
            assert_eq!(
                subject["digest"],
                serde_json::json!({"sha256": sha256_hex(data)})
            );
        }
    }
    assert_eq!(v1["predicateType"], "https://slsa.dev/provenance/v1");
    let def = &v1["predicate"]["buildDefinition"];
    assert_eq!(
        def["buildType"],
        format!(
            "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/{RUNNER_V19_3_0}/PROVENANCE.md"
        )
    );
    // The git commit (SHA-1, 40 hex) under a `sha256` key.
    assert_eq!(
        def["resolvedDependencies"],
        serde_json::json!([{"uri": "https://gitlab.com/keyless-demo/hello-py", "digest": {"sha256": DEMO_SHA}}])
    );
    // Variables by name only; the clone URL's job token never appears.
    assert_eq!(def["externalParameters"]["CI_COMMIT_TAG"], "");
    assert_eq!(def["externalParameters"]["CI_JOB_ID"], "");
    assert_eq!(def["externalParameters"]["entryPoint"], "build");
    assert_eq!(
        def["externalParameters"]["source"],
        "https://gitlab.com/keyless-demo/hello-py"
    );
    assert_eq!(def["internalParameters"]["job"], BUILD_JOB_ID);
    let run = &v1["predicate"]["runDetails"];
    assert_eq!(
        run["builder"]["id"],
        "https://gitlab.com/keyless-demo/hello-py/-/runners/12270807"
    );
    assert_eq!(run["metadata"]["invocationId"], BUILD_JOB_ID);

    assert_eq!(v02["predicateType"], "https://slsa.dev/provenance/v0.2");
    let inv = &v02["predicate"]["invocation"];
    assert_eq!(
        inv["configSource"],
        serde_json::json!({"uri": "https://gitlab.com/keyless-demo/hello-py", "digest": {"sha256": DEMO_SHA}})
    );
    assert_eq!(inv["parameters"]["CI_COMMIT_SHA"], "");
    assert_eq!(
        inv["environment"]["job"]["id"],
        BUILD_JOB_ID.parse::<u64>().unwrap()
    );
    for text in [v1.to_string(), v02.to_string()] {
        assert!(!text.contains("gitlab-ci-token"), "{text}");
    }
}

/// The sample `name` and its files copied into `<bed>/<dir>`, signed there
/// by `keyless attest --statement` (subjects found beside it) as the v1.0
/// tag pipeline on Rekor v1: (the folder, the bundle).
fn signed_sample(bed: &Bed, dir: &str, name: &str) -> (PathBuf, PathBuf) {
    let to = bed.path(dir);
    std::fs::create_dir_all(to.join("dist")).unwrap();
    for f in [name, DIST[0].0, DIST[1].0] {
        std::fs::copy(samples_dir().join(f), to.join(f)).unwrap();
    }
    let bundle = to.join("provenance.intoto.sigstore.json");
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::ES256);
    let r = run(keyless_with_token(&token)
        .args(["attest", "--trust-config"])
        .arg(bed.state_file("trust_config.json"))
        .arg("--statement")
        .arg(to.join(name))
        .arg("--bundle")
        .arg(&bundle));
    assert_eq!(r.code, 0, "{}", r.stderr);
    (to, bundle)
}

/// `keyless verify gitlab --provenance` pinned to the demo project's v1.0
/// tag, `--bundle bundle` and `args`, in `dir`: (exit code, JSON report).
fn verify_provenance(bed: &Bed, dir: &Path, bundle: &Path, args: &[&str]) -> (i32, Value) {
    let r = run(keyless()
        .current_dir(dir)
        .args(["verify", "gitlab", "--json", "--provenance"])
        .args(["--project", "keyless-demo/hello-py", "--tag", "v1.0"])
        .arg("--trust-config")
        .arg(bed.state_file("trust_config.json"))
        .arg("--bundle")
        .arg(bundle)
        .args(args));
    let report = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
    (r.code, report)
}

/// One statement bundle for every file it names (`--type` given, as the
/// verify component passes it with a folder): each file verified on its
/// own, the runner's claims checked; a file the statement does not name
/// fails at its artifact step. Without --type one bundle for several
/// files stays a usage error.
#[test]
fn one_runner_statement_bundle_verifies_each_file_it_names_and_no_other() {
    let bed = Bed::start();
    let (dir, bundle) = signed_sample(&bed, "v1", "artifacts-metadata.json");
    let (code, report) =
        verify_provenance(&bed, &dir, &bundle, &["--type", "slsaprovenance1", "dist/"]);
    assert_eq!(code, 0, "{report:#}");
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{report:#}");
    for r in results {
        assert_eq!(r["provenance"]["commit"], DEMO_SHA, "{r:#}");
        assert_eq!(r["provenance"]["build_job"], BUILD_JOB_ID, "{r:#}");
    }

    std::fs::write(dir.join("dist/extra-1.0.tar.gz"), b"not in the statement").unwrap();
    let (code, report) =
        verify_provenance(&bed, &dir, &bundle, &["--type", "slsaprovenance1", "dist/"]);
    assert_eq!(code, 1, "{report:#}");
    let failed: Vec<(&str, &Value)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ok"] == false)
        .map(|r| (r["input"].as_str().unwrap_or_default(), &r["failed_step"]))
        .collect();
    assert_eq!(
        failed,
        [("dist/extra-1.0.tar.gz", &serde_json::json!("artifact"))],
        "{report:#}"
    );

    std::fs::remove_file(dir.join("dist/extra-1.0.tar.gz")).unwrap();
    let r = run(keyless()
        .current_dir(&dir)
        .args(["verify", "gitlab", "--provenance"])
        .args(["--project", "keyless-demo/hello-py", "--tag", "v1.0"])
        .arg("--trust-config")
        .arg(bed.state_file("trust_config.json"))
        .arg("--bundle")
        .arg(&bundle)
        .arg("dist/"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("2 input(s) and 1 --bundle"),
        "{}",
        r.stderr
    );
}

/// The legacy SLSA v0.2 sample verifies as slsaprovenance02 with its
/// claims checked, and fails at the predicate type step as v1.
#[test]
fn the_legacy_runner_statement_verifies_as_slsa_v02_only() {
    let bed = Bed::start();
    let (dir, bundle) = signed_sample(&bed, "v02", "legacy-v0.2-metadata.json");
    let (code, report) = verify_provenance(
        &bed,
        &dir,
        &bundle,
        &["--type", "slsaprovenance02", "dist/"],
    );
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        report["results"][0]["provenance"]["build_job"], BUILD_JOB_ID,
        "{report:#}"
    );
    let (code, report) =
        verify_provenance(&bed, &dir, &bundle, &["--type", "slsaprovenance1", "dist/"]);
    assert_eq!(code, 1, "{report:#}");
    for r in report["results"].as_array().unwrap() {
        assert_eq!(r["failed_step"], "predicate type", "{r:#}");
    }
}
