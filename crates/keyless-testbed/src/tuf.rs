//! A TUF repository writer, so the testbed can publish its trust material
//! (`trusted_root.json`, `signing_config.v0.2.json`) the way Sigstore's TUF
//! repositories do, and clients can fetch it with sigstore-rust's TUF client
//! (`sigstore_trust_root::TrustedRoot::from_tuf_at` and friends).
//!
//! The layout matches Sigstore's repositories and is what sigstore-tuf reads
//! when the root sets `consistent_snapshot: true`:
//!
//! ```text
//! <dir>/1.root.json .. N.root.json   every root version (clients walk the chain)
//! <dir>/root.json                    a copy of the newest root
//! <dir>/timestamp.json               never version-prefixed
//! <dir>/V.snapshot.json              V = RepoOptions::version
//! <dir>/V.targets.json
//! <dir>/targets/<sha256>.<name>      target files, content-addressed
//! ```
//!
//! Keys are ECDSA P-256 (`ecdsa` / `ecdsa-sha2-nistp256`, PEM public key,
//! hex DER signatures) like Sigstore's own root, or Ed25519 (hex raw key).
//! Signatures cover the securesystemslib (OLPC) canonical JSON of `signed`,
//! which is what sigstore-tuf verifies against; RFC 8785 (JCS) is a different
//! encoding (it escapes the newlines in PEM keys), so it cannot be used here.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::keys::{KeyKind, StoredKey, TestKey};

/// The TUF specification version our metadata claims. sigstore-tuf accepts
/// any 1.x; python-tuf writes the same value.
const SPEC_VERSION: &str = "1.0.31";

/// The highest [`RepoOptions::root_version`] accepted.
pub const MAX_ROOT_VERSION: u64 = 1000;

/// The four top-level TUF signing keys, one per role.
///
/// The same key may serve several roles (TUF allows it), but separate keys
/// are what [`TufKeys::generate`] produces, matching real deployments.
#[derive(Debug)]
pub struct TufKeys {
    /// Signs root metadata (and so authorizes all the other keys).
    pub root: TestKey,
    /// Signs targets metadata.
    pub targets: TestKey,
    /// Signs snapshot metadata.
    pub snapshot: TestKey,
    /// Signs timestamp metadata.
    pub timestamp: TestKey,
}

/// [`TufKeys`] as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTufKeys {
    /// The root key.
    pub root: StoredKey,
    /// The targets key.
    pub targets: StoredKey,
    /// The snapshot key.
    pub snapshot: StoredKey,
    /// The timestamp key.
    pub timestamp: StoredKey,
}

impl TufKeys {
    /// Fresh ECDSA P-256 keys, the algorithm Sigstore's own TUF root uses.
    pub fn generate() -> Self {
        let k = || TestKey::generate(KeyKind::EcdsaP256);
        Self {
            root: k(),
            targets: k(),
            snapshot: k(),
            timestamp: k(),
        }
    }

    /// Fresh keys of `kind`; RSA is refused (see [`TufKeys::check`]).
    pub fn generate_with(kind: KeyKind) -> Result<Self, String> {
        supported(kind)?;
        let k = || TestKey::generate(kind);
        Ok(Self {
            root: k(),
            targets: k(),
            snapshot: k(),
            timestamp: k(),
        })
    }

    /// Check every key can sign TUF metadata a client will accept.
    ///
    /// RSA is refused: [`TestKey`] signs RSASSA-PKCS1-v1_5, while TUF's RSA
    /// schemes (and sigstore-tuf) only know RSASSA-PSS.
    pub fn check(&self) -> Result<(), String> {
        for (role, key) in self.roles() {
            supported(key.kind()).map_err(|e| format!("{role} key: {e}"))?;
        }
        Ok(())
    }

    /// The stored form.
    pub fn to_stored(&self) -> StoredTufKeys {
        StoredTufKeys {
            root: self.root.to_stored(),
            targets: self.targets.to_stored(),
            snapshot: self.snapshot.to_stored(),
            timestamp: self.timestamp.to_stored(),
        }
    }

    /// Load the stored form, refusing keys TUF clients cannot verify.
    pub fn from_stored(stored: &StoredTufKeys) -> Result<Self, String> {
        let load = |role: &str, key: &StoredKey| {
            TestKey::from_stored(key).map_err(|e| format!("stored TUF {role} key: {e}"))
        };
        let keys = Self {
            root: load("root", &stored.root)?,
            targets: load("targets", &stored.targets)?,
            snapshot: load("snapshot", &stored.snapshot)?,
            timestamp: load("timestamp", &stored.timestamp)?,
        };
        keys.check()?;
        Ok(keys)
    }

