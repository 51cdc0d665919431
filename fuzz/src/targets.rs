//! The fuzz targets: each takes arbitrary bytes to one of keyless's
//! parsers, and through it as far as the input gets (a bundle through full
//! verification against a fixed trust root at a fixed time). A target must
//! never panic, whatever the input; its verdict is not checked (a mutant
//! that still verifies is the mutation test's business).

use keyless::attestation::Attestation;
use keyless::clock::FixedClock;
use keyless::rekor::{Auditor, TrustedLogs, checkpoint};
use keyless::sign::token::{Token, TokenOrigin, redact};
use keyless::trust::{TrustMaterial, TrustSource};
use keyless::verify::policy::{IdentityPolicy, Policy, RegexMatcher, ValueMatcher};
use keyless::verify::{BundleSource, Input, Verifier};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One input the corpus starts from, and the context (artifact, trust
/// root) it must be run in; its mutants keep that context.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Where it came from.
    pub name: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// The index of its context in the target.
    pub context: usize,
}

/// A fuzz target.
pub trait Target {
    /// Its name (`fuzz/run` and `keyless-fuzz` take it).
    fn name(&self) -> &'static str;
    /// Its seed corpus.
    fn seeds(&self) -> &[Seed];
    /// Run one input in context `context`; how far it got (`verified`,
    /// `failed at <step>`, `refused`, ...), for tests that check the seeds
    /// reach the end. Panics are the bugs looked for.
    fn run(&self, context: usize, data: &[u8]) -> String;
}

/// The repository's top folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fixed "now" of every target: after every seed's signing time.
pub fn now() -> jiff::Timestamp {
    "2030-01-01T00:00:00Z".parse().expect("a valid timestamp")
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock(now()))
}

fn vectors() -> PathBuf {
    repo_root().join("testdata/vectors")
}

fn testbed() -> PathBuf {
    repo_root().join("fuzz/seeds/testbed")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("seed {}: {e}", path.display()))
}

fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| keep(&n.to_string_lossy())))
        .collect();
    out.sort();
    out
}

fn seed(path: &Path, context: usize) -> Seed {
    Seed {
        name: path
            .strip_prefix(repo_root())
            .unwrap_or(path)
            .display()
            .to_string(),
        data: read(path),
        context,
    }
}

/// A scratch file the file-reading entry points read each input from.
struct Scratch {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join(name);
        Self { _dir: dir, path }
    }

    fn write(&self, data: &[u8]) -> &Path {
        std::fs::write(&self.path, data).expect("the scratch file is writable");
        &self.path
    }
}

/// Trust material by source, and a verifier for it at the fixed time.
fn verifier(source: TrustSource) -> (TrustMaterial, Arc<Verifier>) {
    let trust = TrustMaterial::load_uncached(&source).expect("trust material loads");
    let verifier = Verifier::with_clock(&trust, clock()).expect("a verifier");
    (trust, Arc::new(verifier))
}

/// Accept any identity, through the same matchers a person's policy uses.
fn any_identity() -> Policy {
    let any = || ValueMatcher::Regex(RegexMatcher::new(".*").expect("a valid regexp"));
    Policy::Identity(IdentityPolicy::new(any(), any()))
}

/// How far a verification got.
fn outcome(report: &keyless::verify::InputReport) -> String {
    use keyless::verify::Outcome;
    match &report.outcome {
        Outcome::Verified(_) => "verified".into(),
        Outcome::Failed(f) => format!("failed at {}", f.step),
        Outcome::Error(_) => "refused".into(),
    }
}

/// A verification context: the trust root and the artifact a seed signs.
struct Context {
    /// Its trust root: an index into [`the_trust_roots`].
    root: usize,
    verifier: Arc<Verifier>,
    roots: Vec<sigstore_trust_root::TrustedRoot>,
    artifact: PathBuf,
}

fn the_trust_roots() -> Vec<(TrustSource, &'static str)> {
    vec![
        (TrustSource::Production, "production"),
        (TrustSource::Staging, "staging"),
        (
            TrustSource::TrustConfigFile(vectors().join("sigstore-python/tsa/trust_config.json")),
            "tsa",
        ),
        (
            TrustSource::TrustConfigFile(testbed().join("trust_config.json")),
            "testbed",
        ),
    ]
}

