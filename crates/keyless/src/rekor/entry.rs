//! One log entry: its evidence (inclusion proof, checkpoint, SET), proven
//! offline against the trust root's log keys, and what it says (kind,
//! digest, signing certificate).

use super::checkpoint;
use super::{Failure, SearchQuery, Step, TrustedLogs, hex};
use crate::cert::ExtensionValue;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use sigstore_crypto::CertificateInfo;
use sigstore_types::{DerCertificate, DerPublicKey, KindVersion, Sha256Hash, TransparencyLogEntry};

/// Which API produced an entry, which decides where its proof's index, tree
/// size and root are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogApi {
    /// Rekor v1: the proof carries index, size and root; the checkpoint must
    /// agree with them; a SET signs the entry.
    V1,
    /// Rekor v2 (hashedrekord 0.0.2): index from the entry, size and root
    /// from the signed checkpoint only; no SET.
    V2,
}

/// An inclusion proof as an entry carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The leaf index within the tree (the shard, on a sharded Rekor v1).
    pub log_index: u64,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// The root the proof leads to.
    pub root_hash: Sha256Hash,
    /// The proof's hashes.
    pub hashes: Vec<Sha256Hash>,
    /// The checkpoint (signed note) text.
    pub checkpoint: String,
}

/// The log evidence of one entry, whatever JSON form it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The UUID a Rekor v1 answer files the entry under.
    pub uuid: Option<String>,
    /// The canonicalized body.
    pub body: Vec<u8>,
    /// The log index (across shards, for Rekor v1).
    pub log_index: u64,
    /// The log ID.
    pub log_id: Sha256Hash,
    /// The integrated time (Rekor v1), authenticated only by the SET.
    pub integrated_time: Option<jiff::Timestamp>,
    /// The Signed Entry Timestamp.
    pub set: Option<Vec<u8>>,
    /// The inclusion proof.
    pub proof: Option<Proof>,
    /// The API the entry came from.
    pub api: LogApi,
    /// The kind and version a bundle entry declares for its body.
    pub kind_version: Option<KindVersion>,
}

fn log_id_of(bytes: &[u8]) -> std::result::Result<Sha256Hash, String> {
    Sha256Hash::try_from(bytes).map_err(|e| format!("log ID: {e}"))
}

impl Evidence {
    /// From a Rekor v1 API answer.
    pub fn from_log_entry(e: &sigstore_rekor::LogEntry) -> std::result::Result<Self, String> {
        let log_id = log_id_of(&e.log_id.decode().map_err(|e| format!("log ID: {e}"))?)?;
        let verification = e.verification.as_ref();
        Ok(Self {
            uuid: (!e.uuid.is_empty()).then(|| e.uuid.as_str().to_string()),
            body: e.body.as_bytes().to_vec(),
            log_index: e.log_index.get(),
            log_id,
            integrated_time: e.integrated_time,
            set: verification
                .and_then(|v| v.signed_entry_timestamp.as_ref())
                .map(|s| s.as_bytes().to_vec()),
            proof: verification
                .and_then(|v| v.inclusion_proof.as_ref())
                .map(|p| Proof {
                    log_index: p.log_index.get(),
                    tree_size: p.tree_size,
                    root_hash: p.root_hash,
                    hashes: p.hashes.clone(),
                    checkpoint: p.checkpoint.clone(),
                }),
            api: LogApi::V1,
            kind_version: None,
        })
    }

    /// From a bundle's `TransparencyLogEntry`.
    pub fn from_tlog_entry(e: &TransparencyLogEntry) -> std::result::Result<Self, String> {
        Ok(Self {
            uuid: None,
            body: e.canonicalized_body.as_bytes().to_vec(),
            log_index: e.log_index.get(),
            log_id: log_id_of(e.log_id.key_id.as_bytes())?,
            integrated_time: e.integrated_time,
            set: e
                .inclusion_promise
                .as_ref()
                .map(|p| p.signed_entry_timestamp.as_bytes().to_vec()),
            proof: e.inclusion_proof.as_ref().map(|p| Proof {
                log_index: p.log_index.get(),
                tree_size: p.tree_size,
                root_hash: p.root_hash,
                hashes: p.hashes.clone(),
                checkpoint: p.checkpoint.envelope().to_string(),
            }),
            // As sigstore-verify decides it: hashedrekord 0.0.2 is Rekor v2.
            api: if e.kind_version == KindVersion::HashedRekordV002 {
                LogApi::V2
            } else {
                LogApi::V1
            },
            kind_version: Some(e.kind_version),
        })
    }

