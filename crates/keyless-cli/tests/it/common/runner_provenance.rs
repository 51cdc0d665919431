//! The provenance a GitLab runner writes into a job's zip artifacts when the
//! job sets `RUNNER_GENERATE_ARTIFACTS_METADATA: "true"`, written the way
//! gitlab-runner writes it, for tests (gitlab-ci-local and the testbed have
//! no runner to write it).
//!
//! Format, from gitlab-runner's source (`commands/helpers/artifact_metadata.go`
//! and the `--metadata-parameter`/`--repo-url` arguments `shells/abstract.go`
//! passes to the artifacts uploader):
//! - file `<artifacts:name>-metadata.json` (`artifacts-metadata.json` when
//!   the job names no artifact) at the root of the archive, written at
//!   artifact upload (after the script), so only a later job can sign it;
//! - SLSA v1 (runner 17.0 and later, v19.3.0 checked): an in-toto
//!   Statement with `_type` `https://in-toto.io/Statement/v0.1` (not v1),
//!   marshalled by protojson with a one-space indent: the statement's
//!   fields in proto order (`_type`, `subject`, `predicateType`,
//!   `predicate`), the predicate a `google.protobuf.Struct` (keys sorted);
//! - the legacy SLSA v0.2 form (runner 16.x without
//!   `SLSA_PROVENANCE_SCHEMA_VERSION: v1`, v16.11.0 checked): the same
//!   header marshalled by Go's `encoding/json` (one-space indent, fields in
//!   struct order `_type`, `predicateType`, `subject`, `predicate`);
//! - subjects: one per regular file of the artifact, named by its path
//!   relative to the project directory (`dist/x.whl`), `sha256` only, in Go
//!   map order (arbitrary);
//! - quirks: `resolvedDependencies[0].digest.sha256` (v1) and
//!   `configSource.digest.sha256` (v0.2) hold the 40-hex git SHA-1 of the
//!   commit; every CI variable of the job is a key of `externalParameters`
//!   (v1) or `parameters` (v0.2) with an EMPTY value (the runner records
//!   which variables existed, never their values); the version in
//!   `buildType` and `builder.version` is the runner's 8-hex revision
//!   (release versions have no leading `v`); ids are strings in v1 (a
//!   Struct holds no integers) and `job.id` a number in v0.2.
//!
//! Protojson adds a second space after some colons in some builds (it
//! randomises whitespace so nobody compares its output byte for byte): a
//! verifier must parse JSON, never match text.

use serde_json::{Map, Value, json};

/// What the runner knows about the job when it uploads the artifacts.
pub struct RunnerJob {
    /// The job's CI variables in the runner's order (predefined, then
    /// project, group, instance and job variables); only names are kept.
    pub variables: Vec<(String, String)>,
    /// `[[runners]] name` in the runner's config.toml.
    pub runner_name: String,
    /// `[[runners]] executor` (`docker+machine` on GitLab.com's SaaS runners).
    pub executor: String,
    /// Go's `runtime.GOARCH` of the runner binary.
    pub architecture: String,
    /// The runner's revision: `git rev-parse --short=8` of its release tag.
    pub revision: String,
    /// When the runner ended the job's script (RFC 3339, seconds).
    pub ended_at: String,
}

/// gitlab-runner v19.3.0's revision (`git rev-parse --short=8 v19.3.0`).
pub const RUNNER_V19_3_0: &str = "9cbf0074";
/// gitlab-runner v16.11.0's revision, the last release writing SLSA v0.2 by
/// default.
pub const RUNNER_V16_11_0: &str = "91a27b2a";

impl RunnerJob {
    /// A job with `variables` run by a GitLab.com SaaS runner (docker+machine,
    /// amd64) at `revision`, ending at `ended_at`.
    pub fn saas(variables: &[(&str, &str)], revision: &str, ended_at: &str) -> Self {
        Self {
            variables: variables
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            runner_name: "2-green.saas-linux-small-amd64.runners-manager.gitlab.com".into(),
            executor: "docker+machine".into(),
            architecture: "amd64".into(),
            revision: revision.into(),
            ended_at: ended_at.into(),
        }
    }