/// Contexts and seeds for evidence files (bundles or attestations) whose
/// artifact is the file's name without `suffix`.
fn evidence_seeds(suffixes: &[&str]) -> (Vec<Context>, Vec<Seed>) {
    let roots = the_trust_roots();
    let verifiers: Vec<_> = roots.iter().map(|(s, _)| verifier(s.clone())).collect();
    let dirs: Vec<(PathBuf, usize)> = vec![
        (vectors().join("sigstore-python"), 0),
        (vectors().join("sigstore-python/integration"), 0),
        (vectors().join("sigstore-python/tsa"), 2),
        (vectors().join("pypi-attestations"), 0),
        (testbed().join("v1"), 3),
        (testbed().join("v2"), 3),
    ];
    let expected: Value =
        serde_json::from_slice(&read(&vectors().join("sigstore-python/expected.json")))
            .expect("expected.json is JSON");
    let instances: std::collections::HashMap<String, String> = expected
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                c["bundle"].as_str()?.to_string(),
                c["instance"].as_str()?.to_string(),
            ))
        })
        .collect();
    let (mut contexts, mut seeds) = (Vec::new(), Vec::new());
    for (dir, root) in dirs {
        for path in files_in(&dir, |n| suffixes.iter().any(|s| n.ends_with(s))) {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let suffix = suffixes
                .iter()
                .find(|s| name.ends_with(*s))
                .copied()
                .unwrap_or("");
            let mut artifact = dir.join(&name[..name.len() - suffix.len()]);
            if !artifact.is_file() {
                // tsa/bundle.duplicate.sigstore and friends sign bundle.txt.
                artifact = dir.join("bundle.txt");
            }
            // sigstore-python's vectors say which instance signed them.
            let root = match instances.get(name.as_ref()).map(String::as_str) {
                Some("staging") if root == 0 => 1,
                _ => root,
            };
            let (trust, verifier) = &verifiers[root];
            contexts.push(Context {
                root,
                verifier: verifier.clone(),
                roots: vec![trust.trusted_root.clone()],
                artifact,
            });
            seeds.push(seed(&path, contexts.len() - 1));
        }
    }
    (contexts, seeds)
}

/// Bundle JSON through `verify`: parsing, every verification step and the
/// identity policy, then `inspect`.
pub struct BundleTarget {
    contexts: Vec<Context>,
    seeds: Vec<Seed>,
    scratch: Scratch,
    policy: Policy,
}

impl BundleTarget {
    /// Load its trust roots and seeds.
    pub fn load() -> Self {
        let (contexts, seeds) = evidence_seeds(&[".sigstore.json", ".sigstore"]);
        Self {
            contexts,
            seeds,
            scratch: Scratch::new("input.sigstore.json"),
            policy: any_identity(),
        }
    }
}

impl Target for BundleTarget {
    fn name(&self) -> &'static str {
        "bundle"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, context: usize, data: &[u8]) -> String {
        let cx = &self.contexts[context];
        let path = self.scratch.write(data);
        let source = BundleSource::Bundle(path.to_path_buf());
        let report = cx.verifier.verify_input(
            &Input::File(cx.artifact.clone()),
            Some(&source),
            &self.policy,
        );
        let _ = report.hint();
        let _ = keyless::inspect::inspect(path, &cx.roots);
        outcome(&report)
    }
}

/// PEP 740 attestations through `verify --attestation` (statement, subject
/// name and digest, the DSSE bundle made of it), then `inspect`.
pub struct AttestationTarget {
    contexts: Vec<Context>,
    seeds: Vec<Seed>,
    scratch: Scratch,
    policy: Policy,
}

impl AttestationTarget {
    /// Load its trust roots and seeds.
    pub fn load() -> Self {
        let (contexts, seeds) = evidence_seeds(&[".publish.attestation"]);
        Self {
            contexts,
            seeds,
            scratch: Scratch::new("input.publish.attestation"),
            policy: any_identity(),
        }
    }
}