    /// Parse an entry document: a Rekor v1 `LogEntry` answer (`{uuid:
    /// {...}}`) or a bundle's `TransparencyLogEntry`.
    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Some(map) = doc.as_object() else {
            return Err("expected a JSON object".into());
        };
        if map.contains_key("canonicalizedBody") || map.contains_key("kindVersion") {
            let entry: TransparencyLogEntry =
                serde_json::from_value(doc).map_err(|e| format!("transparency log entry: {e}"))?;
            return Self::from_tlog_entry(&entry);
        }
        if map.len() == 1
            && let Some((uuid, inner)) = map.iter().next()
            && inner.get("body").is_some()
        {
            let mut entry: sigstore_rekor::LogEntry = serde_json::from_value(inner.clone())
                .map_err(|e| format!("Rekor log entry {uuid}: {e}"))?;
            entry.uuid = sigstore_types::EntryUuid::new(uuid.clone());
            return Self::from_log_entry(&entry);
        }
        Err(
            "neither a Rekor v1 log entry ({\"<uuid>\": {\"body\": ...}}) nor a bundle transparency log entry ({\"canonicalizedBody\": ...})"
                .into(),
        )
    }

    /// The entry's RFC 6962 leaf hash: its Rekor UUID.
    pub fn leaf_hash(&self) -> Sha256Hash {
        sigstore_merkle::hash_leaf(&self.body)
    }
}

/// What proving an entry established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// The log that signed its checkpoint (and SET).
    pub log_id: Sha256Hash,
    /// The tree size the inclusion proof reaches.
    pub tree_size: u64,
    /// The checkpoint's origin.
    pub origin: String,
    /// Whether a SET was present and verified.
    pub set_verified: bool,
    /// The integrated time, when the SET signed it.
    pub integrated_time: Option<jiff::Timestamp>,
}

/// The SET's payload: Rekor v1 signs the RFC 8785 canonical JSON of these
/// four fields.
#[derive(serde::Serialize)]
struct SetPayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    #[serde(rename = "logIndex")]
    log_index: u64,
}

/// Whether a Rekor UUID (64 hex digits, or 80 with a 16-digit tree ID in
/// front) is this leaf hash.
fn uuid_names(uuid: &str, leaf: &Sha256Hash) -> bool {
    let uuid = uuid.to_ascii_lowercase();
    match uuid.len() {
        64 => uuid == leaf.to_hex(),
        80 => uuid.get(16..) == Some(leaf.to_hex().as_str()),
        _ => false,
    }
}

