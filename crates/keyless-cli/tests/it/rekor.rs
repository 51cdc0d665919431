//! `keyless rekor` against the testbed: entries that `keyless sign` logged
//! are found, fetched, proven and exported; the monitor follows consistent
//! growth and raises the alarm for every log fault without touching its
//! state; network faults are errors (exit 2), never verdicts; the identity
//! scan finds exactly one project's signatures among others'.

use crate::common::keyless;
use keyless_testbed::faults::FaultRule;
use keyless_testbed::{JwsAlg, Testbed, TestbedOptions, TokenSpec};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const PROJECT: &str = "keyless-demo/hello-py";
const SAN: &str = "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/heads/main";
const SELF_MANAGED: &str = "https://gitlab.example.com";

struct Log {
    dir: tempfile::TempDir,
    tb: Testbed,
}

fn start() -> Log {
    let dir = tempfile::tempdir().unwrap();
    let mut options = TestbedOptions::new(dir.path().join("state"));
    options.trusted_issuers.push(SELF_MANAGED.into());
    let tb = Testbed::start(options).unwrap();
    Log { dir, tb }
}

/// What `keyless` printed and how it exited.
struct Run {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
}

impl Log {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

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
        let mut spec = TokenSpec::gitlab(issuer);
        spec.project = project.into();
        let token = self.tb.mint(&spec, JwsAlg::RS256);
        let files: Vec<PathBuf> = names
            .iter()
            .map(|n| {
                let p = self.path(n);
                std::fs::write(&p, format!("{n} signed as {project} on {issuer}")).unwrap();
                p
            })
            .collect();
        let trust = if v2 {
            self.tb.trust_config_v2_path()
        } else {
            self.trust()
        };
        let out = keyless()
            .arg("sign")
            .arg("--trust-config")
            .arg(trust)
            .arg("--json")
            .args(&files)
            .env("SIGSTORE_ID_TOKEN", token)
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        summary["files"]
            .as_array()
            .unwrap()
            .iter()
            .zip(files)
            .map(|(f, p)| (f["log_index"].as_u64().unwrap(), p))
            .collect()
    }

    fn sign(&self, names: &[&str]) -> Vec<(u64, PathBuf)> {
        self.sign_as("https://gitlab.com", PROJECT, names, false)
    }

    /// `keyless rekor <args> --trust-config <testbed> [--json]`.
    fn rekor(&self, args: &[&OsStr], json: bool) -> Run {
        let trust = self.trust();
        let mut cmd = keyless();
        cmd.arg("rekor")
            .args(args)
            .arg("--trust-config")
            .arg(&trust);
        if json {
            cmd.arg("--json");
        }
        let out = cmd
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        Run {
            code: out.status.code().unwrap(),
            json: if json {
                serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
            } else {
                Value::Null
            },
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn monitor(&self, state: &Path, extra: &[&str]) -> Run {
        let mut args: Vec<&OsStr> = vec!["monitor".as_ref(), "--state".as_ref(), state.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        self.rekor(&args, true)
    }

    fn fault(&self, rule: &str) {
        self.tb.add_fault(rule.parse::<FaultRule>().unwrap());
    }
}

fn strs<'a>(args: &[&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(|s| OsStr::new(*s)).collect()
}

fn sha256_hex(path: &Path) -> String {
    sigstore_crypto::sha256(&std::fs::read(path).unwrap()).to_hex()
}

/// The Rekor v1 API's answer for an entry, exactly as served.
fn raw_entry(tb: &Testbed, index: u64) -> String {
    let url = format!("{}/api/v1/log/entries?logIndex={index}", tb.url());
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

#[test]
fn signed_entries_are_found_fetched_proven_and_exported_as_verifiable_bundles() {
    let log = start();
    let [(index, file)]: [(u64, PathBuf); 1] = log.sign(&["pkg-1.0.tar.gz"]).try_into().unwrap();
    let other = log.sign(&["pkg-1.1.tar.gz"]);
    let digest = sha256_hex(&file);
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(log.path("pkg-1.0.tar.gz.sigstore.json")).unwrap())
            .unwrap();
    let tlog = &bundle["verificationMaterial"]["tlogEntries"][0];
    let body = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        tlog["canonicalizedBody"].as_str().unwrap(),
    )
    .unwrap();
    let uuid = sigstore_merkle::hash_leaf(&body).to_hex();

    // Search by digest, by the file, and by the signing certificate's key.
    let cert = log.path("signer.crt");
    let cert_b64 = bundle["verificationMaterial"]["certificate"]["rawBytes"]
        .as_str()
        .unwrap();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, cert_b64).unwrap();
    std::fs::write(&cert, sigstore_types::DerCertificate::new(der).to_pem()).unwrap();
    for query in [
        vec!["--sha256", digest.as_str()],
        vec!["--artifact", file.to_str().unwrap()],
    ] {
        let mut args = vec!["search"];
        args.extend(query);
        let r = log.rekor(&strs(&args), true);
        assert_eq!(r.code, 0, "{}", r.stdout);
        assert_eq!(r.json["total"], 1, "{}", r.json);
        let e = &r.json["entries"][0];
        assert_eq!(
            (e["ok"].as_bool(), e["uuid"].as_str()),
            (Some(true), Some(uuid.as_str()))
        );
        assert_eq!(e["log_index"], index);
        assert_eq!(e["digest"]["hex"], digest.as_str());
    }
    // Each `keyless sign` run has its own certificate: only this entry.
    let r = log.rekor(
        &strs(&["search", "--public-key", cert.to_str().unwrap()]),
        true,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let found: Vec<u64> = r.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["log_index"].as_u64().unwrap())
        .collect();
    assert_eq!(found, [index], "the second file had its own certificate");
    assert_ne!(other[0].0, index);
    let r = log.rekor(&strs(&["search", "--sha256", &"00".repeat(32)]), false);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.starts_with("0 entries for sha256:00"),
        "{}",
        r.stdout
    );

    // Fetch by index and by UUID: proven, and described.
    let by_index = log.rekor(&strs(&["get", "--log-index", &index.to_string()]), true);
    assert_eq!(by_index.code, 0, "{}", by_index.stdout);
    let e = &by_index.json;
    assert_eq!(e["uuid"], uuid.as_str());
    assert_eq!(
        (e["kind"].as_str(), e["version"].as_str()),
        (Some("hashedrekord"), Some("0.0.1"))
    );
    assert_eq!(e["integrated_time_verified"], true);
    assert_eq!(e["certificate"]["identity"], SAN);
    assert_eq!(e["certificate"]["issuer"], "https://gitlab.com");
    let repo = e["certificate"]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["oid"] == "1.3.6.1.4.1.57264.1.12")
        .unwrap();
    assert_eq!(repo["value"], format!("https://gitlab.com/{PROJECT}"));
    let by_uuid = log.rekor(&strs(&["get", "--uuid", &uuid]), true);
    assert_eq!(by_uuid.code, 0, "{}", by_uuid.stdout);
    assert_eq!(by_uuid.json["log_index"], index);
    let text = log.rekor(&strs(&["get", "--uuid", &uuid]), false);
    assert!(
        text.stdout
            .starts_with(&format!("OK   Rekor entry #{index}")),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("(signed by the SET)"),
        "{}",
        text.stdout
    );

    // Exported as a bundle that `keyless verify` accepts, for the digest and the file.
    let out = log.path("exported.sigstore.json");
    let r = log.rekor(
        &strs(&[
            "get",
            "--log-index",
            &index.to_string(),
            "--bundle-out",
            out.to_str().unwrap(),
        ]),
        true,
    );
    assert_eq!(
        (r.code, r.json["bundle"].as_str()),
        (0, out.to_str()),
        "{}",
        r.stdout
    );
    let trust = log.trust();
    for input in [format!("sha256:{digest}"), file.display().to_string()] {
        let args: [&OsStr; 9] = [
            input.as_ref(),
            "--bundle".as_ref(),
            out.as_os_str(),
            "--trust-config".as_ref(),
            trust.as_os_str(),
            "--certificate-identity".as_ref(),
            SAN.as_ref(),
            "--certificate-oidc-issuer".as_ref(),
            "https://gitlab.com".as_ref(),
        ];
        let (code, report) = crate::common::verify_json(&args);
        assert_eq!(code, 0, "{report:#}");
        assert_eq!(report["results"][0]["log_index"], index);
    }
    // An existing output is kept unless --overwrite.
    let before = std::fs::read(&out).unwrap();
    let r = log.rekor(
        &strs(&[
            "get",
            "--log-index",
            &index.to_string(),
            "--bundle-out",
            out.to_str().unwrap(),
        ]),
        true,
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.json["error"].as_str().unwrap().contains("--overwrite"));
    assert_eq!(std::fs::read(&out).unwrap(), before);

    // An entry of a log the trust root does not know is not proven.
    let r = keyless()
        .args([
            "rekor",
            "get",
            "--json",
            "--log-index",
            &index.to_string(),
            "--rekor-url",
        ])
        .arg(log.tb.url())
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(
        (r.status.code(), doc["failed_check"].as_str()),
        (Some(1), Some("log-entry")),
        "{doc}"
    );

    // A missing entry is an error, not a verdict.
    let r = log.rekor(&strs(&["get", "--log-index", "999"]), true);
    assert_eq!(r.code, 2);
    assert!(
        r.json["error"].as_str().unwrap().contains("404"),
        "{}",
        r.json
    );
}