impl Target for AttestationTarget {
    fn name(&self) -> &'static str {
        "attestation"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, context: usize, data: &[u8]) -> String {
        let cx = &self.contexts[context];
        let path = self.scratch.write(data);
        let source = BundleSource::Attestation(path.to_path_buf());
        let report = cx.verifier.verify_input(
            &Input::File(cx.artifact.clone()),
            Some(&source),
            &self.policy,
        );
        let _ = report.hint();
        if let Ok(text) = std::str::from_utf8(data)
            && let Ok(a) = Attestation::parse(path, text)
        {
            let _ = a.to_bundle(path);
        }
        let _ = keyless::inspect::inspect(path, &cx.roots);
        outcome(&report)
    }
}

/// Identity tokens (JWT) as `keyless sign` reads them: parsing, the
/// pre-flight checks, the claims it shows, redaction. An input that is a
/// JSON object is used as the claims of a token with a fixed header and
/// signature; anything else as the token text.
pub struct TokenTarget {
    seeds: Vec<Seed>,
}

/// A compact JWT carrying `claims` (unsigned: keyless does not verify it,
/// Fulcio does).
pub fn jwt_with_claims(claims: &[u8]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    format!(
        "{}.{}.{}",
        B64URL.encode(br#"{"alg":"RS256","kid":"fuzz","typ":"JWT"}"#),
        B64URL.encode(claims),
        B64URL.encode(b"not a signature")
    )
}

impl TokenTarget {
    /// Its seeds: the claims of a GitLab CI, a GitHub Actions and an
    /// interactive token, and one token as text.
    pub fn load() -> Self {
        let gitlab = serde_json::json!({
            "iss": "https://gitlab.com", "aud": "sigstore", "sub": "project_path:keyless-demo/hello-py:ref_type:tag:ref:v1.0",
            "namespace_id": "1", "namespace_path": "keyless-demo", "project_id": "2", "project_path": "keyless-demo/hello-py",
            "project_visibility": "public", "user_id": "3", "user_login": "dev", "pipeline_id": "4", "pipeline_source": "push",
            "job_id": "5", "ref": "v1.0", "ref_type": "tag", "ref_path": "refs/tags/v1.0", "ref_protected": "true",
            "runner_id": 6, "runner_environment": "gitlab-hosted", "sha": "0123456789abcdef0123456789abcdef01234567",
            "ci_config_ref_uri": "gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/tags/v1.0",
            "ci_config_sha": "0123456789abcdef0123456789abcdef01234567", "jti": "j", "iat": 1_900_000_000, "nbf": 1_900_000_000, "exp": 1_900_000_300
        });
        let github = serde_json::json!({
            "iss": "https://token.actions.githubusercontent.com", "aud": ["sigstore", "other"], "sub": "repo:o/r:ref:refs/heads/main",
            "repository": "o/r", "ref": "refs/heads/main", "workflow_ref": "o/r/.github/workflows/release.yml@refs/heads/main", "exp": 1_900_000_300
        });
        let email = serde_json::json!({
            "iss": "https://oauth2.sigstore.dev/auth", "aud": "sigstore", "sub": "1234", "email": "dev@example.com", "email_verified": true, "exp": 1_900_000_300
        });
        let mut seeds: Vec<Seed> = [
            ("gitlab claims", gitlab),
            ("github claims", github),
            ("email claims", email),
        ]
        .into_iter()
        .map(|(name, claims)| Seed {
            name: name.into(),
            data: claims.to_string().into_bytes(),
            context: 0,
        })
        .collect();
        seeds.push(Seed {
            name: "gitlab token".into(),
            data: jwt_with_claims(&seeds[0].data).into_bytes(),
            context: 0,
        });
        Self { seeds }
    }
}

impl Target for TokenTarget {
    fn name(&self) -> &'static str {
        "token"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, _context: usize, data: &[u8]) -> String {
        let text = match serde_json::from_slice::<Value>(data) {
            Ok(Value::Object(_)) => jwt_with_claims(data),
            _ => String::from_utf8_lossy(data).into_owned(),
        };
        let Ok(token) = Token::parse(&text, TokenOrigin::Flag) else {
            return "refused".into();
        };
        let preflight = token.preflight(now());
        let _ = token.check_issuer("https://gitlab.com");
        let _ = token.gitlab_project_and_ref();
        let shown = token.describe();
        let _ = redact(&shown, &text);
        let _ = format!("{token:?}");
        match preflight {
            Ok(()) => "accepted".into(),
            Err(_) => "failed the pre-flight checks".into(),
        }
    }
}