/// Prove an entry offline: (1) it belongs to a log of the trust root and is
/// what it says it is; (2) its inclusion proof leads from its leaf hash to
/// (3) a checkpoint signed by that log's key; (4) its SET, if present (or
/// required), is signed by that log's key valid at the integrated time,
/// (5) which is not in the future.
pub fn verify(
    ev: &Evidence,
    logs: &TrustedLogs,
    now: jiff::Timestamp,
    require_set: bool,
) -> std::result::Result<VerifiedEntry, Failure> {
    // (1) The log ID names a log of the trust root: no other key may vouch.
    let log = logs.by_id(&ev.log_id).ok_or_else(|| {
        Failure::new(
            Step::LogEntry,
            format!(
                "log ID {} is not a transparency log of the trust root",
                hex(ev.log_id.as_bytes())
            ),
        )
    })?;
    // (1) A Rekor v1 entry is filed under its leaf hash: a UUID that is not
    // means the body was swapped.
    let leaf = ev.leaf_hash();
    if let Some(uuid) = &ev.uuid
        && !uuid_names(uuid, &leaf)
    {
        return Err(Failure::new(
            Step::LogEntry,
            format!(
                "the entry is filed under UUID {uuid}, but its body's leaf hash is {}",
                leaf.to_hex()
            ),
        ));
    }
    // (1) A bundle entry's kindVersion is not signed; it must describe the body.
    if let Some(kv) = ev.kind_version {
        let (kind, version) = body_kind(&ev.body);
        if (kind.as_str(), version.as_str()) != (kv.kind(), kv.version()) {
            return Err(Failure::new(
                Step::LogEntry,
                format!(
                    "the entry says it is {} {}, but its body is {kind} {version}",
                    kv.kind(),
                    kv.version()
                ),
            ));
        }
    }

    // (2) Inclusion proof, up to the root the checkpoint signs.
    let proof = ev.proof.as_ref().ok_or_else(|| {
        Failure::new(Step::InclusionProof, "the entry carries no inclusion proof")
    })?;
    let parsed = checkpoint::parse(&proof.checkpoint)
        .map_err(|reason| Failure::new(Step::Checkpoint, reason))?;
    let (index, size, root) = match ev.api {
        LogApi::V1 => {
            // A shard-local proof index cannot exceed the log-wide index.
            if proof.log_index > ev.log_index {
                return Err(Failure::new(
                    Step::InclusionProof,
                    format!(
                        "the proof is for leaf {} but the entry is #{}",
                        proof.log_index, ev.log_index
                    ),
                ));
            }
            (proof.log_index, proof.tree_size, proof.root_hash)
        }
        // Rekor v2's proof fields are unauthenticated duplicates: the entry's
        // index and the checkpoint's size and root are what count.
        LogApi::V2 => (ev.log_index, parsed.tree_size(), *parsed.root_hash()),
    };
    sigstore_merkle::verify_inclusion_proof(&leaf, index, size, &proof.hashes, &root).map_err(
        |e| {
            Failure::new(
                Step::InclusionProof,
                format!(
                    "leaf {index} is not proven in the tree of size {size} with root {}: {e}",
                    root.to_hex()
                ),
            )
        },
    )?;

    // (3) The checkpoint describes that tree and is signed by the entry's log.
    if ev.api == LogApi::V1
        && (parsed.tree_size() != proof.tree_size || *parsed.root_hash() != proof.root_hash)
    {
        return Err(Failure::new(
            Step::Checkpoint,
            format!(
                "the checkpoint signs tree size {} and root {}, but the proof is for tree size {} and root {}",
                parsed.tree_size(),
                parsed.root_hash().to_hex(),
                proof.tree_size,
                proof.root_hash.to_hex()
            ),
        ));
    }
    let signed =
        checkpoint::verify_signature(&proof.checkpoint, &parsed, logs, now, Some(&ev.log_id))?;

    // (4) The SET: the log's promise, signed when it integrated the entry.
    let integrated_time = match (&ev.set, ev.integrated_time) {
        (None, _) if require_set => {
            return Err(Failure::new(Step::Set, "the entry carries no SET"));
        }
        (None, _) => None,
        (Some(_), None) => {
            return Err(Failure::new(
                Step::Set,
                "the entry has a SET but no integrated time for it to sign",
            ));
        }
        (Some(set), Some(time)) => {
            if !log.valid_at(time) {
                return Err(Failure::new(
                    Step::Set,
                    format!(
                        "the key of log {} was not valid at the integrated time {time}",
                        hex(ev.log_id.as_bytes())
                    ),
                ));
            }
            let payload = SetPayload {
                body: B64.encode(&ev.body),
                integrated_time: time.as_second(),
                log_id: hex(ev.log_id.as_bytes()),
                log_index: ev.log_index,
            };
            let bytes = serde_json_canonicalizer::to_vec(&payload)
                .map_err(|e| Failure::new(Step::Set, format!("canonical JSON: {e}")))?;
            log.key
                .verify(&bytes, &sigstore_types::SignatureBytes::new(set.clone()))
                .map_err(|e| {
                    Failure::new(
                        Step::Set,
                        format!(
                            "the SET does not verify with the key of log {}: {e}",
                            hex(ev.log_id.as_bytes())
                        ),
                    )
                })?;
            // (5) A signed time after "now" is a log clock or key problem.
            if time > now {
                return Err(Failure::new(
                    Step::IntegratedTime,
                    format!("the integrated time {time} is after the current time {now}"),
                ));
            }
            Some(time)
        }
    };

    Ok(VerifiedEntry {
        log_id: signed.log_id,
        tree_size: signed.tree_size,
        origin: signed.origin,
        set_verified: integrated_time.is_some(),
        integrated_time,
    })
}