#[test]
fn entries_are_proven_offline_and_tampered_ones_fail() {
    let log = start();
    let [(i1, _), (i2, _)]: [(u64, PathBuf); 2] =
        log.sign(&["a.tar.gz", "b.tar.gz"]).try_into().unwrap();
    let verify_entry = |doc: &Value, trust: &Path| {
        let path = log.path("entry.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        let out = keyless()
            .args(["rekor", "verify-entry", "--json"])
            .arg(&path)
            .arg("--trust-config")
            .arg(trust)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), report)
    };
    let v1 = log.trust();

    // A Rekor v1 LogEntry, as the API serves it.
    let entry: Value = serde_json::from_str(&raw_entry(&log.tb, i1)).unwrap();
    let (code, r) = verify_entry(&entry, &v1);
    assert_eq!((code, r["log_index"].as_u64()), (0, Some(i1)), "{r}");
    assert_eq!(r["integrated_time_verified"], true);
    let uuid = entry.as_object().unwrap().keys().next().unwrap().clone();
    let other: Value = serde_json::from_str(&raw_entry(&log.tb, i2)).unwrap();
    let other_body = other.as_object().unwrap().values().next().unwrap()["body"].clone();

    type Tamper = fn(&mut Value, &Value);
    let cases: [(&str, Tamper, &str); 5] = [
        (
            "integrated time",
            |e, _| e["integratedTime"] = (e["integratedTime"].as_i64().unwrap() + 1).into(),
            "set",
        ),
        (
            "log index",
            |e, _| e["logIndex"] = (e["logIndex"].as_u64().unwrap() + 7).into(),
            "set",
        ),
        (
            "proof hash",
            |e, _| e["verification"]["inclusionProof"]["hashes"][0] = "11".repeat(32).into(),
            "inclusion-proof",
        ),
        ("body", |e, other| e["body"] = other.clone(), "log-entry"),
        (
            "checkpoint",
            |e, _| {
                let cp = e["verification"]["inclusionProof"]["checkpoint"]
                    .as_str()
                    .unwrap()
                    .replacen('\n', " \n", 1);
                e["verification"]["inclusionProof"]["checkpoint"] = cp.into();
            },
            "checkpoint",
        ),
    ];
    for (what, tamper, check) in cases {
        let mut doc = entry.clone();
        tamper(doc.get_mut(&uuid).unwrap(), &other_body);
        let (code, r) = verify_entry(&doc, &v1);
        assert_eq!(
            (code, r["failed_check"].as_str()),
            (1, Some(check)),
            "{what}: {r}"
        );
    }

    // A bundle's TransparencyLogEntry: Rekor v1, and Rekor v2 (hashedrekord
    // 0.0.2, Ed25519 C2SP checkpoint, no SET).
    for (v2, trust) in [(false, v1.clone()), (true, log.tb.trust_config_v2_path())] {
        let name = if v2 { "v2.tar.gz" } else { "v1.tar.gz" };
        log.sign_as("https://gitlab.com", PROJECT, &[name], v2);
        let bundle: Value = serde_json::from_slice(
            &std::fs::read(log.path(&format!("{name}.sigstore.json"))).unwrap(),
        )
        .unwrap();
        let tle = bundle["verificationMaterial"]["tlogEntries"][0].clone();
        let (code, r) = verify_entry(&tle, &trust);
        assert_eq!(code, 0, "{r}");
        assert_eq!(r["version"], if v2 { "0.0.2" } else { "0.0.1" });
        assert_eq!(r["integrated_time_verified"], !v2);
        let mut tampered = tle.clone();
        tampered["logIndex"] = "5".into();
        let (code, r) = verify_entry(&tampered, &trust);
        assert_eq!(code, 1, "{r}");
        let mut relabelled = tle.clone();
        relabelled["kindVersion"]["version"] = if v2 { "0.0.1" } else { "0.0.2" }.into();
        let (code, r) = verify_entry(&relabelled, &trust);
        assert_eq!(
            (code, r["failed_check"].as_str()),
            (1, Some("log-entry")),
            "{r}"
        );
    }

    // Not an entry at all: no verdict.
    let (code, r) = verify_entry(&serde_json::json!({"mediaType": "x"}), &v1);
    assert_eq!((code, r["ok"].as_bool()), (2, Some(false)), "{r}");
}