    fn roles(&self) -> [(&'static str, &TestKey); 4] {
        [
            ("root", &self.root),
            ("targets", &self.targets),
            ("snapshot", &self.snapshot),
            ("timestamp", &self.timestamp),
        ]
    }
}

const RSA_REFUSED: &str = "RSA keys cannot sign TUF metadata here: they sign PKCS#1 v1.5, \
     but TUF only defines RSASSA-PSS schemes; use ECDSA P-256 or Ed25519";

fn supported(kind: KeyKind) -> Result<(), String> {
    match kind {
        KeyKind::EcdsaP256 | KeyKind::Ed25519 => Ok(()),
        KeyKind::Rsa2048 => Err(RSA_REFUSED.to_string()),
    }
}

/// How [`write_repository`] should publish: versions, lifetimes, and faults
/// to inject for negative tests.
#[derive(Debug, Clone)]
pub struct RepoOptions {
    /// Version of the targets, snapshot and timestamp metadata (at least 1).
    /// Publishing new targets requires a higher version: consistent-snapshot
    /// files are immutable, and clients that cached a version ignore a
    /// different file carrying the same version.
    pub version: u64,
    /// The newest root version (at least 1). Every root `1..=root_version`
    /// is published, all under the same keys, so clients bootstrapped with an
    /// older root walk the chain; bump it to replace an expiring root.
    pub root_version: u64,
    /// Root lifetime from `now` (for roots not already published).
    pub root_lifetime: SignedDuration,
    /// Targets lifetime from `now`.
    pub targets_lifetime: SignedDuration,
    /// Snapshot lifetime from `now`.
    pub snapshot_lifetime: SignedDuration,
    /// Timestamp lifetime from `now`; negative publishes an expired timestamp.
    pub timestamp_lifetime: SignedDuration,
    /// Publish a timestamp whose signature does not match its content (its
    /// expiry is pushed out after signing, as in a freeze attack).
    pub tamper_timestamp: bool,
}

impl Default for RepoOptions {
    /// Version 1, root 1; root and targets live a year, snapshot a week,
    /// timestamp a day.
    fn default() -> Self {
        const DAY: i64 = 24;
        Self {
            version: 1,
            root_version: 1,
            root_lifetime: SignedDuration::from_hours(365 * DAY),
            targets_lifetime: SignedDuration::from_hours(365 * DAY),
            snapshot_lifetime: SignedDuration::from_hours(7 * DAY),
            timestamp_lifetime: SignedDuration::from_hours(DAY),
            tamper_timestamp: false,
        }
    }
}

impl RepoOptions {
    /// The same options at metadata version `version`.
    pub fn with_version(mut self, version: u64) -> Self {
        self.version = version;
        self
    }

    /// The same options with root version `root_version`.
    pub fn with_root_version(mut self, root_version: u64) -> Self {
        self.root_version = root_version;
        self
    }

    /// The same options with a timestamp that expired an hour before `now`.
    pub fn with_expired_timestamp(mut self) -> Self {
        self.timestamp_lifetime = SignedDuration::from_hours(-1);
        self
    }

