//! The GitLab runner's SLSA provenance (`RUNNER_GENERATE_ARTIFACTS_METADATA`)
//! held against the certificate that signed it (`keyless verify gitlab
//! --provenance`).
//!
//! The runner writes its statement into the job's workspace, where the
//! job's own script can rewrite it before it is signed: on its own, a
//! signed runner statement proves only that the pipeline signed *some*
//! claims. Fulcio certifies the project, commit and job from the OIDC token
//! GitLab issued to the signing job. Requiring the two to agree turns the
//! statement's project and commit into certified facts, and a statement
//! carried over from another project or commit (replayed into a later
//! release) fails, naming the field.
//!
//! The job cannot be the same: the runner writes the statement while it
//! uploads the build job's artifacts, after that job's script, so a later
//! job signs it. The build job must precede the signing job (GitLab job
//! ids grow: a pipeline's jobs are numbered when it is created, retries
//! later), so a statement naming a job after the signer's is refused; the
//! statement's own job ids must agree with each other.
//!
//! Formats, from gitlab-runner's `commands/helpers/artifact_metadata.go`:
//! SLSA v1 (`buildDefinition.externalParameters.source`,
//! `resolvedDependencies[{uri, digest.sha256 = the git commit}]`,
//! `internalParameters.job`, `runDetails.metadata.invocationId`,
//! `runDetails.builder.id = <project URL>/-/runners/<id>`) and the legacy
//! v0.2 (`invocation.configSource{uri, digest.sha256, entryPoint}`,
//! `invocation.environment.job.id`, `builder.id`). Neither carries the ref
//! or the pipeline: those stay pinned on the certificate (`--branch`,
//! `--tag`, `--ref`).

use super::Statement;
use super::predicate::{SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02};
use crate::cert;
use serde_json::Value;

/// The start and end of the runner's `buildType`.
const BUILD_TYPE_PREFIX: &str = "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/";
const BUILD_TYPE_SUFFIX: &str = "/PROVENANCE.md";

/// What the runner's statement claims, once it agrees with the certificate.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunnerClaims {
    /// The project's URL.
    pub project_url: String,
    /// The commit built.
    pub commit: String,
    /// The job that built it (the statement's).
    pub build_job: String,
    /// The job that signed the statement (the certificate's .1.21).
    pub signing_job: String,
    /// The runner's `buildType` (it names the runner's version).
    pub build_type: String,
}

/// A disagreement, naming the statement's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The statement's field, as a JSON path.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