/// A digest an entry names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Digest {
    /// `artifact` (hashedrekord, rekord) or `payload` (dsse, intoto).
    pub what: &'static str,
    /// The algorithm, as Rekor spells it (`sha256`).
    pub algorithm: String,
    /// The digest, hex.
    pub hex: String,
}

/// What an entry's body says, read best-effort (any kind).
#[derive(Debug, Clone, Default)]
pub struct Description {
    /// The entry kind (`hashedrekord`, `dsse`, ...).
    pub kind: String,
    /// The kind's version (`0.0.1`, ...).
    pub version: String,
    /// The digest it names.
    pub digest: Option<Digest>,
    /// Every X.509 certificate in the body, in order.
    pub certificates: Vec<DerCertificate>,
    /// Every bare public key in the body, in order.
    pub public_keys: Vec<DerPublicKey>,
}

fn body_kind(body: &[u8]) -> (String, String) {
    let doc: Value = serde_json::from_slice(body).unwrap_or_default();
    let s = |k: &str| doc[k].as_str().unwrap_or("unknown").to_string();
    (s("kind"), s("apiVersion"))
}

/// Read what a body says. Kinds sigstore-rekor models are parsed by it; the
/// certificates and keys of any kind are found wherever the body holds them
/// (base64 PEM strings, `x509Certificate`/`publicKey` `rawBytes`).
pub fn describe(body: &[u8]) -> Description {
    use sigstore_rekor::body::RekorEntryBody as B;
    let (kind, version) = body_kind(body);
    let digest = |what, algorithm: &sigstore_types::HashAlgorithm, hex: String| {
        Some(Digest {
            what,
            algorithm: algorithm.as_rekor_str().to_string(),
            hex,
        })
    };
    let digest = match sigstore_rekor::RekorEntryBody::from_json(body, &kind, &version) {
        Ok(B::HashedRekordV001(b)) => {
            let h = &b.spec.data.hash;
            digest(
                "artifact",
                &h.algorithm,
                h.value.as_str().to_ascii_lowercase(),
            )
        }
        Ok(B::HashedRekordV002(b)) => {
            let d = &b.spec.hashed_rekord_v002.data;
            digest("artifact", &d.algorithm, d.digest.to_hex())
        }
        Ok(B::DsseV001(b)) => {
            let h = &b.spec.payload_hash;
            digest("payload", &h.algorithm, h.value.to_ascii_lowercase())
        }
        Ok(B::DsseV002(b)) => {
            let h = &b.spec.dsse_v002.payload_hash;
            digest("payload", &h.algorithm, h.digest.to_hex())
        }
        Ok(B::IntotoV002(b)) => {
            let h = &b.spec.content.payload_hash;
            digest(
                "payload",
                &h.algorithm,
                h.value.as_str().to_ascii_lowercase(),
            )
        }
        // rekord and other kinds name their artifact as hashedrekord 0.0.1 does.
        _ => {
            let doc: Value = serde_json::from_slice(body).unwrap_or_default();
            let h = &doc["spec"]["data"]["hash"];
            match (h["algorithm"].as_str(), h["value"].as_str()) {
                (Some(a), Some(v)) => Some(Digest {
                    what: "artifact",
                    algorithm: a.to_string(),
                    hex: v.to_ascii_lowercase(),
                }),
                _ => None,
            }
        }
    };
    let mut d = Description {
        kind,
        version,
        digest,
        ..Default::default()
    };
    if let Ok(doc) = serde_json::from_slice::<Value>(body) {
        let mut budget = 10_000usize;
        collect_keys(&doc, 0, &mut budget, &mut d);
    }
    d
}

/// Walk a body for certificates and keys, bounded in depth and size.
fn collect_keys(v: &Value, depth: usize, budget: &mut usize, out: &mut Description) {
    if depth > 32 || *budget == 0 {
        return;
    }
    *budget -= 1;
    match v {
        Value::String(s) => {
            let Ok(bytes) = B64.decode(s) else { return };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                return;
            };
            if !text.trim_start().starts_with("-----BEGIN") {
                return;
            }
            if let Ok(cert) = DerCertificate::from_pem(text) {
                if !out.certificates.contains(&cert) {
                    out.certificates.push(cert);
                }
            } else if let Ok(key) = DerPublicKey::from_pem(text)
                && !out.public_keys.contains(&key)
            {
                out.public_keys.push(key);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_keys(item, depth + 1, budget, out);
            }
        }
        Value::Object(map) => {
            // Rekor v2 bodies hold DER, base64, under rawBytes.
            let raw = |k: &str| {
                map.get(k)
                    .and_then(|o| o["rawBytes"].as_str())
                    .and_then(|b| B64.decode(b).ok())
            };
            if let Some(der) = raw("x509Certificate") {
                let cert = DerCertificate::new(der);
                if !out.certificates.contains(&cert) {
                    out.certificates.push(cert);
                }
            }
            if let Some(der) = raw("publicKey") {
                let key = DerPublicKey::new(der);
                if !out.public_keys.contains(&key) {
                    out.public_keys.push(key);
                }
            }
            for item in map.values() {
                collect_keys(item, depth + 1, budget, out);
            }
        }
        _ => {}
    }
}