#[test]
fn monitor_follows_consistent_growth_and_raises_the_alarm_for_each_log_fault() {
    let log = start();
    log.sign(&["first.tar.gz"]);
    let state = log.path("rekor-state.json");

    let r = log.monitor(&state, &[]);
    assert_eq!(
        (r.code, r.json["status"].as_str()),
        (0, Some("initialized")),
        "{}",
        r.stdout
    );
    assert_eq!(r.json["current"]["tree_size"], 1);
    let stored: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(stored["tree_size"], 1);

    log.sign(&["second.tar.gz", "third.tar.gz"]);
    let r = log.monitor(&state, &[]);
    assert_eq!(
        (r.code, r.json["status"].as_str()),
        (0, Some("grew")),
        "{}",
        r.stdout
    );
    assert_eq!(r.json["proof"]["first_size"], 1);
    assert_eq!(r.json["proof"]["last_size"], 3);
    let r = log.monitor(&state, &[]);
    assert_eq!(
        (r.code, r.json["status"].as_str()),
        (0, Some("unchanged")),
        "{}",
        r.stdout
    );

    let log_info = log.rekor(&strs(&["log-info"]), true);
    assert_eq!(
        (log_info.code, log_info.json["tree_size"].as_u64()),
        (0, Some(3))
    );
    assert_eq!(log_info.json["log_id"], r.json["current"]["log_id"]);

    // Each fault: exit 1, the evidence printed, the state file untouched.
    for (fault, check) in [
        ("rekor-v1=rolled-back", "rollback"),
        ("rekor-v1=forked-root", "fork"),
        ("rekor-v1=wrong-checkpoint-key", "checkpoint"),
    ] {
        let before = std::fs::read(&state).unwrap();
        log.fault(fault);
        let r = log.monitor(&state, &[]);
        assert_eq!(
            (
                r.code,
                r.json["status"].as_str(),
                r.json["alarm"]["check"].as_str()
            ),
            (1, Some("alarm"), Some(check)),
            "{fault}: {}",
            r.stdout
        );
        assert_eq!(r.json["stored"]["tree_size"], 3);
        assert!(
            r.json["current_checkpoint"]
                .as_str()
                .unwrap()
                .contains('\u{2014}')
        );
        let text = log
            .rekor(
                &strs(&["monitor", "--state", state.to_str().unwrap()]),
                false,
            )
            .stdout;
        assert!(text.starts_with(&format!("ALARM {check}: ")), "{text}");
        assert!(
            text.contains("stored checkpoint") && text.contains("left unchanged"),
            "{text}"
        );
        assert_eq!(
            std::fs::read(&state).unwrap(),
            before,
            "{fault} changed the state"
        );
        log.tb.clear_faults();
    }
    let r = log.rekor(&strs(&["log-info"]), true);
    assert_eq!(r.code, 0);
    log.fault("rekor-v1=wrong-checkpoint-key");
    let r = log.rekor(&strs(&["log-info"]), true);
    assert_eq!(
        (r.code, r.json["failed_check"].as_str()),
        (1, Some("checkpoint")),
        "{}",
        r.json
    );
    log.tb.clear_faults();

    // A consistency proof that does not verify (the tree must grow for one).
    log.sign(&["fourth.tar.gz"]);
    let before = std::fs::read(&state).unwrap();
    log.fault("rekor-v1=wrong-proof");
    let r = log.monitor(&state, &[]);
    assert_eq!(
        (r.code, r.json["alarm"]["check"].as_str()),
        (1, Some("consistency-proof")),
        "{}",
        r.stdout
    );
    assert_eq!(r.json["proof"]["last_size"], 4);
    assert_eq!(std::fs::read(&state).unwrap(), before);
    log.tb.clear_faults();

    // The alarms did not poison the state: honest growth verifies again.
    let r = log.monitor(&state, &[]);
    assert_eq!(
        (r.code, r.json["status"].as_str()),
        (0, Some("grew")),
        "{}",
        r.stdout
    );
    assert_eq!(r.json["proof"]["first_size"], 3);
}