fn mismatch(field: &str, reason: impl Into<String>) -> Mismatch {
    Mismatch {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// Check the runner's `statement` against the claims of the certificate
/// `info` that signed it.
pub fn check(
    statement: &Statement,
    info: &sigstore_crypto::CertificateInfo,
) -> Result<RunnerClaims, Mismatch> {
    check_with(statement, &|arc| cert::value(info, arc))
}

/// [`check`] with the certificate's extensions by OID arc.
pub fn check_with<'a>(
    statement: &Statement,
    extension: &dyn Fn(u32) -> Option<&'a str>,
) -> Result<RunnerClaims, Mismatch> {
    let claims = runner_claims(statement)?;
    let issuer = extension(cert::ISSUER.arc).unwrap_or_default();
    let certified = |arc: u32, name: &str| {
        extension(arc).ok_or_else(|| {
            mismatch(
                "certificate",
                format!("has no {name} (.1.{arc}): not a GitLab CI certificate"),
            )
        })
    };

    // The project: the same path, on the instance that issued the token.
    let cert_repo = certified(cert::SOURCE_REPOSITORY_URI.arc, "Source Repository URI")?;
    for (field, url) in &claims.urls {
        if !same_project(url, cert_repo, issuer) {
            return Err(mismatch(
                field,
                format!(
                    "says {url:?}, the certificate's Source Repository URI (.1.12) is {cert_repo:?}"
                ),
            ));
        }
    }
    // The commit.
    let cert_commit = certified(
        cert::SOURCE_REPOSITORY_DIGEST.arc,
        "Source Repository Digest",
    )?;
    let (field, commit) = &claims.commit;
    if !commit.eq_ignore_ascii_case(cert_commit) {
        return Err(mismatch(
            field,
            format!(
                "says commit {commit:?}, the certificate's Source Repository Digest (.1.13) is {cert_commit:?}"
            ),
        ));
    }
    // The job: the run invocation is <project>/-/jobs/<id>.
    let invocation = certified(cert::RUN_INVOCATION_URI.arc, "Run Invocation URI")?;
    let cert_job = invocation
        .rsplit_once("/-/jobs/")
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            mismatch(
                "certificate",
                format!("Run Invocation URI (.1.21) {invocation:?} names no GitLab job"),
            )
        })?;
    let (first_field, build_job) = &claims.jobs[0];
    for (field, job) in &claims.jobs[1..] {
        if job != build_job {
            return Err(mismatch(
                field,
                format!("says job {job}, but {first_field} says job {build_job}"),
            ));
        }
    }
    let number = |id: &str| id.parse::<u64>().ok();
    match (number(build_job), number(cert_job)) {
        (Some(built), Some(signed)) if built <= signed => {}
        (Some(_), Some(_)) => {
            return Err(mismatch(
                first_field,
                format!(
                    "says job {build_job}, which comes after the signing job {cert_job} (.1.21): no job signs a statement of a later one"
                ),
            ));
        }
        _ => {
            return Err(mismatch(
                first_field,
                format!("{build_job:?} is not a GitLab job id"),
            ));
        }
    }
    Ok(RunnerClaims {
        project_url: claims.urls[0].1.clone(),
        commit: commit.clone(),
        build_job: build_job.clone(),
        signing_job: cert_job.to_string(),
        build_type: claims.build_type,
    })
}

/// The runner's claims, each with the field it came from.
struct Claims {
    build_type: String,
    /// Every URL naming the project (at least one).
    urls: Vec<(String, String)>,
    commit: (String, String),
    /// Every job id (at least one).
    jobs: Vec<(String, String)>,
}

fn text<'v>(v: &'v Value, field: &str) -> Result<&'v str, Mismatch> {
    v.as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| mismatch(field, "missing (not a GitLab runner provenance statement?)"))
}