/// A signing certificate, as an auditor reads it. Nothing here is
/// validated against a Fulcio CA: it is what the log holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertificateSummary {
    /// The SAN (email or URI) that verifiers match: the first one.
    pub identity: Option<String>,
    /// The OIDC issuer (Fulcio OID .1.8, or legacy .1.1).
    pub issuer: Option<String>,
    /// Not valid before.
    pub not_before: jiff::Timestamp,
    /// Not valid after.
    pub not_after: jiff::Timestamp,
    /// Fulcio's CI extensions that are present.
    pub extensions: Vec<ExtensionValue>,
}

impl CertificateSummary {
    /// Read a certificate; `None` when it does not parse.
    pub fn of(cert: &DerCertificate) -> Option<Self> {
        let info = sigstore_crypto::parse_certificate_info(cert).ok()?;
        Some(Self::from_info(&info))
    }

    /// From parsed certificate information.
    pub fn from_info(info: &CertificateInfo) -> Self {
        Self {
            identity: info.identity.as_ref().map(|s| s.as_str().to_string()),
            issuer: info.issuer.clone(),
            not_before: info.not_before,
            not_after: info.not_after,
            extensions: fulcio_extensions(info),
        }
    }

    /// The value of the extension with this OID.
    pub fn extension(&self, oid: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|e| e.oid == oid)
            .map(|e| e.value.as_str())
    }
}

/// Fulcio's CI extensions present, the issuer left out (it has its own field).
fn fulcio_extensions(info: &CertificateInfo) -> Vec<ExtensionValue> {
    let mut present = crate::cert::present(info);
    present.retain(|e| e.oid != crate::cert::ISSUER.oid);
    present
}

/// One entry: what it says and whether it was proven.
#[derive(Debug, Clone)]
pub struct EntryReport {
    /// Its UUID: as the log filed it, else its leaf hash.
    pub uuid: String,
    /// Its log index.
    pub log_index: u64,
    /// Its log ID, hex.
    pub log_id: String,
    /// The integrated time it carries (authenticated only when the SET
    /// verified; see the verdict).
    pub integrated_time: Option<jiff::Timestamp>,
    /// What its body says.
    pub description: Description,
    /// Its first certificate, read.
    pub certificate: Option<CertificateSummary>,
    /// Proven, or the check that failed.
    pub verdict: std::result::Result<VerifiedEntry, Failure>,
}

impl EntryReport {
    /// Describe `ev` and prove it (see [`verify`]).
    pub fn new(ev: &Evidence, logs: &TrustedLogs, now: jiff::Timestamp, require_set: bool) -> Self {
        let description = describe(&ev.body);
        Self {
            uuid: ev.uuid.clone().unwrap_or_else(|| ev.leaf_hash().to_hex()),
            log_index: ev.log_index,
            log_id: hex(ev.log_id.as_bytes()),
            integrated_time: ev.integrated_time,
            certificate: description
                .certificates
                .first()
                .and_then(CertificateSummary::of),
            description,
            verdict: verify(ev, logs, now, require_set),
        }
    }
}