    fn var(&self, name: &str) -> &str {
        self.variables
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("the job has no {name}"))
    }

    /// `--repo-url`: the repository's clean URL without `.git`.
    fn repo_url(&self) -> String {
        let url = self.var("CI_REPOSITORY_URL");
        // RepoCleanURL drops the job token from the clone URL.
        let clean = match url.split_once("://") {
            Some((scheme, rest)) => {
                format!("{scheme}://{}", rest.rsplit_once('@').map_or(rest, |r| r.1))
            }
            None => url.to_string(),
        };
        clean.trim_end_matches(".git").to_string()
    }

    fn builder_id(&self) -> String {
        format!("{}/-/runners/{}", self.repo_url(), self.var("CI_RUNNER_ID"))
    }

    fn build_type(&self) -> String {
        format!(
            "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/{}/PROVENANCE.md",
            self.revision
        )
    }

    /// Every variable name, each with an empty value.
    fn parameters(&self) -> Map<String, Value> {
        self.variables
            .iter()
            .map(|(k, _)| (k.clone(), json!("")))
            .collect()
    }

    /// The SLSA v1 statement as runner 17.0+ writes it.
    pub fn statement_v1(&self, files: &[(&str, &[u8])]) -> String {
        let mut external = self.parameters();
        external.insert("entryPoint".into(), json!(self.var("CI_JOB_NAME")));
        external.insert("source".into(), json!(self.repo_url()));
        // serde_json's Map is ordered by key, as protojson orders a Struct.
        let predicate = json!({
            "buildDefinition": {
                "buildType": self.build_type(),
                "externalParameters": external,
                "internalParameters": {
                    "architecture": self.architecture,
                    "executor": self.executor,
                    "job": self.var("CI_JOB_ID"),
                    "name": self.runner_name,
                },
                "resolvedDependencies": [{
                    "digest": {"sha256": self.var("CI_COMMIT_SHA")},
                    "uri": self.repo_url(),
                }],
            },
            "runDetails": {
                "builder": {
                    "id": self.builder_id(),
                    "version": {"gitlab-runner": self.revision},
                },
                "metadata": {
                    "finishedOn": self.ended_at,
                    "invocationId": self.var("CI_JOB_ID"),
                    "startedOn": self.var("CI_JOB_STARTED_AT"),
                },
            },
        });
        render_top(&[
            ("_type", json!("https://in-toto.io/Statement/v0.1")),
            ("subject", subjects(files)),
            ("predicateType", json!("https://slsa.dev/provenance/v1")),
            ("predicate", predicate),
        ])
    }

    /// The legacy SLSA v0.2 statement as runner 16.x writes it by default.
    pub fn statement_v02(&self, files: &[(&str, &[u8])]) -> String {
        let job_id: u64 = self.var("CI_JOB_ID").parse().expect("a numeric job id");
        // Go marshals structs in field order and maps by sorted key.
        let predicate = ordered(&[
            ("builder", json!({"id": self.builder_id()})),
            ("buildType", json!(self.build_type())),
            (
                "invocation",
                ordered(&[
                    (
                        "configSource",
                        ordered(&[
                            ("uri", json!(self.repo_url())),
                            ("digest", json!({"sha256": self.var("CI_COMMIT_SHA")})),
                        ]),
                    ),
                    ("parameters", Value::Object(self.parameters())),
                    (
                        "environment",
                        ordered(&[
                            ("name", json!(self.runner_name)),
                            ("executor", json!(self.executor)),
                            ("architecture", json!(self.architecture)),
                            ("job", json!({"id": job_id})),
                        ]),
                    ),
                ]),
            ),
            (
                "metadata",
                ordered(&[
                    ("buildStartedOn", json!(self.var("CI_JOB_STARTED_AT"))),
                    ("buildFinishedOn", json!(self.ended_at)),
                    (
                        "completeness",
                        ordered(&[
                            ("parameters", json!(true)),
                            ("environment", json!(true)),
                            ("materials", json!(false)),
                        ]),
                    ),
                    ("reproducible", json!(false)),
                ]),
            ),
        ]);
        render_top(&[
            ("_type", json!("https://in-toto.io/Statement/v0.1")),
            ("predicateType", json!("https://slsa.dev/provenance/v0.2")),
            ("subject", subjects(files)),
            ("predicate", predicate),
        ])
    }
}