#[test]
fn network_faults_are_errors_never_a_false_ok_or_a_false_alarm() {
    let log = start();
    let [(index, _)]: [(u64, PathBuf); 1] = log.sign(&["pkg.tar.gz"]).try_into().unwrap();
    let state = log.path("state.json");
    assert_eq!(log.monitor(&state, &[]).code, 0);
    log.sign(&["pkg-2.tar.gz"]);
    let before = std::fs::read(&state).unwrap();

    for (fault, says) in [
        ("rekor-v1=status:503", "503"),
        ("rekor-v1=truncate", "JSON"),
        ("rekor-v1=delay:1500,times=1", "no answer within 1 s"),
        // The consistency proof request (the second) fails.
        ("rekor-v1=truncate,after=1,times=1", "JSON"),
    ] {
        log.fault(fault);
        let r = log.monitor(&state, &["--timeout", "1"]);
        assert_eq!(
            (r.code, r.json["ok"].as_bool()),
            (2, Some(false)),
            "{fault}: {}",
            r.stdout
        );
        assert!(
            r.json["alarm"].is_null() && r.json.get("status").is_none(),
            "{fault}: {}",
            r.json
        );
        assert!(r.stderr.contains(says), "{fault}: {}", r.stderr);
        assert!(r.stderr.contains("hint:"), "{}", r.stderr);
        assert_eq!(std::fs::read(&state).unwrap(), before, "{fault}");
        log.tb.clear_faults();
    }
    let index = index.to_string();
    for args in [vec!["log-info"], vec!["get", "--log-index", index.as_str()]] {
        log.fault("rekor-v1=status:503");
        let mut args = args.clone();
        args.extend(["--timeout", "1"]);
        let r = log.rekor(&strs(&args), true);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        log.tb.clear_faults();
    }
    // A transient failure is retried within the timeout.
    log.fault("rekor-v1=status:503,times=1");
    let r = log.monitor(&state, &[]);
    assert_eq!(
        (r.code, r.json["status"].as_str()),
        (0, Some("grew")),
        "{}",
        r.stdout
    );
}