/// A v0.3 bundle for a Rekor v1 hashedrekord entry signed with a
/// certificate: the certificate, the logged signature over the logged
/// SHA-256 digest, and the entry. Also the digest and certificate.
pub fn bundle_for(
    raw: &sigstore_rekor::LogEntry,
) -> Result<(sigstore_types::Bundle, Sha256Hash, DerCertificate)> {
    use sigstore_rekor::body::RekorEntryBody as B;
    let (kind, version) = body_kind(raw.body.as_bytes());
    let unusable = |why: String| {
        Error::Usage(format!(
            "no bundle can be made from this entry: {why}; --bundle-out needs a hashedrekord 0.0.1 entry signed with a certificate over a SHA-256 digest"
        ))
    };
    let body = match sigstore_rekor::RekorEntryBody::from_json(raw.body.as_bytes(), &kind, &version)
    {
        Ok(B::HashedRekordV001(b)) => b,
        Ok(_) => return Err(unusable(format!("it is a {kind} {version} entry"))),
        Err(e) => return Err(unusable(e.to_string())),
    };
    if body.spec.data.hash.algorithm != sigstore_types::HashAlgorithm::Sha2256 {
        return Err(unusable(format!(
            "it logs a {} digest",
            body.spec.data.hash.algorithm.as_rekor_str()
        )));
    }
    let digest = body
        .spec
        .data
        .hash
        .value
        .to_sha256()
        .map_err(|e| unusable(e.to_string()))?;
    let cert = body
        .spec
        .signature
        .public_key
        .parse_certificate()
        .map_err(|_| unusable("it was signed with a public key, not a certificate".into()))?;
    let tlog = raw
        .to_bundle_entry(KindVersion::HashedRekordV001)
        .map_err(|e| unusable(e.to_string()))?;
    let bundle = sigstore_bundle::BundleV03::with_certificate_and_signature(
        cert.clone(),
        body.spec.signature.content.clone(),
        digest,
    )
    .with_tlog_entry(tlog)
    .into_bundle();
    Ok((bundle, digest, cert))
}

/// Why an entry the search index listed does not contain what was searched
/// for, when its body can tell. Rekor also indexes dsse and intoto entries
/// by their statements' subjects, which their bodies do not hold: those are
/// not second-guessed.
pub fn mismatch(body: &[u8], query: &SearchQuery) -> Option<String> {
    let d = describe(body);
    match query {
        SearchQuery::Sha256(want) => {
            let digest = d.digest.filter(|g| g.what == "artifact")?;
            (digest.algorithm != "sha256" || digest.hex != want.to_hex()).then(|| {
                format!(
                    "the entry is for {}:{}, not sha256:{}",
                    digest.algorithm,
                    digest.hex,
                    want.to_hex()
                )
            })
        }
        SearchQuery::PublicKey { spki, .. } => {
            let mut keys: Vec<DerPublicKey> = d
                .certificates
                .iter()
                .filter_map(|c| sigstore_crypto::parse_certificate_info(c).ok())
                .map(|i| i.public_key)
                .collect();
            keys.extend(d.public_keys);
            (!keys.is_empty() && !keys.contains(spki))
                .then(|| "no key or certificate in the entry is the one searched for".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_may_carry_a_tree_id() {
        let leaf = sigstore_merkle::hash_leaf(b"body");
        assert!(uuid_names(&leaf.to_hex(), &leaf));
        assert!(uuid_names(
            &format!("{}{}", "0".repeat(16), leaf.to_hex()),
            &leaf
        ));
        assert!(uuid_names(&leaf.to_hex().to_ascii_uppercase(), &leaf));
        assert!(!uuid_names(&leaf.to_hex()[1..], &leaf));
        assert!(!uuid_names(&"00".repeat(32), &leaf));
    }

    #[test]
    fn entry_documents_of_other_shapes_are_refused() {
        for doc in [
            "[]",
            "{}",
            r#"{"a": {"b": 1}}"#,
            r#"{"a": {"body": "x"}, "b": {}}"#,
            "not json",
        ] {
            assert!(Evidence::from_json(doc).is_err(), "{doc}");
        }
    }

    #[test]
    fn bodies_of_unknown_kinds_are_described_best_effort() {
        let body = serde_json::json!({"kind": "rekord", "apiVersion": "0.0.1", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": "AB"}},
            "signature": {"publicKey": {"content": B64.encode("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")}}}});
        let d = describe(body.to_string().as_bytes());
        assert_eq!((d.kind.as_str(), d.version.as_str()), ("rekord", "0.0.1"));
        assert_eq!(d.digest.unwrap().hex, "ab");
        assert_eq!(d.public_keys.len(), 1);
        let d = describe(b"\xff not json");
        assert_eq!(d.kind, "unknown");
        assert!(d.digest.is_none() && d.certificates.is_empty());
    }
}
