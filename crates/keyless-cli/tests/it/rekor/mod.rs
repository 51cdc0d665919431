//! `keyless rekor` against the testbed: entries that `keyless sign` logged
//! are found, fetched, proven and exported; the monitor follows consistent
//! growth and raises the alarm for every log fault without touching its
//! state; network faults are errors (exit 2), never verdicts; the identity
//! scan finds exactly one project's signatures among others'. One module per
//! subcommand or concern; the fixture is here.

mod client;
mod fill;
mod get;
mod hidden;
mod hostile_log;
mod json;
mod log_identity;
mod monitor;
mod policy;
mod scan;
mod search;
mod stdout;
mod tiles;
mod validity;
mod verify_entry;

use crate::common::bed::{Bed, GITLAB};
use crate::common::{Run, keyless, read_json, run, unb64};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const PROJECT: &str = "keyless-demo/hello-py";
const SAN: &str = crate::common::bed::MAIN_SAN;
const SELF_MANAGED: &str = "https://gitlab.example.com";

/// A testbed that also trusts [`SELF_MANAGED`], its log filled by
/// `keyless sign`.
struct Log(Bed);

fn start() -> Log {
    Log(Bed::start_trusting(&[SELF_MANAGED]))
}

impl std::ops::Deref for Log {
    type Target = Bed;
    fn deref(&self) -> &Bed {
        &self.0
    }
}

/// What `keyless rekor` printed and how it exited; `json` is stdout parsed
/// (a test failure if it is not JSON when asked for), or null for text.
struct Reply {
    run: Run,
    json: Value,
}

impl std::ops::Deref for Reply {
    type Target = Run;
    fn deref(&self) -> &Run {
        &self.run
    }
}

impl Reply {
    /// Assert the exit code and the monitor's `status` (initialized, grew,
    /// unchanged, alarm).
    fn assert_status(&self, code: i32, status: &str) {
        assert_eq!(
            (self.code, self.json["status"].as_str()),
            (code, Some(status)),
            "{}",
            self.stdout
        );
    }
}

/// One file signed by `keyless sign`, and its log entry.
struct Signed {
    index: u64,
    file: PathBuf,
    bundle: Value,
    /// The entry's ID as Rekor names it: the tree ID (16 hex digits), then
    /// the UUID (the Merkle leaf hash of its canonicalized body).
    uuid: String,
    /// The file's SHA-256, hex.
    digest: String,
}

impl Log {
    fn trust(&self) -> PathBuf {
        self.tb.trust_config_path()
    }

    /// Sign new files (unique contents) as `project` on `issuer`'s GitLab,
    /// with Rekor v1 or v2; their log indexes and paths, in order.
    fn sign_as(
        &self,
        issuer: &str,
        project: &str,
        names: &[&str],
        v2: bool,
    ) -> Vec<(u64, PathBuf)> {
        let mut spec = keyless_testbed::TokenSpec::gitlab(issuer);
        spec.project = project.into();
        self.sign_with(&spec, names, v2)
    }

    /// Sign new files (unique contents) with a token minted from `spec`;
    /// their log indexes and paths, in order.
    fn sign_with(
        &self,
        spec: &keyless_testbed::TokenSpec,
        names: &[&str],
        v2: bool,
    ) -> Vec<(u64, PathBuf)> {
        let token = self.tb.mint(spec, keyless_testbed::JwsAlg::RS256);
        let files: Vec<PathBuf> = names
            .iter()
            .map(|n| {
                let (project, issuer) = (&spec.project, &spec.issuer);
                self.write(n, format!("{n} signed as {project} on {issuer}"))
            })
            .collect();
        let trust = if v2 {
            self.tb.trust_config_v2_path()
        } else {
            self.trust()
        };
        let mut args: Vec<&OsStr> = vec!["--json".as_ref()];
        args.extend(files.iter().map(|f| f.as_os_str()));
        let r = self.keyless_sign(&token, &trust, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()["files"]
            .as_array()
            .unwrap()
            .iter()
            .zip(files)
            .map(|(f, p)| (f["log_index"].as_u64().unwrap(), p))
            .collect()
    }

    fn sign(&self, names: &[&str]) -> Vec<(u64, PathBuf)> {
        self.sign_as(GITLAB, PROJECT, names, false)
    }

    /// Sign one file as the project; its entry, read from its bundle.
    fn sign_one(&self, name: &str) -> Signed {
        let [(index, file)]: [(u64, PathBuf); 1] = self.sign(&[name]).try_into().unwrap();
        let bundle = read_json(&self.path(&format!("{name}.sigstore.json")));
        let body = unb64(
            bundle["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
                .as_str()
                .unwrap(),
        );
        Signed {
            index,
            uuid: format!(
                "{:016x}{}",
                keyless_testbed::rekor::TREE_ID,
                sigstore_merkle::hash_leaf(&body).to_hex()
            ),
            digest: sha256_hex(&file),
            file,
            bundle,
        }
    }

    /// `keyless rekor <args> --trust-config <testbed> [--json]`.
    fn rekor(&self, args: &[&OsStr], json: bool) -> Reply {
        self.rekor_with(&self.trust(), args, json)
    }

    /// `keyless rekor <args> --trust-config <trust> [--json]`.
    fn rekor_with(&self, trust: &Path, args: &[&OsStr], json: bool) -> Reply {
        let mut cmd = keyless();
        cmd.arg("rekor").args(args).arg("--trust-config").arg(trust);
        if json {
            cmd.arg("--json");
        }
        let run = run(cmd.timeout(std::time::Duration::from_secs(60)));
        let json = if json { run.json() } else { Value::Null };
        Reply { run, json }
    }

    /// `keyless rekor monitor --state <state> <extra> --json`.
    fn monitor(&self, state: &Path, extra: &[&str]) -> Reply {
        self.monitor_as(state, extra, true)
    }

    /// `keyless rekor monitor --state <state> <extra>`: its text output.
    fn monitor_text(&self, state: &Path, extra: &[&str]) -> String {
        self.monitor_as(state, extra, false).run.stdout
    }

    fn monitor_as(&self, state: &Path, extra: &[&str], json: bool) -> Reply {
        let mut args: Vec<&OsStr> = vec!["monitor".as_ref(), "--state".as_ref(), state.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        self.rekor(&args, json)
    }
}

fn strs<'a>(args: &[&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(|s| OsStr::new(*s)).collect()
}

fn sha256_hex(path: &Path) -> String {
    sigstore_crypto::sha256(&std::fs::read(path).unwrap()).to_hex()
}

/// The Rekor v1 API's answer for an entry, exactly as served.
fn raw_entry(log: &Log, index: u64) -> String {
    raw_get(
        log.tb.url(),
        &format!("/api/v1/log/entries?logIndex={index}"),
    )
}

/// `GET <base><path>` from a (testbed) log, exactly as served.
fn raw_get(base: &str, path: &str) -> String {
    let url = format!("{base}{path}");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let r = sigstore_rekor::reqwest::get(url).await.unwrap();
            assert!(r.status().is_success());
            r.text().await.unwrap()
        })
}