#[test]
fn the_identity_scan_finds_exactly_one_projects_signatures() {
    let log = start();
    let (project_state, identity_state) = (log.path("project.json"), log.path("identity.json"));
    let fork = "keyless-demo/hello-py-fork";
    let fork_san = format!("https://gitlab.com/{fork}//.gitlab-ci.yml@refs/heads/main");
    log.sign_as(
        "https://gitlab.com",
        "other/thing",
        &["before.tar.gz"],
        false,
    );
    assert_eq!(
        log.monitor(&project_state, &["--gitlab-project", PROJECT])
            .code,
        0
    );
    assert_eq!(
        log.monitor(&identity_state, &["--identity", &fork_san])
            .code,
        0
    );

    let mut ours = Vec::new();
    ours.extend(
        log.sign(&["app-1.tar.gz", "app-1.whl"])
            .into_iter()
            .map(|(i, _)| i),
    );
    let others = log.sign_as(
        "https://gitlab.com",
        "other/thing",
        &["thing.tar.gz"],
        false,
    );
    let forks = log.sign_as("https://gitlab.com", fork, &["fork.tar.gz"], false);
    // The project's path on a self-managed instance: Fulcio still writes
    // https://gitlab.com/<path> into .12, so it claims the project's name.
    ours.extend(
        log.sign_as(SELF_MANAGED, PROJECT, &["self-managed.tar.gz"], false)
            .into_iter()
            .map(|(i, _)| i),
    );
    assert_eq!(others.len() + forks.len() + ours.len(), 5);

    // Bounded and resumable: three entries, then the rest.
    let mut found = Vec::new();
    for (run, remaining) in [(0, 2), (1, 0)] {
        let r = log.monitor(
            &project_state,
            &["--gitlab-project", PROJECT, "--max-entries", "3"],
        );
        assert_eq!(r.code, 0, "run {run}: {}", r.stdout);
        assert_eq!(r.json["scan"]["remaining"], remaining, "{}", r.json["scan"]);
        for m in r.json["scan"]["matches"].as_array().unwrap() {
            assert!(!m["reasons"].as_array().unwrap().is_empty());
            found.push(m["log_index"].as_u64().unwrap());
        }
    }
    ours.sort();
    assert_eq!(found, ours, "exactly our signatures, each once");
    let r = log.monitor(&project_state, &["--gitlab-project", PROJECT]);
    assert_eq!(r.json["scan"]["matches"].as_array().unwrap().len(), 0);

    // Text output names the match and why.
    let r = log.monitor(&identity_state, &["--identity", &fork_san]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let found: Vec<u64> = r.json["scan"]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["log_index"].as_u64().unwrap())
        .collect();
    assert_eq!(found, [forks[0].0]);
    let text = log.rekor(
        &strs(&[
            "monitor",
            "--state",
            log.path("text.json").to_str().unwrap(),
            "--gitlab-project",
            PROJECT,
        ]),
        false,
    );
    assert!(
        text.stdout.contains("watching GitLab project"),
        "{}",
        text.stdout
    );

    // Bad watch options are usage errors.
    let r = log.monitor(&project_state, &["--gitlab-project", "not-a-path"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
}

/// sigstore-rekor 0.15.1 reads a Rekor `{uuid: entry}` answer by taking
/// whichever entry its HashMap yields first, so an answer holding two
/// entries gives one or the other at random instead of being refused.
/// keyless checks that the entry it got is the one it asked for.
#[test]
fn an_answer_with_two_entries_never_passes_for_the_one_asked_for() {
    use keyless::rekor::{Auditor, EntryRef, Rekor, Step};
    use keyless::trust::{TrustMaterial, TrustSource};
    let log = start();
    log.sign(&["a.tar.gz", "b.tar.gz"]);
    let mut both: serde_json::Map<String, Value> =
        serde_json::from_str(&raw_entry(&log.tb, 0)).unwrap();
    both.extend(
        serde_json::from_str::<serde_json::Map<String, Value>>(&raw_entry(&log.tb, 1)).unwrap(),
    );
    let answer = Value::Object(both).to_string();

    // A log that answers every request with both entries.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().fallback(move || {
                let body = answer.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            });
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });

    let trust = TrustMaterial::load(&TrustSource::TrustConfigFile(log.trust())).unwrap();
    let auditor = Auditor::new(trust, std::sync::Arc::new(keyless::clock::SystemClock)).unwrap();
    let rekor = Rekor::new(&url, std::time::Duration::from_secs(10)).unwrap();
    let (mut picked, mut refused) = (std::collections::BTreeSet::new(), 0);
    for _ in 0..40 {
        picked.insert(rekor.entry_by_index(0).unwrap().log_index.get());
        let (report, _) = auditor.get(&rekor, &EntryRef::Index(0)).unwrap();
        match report.verdict {
            Ok(_) => assert_eq!(report.log_index, 0),
            Err(f) => {
                assert_eq!(f.step, Step::LogEntry, "{f}");
                refused += 1;
            }
        }
    }
    let _ = stop.send(());
    server.join().unwrap();
    assert_eq!(
        picked.into_iter().collect::<Vec<_>>(),
        [0, 1],
        "sigstore-rekor answered with either entry"
    );
    assert!(refused > 0, "entry #1 was never passed off as #0");
}

