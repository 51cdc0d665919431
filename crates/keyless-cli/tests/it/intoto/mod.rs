//! In-toto statements (#20): `keyless attest --predicate` / `--statement`
//! against the testbed on Rekor v1 and on Rekor v2 + TSA, `verify --type`,
//! the statement's bounds and subjects, `--output-statement`, and `verify
//! gitlab --provenance` holding the GitLab runner's claims to the
//! certificate's.

mod attest;
mod provenance;
mod verify;

use crate::common::bed::{Bed, GITLAB, MAIN_SAN};
use crate::common::{Run, keyless, keyless_with_token, run, unb64};
use keyless_testbed::{JwsAlg, TokenSpec};
use serde_json::{Value, json};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The commit the testbed's GitLab tokens name.
const COMMIT: &str = "0f6c9b3d7e2a4c1b8d5e6f7a8b9c0d1e2f3a4b5c";
/// The job that signs (the token's `job_id`).
const SIGNING_JOB: &str = "8421337050";
/// The job that built (the runner's statement).
const BUILD_JOB: &str = "8421337001";
const PROJECT_URL: &str = "https://gitlab.com/keyless-demo/hello-py";

/// A testbed, a main-branch token of the demo project's job
/// [`SIGNING_JOB`], and `dist/` with two files.
struct Fx {
    bed: Bed,
    token: String,
}

fn setup() -> Fx {
    let bed = Bed::start();
    let mut spec = TokenSpec::gitlab(GITLAB);
    spec.overrides.insert("job_id".into(), json!(SIGNING_JOB));
    let token = bed.tb.mint(&spec, JwsAlg::RS256);
    std::fs::create_dir(bed.path("dist")).unwrap();
    for name in ["hello_py-1.0-py3-none-any.whl", "hello_py-1.0.tar.gz"] {
        std::fs::write(bed.path("dist").join(name), format!("contents of {name}")).unwrap();
    }
    Fx { bed, token }
}

impl std::ops::Deref for Fx {
    type Target = Bed;
    fn deref(&self) -> &Bed {
        &self.bed
    }
}

impl Fx {
    fn wheel(&self) -> PathBuf {
        self.path("dist/hello_py-1.0-py3-none-any.whl")
    }

    fn sdist(&self) -> PathBuf {
        self.path("dist/hello_py-1.0.tar.gz")
    }

    /// `keyless attest --trust-config <state>/<trust> <args>` with the token.
    fn attest(&self, trust: &str, args: &[&OsStr]) -> Run {
        let r = run(keyless_with_token(&self.token)
            .arg("attest")
            .arg("--trust-config")
            .arg(self.state_file(trust))
            .args(args)
            .timeout(std::time::Duration::from_secs(120)));
        let secret = self.token.rsplit('.').next().unwrap();
        assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret));
        r
    }

    /// `keyless verify --json` of `args` as the token's identity.
    fn verify(&self, trust: &str, args: &[&OsStr]) -> (i32, Value) {
        let r = run(keyless()
            .arg("verify")
            .arg("--json")
            .args(args)
            .arg("--trust-config")
            .arg(self.state_file(trust))
            .args(["--certificate-identity", MAIN_SAN])
            .args(["--certificate-oidc-issuer", GITLAB]));
        (r.code, r.json())
    }

    /// `keyless verify gitlab --json --project keyless-demo/hello-py
    /// --branch main <args>`.
    fn verify_gitlab(&self, trust: &str, args: &[&OsStr]) -> (i32, Value) {
        let r = run(keyless()
            .args(["verify", "gitlab", "--json"])
            .args(["--project", "keyless-demo/hello-py", "--branch", "main"])
            .arg("--trust-config")
            .arg(self.state_file(trust))
            .args(args));
        (r.code, r.json())
    }

    /// Write the runner's statement for `dist/`'s files at `<dir>/<name>`
    /// (subjects named `dist/<file>`, as the runner names them from the
    /// project folder), with `edit` applied; its path.
    fn runner_statement(&self, name: &str, edit: impl FnOnce(&mut Value)) -> PathBuf {
        let files = [self.wheel(), self.sdist()];
        let mut doc = runner_v1(&files, BUILD_JOB);
        edit(&mut doc);
        // protojson's layout (one-space indent), which the signature must
        // keep byte for byte.
        let mut text = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut ser = serde_json::Serializer::with_formatter(&mut text, formatter);
        serde::Serialize::serialize(&doc, &mut ser).unwrap();
        self.write(name, text)
    }
}

/// The statement gitlab-runner writes (`commands/helpers/artifact_metadata.go`,
/// SLSA v1): `_type` Statement v0.1, the commit under "sha256" in
/// resolvedDependencies, CI variables by name with empty values.
fn runner_v1(files: &[PathBuf], job: &str) -> Value {
    let subjects: Vec<Value> = files
        .iter()
        .map(|f| {
            let name = format!("dist/{}", f.file_name().unwrap().to_string_lossy());
            json!({"name": name, "digest": {"sha256": sha256_hex(f)}})
        })
        .collect();
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": subjects,
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v19.3.0/PROVENANCE.md",
                "externalParameters": {
                    "CI_COMMIT_REF_NAME": "", "CI_JOB_NAME": "", "CI_PROJECT_PATH": "",
                    "entryPoint": "build", "source": PROJECT_URL
                },
                "internalParameters": {"architecture": "amd64", "executor": "docker+machine", "job": job, "name": "saas-linux-small-amd64"},
                "resolvedDependencies": [{"digest": {"sha256": COMMIT}, "uri": PROJECT_URL}]
            },
            "runDetails": {
                "builder": {"id": format!("{PROJECT_URL}/-/runners/12270807"), "version": {"gitlab-runner": "v19.3.0"}},
                "metadata": {"finishedOn": "2026-12-08T00:01:00Z", "invocationId": job, "startedOn": "2026-12-08T00:00:00Z"}
            }
        }
    })
}

fn sha256_hex(path: &Path) -> String {
    keyless::digest::sha256_file(path).unwrap().to_hex()
}

/// The statement a DSSE bundle signs, as bytes.
fn payload(bundle: &Path) -> Vec<u8> {
    let doc = crate::common::read_json(bundle);
    unb64(doc["dsseEnvelope"]["payload"].as_str().unwrap())
}

/// The kind of a bundle's first log entry.
fn entry_kind(bundle: &Path) -> String {
    let doc = crate::common::read_json(bundle);
    doc["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"]
        .as_str()
        .unwrap()
        .to_string()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}