/// Signed-note checkpoints: parsing, the signature against a trust root's
/// log keys, and the comparison the monitor makes between two.
pub struct CheckpointTarget {
    logs: Vec<TrustedLogs>,
    seeds: Vec<Seed>,
}

/// The checkpoints in the entries of a bundle or attestation document.
fn checkpoints_in(doc: &Value) -> Vec<String> {
    let entries = doc["verificationMaterial"]["tlogEntries"]
        .as_array()
        .or(doc["verification_material"]["transparency_entries"].as_array());
    entries
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let cp = &e["inclusionProof"]["checkpoint"];
            cp["envelope"].as_str().or(cp.as_str()).map(str::to_string)
        })
        .collect()
}

impl CheckpointTarget {
    /// Its trust roots (production, staging, the testbed's) and the
    /// checkpoints of the bundle seeds and of the testbed's log info.
    pub fn load() -> Self {
        let roots = the_trust_roots();
        let logs: Vec<TrustedLogs> = roots
            .iter()
            .map(|(s, _)| {
                TrustedLogs::new(&TrustMaterial::load_uncached(s).expect("trust material"))
                    .expect("its logs")
            })
            .collect();
        let (contexts, bundles) =
            evidence_seeds(&[".sigstore.json", ".sigstore", ".publish.attestation"]);
        let mut seeds = Vec::new();
        for b in &bundles {
            let Ok(doc) = serde_json::from_slice::<Value>(&b.data) else {
                continue;
            };
            for cp in checkpoints_in(&doc) {
                let context = contexts[b.context].root;
                if !seeds.iter().any(|s: &Seed| s.data == cp.as_bytes()) {
                    seeds.push(Seed {
                        name: format!("checkpoint of {}", b.name),
                        data: cp.into_bytes(),
                        context,
                    });
                }
            }
        }
        let info: Value = serde_json::from_slice(&read(&testbed().join("rekor-v1-log-info.json")))
            .expect("log info JSON");
        seeds.push(Seed {
            name: "testbed log info".into(),
            data: info["signedTreeHead"]
                .as_str()
                .unwrap_or_default()
                .as_bytes()
                .to_vec(),
            context: 3,
        });
        Self { logs, seeds }
    }
}

impl Target for CheckpointTarget {
    fn name(&self) -> &'static str {
        "checkpoint"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, context: usize, data: &[u8]) -> String {
        let Ok(text) = std::str::from_utf8(data) else {
            return "refused".into();
        };
        let Ok(cp) = sigstore_types::Checkpoint::from_text(text) else {
            return "refused".into();
        };
        let _ = (
            cp.origin(),
            cp.tree_size(),
            cp.root_hash(),
            cp.signed_data(),
        );
        let logs = &self.logs[context];
        match checkpoint::verify_signature(text, &cp, logs, now(), None) {
            Ok(verified) => {
                let _ = checkpoint::compare(&verified, &verified);
                let mut smaller = verified.clone();
                smaller.tree_size = verified.tree_size / 2;
                let _ = checkpoint::compare(&smaller, &verified);
                let _ = checkpoint::compare(&verified, &smaller);
                "verified".into()
            }
            Err(f) => format!("failed at {}", f.step),
        }
    }
}

/// Trusted roots, ClientTrustConfigs and signing configs: loading, a
/// verifier and a Rekor keyring built from them, and service selection.
pub struct TrustTarget {
    seeds: Vec<Seed>,
    scratch: Scratch,
    production: TrustMaterial,
}