    /// The same options with a timestamp whose signature does not verify.
    pub fn with_tampered_timestamp(mut self) -> Self {
        self.tamper_timestamp = true;
        self
    }
}

/// Publish a complete TUF repository under `dir` (created if missing)
/// serving `targets` (name, content), with expiries counted from `now`.
///
/// Target names may contain `/` for subdirectories; each segment must be
/// non-empty, not `.`/`..`, and use only ASCII letters, digits and `._-~+`,
/// because the client puts names into URLs without escaping them.
///
/// Re-running over an existing repository is how new content is published:
/// already published files are kept when identical, a change at an already
/// published version is refused, and so is a lower version than the one
/// published (clients would reject it as a rollback). Everything is checked
/// before the first write; each file is replaced atomically, and
/// `timestamp.json` is written last, so a client reading concurrently sees the
/// old or the new repository, never a mix.
pub fn write_repository(
    dir: &Path,
    keys: &TufKeys,
    targets: &[(&str, &[u8])],
    now: Timestamp,
    options: &RepoOptions,
) -> Result<(), String> {
    keys.check()?;
    if options.version == 0 || options.root_version == 0 {
        return Err("TUF metadata and root versions start at 1".to_string());
    }
    // Every root up to root_version is published; bound the work.
    if options.root_version > MAX_ROOT_VERSION {
        return Err(format!(
            "root version {} is above the supported {MAX_ROOT_VERSION}",
            options.root_version
        ));
    }
    if let Some(published) = published_version(dir)?
        && published > options.version
    {
        return Err(format!(
            "{} already publishes version {published}; version {} would be a rollback \
             that clients reject",
            dir.display(),
            options.version
        ));
    }
    let next_root = dir.join(format!("{}.root.json", options.root_version + 1));
    if next_root.exists() {
        return Err(format!(
            "{} exists; root version {} would be a rollback",
            next_root.display(),
            options.root_version
        ));
    }

    let ids = RoleIds::new(keys)?;
    let mut writes: Vec<(PathBuf, Vec<u8>)> = Vec::new();

    // Target files first: everything that follows pins them.
    let mut names = BTreeSet::new();
    let mut target_entries = serde_json::Map::new();
    for (name, content) in targets {
        check_target_name(name)?;
        if !names.insert(*name) {
            return Err(format!("target {name:?} is listed twice"));
        }
        let digest = sha256_hex(content);
        let file = match name.rsplit_once('/') {
            Some((parent, base)) => format!("{parent}/{digest}.{base}"),
            None => format!("{digest}.{name}"),
        };
        writes.push((dir.join("targets").join(file), content.to_vec()));
        target_entries.insert(
            (*name).to_string(),
            json!({ "length": content.len(), "hashes": { "sha256": digest } }),
        );
    }

    let v = options.version;
    let targets_signed = json!({
        "_type": "targets",
        "spec_version": SPEC_VERSION,
        "version": v,
        "expires": expiry(now, options.targets_lifetime)?,
        "targets": Value::Object(target_entries),
    });
    let targets_path = dir.join(format!("{v}.targets.json"));
    let targets_bytes = versioned(
        &targets_path,
        &targets_signed,
        (&ids.targets, &keys.targets),
        &mut writes,
    )?;

    let snapshot_signed = json!({
        "_type": "snapshot",
        "spec_version": SPEC_VERSION,
        "version": v,
        "expires": expiry(now, options.snapshot_lifetime)?,
        "meta": { "targets.json": meta_pin(&targets_bytes, v) },
    });
    let snapshot_path = dir.join(format!("{v}.snapshot.json"));
    let snapshot_bytes = versioned(
        &snapshot_path,
        &snapshot_signed,
        (&ids.snapshot, &keys.snapshot),
        &mut writes,
    )?;

    let mut newest_root = Vec::new();
    for root_version in 1..=options.root_version {
        newest_root = root(dir, keys, &ids, root_version, now, options, &mut writes)?;
    }
    writes.push((dir.join("root.json"), newest_root));

    let mut timestamp_signed = json!({
        "_type": "timestamp",
        "spec_version": SPEC_VERSION,
        "version": v,
        "expires": expiry(now, options.timestamp_lifetime)?,
        "meta": { "snapshot.json": meta_pin(&snapshot_bytes, v) },
    });
    let mut timestamp = envelope(&timestamp_signed, &[(&ids.timestamp, &keys.timestamp)])?;
    if options.tamper_timestamp {
        // Change the content after signing, keeping a well-formed signature
        // from the right key: only verification can catch it.
        let later = options
            .timestamp_lifetime
            .checked_add(SignedDuration::from_hours(365 * 24))
            .ok_or("timestamp lifetime overflows when tampering")?;
        timestamp_signed["expires"] = Value::String(expiry(now, later)?);
        timestamp["signed"] = timestamp_signed;
    }
    writes.push((dir.join("timestamp.json"), to_bytes(&timestamp)?));

    for (path, bytes) in writes {
        write_atomic(&path, &bytes)?;
    }
    Ok(())
}

/// The published root metadata of `version`: bootstrap a client with it
/// (`TufBootstrap::trusted`). Clients given an older root walk the chain.
pub fn root_json(dir: &Path, version: u64) -> Result<Vec<u8>, String> {
    let path = dir.join(format!("{version}.root.json"));
    std::fs::read(&path).map_err(|e| format!("reading TUF root {}: {e}", path.display()))
}

/// The version of the published `timestamp.json`, if `dir` holds one, so a
/// caller can publish the next version.
pub fn published_version(dir: &Path) -> Result<Option<u64>, String> {
    let path = dir.join("timestamp.json");
    let Some(bytes) = read_existing(&path)? else {
        return Ok(None);
    };
    signed_field(&bytes, "version")
        .and_then(|v| v.as_u64())
        .map(Some)
        .ok_or_else(|| format!("{} has no signed.version", path.display()))
}

/// Declared key IDs of the four roles.
struct RoleIds {
    root: String,
    targets: String,
    snapshot: String,
    timestamp: String,
    /// Key ID -> TUF key object, as listed in root metadata.
    keys: serde_json::Map<String, Value>,
}

impl RoleIds {
    fn new(keys: &TufKeys) -> Result<Self, String> {
        let mut objects = serde_json::Map::new();
        let mut id = |key: &TestKey| -> Result<String, String> {
            let (id, object) = tuf_key(key)?;
            objects.insert(id.clone(), object);
            Ok(id)
        };
        Ok(Self {
            root: id(&keys.root)?,
            targets: id(&keys.targets)?,
            snapshot: id(&keys.snapshot)?,
            timestamp: id(&keys.timestamp)?,
            keys: objects,
        })
    }
}

/// The TUF key object for `key` and its key ID. sigstore-tuf treats declared
/// IDs as opaque, but we use the conventional one (SHA-256 of the canonical
/// key object) so other TUF tools agree.
fn tuf_key(key: &TestKey) -> Result<(String, Value), String> {
    let (keytype, scheme, public) = match key.kind() {
        KeyKind::EcdsaP256 => ("ecdsa", "ecdsa-sha2-nistp256", key.public_key_pem()),
        KeyKind::Ed25519 => ("ed25519", "ed25519", hex(&key.public_key_raw())),
        KeyKind::Rsa2048 => return Err(RSA_REFUSED.to_string()),
    };
    let object = json!({ "keytype": keytype, "scheme": scheme, "keyval": { "public": public } });
    let id = sha256_hex(&canonical_json(&object)?);
    Ok((id, object))
}

/// Root metadata of `version`: the published file if there is one (published
/// roots never change; only their key set is checked), otherwise a new one
/// queued in `writes`. Returns the bytes clients get.
fn root(
    dir: &Path,
    keys: &TufKeys,
    ids: &RoleIds,
    version: u64,
    now: Timestamp,
    options: &RepoOptions,
    writes: &mut Vec<(PathBuf, Vec<u8>)>,
) -> Result<Vec<u8>, String> {
    let role = |id: &str| json!({ "keyids": [id], "threshold": 1 });
    let roles = json!({
        "root": role(&ids.root),
        "targets": role(&ids.targets),
        "snapshot": role(&ids.snapshot),
        "timestamp": role(&ids.timestamp),
    });
    let keys_json = Value::Object(ids.keys.clone());
    let path = dir.join(format!("{version}.root.json"));
    if let Some(existing) = read_existing(&path)? {
        let same = signed_field(&existing, "keys") == Some(keys_json)
            && signed_field(&existing, "roles") == Some(roles)
            && signed_field(&existing, "version") == Some(json!(version));
        if !same {
            return Err(format!(
                "{} was published with other keys; use a fresh directory for new TUF keys",
                path.display()
            ));
        }
        // Only the newest root's expiry matters: clients do not check expiry
        // of the roots they pass through on the chain.
        let expires = signed_field(&existing, "expires")
            .and_then(|e| e.as_str().and_then(|e| e.parse::<Timestamp>().ok()));
        if version == options.root_version
            && let Some(expires) = expires
            && expires < now
        {
            return Err(format!(
                "{} expired at {expires}; publish a higher RepoOptions::root_version",
                path.display()
            ));
        }
        return Ok(existing);
    }
    let signed = json!({
        "_type": "root",
        "spec_version": SPEC_VERSION,
        "version": version,
        "expires": expiry(now, options.root_lifetime)?,
        "consistent_snapshot": true,
        "keys": keys_json,
        "roles": roles,
    });
    let bytes = to_bytes(&envelope(&signed, &[(&ids.root, &keys.root)])?)?;
    writes.push((path, bytes.clone()));
    Ok(bytes)
}

/// A version-prefixed metadata file: the published one if its `signed` is
/// identical (so pins in other files stay valid), an error if it differs,
/// otherwise a new one queued in `writes`. Returns the bytes clients get.
fn versioned(
    path: &Path,
    signed: &Value,
    signer: (&str, &TestKey),
    writes: &mut Vec<(PathBuf, Vec<u8>)>,
) -> Result<Vec<u8>, String> {
    if let Some(existing) = read_existing(path)? {
        let published: Option<Value> = serde_json::from_slice::<Value>(&existing)
            .ok()
            .and_then(|mut v| v.get_mut("signed").map(Value::take));
        return if published.as_ref() == Some(signed) {
            Ok(existing)
        } else {
            Err(format!(
                "{} is already published with other content; published versions are \
                 immutable, so publish under a higher RepoOptions::version",
                path.display()
            ))
        };
    }
    let bytes = to_bytes(&envelope(signed, &[signer])?)?;
    writes.push((path.to_path_buf(), bytes.clone()));
    Ok(bytes)
}

/// `signed.<field>` of a metadata file, if it parses.
fn signed_field(bytes: &[u8], field: &str) -> Option<Value> {
    let mut value: Value = serde_json::from_slice(bytes).ok()?;
    value.get_mut("signed")?.get_mut(field).map(Value::take)
}

/// The `{signed, signatures}` envelope, each signer signing the canonical
/// form of `signed`.
fn envelope(signed: &Value, signers: &[(&str, &TestKey)]) -> Result<Value, String> {
    let canonical = canonical_json(signed)?;
    let signatures: Vec<Value> = signers
        .iter()
        .map(|(id, key)| json!({ "keyid": id, "sig": hex(&key.sign(&canonical)) }))
        .collect();
    Ok(json!({ "signatures": signatures, "signed": signed }))
}

fn to_bytes(metadata: &Value) -> Result<Vec<u8>, String> {
    let mut bytes = serde_json::to_vec_pretty(metadata)
        .map_err(|e| format!("serializing TUF metadata: {e}"))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A snapshot/timestamp `meta` entry. Length and hash are optional in TUF
/// (Sigstore's repositories pin only the version), but pinning them makes the
/// client check them, which is the stricter and more useful test.
fn meta_pin(bytes: &[u8], version: u64) -> Value {
    json!({ "version": version, "length": bytes.len(), "hashes": { "sha256": sha256_hex(bytes) } })
}

/// `now + lifetime` in the form TUF requires (`YYYY-MM-DDTHH:MM:SSZ`; no
/// fractional seconds, which python-tuf rejects).
fn expiry(now: Timestamp, lifetime: SignedDuration) -> Result<String, String> {
    let at = now
        .checked_add(lifetime)
        .map_err(|e| format!("expiry {now} + {lifetime:?}: {e}"))?;
    Ok(at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn check_target_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("target name {name:?} {why}"));
    if name.is_empty() {
        return bad("is empty");
    }
    for segment in name.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return bad("has an empty, '.' or '..' path segment");
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-~+".contains(&b))
        {
            return bad("may only use ASCII letters, digits, '/' and '._-~+'");
        }
    }
    Ok(())
}

/// securesystemslib ("OLPC") canonical JSON, the bytes TUF signatures cover:
/// object keys sorted, no whitespace, only `"` and `\` escaped (everything
/// else, newlines included, is raw UTF-8), integers only.
fn canonical_json(value: &Value) -> Result<Vec<u8>, String> {
    fn string(s: &str, out: &mut Vec<u8>) {
        out.push(b'"');
        for &b in s.as_bytes() {
            if b == b'"' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out.push(b'"');
    }
    fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
        match value {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                out.extend_from_slice(n.to_string().as_bytes())
            }
            Value::Number(n) => return Err(format!("canonical JSON has no floats ({n})")),
            Value::String(s) => string(s, out),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    encode(item, out)?;
                }
                out.push(b']');
            }
            Value::Object(map) => {
                // Byte order of UTF-8 equals code point order.
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                out.push(b'{');
                for (i, (key, item)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    string(key, out);
                    out.push(b':');
                    encode(item, out)?;
                }
                out.push(b'}');
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    encode(value, &mut out)?;
    Ok(out)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn read_existing(path: &Path) -> Result<Option<Vec<u8>>, String> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("reading {}: {e}", path.display())),
    }
}