/// One subject per file, sha256 only (`name` first: proto field order in
/// v1, struct field order in v0.2).
fn subjects(files: &[(&str, &[u8])]) -> Value {
    Value::Array(
        files
            .iter()
            .map(|(name, data)| {
                ordered(&[
                    ("name", json!(name)),
                    ("digest", json!({"sha256": sha256_hex(data)})),
                ])
            })
            .collect(),
    )
}

/// Lowercase hex of the SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    sigstore_crypto::sha256(data)
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An object whose keys must keep the given order. serde_json (without
/// `preserve_order`) sorts keys, so the order is kept by rendering: the
/// value is a marker object rendered by [`render_top`].
fn ordered(fields: &[(&str, Value)]) -> Value {
    json!({ ORDERED: fields.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>() })
}

const ORDERED: &str = "\u{0}ordered";

/// The statement rendered with a one-space indent, the top-level fields in
/// `fields`' order (no trailing newline, as both Go marshallers write).
fn render_top(fields: &[(&str, Value)]) -> String {
    let mut out = String::new();
    render(&ordered(fields), 0, &mut out);
    out
}

fn render(value: &Value, depth: usize, out: &mut String) {
    let pad = |n: usize| " ".repeat(n);
    match value {
        Value::Object(map) if map.contains_key(ORDERED) => {
            let fields = map[ORDERED].as_array().unwrap();
            render_fields(
                fields
                    .iter()
                    .map(|f| (f[0].as_str().unwrap(), &f[1]))
                    .collect(),
                depth,
                out,
            );
        }
        Value::Object(map) => render_fields(
            map.iter().map(|(k, v)| (k.as_str(), v)).collect(),
            depth,
            out,
        ),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                render(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn render_fields(fields: Vec<(&str, &Value)>, depth: usize, out: &mut String) {
    if fields.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (i, (key, value)) in fields.iter().enumerate() {
        out.push_str(&" ".repeat(depth + 1));
        out.push_str(&Value::from(*key).to_string());
        out.push_str(": ");
        render(value, depth + 1, out);
        out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
    }
    out.push_str(&" ".repeat(depth));
    out.push('}');
}

/// The CI variables of the demo project's `build` job in its v1.0 tag
/// pipeline on GitLab.com, as the testbed's [`super::bed::tag_v1_0`] token
/// describes that pipeline (project, commit, ref), with a few variables
/// GitLab predefines left empty as they are for such a job. `job_id` is the
/// build job's (not the signing job's) id.
pub fn demo_build_job_variables(sha: &str, job_id: &str) -> Vec<(String, String)> {
    let project = "keyless-demo/hello-py";
    let url = format!("https://gitlab.com/{project}");
    [
        ("CI_SERVER_URL", "https://gitlab.com".to_string()),
        ("CI_PROJECT_PATH", project.to_string()),
        ("CI_PROJECT_URL", url.clone()),
        (
            "CI_REPOSITORY_URL",
            format!("https://gitlab-ci-token:[MASKED]@gitlab.com/{project}.git"),
        ),
        ("CI_COMMIT_SHA", sha.to_string()),
        ("CI_COMMIT_TAG", "v1.0".to_string()),
        ("CI_COMMIT_REF_NAME", "v1.0".to_string()),
        ("CI_COMMIT_BRANCH", String::new()),
        ("CI_PIPELINE_ID", "1587301234".to_string()),
        ("CI_PIPELINE_SOURCE", "push".to_string()),
        ("CI_JOB_ID", job_id.to_string()),
        ("CI_JOB_NAME", "build".to_string()),
        ("CI_JOB_STAGE", "build".to_string()),
        ("CI_JOB_STARTED_AT", "2026-12-08T00:41:04Z".to_string()),
        ("CI_JOB_URL", format!("{url}/-/jobs/{job_id}")),
        ("CI_RUNNER_ID", "12270807".to_string()),
        ("CI_RUNNER_TAGS", String::new()),
        ("CI_CONFIG_PATH", ".gitlab-ci.yml".to_string()),
        ("PIP_DISABLE_PIP_VERSION_CHECK", "1".to_string()),
        ("RUNNER_GENERATE_ARTIFACTS_METADATA", "true".to_string()),
        ("SLSA_PROVENANCE_SCHEMA_VERSION", "v1".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