impl TrustTarget {
    /// Its seeds: the embedded roots and signing configs, the vectors' and
    /// the testbed's trust files.
    pub fn load() -> Self {
        let mut seeds = Vec::new();
        for source in [TrustSource::Production, TrustSource::Staging] {
            let trust = TrustMaterial::load_uncached(&source).expect("embedded root");
            seeds.push(Seed {
                name: format!("{source}"),
                data: serde_json::to_vec(&trust.trusted_root).expect("serializable"),
                context: 0,
            });
            if let Some(config) = &trust.signing_config {
                seeds.push(Seed {
                    name: format!("{source}'s signing config"),
                    data: serde_json::to_vec(config).expect("serializable"),
                    context: 0,
                });
            }
        }
        for path in [
            vectors().join("sigstore-python/tsa/trust_config.json"),
            testbed().join("trust_config.json"),
            testbed().join("trusted_root.json"),
            testbed().join("signing_config.json"),
            testbed().join("signing_config_v2.json"),
        ] {
            seeds.push(seed(&path, 0));
        }
        Self {
            seeds,
            scratch: Scratch::new("trust.json"),
            production: TrustMaterial::load_uncached(&TrustSource::Production)
                .expect("embedded root"),
        }
    }
}

impl Target for TrustTarget {
    fn name(&self) -> &'static str {
        "trust"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, _context: usize, data: &[u8]) -> String {
        let path = self.scratch.write(data).to_path_buf();
        let mut loaded = Vec::new();
        for source in [
            TrustSource::TrustedRootFile(path.clone()),
            TrustSource::TrustConfigFile(path.clone()),
        ] {
            if let Ok(trust) = TrustMaterial::load_uncached(&source) {
                if Verifier::with_clock(&trust, clock()).is_ok() {
                    loaded.push("a verifier");
                }
                let _ = TrustedLogs::new(&trust);
                if let Some(config) = &trust.signing_config {
                    let _ = keyless::sign::services::select(config, None, now());
                }
            }
        }
        if let Ok(trust) = self.production.clone().with_signing_config_file(&path)
            && let Some(config) = &trust.signing_config
        {
            for version in [None, Some(1), Some(2)] {
                if keyless::sign::services::select(config, version, now()).is_ok() {
                    loaded.push("services");
                }
            }
        }
        if loaded.is_empty() {
            "refused".into()
        } else {
            loaded.join(", ")
        }
    }
}

/// Rekor entries as the auditor reads them (`rekor verify-entry`, and the
/// answers of `rekor get`/`search`): a Rekor v1 answer or a bundle's
/// transparency log entry, described and proven offline.
pub struct EntryTarget {
    auditors: Vec<Auditor>,
    seeds: Vec<Seed>,
    scratch: Scratch,
}

impl EntryTarget {
    /// Its trust roots, the testbed's Rekor v1 answers and every entry of
    /// the bundle seeds.
    pub fn load() -> Self {
        let auditors = the_trust_roots()
            .iter()
            .map(|(s, _)| {
                Auditor::new(TrustMaterial::load_uncached(s).expect("trust"), clock())
                    .expect("an auditor")
            })
            .collect();
        let mut seeds = vec![
            seed(&testbed().join("rekor-v1-entry-hashedrekord.json"), 3),
            seed(&testbed().join("rekor-v1-entry-dsse.json"), 3),
        ];
        let (contexts, bundles) = evidence_seeds(&[".sigstore.json", ".sigstore"]);
        for b in &bundles {
            let Ok(doc) = serde_json::from_slice::<Value>(&b.data) else {
                continue;
            };
            let context = contexts[b.context].root;
            for e in doc["verificationMaterial"]["tlogEntries"]
                .as_array()
                .into_iter()
                .flatten()
            {
                seeds.push(Seed {
                    name: format!("entry of {}", b.name),
                    data: e.to_string().into_bytes(),
                    context,
                });
            }
        }
        Self {
            auditors,
            seeds,
            scratch: Scratch::new("entry.json"),
        }
    }
}

