//! The runner's claims against the certificate's: every field the
//! cross-check reads fails, named, when it disagrees.

use super::*;
use serde_json::json;

const PROJECT: &str = "https://gitlab.com/keyless-demo/hello-py";
const COMMIT: &str = "0f6c9b3d7e2a4c1b8d5e6f7a8b9c0d1e2f3a4b5c";
const JOB: &str = "4242";

/// A statement as gitlab-runner's `artifact_metadata.go` writes it (SLSA
/// v1 predicate in a v0.1 statement; the commit under "sha256"; variable
/// values empty).
fn runner_v1() -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v1",
        "subject": [{"name": "dist/a.whl", "digest": {"sha256": "aa".repeat(32)}}],
        "predicate": {
            "buildDefinition": {
                "buildType": "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v18.3.0/PROVENANCE.md",
                "externalParameters": {"CI_COMMIT_REF_NAME": "", "entryPoint": "build", "source": PROJECT},
                "internalParameters": {"architecture": "amd64", "executor": "docker", "job": JOB, "name": "r1"},
                "resolvedDependencies": [{"uri": PROJECT, "digest": {"sha256": COMMIT}}]
            },
            "runDetails": {
                "builder": {"id": format!("{PROJECT}/-/runners/12"), "version": {"gitlab-runner": "v18.3.0"}},
                "metadata": {"invocationId": JOB, "startedOn": "2026-01-01T00:00:00Z", "finishedOn": "2026-01-01T00:01:00Z"}
            }
        }
    })
}

/// The legacy form (SLSA v0.2).
fn runner_v02() -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "dist/a.whl", "digest": {"sha256": "aa".repeat(32)}}],
        "predicate": {
            "buildType": "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v16.0.0/PROVENANCE.md",
            "builder": {"id": format!("{PROJECT}/-/runners/12")},
            "invocation": {
                "configSource": {"uri": PROJECT, "digest": {"sha256": COMMIT}, "entryPoint": "build"},
                "environment": {"name": "r1", "executor": "docker", "architecture": "amd64", "job": {"id": 4242}},
                "parameters": {"CI_COMMIT_REF_NAME": ""}
            }
        },
        "metadata": {"buildStartedOn": "2026-01-01T00:00:00Z", "buildFinishedOn": "2026-01-01T00:01:00Z",
                     "reproducible": false, "completeness": {"parameters": true, "environment": true, "materials": false}},
        "materials": []
    })
}

fn cert(arc: u32) -> Option<&'static str> {
    match arc {
        1 | 8 => Some("https://gitlab.com"),
        12 => Some("https://gitlab.com/keyless-demo/hello-py"),
        13 => Some(COMMIT),
        // The signing job, after the build job (4242).
        21 => Some("https://gitlab.com/keyless-demo/hello-py/-/jobs/4250"),
        _ => None,
    }
}

fn checked(doc: &Value) -> Result<RunnerClaims, Mismatch> {
    let st = Statement::parse(&serde_json::to_vec(doc).unwrap()).unwrap();
    check_with(&st, &cert)
}

/// `doc` with the value at JSON pointer `at` replaced.
fn with(mut doc: Value, at: &str, value: Value) -> Value {
    *doc.pointer_mut(at).unwrap() = value;
    doc
}

#[test]
fn both_runner_formats_agree_with_their_certificate() {
    for doc in [runner_v1(), runner_v02()] {
        let claims = checked(&doc).unwrap();
        assert_eq!(claims.commit, COMMIT);
        assert_eq!(claims.build_job, JOB);
        assert_eq!(claims.signing_job, "4250");
        assert_eq!(claims.project_url, PROJECT);
    }
}

#[test]
fn each_disagreement_names_its_field() {
    let other = "https://gitlab.com/evil/hello-py";
    for (doc, field) in [
        (
            with(
                runner_v1(),
                "/predicate/buildDefinition/externalParameters/source",
                json!(other),
            ),
            "externalParameters.source",
        ),
        (
            with(
                runner_v1(),
                "/predicate/runDetails/builder/id",
                json!(format!("{other}/-/runners/1")),
            ),
            "runDetails.builder.id",
        ),
        (
            with(
                runner_v1(),
                "/predicate/buildDefinition/resolvedDependencies/0/digest/sha256",
                json!("1".repeat(40)),
            ),
            "resolvedDependencies[0].digest.sha256",
        ),
        (
            with(
                runner_v1(),
                "/predicate/buildDefinition/resolvedDependencies/0/uri",
                json!(other),
            ),
            "resolvedDependencies[0].uri",
        ),
        // After the signing job.
        (
            with(
                with(
                    runner_v1(),
                    "/predicate/buildDefinition/internalParameters/job",
                    json!("4251"),
                ),
                "/predicate/runDetails/metadata/invocationId",
                json!("4251"),
            ),
            "internalParameters.job",
        ),
        // The statement's two job ids disagree.
        (
            with(
                runner_v1(),
                "/predicate/runDetails/metadata/invocationId",
                json!("4243"),
            ),
            "metadata.invocationId",
        ),
        (
            with(
                runner_v1(),
                "/predicate/buildDefinition/internalParameters/job",
                json!("x"),
            ),
            "metadata.invocationId",
        ),
        (
            with(
                runner_v1(),
                "/predicate/buildDefinition/buildType",
                json!("https://example.com/PROVENANCE.md"),
            ),
            "buildType",
        ),
        (
            with(
                runner_v1(),
                "/predicateType",
                json!("https://example.com/p"),
            ),
            "predicateType",
        ),
        (
            with(
                runner_v02(),
                "/predicate/invocation/configSource/uri",
                json!(other),
            ),
            "configSource.uri",
        ),
        (
            with(
                runner_v02(),
                "/predicate/invocation/configSource/digest/sha256",
                json!("1".repeat(40)),
            ),
            "configSource.digest.sha256",
        ),
        (
            with(
                runner_v02(),
                "/predicate/invocation/environment/job/id",
                json!(4251),
            ),
            "environment.job.id",
        ),
        (
            with(
                runner_v02(),
                "/predicate/builder/id",
                json!(format!("{other}/-/runners/1")),
            ),
            "predicate.builder.id",
        ),
    ] {
        let err = checked(&doc).unwrap_err();
        assert!(err.field.ends_with(field), "{field}: {err}");
    }
}

#[test]
fn a_self_managed_instance_matches_fulcios_gitlab_com_by_issuer() {
    let own = "https://git.example.org/keyless-demo/hello-py";
    let doc = with(
        with(
            with(
                runner_v1(),
                "/predicate/buildDefinition/externalParameters/source",
                json!(own),
            ),
            "/predicate/buildDefinition/resolvedDependencies/0/uri",
            json!(own),
        ),
        "/predicate/runDetails/builder/id",
        json!(format!("{own}/-/runners/3")),
    );
    let st = Statement::parse(&serde_json::to_vec(&doc).unwrap()).unwrap();
    // Issued by gitlab.com: git.example.org is another project.
    assert!(check_with(&st, &cert).is_err());
    // Issued by git.example.org, whose .1.12 Fulcio writes as gitlab.com.
    let self_managed = |arc: u32| match arc {
        1 | 8 => Some("https://git.example.org"),
        a => cert(a),
    };
    check_with(&st, &self_managed).unwrap();
}

#[test]
fn a_certificate_without_gitlab_claims_fails() {
    let st = Statement::parse(&serde_json::to_vec(&runner_v1()).unwrap()).unwrap();
    let err = check_with(&st, &|arc| if arc == 12 { None } else { cert(arc) }).unwrap_err();
    assert_eq!(err.field, "certificate");
}