fn runner_claims(statement: &Statement) -> Result<Claims, Mismatch> {
    let p = &statement.predicate;
    let v1 = match statement.predicate_type.as_str() {
        SLSA_PROVENANCE_V1 => true,
        SLSA_PROVENANCE_V02 => false,
        other => {
            return Err(mismatch(
                "predicateType",
                format!(
                    "is {other:?}: the GitLab runner writes {SLSA_PROVENANCE_V1} (or the legacy {SLSA_PROVENANCE_V02})"
                ),
            ));
        }
    };
    let (build_type_field, build_type) = if v1 {
        let f = "predicate.buildDefinition.buildType";
        (f, text(&p["buildDefinition"]["buildType"], f)?)
    } else {
        let f = "predicate.buildType";
        (f, text(&p["buildType"], f)?)
    };
    if !(build_type.starts_with(BUILD_TYPE_PREFIX) && build_type.ends_with(BUILD_TYPE_SUFFIX)) {
        return Err(mismatch(
            build_type_field,
            format!(
                "is {build_type:?}, not the GitLab runner's ({BUILD_TYPE_PREFIX}<version>{BUILD_TYPE_SUFFIX})"
            ),
        ));
    }
    let mut urls = Vec::new();
    let mut jobs = Vec::new();
    let builder_field;
    let commit;
    if v1 {
        let def = &p["buildDefinition"];
        let f = "predicate.buildDefinition.externalParameters.source";
        let source = text(&def["externalParameters"]["source"], f)?;
        urls.push((f.to_string(), source.to_string()));
        // The dependency that is the project's repository (the runner
        // writes one, the project itself, its commit under "sha256": a
        // 40-hex git SHA-1); its uri is held to the certificate too.
        let deps = def["resolvedDependencies"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let f = "predicate.buildDefinition.resolvedDependencies";
        let (i, dep) = deps
            .iter()
            .enumerate()
            .find(|(_, d)| d["uri"].as_str() == Some(source))
            .or_else(|| deps.iter().enumerate().next())
            .ok_or_else(|| mismatch(f, "is empty: no commit"))?;
        let uri_field = format!("{f}[{i}].uri");
        urls.push((
            uri_field.clone(),
            text(&dep["uri"], &uri_field)?.to_string(),
        ));
        let digest = &dep["digest"];
        let (key, sha) = ["gitCommit", "sha1", "sha256"]
            .iter()
            .find_map(|k| digest[*k].as_str().map(|v| (*k, v)))
            .ok_or_else(|| mismatch(&format!("{f}[{i}].digest"), "has no commit"))?;
        commit = (format!("{f}[{i}].digest.{key}"), sha.to_string());
        let f = "predicate.buildDefinition.internalParameters.job";
        jobs.push((
            f.to_string(),
            text(&def["internalParameters"]["job"], f)?.to_string(),
        ));
        let f = "predicate.runDetails.metadata.invocationId";
        if let Some(id) = p["runDetails"]["metadata"]["invocationId"].as_str() {
            jobs.push((f.to_string(), id.to_string()));
        }
        builder_field = "predicate.runDetails.builder.id";
    } else {
        let inv = &p["invocation"];
        let f = "predicate.invocation.configSource.uri";
        let uri = text(&inv["configSource"]["uri"], f)?;
        urls.push((f.to_string(), uri.to_string()));
        let f = "predicate.invocation.configSource.digest.sha256";
        commit = (
            f.to_string(),
            text(&inv["configSource"]["digest"]["sha256"], f)?.to_string(),
        );
        let f = "predicate.invocation.environment.job.id";
        let job = match &inv["environment"]["job"]["id"] {
            Value::Number(n) => n.to_string(),
            v => text(v, f)?.to_string(),
        };
        jobs.push((f.to_string(), job));
        builder_field = "predicate.builder.id";
    }
    // builder.id is <project URL>/-/runners/<runner id>.
    let builder = if v1 {
        &p["runDetails"]["builder"]["id"]
    } else {
        &p["builder"]["id"]
    };
    let builder = text(builder, builder_field)?;
    let project_of_builder = builder
        .rsplit_once("/-/runners/")
        .map(|(project, _)| project)
        .ok_or_else(|| {
            mismatch(
                builder_field,
                format!("{builder:?} names no runner of a project"),
            )
        })?;
    urls.push((builder_field.to_string(), project_of_builder.to_string()));
    Ok(Claims {
        build_type: build_type.to_string(),
        urls,
        commit,
        jobs,
    })
}

/// Whether the runner's project `url` is the certificate's `certified`
/// one: the same path, on the same host, or, since Fulcio writes
/// https://gitlab.com into .1.12 whatever the instance (fulcio issue 1325),
/// on the host of the instance that issued the token.
fn same_project(url: &str, certified: &str, issuer: &str) -> bool {
    let split = |u: &str| -> Option<(String, String)> {
        let rest = u
            .strip_prefix("https://")
            .or_else(|| u.strip_prefix("http://"))?;
        let (host, path) = rest.split_once('/')?;
        Some((
            host.to_ascii_lowercase(),
            path.trim_end_matches('/').to_string(),
        ))
    };
    let (Some((host, path)), Some((cert_host, cert_path))) = (split(url), split(certified)) else {
        return false;
    };
    let issuer_host = issuer
        .strip_prefix("https://")
        .map(|h| h.trim_end_matches('/').to_ascii_lowercase());
    path == cert_path
        && (host == cert_host
            || (cert_host == "gitlab.com" && issuer_host.as_deref() == Some(host.as_str())))
}

#[cfg(test)]
mod tests;