impl Target for EntryTarget {
    fn name(&self) -> &'static str {
        "rekor-entry"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, context: usize, data: &[u8]) -> String {
        let path = self.scratch.write(data);
        let _ = keyless::rekor::entry::describe(data);
        match self.auditors[context].verify_entry_file(path) {
            Ok(report) => {
                let _ = format!("{report:?}");
                match report.verdict {
                    Ok(_) => "proven".into(),
                    Err(f) => format!("failed at {}", f.step),
                }
            }
            Err(_) => "refused".into(),
        }
    }
}

/// A Rekor v1 answering every request with the body it was last given:
/// 200, `application/json`, on a loopback port.
struct CannedRekor {
    url: String,
    body: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl CannedRekor {
    fn start() -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let body = Arc::new(std::sync::Mutex::new(Vec::new()));
        let answer = body.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                // The request: its headers (GET has no body), at most 64 KiB.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = answer.lock().map(|b| b.clone()).unwrap_or_default();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Self { url, body }
    }
}

/// Rekor v1 answers as the auditor reads them over HTTP (`rekor log-info`,
/// `rekor get`): the log info and an entry, from a loopback Rekor that
/// answers with the input, each proven against the testbed's trust root.
pub struct RekorAnswerTarget {
    auditor: Auditor,
    rekor: keyless::rekor::Rekor,
    server: CannedRekor,
    seeds: Vec<Seed>,
}

impl RekorAnswerTarget {
    /// The testbed's trust root and its Rekor v1 answers.
    pub fn load() -> Self {
        let trust = TrustMaterial::load_uncached(&TrustSource::TrustConfigFile(
            testbed().join("trust_config.json"),
        ))
        .expect("the testbed's trust config");
        let server = CannedRekor::start();
        let rekor =
            keyless::rekor::Rekor::new(&server.url, std::time::Duration::from_secs(5), false)
                .expect("a Rekor client");
        Self {
            auditor: Auditor::new(trust, clock()).expect("an auditor"),
            rekor,
            server,
            seeds: [
                "rekor-v1-log-info.json",
                "rekor-v1-entry-hashedrekord.json",
                "rekor-v1-entry-dsse.json",
            ]
            .iter()
            .map(|name| seed(&testbed().join(name), 0))
            .collect(),
        }
    }
}

impl Target for RekorAnswerTarget {
    fn name(&self) -> &'static str {
        "rekor-answer"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, _context: usize, data: &[u8]) -> String {
        if let Ok(mut body) = self.server.body.lock() {
            *body = data.to_vec();
        }
        // Ask for the entry the answer says it holds, so a well-formed
        // answer gets through to the proof.
        let index = serde_json::from_slice::<Value>(data)
            .ok()
            .and_then(|v| v.as_object()?.values().next()?.get("logIndex")?.as_u64())
            .unwrap_or(0);
        let entry = match self
            .auditor
            .get(&self.rekor, &keyless::rekor::EntryRef::Index(index))
        {
            Ok((report, _)) => match report.verdict {
                Ok(_) => "proven",
                Err(_) => "entry failed",
            },
            Err(_) => "entry refused",
        };
        let info = match self.auditor.log_info(&self.rekor) {
            Ok(report) => match report.verdict {
                Ok(_) => "log info verified",
                Err(_) => "log info failed",
            },
            Err(_) => "log info refused",
        };
        format!("{entry}, {info}")
    }
}

/// The names of the targets, for [`by_name`].
pub const NAMES: &[&str] = &[
    "bundle",
    "attestation",
    "token",
    "checkpoint",
    "trust",
    "rekor-entry",
    "rekor-answer",
];

/// The target called `name`.
pub fn by_name(name: &str) -> Option<Box<dyn Target>> {
    Some(match name {
        "bundle" => Box::new(BundleTarget::load()),
        "attestation" => Box::new(AttestationTarget::load()),
        "token" => Box::new(TokenTarget::load()),
        "checkpoint" => Box::new(CheckpointTarget::load()),
        "trust" => Box::new(TrustTarget::load()),
        "rekor-entry" => Box::new(EntryTarget::load()),
        "rekor-answer" => Box::new(RekorAnswerTarget::load()),
        _ => return None,
    })
}