/// Replace `path` with `bytes` atomically, so the HTTP server never serves a
/// half-written file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("creating directory {}: {e}", parent.display()))?;
    }
    keyless::files::write_atomic(path, bytes)
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use axum::extract::State;
    use axum::http::{StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use sigstore_trust_root::{
        SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_STAGING_SIGNING_CONFIG,
        SIGSTORE_STAGING_TRUSTED_ROOT, SigningConfig, TrustedRoot, TufBootstrap, TufConfig,
        fetch_trust_material_at,
    };

    use super::*;

    const TRUSTED_ROOT: &str = sigstore_trust_root::TRUSTED_ROOT_TARGET;
    const SIGNING_CONFIG: &str = sigstore_trust_root::SIGNING_CONFIG_TARGET;

    /// Far from the wall clock in both directions, so passing tests prove the
    /// client validated at the injected time.
    fn now() -> Timestamp {
        "2031-03-04T05:06:07.5Z".parse().unwrap()
    }

    fn staging_targets() -> [(&'static str, &'static [u8]); 2] {
        [
            (TRUSTED_ROOT, SIGSTORE_STAGING_TRUSTED_ROOT.as_bytes()),
            (SIGNING_CONFIG, SIGSTORE_STAGING_SIGNING_CONFIG.as_bytes()),
        ]
    }

    /// A static file server for `dir` on 127.0.0.1, 404 for anything absent.
    struct Server {
        url: String,
        stop: tokio::sync::oneshot::Sender<()>,
        task: tokio::task::JoinHandle<std::io::Result<()>>,
    }

    async fn serve_file(State(dir): State<Arc<PathBuf>>, uri: Uri) -> Response {
        let rel = uri.path().trim_start_matches('/');
        if rel.split('/').any(|s| s.is_empty() || s == "..") {
            return StatusCode::NOT_FOUND.into_response();
        }
        match tokio::fs::read(dir.join(rel)).await {
            Ok(bytes) => bytes.into_response(),
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        }
    }

    impl Server {
        async fn start(dir: &Path) -> Self {
            let app = axum::Router::new()
                .fallback(serve_file)
                .with_state(Arc::new(dir.to_path_buf()));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}/", listener.local_addr().unwrap());
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
            });
            Self { url, stop, task }
        }

        /// A client configuration for this server: fixed bootstrap root, its
        /// own cache, no proxy, short timeouts.
        fn config(&self, root: &[u8], cache: &Path) -> TufConfig {
            let http = sigstore_trust_root::reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            TufConfig::custom(&self.url, TufBootstrap::trusted(root))
                .with_cache_dir(cache.to_path_buf())
                .with_http_client(http)
        }

        async fn stop(self) {
            let _ = self.stop.send(());
            tokio::time::timeout(Duration::from_secs(5), self.task)
                .await
                .expect("server stops within 5s")
                .expect("server task did not panic")
                .expect("server ran without I/O errors");
        }
    }

    /// Run a test body with a bound, so a hung client fails instead of
    /// stalling the suite.
    async fn bounded<F: std::future::Future<Output = ()>>(body: F) {
        tokio::time::timeout(Duration::from_secs(30), body)
            .await
            .expect("test finished within 30s");
    }

    fn json_of<T: Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap()
    }

    #[tokio::test]
    async fn client_fetches_trust_material_through_tuf() {
        bounded(async {
            let repo = tempfile::tempdir().unwrap();
            let cache = tempfile::tempdir().unwrap();
            let keys = TufKeys::generate();
            write_repository(
                repo.path(),
                &keys,
                &staging_targets(),
                now(),
                &RepoOptions::default(),
            )
            .unwrap();
            let root = root_json(repo.path(), 1).unwrap();
            let server = Server::start(repo.path()).await;
            let config = server.config(&root, cache.path());

            let trusted = TrustedRoot::from_tuf_at(config.clone(), now())
                .await
                .unwrap();
            let expected = TrustedRoot::from_json(SIGSTORE_STAGING_TRUSTED_ROOT).unwrap();
            assert_eq!(json_of(&trusted), json_of(&expected));
            // The client caches what it verified: exactly our bytes.
            assert_eq!(
                std::fs::read(cache.path().join("targets").join(TRUSTED_ROOT)).unwrap(),
                SIGSTORE_STAGING_TRUSTED_ROOT.as_bytes()
            );

            let signing = SigningConfig::from_tuf_at(config.clone(), now())
                .await
                .unwrap();
            let expected = SigningConfig::from_json(SIGSTORE_STAGING_SIGNING_CONFIG).unwrap();
            assert_eq!(json_of(&signing), json_of(&expected));
            assert_eq!(
                std::fs::read(cache.path().join("targets").join(SIGNING_CONFIG)).unwrap(),
                SIGSTORE_STAGING_SIGNING_CONFIG.as_bytes()
            );

            // Both in one session, from a fresh cache.
            let fresh = tempfile::tempdir().unwrap();
            let (trusted, signing) =
                fetch_trust_material_at(server.config(&root, fresh.path()), now())
                    .await
                    .unwrap();
            assert_eq!(
                json_of(&trusted),
                json_of(&TrustedRoot::from_json(SIGSTORE_STAGING_TRUSTED_ROOT).unwrap())
            );
            assert_eq!(json_of(&signing), json_of(&expected));
            server.stop().await;

            // With the server gone, the verified cache still serves offline.
            let offline = TrustedRoot::from_tuf_at(config.offline(), now())
                .await
                .unwrap();
            assert_eq!(json_of(&offline), json_of(&trusted));
        })
        .await;
    }

    #[tokio::test]
    async fn expired_timestamp_is_rejected() {
        bounded(async {
            let repo = tempfile::tempdir().unwrap();
            let cache = tempfile::tempdir().unwrap();
            let keys = TufKeys::generate();
            let options = RepoOptions::default().with_expired_timestamp();
            write_repository(repo.path(), &keys, &staging_targets(), now(), &options).unwrap();
            let server = Server::start(repo.path()).await;

            let config = server.config(&root_json(repo.path(), 1).unwrap(), cache.path());
            let err = TrustedRoot::from_tuf_at(config, now()).await.unwrap_err();
            assert!(
                err.to_string().contains("timestamp metadata expired"),
                "{err}"
            );
            server.stop().await;
        })
        .await;
    }

    #[tokio::test]
    async fn tampered_timestamp_is_rejected() {
        bounded(async {
            let repo = tempfile::tempdir().unwrap();
            let cache = tempfile::tempdir().unwrap();
            let keys = TufKeys::generate();
            let options = RepoOptions::default().with_tampered_timestamp();
            write_repository(repo.path(), &keys, &staging_targets(), now(), &options).unwrap();
            let server = Server::start(repo.path()).await;

            let config = server.config(&root_json(repo.path(), 1).unwrap(), cache.path());
            let err = SigningConfig::from_tuf_at(config, now()).await.unwrap_err();
            assert!(
                err.to_string()
                    .contains("signature threshold not met for role timestamp"),
                "{err}"
            );
            server.stop().await;
        })
        .await;
    }

    #[tokio::test]
    async fn republished_targets_reach_a_cached_client() {
        bounded(async {
            let repo = tempfile::tempdir().unwrap();
            let cache = tempfile::tempdir().unwrap();
            let keys = TufKeys::generate();
            let v1 = RepoOptions::default();
            write_repository(repo.path(), &keys, &staging_targets(), now(), &v1).unwrap();
            let root = root_json(repo.path(), 1).unwrap();
            let server = Server::start(repo.path()).await;
            let config = server.config(&root, cache.path());

            let first = TrustedRoot::from_tuf_at(config.clone(), now())
                .await
                .unwrap();
            let staging = TrustedRoot::from_json(SIGSTORE_STAGING_TRUSTED_ROOT).unwrap();
            assert_eq!(json_of(&first), json_of(&staging));

            // New content at the same version is refused, not silently served
            // to some clients only.
            let production = [(TRUSTED_ROOT, SIGSTORE_PRODUCTION_TRUSTED_ROOT.as_bytes())];
            let err = write_repository(repo.path(), &keys, &production, now(), &v1).unwrap_err();
            assert!(err.contains("higher RepoOptions::version"), "{err}");

            let later = now() + SignedDuration::from_hours(1);
            let v2 = RepoOptions::default().with_version(2);
            write_repository(repo.path(), &keys, &production, later, &v2).unwrap();
            assert_eq!(published_version(repo.path()).unwrap(), Some(2));
            let second = TrustedRoot::from_tuf_at(config, later).await.unwrap();
            let production = TrustedRoot::from_json(SIGSTORE_PRODUCTION_TRUSTED_ROOT).unwrap();
            assert_eq!(json_of(&second), json_of(&production));
            assert_ne!(json_of(&second), json_of(&staging));
            // Version 1 stays published for clients mid-update.
            assert!(repo.path().join("1.snapshot.json").exists());

            let err =
                write_repository(repo.path(), &keys, &staging_targets(), later, &v1).unwrap_err();
            assert!(err.contains("rollback"), "{err}");
            server.stop().await;
        })
        .await;
    }

    #[tokio::test]
    async fn validation_time_is_the_injected_one() {
        bounded(async {
            let repo = tempfile::tempdir().unwrap();
            let keys = TufKeys::generate();
            // Published in 2020: expired for anyone validating at wall-clock time.
            let then: Timestamp = "2020-01-01T00:00:00Z".parse().unwrap();
            write_repository(
                repo.path(),
                &keys,
                &staging_targets(),
                then,
                &RepoOptions::default(),
            )
            .unwrap();
            let root = root_json(repo.path(), 1).unwrap();
            let server = Server::start(repo.path()).await;

            let cache = tempfile::tempdir().unwrap();
            let at_then = TrustedRoot::from_tuf_at(server.config(&root, cache.path()), then).await;
            assert!(at_then.is_ok(), "{at_then:?}");

            // Two days later the one-day timestamp is stale, even with a
            // cache that held it.
            let later = then + SignedDuration::from_hours(48);
            let err = TrustedRoot::from_tuf_at(server.config(&root, cache.path()), later)
                .await
                .unwrap_err();
            assert!(
                err.to_string().contains("timestamp metadata expired"),
                "{err}"
            );

            let fresh = tempfile::tempdir().unwrap();
            let err = TrustedRoot::from_tuf(server.config(&root, fresh.path()))
                .await
                .unwrap_err();
            assert!(err.to_string().contains("expired"), "{err}");
            server.stop().await;
        })
        .await;
    }

    #[tokio::test]
    async fn ed25519_keys_and_root_chain() {
        bounded(async {
            let repo = tempfile::tempdir().unwrap();
            let cache = tempfile::tempdir().unwrap();
            let keys = TufKeys::generate_with(KeyKind::Ed25519).unwrap();
            write_repository(
                repo.path(),
                &keys,
                &staging_targets(),
                now(),
                &RepoOptions::default(),
            )
            .unwrap();
            let root_v1 = root_json(repo.path(), 1).unwrap();
            let options = RepoOptions::default().with_version(2).with_root_version(2);
            write_repository(repo.path(), &keys, &staging_targets(), now(), &options).unwrap();
            // Published roots never change.
            assert_eq!(root_json(repo.path(), 1).unwrap(), root_v1);
            let root_v2 = root_json(repo.path(), 2).unwrap();
            assert_eq!(
                std::fs::read(repo.path().join("root.json")).unwrap(),
                root_v2
            );

            let server = Server::start(repo.path()).await;
            let config = server.config(&root_v1, cache.path());
            let signing = SigningConfig::from_tuf_at(config, now()).await.unwrap();
            let expected = SigningConfig::from_json(SIGSTORE_STAGING_SIGNING_CONFIG).unwrap();
            assert_eq!(json_of(&signing), json_of(&expected));
            // The client walked from root 1 to root 2.
            assert_eq!(
                std::fs::read(cache.path().join("root.json")).unwrap(),
                root_v2
            );
            server.stop().await;
        })
        .await;
    }

    #[test]
    fn layout_is_consistent_snapshot() {
        let repo = tempfile::tempdir().unwrap();
        let keys = TufKeys::generate();
        let targets: [(&str, &[u8]); 2] = [("a.json", b"A"), ("dir/b.json", b"B")];
        write_repository(repo.path(), &keys, &targets, now(), &RepoOptions::default()).unwrap();
        let mut files: Vec<String> = Vec::new();
        let mut stack = vec![repo.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(repo.path()).unwrap();
                    files.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        files.sort();
        let a = sha256_hex(b"A");
        let b = sha256_hex(b"B");
        let mut expected = vec![
            "1.root.json".to_string(),
            "1.snapshot.json".to_string(),
            "1.targets.json".to_string(),
            "root.json".to_string(),
            format!("targets/{a}.a.json"),
            format!("targets/dir/{b}.b.json"),
            "timestamp.json".to_string(),
        ];
        expected.sort();
        // No temporaries are left behind, and nothing else is published.
        assert_eq!(files, expected);

        let timestamp = std::fs::read(repo.path().join("timestamp.json")).unwrap();
        // Fractional seconds are dropped: now() is 05:06:07.5, plus one day.
        assert_eq!(
            signed_field(&timestamp, "expires"),
            Some(json!("2031-03-05T05:06:07Z"))
        );
    }

    #[test]
    fn canonical_json_is_olpc_not_jcs() {
        let value = json!({ "b": [1, -2, true, null], "a": "pem\nline \"q\" \\ é\u{1}" });
        let expected = "{\"a\":\"pem\nline \\\"q\\\" \\\\ é\u{1}\",\"b\":[1,-2,true,null]}";
        assert_eq!(canonical_json(&value).unwrap(), expected.as_bytes());
        assert!(canonical_json(&json!({ "x": 1.5 })).is_err());
    }

    #[test]
    fn keys_survive_storage_and_refuse_rsa() {
        let keys = TufKeys::generate();
        let text = serde_json::to_string(&keys.to_stored()).unwrap();
        let again = TufKeys::from_stored(&serde_json::from_str(&text).unwrap()).unwrap();
        let ids = |k: &TufKeys| {
            let ids = RoleIds::new(k).unwrap();
            [ids.root, ids.targets, ids.snapshot, ids.timestamp]
        };
        assert_eq!(ids(&keys), ids(&again));
        assert!(TufKeys::generate_with(KeyKind::Rsa2048).is_err());

        let mut stored = keys.to_stored();
        stored.snapshot = TestKey::generate(KeyKind::Rsa2048).to_stored();
        let err = TufKeys::from_stored(&stored).unwrap_err();
        assert!(err.starts_with("snapshot key: RSA"), "{err}");
    }

    #[test]
    fn bad_input_is_refused_before_writing() {
        let keys = TufKeys::generate();
        for name in ["", "/abs", "a/../b", "a//b", "sp ace", "q?x", "./a"] {
            let repo = tempfile::tempdir().unwrap();
            let targets: [(&str, &[u8]); 1] = [(name, b"x")];
            let err =
                write_repository(repo.path(), &keys, &targets, now(), &RepoOptions::default())
                    .unwrap_err();
            assert!(err.contains("target name"), "{name:?}: {err}");
            assert_eq!(
                std::fs::read_dir(repo.path()).unwrap().count(),
                0,
                "{name:?}"
            );
        }
        let repo = tempfile::tempdir().unwrap();
        let twice: [(&str, &[u8]); 2] = [("a", b"1"), ("a", b"2")];
        let err = write_repository(repo.path(), &keys, &twice, now(), &RepoOptions::default())
            .unwrap_err();
        assert!(err.contains("twice"), "{err}");
        let zero = RepoOptions::default().with_version(0);
        assert!(write_repository(repo.path(), &keys, &[], now(), &zero).is_err());

        // Other keys over a published repository would strand its clients.
        write_repository(repo.path(), &keys, &[], now(), &RepoOptions::default()).unwrap();
        let other = TufKeys::generate();
        let err = write_repository(
            repo.path(),
            &other,
            &[],
            now(),
            &RepoOptions::default().with_version(2),
        )
        .unwrap_err();
        assert!(err.contains("other keys"), "{err}");
    }
}
