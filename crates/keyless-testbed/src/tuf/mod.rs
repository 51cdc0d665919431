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

mod canonical;
mod roles;

pub use roles::{StoredTufKeys, TufKeys};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::keys::TestKey;
use crate::util::{hex_encode, read_optional};
use canonical::canonical_json;
use roles::RoleIds;

/// The TUF specification version our metadata claims. sigstore-tuf accepts
/// any 1.x; python-tuf writes the same value.
const SPEC_VERSION: &str = "1.0.31";

/// The highest [`RepoOptions::root_version`] accepted.
pub const MAX_ROOT_VERSION: u64 = 1000;

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
        .map(|(id, key)| json!({ "keyid": id, "sig": hex_encode(&key.sign(&canonical)) }))
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

/// Lower-case hex SHA-256, as TUF pins hashes and names target files.
fn sha256_hex(bytes: &[u8]) -> String {
    sigstore_crypto::sha256(bytes).to_hex()
}

fn read_existing(path: &Path) -> Result<Option<Vec<u8>>, String> {
    read_optional(path).map_err(|e| format!("reading {}: {e}", path.display()))
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
mod tests;