/// A second monitor on the same state exits 2 at once; the first is not
/// disturbed.
#[test]
fn a_locked_state_refuses_a_second_monitor() {
    let log = start();
    let state = log.path("state.json");
    assert_eq!(log.monitor(&state, &[]).code, 0);
    let _held = keyless::rekor::monitor::lock_state(&state).unwrap();
    let before = std::fs::read(&state).unwrap();
    let run = log.monitor(&state, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("another keyless rekor monitor"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&state).unwrap(), before);
}

/// An 80-byte UUID with a multi-byte character where the tree ID ends is
/// refused, never a panic.
#[test]
fn a_hostile_uuid_is_refused_without_panic() {
    let log = start();
    log.sign(&["pkg-1.0.tar.gz"]);
    let raw: Value = serde_json::from_str(&raw_entry(&log.tb, 0)).unwrap();
    let entry = raw.as_object().unwrap().values().next().unwrap().clone();
    let key = format!("{}é{}", "a".repeat(15), "a".repeat(63));
    assert_eq!(key.len(), 80);
    let file = log.path("hostile.json");
    std::fs::write(&file, serde_json::json!({ key: entry }).to_string()).unwrap();
    let run = log.rekor(&strs(&["verify-entry", file.to_str().unwrap()]), true);
    assert!(
        run.code == 1 || run.code == 2,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
