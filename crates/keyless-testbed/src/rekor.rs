//! The testbed's transparency logs: a Rekor v1 log (ECDSA, SETs, signed-note
//! checkpoints) and a Rekor v2 log (Ed25519 C2SP checkpoints, no SETs), each
//! over a real RFC 6962 Merkle tree.

use super::keys::{KeyKind, StoredKey, TestKey};
use super::merkle::MerkleTree;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Which Rekor API a log speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LogVersion {
    /// Rekor v1 (`/api/v1`): SETs, integrated times.
    V1,
    /// Rekor v2 / rekor-tiles (`/api/v2`): no SET, no integrated time.
    V2,
}

/// One logged entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoggedEntry {
    /// The canonicalized body, base64.
    pub body: String,
    /// Unix seconds at which it was integrated.
    pub integrated_time: i64,
    /// Entry kind (`hashedrekord`, `dsse`).
    pub kind: String,
    /// Entry version (`0.0.1`, `0.0.2`).
    pub version: String,
    /// The artifact digest the entry is indexed under (hex sha256).
    pub artifact_sha256: Option<String>,
    /// SPKI DER of the verifier (base64), for search by public key.
    pub verifier_spki: Option<String>,
}

/// Why a proposed entry was refused: HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status code.
    pub status: u16,
    /// Message for the JSON error body.
    pub message: String,
}

fn bad(message: impl Into<String>) -> Rejection {
    Rejection {
        status: 400,
        message: message.into(),
    }
}

/// A transparency log.
#[derive(Debug)]
pub struct TransparencyLog {
    version: LogVersion,
    key: TestKey,
    origin: String,
    signer_name: String,
    entries: Vec<LoggedEntry>,
    tree: MerkleTree,
    by_leaf: HashMap<String, usize>,
}

/// A log's keys and identity as stored on disk (entries are stored apart).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredLog {
    version: LogVersion,
    key: StoredKey,
    origin: String,
    signer_name: String,
}

impl TransparencyLog {
    /// A new empty log. `name` is the log's host-like name.
    pub fn generate(version: LogVersion, name: &str) -> Self {
        let (kind, origin) = match version {
            LogVersion::V1 => (KeyKind::EcdsaP256, format!("{name} - 1193050959916656506")),
            LogVersion::V2 => (KeyKind::Ed25519, name.to_string()),
        };
        Self::from_parts(version, TestKey::generate(kind), origin, name.to_string())
    }

    fn from_parts(version: LogVersion, key: TestKey, origin: String, signer_name: String) -> Self {
        Self {
            version,
            key,
            origin,
            signer_name,
            entries: Vec::new(),
            tree: MerkleTree::new(),
            by_leaf: HashMap::new(),
        }
    }

    /// The stored form of the log's identity.
    pub fn to_stored(&self) -> StoredLog {
        StoredLog {
            version: self.version,
            key: self.key.to_stored(),
            origin: self.origin.clone(),
            signer_name: self.signer_name.clone(),
        }
    }

    /// Rebuild a log from its stored identity and entries.
    pub fn from_stored(s: &StoredLog, entries: Vec<LoggedEntry>) -> Result<Self, String> {
        let mut log = Self::from_parts(
            s.version,
            TestKey::from_stored(&s.key)?,
            s.origin.clone(),
            s.signer_name.clone(),
        );
        for e in entries {
            let body = B64
                .decode(&e.body)
                .map_err(|e| format!("stored entry: {e}"))?;
            log.push(body, e);
        }
        Ok(log)
    }

    fn push(&mut self, body: Vec<u8>, entry: LoggedEntry) -> usize {
        let index = self.tree.append(&body) as usize;
        self.by_leaf.insert(leaf_uuid(&body), index);
        self.entries.push(entry);
        index
    }

    /// The log's version.
    pub fn version(&self) -> LogVersion {
        self.version
    }

    /// The checkpoint origin line.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The public key, DER SPKI.
    pub fn public_key_spki(&self) -> Vec<u8> {
        self.key.public_key_spki_der()
    }

    /// The log ID as the trusted root and entries name it: SHA-256 of the
    /// DER key for v1; for v2 the C2SP signed-note key ID
    /// `SHA-256(name || "\n" || 0x01 || key)`, whose first four bytes are the
    /// checkpoint signature's key hint.
    pub fn log_id(&self) -> [u8; 32] {
        let digest = match self.version {
            LogVersion::V1 => sigstore_crypto::sha256(&self.public_key_spki()),
            LogVersion::V2 => {
                let mut m = self.signer_name.as_bytes().to_vec();
                m.push(b'\n');
                m.push(0x01);
                m.extend_from_slice(&self.key.public_key_raw());
                sigstore_crypto::sha256(&m)
            }
        };
        let mut id = [0u8; 32];
        id.copy_from_slice(digest.as_bytes());
        id
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The tree's root hash at `size`.
    pub fn root_at(&self, size: u64) -> Option<sigstore_types::Sha256Hash> {
        self.tree.root_at(size)
    }

    /// The entries (for persistence and search).
    pub fn entries(&self) -> &[LoggedEntry] {
        &self.entries
    }

    /// Index of the entry with this UUID (hex leaf hash), if any.
    pub fn index_of(&self, uuid: &str) -> Option<usize> {
        // Rekor v1 entry IDs may carry a 16-hex-digit tree ID prefix.
        if !uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let uuid = if uuid.len() == 80 { &uuid[16..] } else { uuid };
        self.by_leaf.get(&uuid.to_ascii_lowercase()).copied()
    }

    /// Append a canonicalized body; `Err(index)` if it is already logged.
    pub fn append(&mut self, body: Vec<u8>, entry: LoggedEntry) -> Result<usize, usize> {
        if let Some(existing) = self.by_leaf.get(&leaf_uuid(&body)) {
            return Err(*existing);
        }
        Ok(self.push(body, entry))
    }

    /// A signed checkpoint (C2SP signed note) for the tree at `size`,
    /// optionally signed by `forger` instead of the log key.
    pub fn checkpoint(&self, size: u64, forger: Option<&TestKey>) -> String {
        let root = self.tree.root_at(size).unwrap_or_else(|| self.tree.root());
        self.sign_note(size, &root, forger)
    }

    /// A checkpoint for `size` claiming `root`, signed with the log's own key:
    /// what an equivocating log would publish.
    pub fn checkpoint_for_root(&self, size: u64, root: &sigstore_types::Sha256Hash) -> String {
        self.sign_note(size, root, None)
    }

    fn sign_note(
        &self,
        size: u64,
        root: &sigstore_types::Sha256Hash,
        forger: Option<&TestKey>,
    ) -> String {
        let note = format!("{}\n{size}\n{}\n", self.origin, B64.encode(root.as_bytes()));
        let key = forger.unwrap_or(&self.key);
        let mut sig = self.log_id()[..4].to_vec();
        sig.extend(key.sign(note.as_bytes()));
        format!(
            "{note}\n\u{2014} {} {}\n",
            self.signer_name,
            B64.encode(sig)
        )
    }

    /// The Rekor v1 SET over an entry, optionally signed by `forger`.
    pub fn set(&self, index: usize, forger: Option<&TestKey>) -> Vec<u8> {
        let e = &self.entries[index];
        let payload = json!({
            "body": e.body,
            "integratedTime": e.integrated_time,
            "logID": hex_encode(&self.log_id()),
            "logIndex": index,
        });
        // serde_json's map is ordered by key and compact: RFC 8785 for this shape.
        forger
            .unwrap_or(&self.key)
            .sign(payload.to_string().as_bytes())
    }

    /// The UUID (hex leaf hash) of entry `index`.
    pub fn uuid(&self, index: usize) -> String {
        let body = B64.decode(&self.entries[index].body).unwrap_or_default();
        leaf_uuid(&body)
    }

    /// The inclusion proof hashes of `index` in the current tree.
    pub fn inclusion_hashes(&self, index: usize) -> Vec<sigstore_types::Sha256Hash> {
        self.tree
            .inclusion_proof(index as u64, self.size())
            .unwrap_or_default()
    }

    /// The consistency proof between two tree sizes.
    pub fn consistency(&self, old: u64, new: u64) -> Option<Vec<sigstore_types::Sha256Hash>> {
        self.tree.consistency_proof(old, new)
    }
}

/// A log fault to inject into the answers of this log.
#[derive(Debug, Default, Clone, Copy)]
pub struct AnswerFaults<'a> {
    /// Sign checkpoints with this key instead.
    pub checkpoint_forger: Option<&'a TestKey>,
    /// Sign SETs with this key instead.
    pub set_forger: Option<&'a TestKey>,
    /// Corrupt the inclusion proof.
    pub wrong_proof: bool,
}

impl TransparencyLog {
    /// The Rekor v1 `LogEntry` answer for `index`: `{uuid: {...}}`.
    pub fn v1_entry_json(&self, index: usize, faults: AnswerFaults<'_>) -> Value {
        let e = &self.entries[index];
        let size = self.size();
        let mut hashes: Vec<String> = self
            .inclusion_hashes(index)
            .iter()
            .map(|h| h.to_hex())
            .collect();
        if faults.wrong_proof {
            corrupt_proof(&mut hashes, true);
        }
        let root = self.tree.root_at(size).unwrap_or_else(|| self.tree.root());
        json!({ self.uuid(index): {
            "body": e.body,
            "integratedTime": e.integrated_time,
            "logID": hex_encode(&self.log_id()),
            "logIndex": index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": self.checkpoint(size, faults.checkpoint_forger),
                    "hashes": hashes,
                    "logIndex": index,
                    "rootHash": root.to_hex(),
                    "treeSize": size,
                },
                "signedEntryTimestamp": B64.encode(self.set(index, faults.set_forger)),
            },
        }})
    }

    /// The Rekor v2 answer for `index`: a bundle `TransparencyLogEntry`.
    pub fn v2_entry_json(&self, index: usize, faults: AnswerFaults<'_>) -> Value {
        let e = &self.entries[index];
        let size = self.size();
        let mut hashes: Vec<String> = self
            .inclusion_hashes(index)
            .iter()
            .map(|h| B64.encode(h.as_bytes()))
            .collect();
        if faults.wrong_proof {
            corrupt_proof(&mut hashes, false);
        }
        let root = self.tree.root_at(size).unwrap_or_else(|| self.tree.root());
        // rekor-tiles marshals with EmitUnpopulated: integratedTime "0" and
        // a null inclusionPromise are present.
        json!({
            "logIndex": index.to_string(),
            "logId": {"keyId": B64.encode(self.log_id())},
            "kindVersion": {"kind": e.kind, "version": e.version},
            "integratedTime": "0",
            "inclusionPromise": null,
            "inclusionProof": {
                "logIndex": index.to_string(),
                "rootHash": B64.encode(root.as_bytes()),
                "treeSize": size.to_string(),
                "hashes": hashes,
                "checkpoint": {"envelope": self.checkpoint(size, faults.checkpoint_forger)},
            },
            "canonicalizedBody": e.body,
        })
    }
}

fn corrupt_proof(hashes: &mut Vec<String>, hex: bool) {
    let zero = if hex {
        "00".repeat(32)
    } else {
        B64.encode([0u8; 32])
    };
    match hashes.first_mut() {
        Some(h) => *h = zero,
        None => hashes.push(zero),
    }
}

/// Lower-case hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn leaf_uuid(body: &[u8]) -> String {
    sigstore_merkle::hash_leaf(body).to_hex()
}

// ---------------------------------------------------------------------------
// Proposed entries: validation and canonicalization
// ---------------------------------------------------------------------------

/// A validated entry ready to log.
#[derive(Debug)]
pub struct Canonical {
    /// Canonicalized body bytes.
    pub body: Vec<u8>,
    /// Kind.
    pub kind: &'static str,
    /// Version.
    pub version: &'static str,
    /// Artifact digest (hex sha256) for the search index.
    pub artifact_sha256: Option<String>,
    /// Verifier SPKI DER for the search index.
    pub verifier_spki: Option<Vec<u8>>,
}

/// The SPKI of a PEM certificate or PEM public key, and whether it was a cert.
/// The SPKI of a PEM certificate or public key, and the PEM re-encoded the
/// way Rekor stores it (Go's `pem.Encode`: LF line ends, 64 columns), so the
/// logged body does not depend on how the client wrapped its PEM.
fn spki_of_pem(pem_text: &str) -> Result<(Vec<u8>, String), Rejection> {
    if let Ok(cert) = sigstore_types::DerCertificate::from_pem(pem_text) {
        let canonical = super::keys::pem_encode("CERTIFICATE", cert.as_bytes());
        return Ok((spki_of_cert(cert.as_bytes())?, canonical));
    }
    sigstore_types::DerPublicKey::from_pem(pem_text)
        .map(|k| {
            (
                k.as_bytes().to_vec(),
                super::keys::pem_encode("PUBLIC KEY", k.as_bytes()),
            )
        })
        .map_err(|e| {
            bad(format!(
                "verifier is neither a PEM certificate nor a public key: {e}"
            ))
        })
}

fn spki_of_cert(der_bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(der_bytes)
        .map_err(|e| bad(format!("certificate does not parse: {e}")))?;
    cert.tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| bad(format!("certificate key: {e}")))
}

fn verify_prehashed(spki: &[u8], digest: &[u8], sig: &[u8]) -> Result<(), Rejection> {
    let key = sigstore_types::DerPublicKey::new(spki.to_vec());
    let alg = sigstore_crypto::KeyAlgorithm::from_spki(&key)
        .map_err(|e| bad(format!("unsupported key: {e}")))?;
    sigstore_crypto::verify_signature_prehashed(
        &key,
        digest,
        &sigstore_types::SignatureBytes::new(sig.to_vec()),
        alg.default_signing_scheme(),
    )
    .map_err(|e| bad(format!("signature does not verify over the digest: {e}")))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, Rejection> {
    let mut cur = v;
    for p in path {
        cur = cur
            .get(*p)
            .ok_or_else(|| bad(format!("missing field {}", path.join("."))))?;
    }
    cur.as_str()
        .ok_or_else(|| bad(format!("field {} must be a string", path.join("."))))
}

fn b64(v: &str, what: &str) -> Result<Vec<u8>, Rejection> {
    B64.decode(v)
        .map_err(|e| bad(format!("{what} is not base64: {e}")))
}

/// Validate and canonicalize a Rekor v1 proposed entry (hashedrekord or dsse 0.0.1).
pub fn canonicalize_v1(proposed: &Value) -> Result<Canonical, Rejection> {
    let kind = str_at(proposed, &["kind"])?;
    let api = str_at(proposed, &["apiVersion"])?;
    match (kind, api) {
        ("hashedrekord", "0.0.1") => {
            let alg = str_at(proposed, &["spec", "data", "hash", "algorithm"])?;
            if alg != "sha256" {
                return Err(bad(format!("unsupported hash algorithm {alg:?}")));
            }
            let hex = str_at(proposed, &["spec", "data", "hash", "value"])?.to_ascii_lowercase();
            let digest = sigstore_types::Sha256Hash::from_hex(&hex)
                .map_err(|e| bad(format!("hash value: {e}")))?;
            let sig_b64 = str_at(proposed, &["spec", "signature", "content"])?;
            let sig = b64(sig_b64, "signature")?;
            let key_b64 = str_at(proposed, &["spec", "signature", "publicKey", "content"])?;
            let pem = String::from_utf8(b64(key_b64, "publicKey")?)
                .map_err(|_| bad("publicKey is not PEM text"))?;
            let (spki, canonical_pem) = spki_of_pem(&pem)?;
            verify_prehashed(&spki, digest.as_bytes(), &sig)?;
            let body = json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": hex}},
                    "signature": {"content": B64.encode(&sig), "publicKey": {"content": B64.encode(canonical_pem)}},
                },
            });
            Ok(Canonical {
                body: body.to_string().into_bytes(),
                kind: "hashedrekord",
                version: "0.0.1",
                artifact_sha256: Some(hex),
                verifier_spki: Some(spki),
            })
        }
        ("dsse", "0.0.1") => {
            let envelope_text = str_at(proposed, &["spec", "proposedContent", "envelope"])?;
            let envelope: Value = serde_json::from_str(envelope_text)
                .map_err(|e| bad(format!("envelope is not JSON: {e}")))?;
            let payload = b64(str_at(&envelope, &["payload"])?, "payload")?;
            let payload_type = str_at(&envelope, &["payloadType"])?;
            let verifiers = proposed["spec"]["proposedContent"]["verifiers"]
                .as_array()
                .ok_or_else(|| bad("missing spec.proposedContent.verifiers"))?;
            let sigs = envelope["signatures"]
                .as_array()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad("envelope has no signatures"))?;
            let pae = sigstore_types::pae(payload_type, &payload);
            let mut signatures = Vec::new();
            let mut first_spki = None;
            for s in sigs {
                let sig = b64(str_at(s, &["sig"])?, "signature")?;
                // Each signature must verify with one of the verifiers.
                let mut matched = None;
                for v in verifiers {
                    let v = v.as_str().ok_or_else(|| bad("verifiers must be strings"))?;
                    let pem = String::from_utf8(b64(v, "verifier")?)
                        .map_err(|_| bad("verifier is not PEM text"))?;
                    let (spki, canonical_pem) = spki_of_pem(&pem)?;
                    let key = sigstore_types::DerPublicKey::new(spki.clone());
                    let Ok(alg) = sigstore_crypto::KeyAlgorithm::from_spki(&key) else {
                        continue;
                    };
                    if sigstore_crypto::verify_signature(
                        &key,
                        &pae,
                        &sigstore_types::SignatureBytes::new(sig.clone()),
                        alg.default_signing_scheme(),
                    )
                    .is_ok()
                    {
                        matched = Some((B64.encode(canonical_pem), spki));
                        break;
                    }
                }
                let (verifier, spki) =
                    matched.ok_or_else(|| bad("a DSSE signature verifies with no verifier"))?;
                first_spki.get_or_insert(spki);
                signatures.push(json!({"signature": B64.encode(&sig), "verifier": verifier}));
            }
            let payload_hex = sigstore_crypto::sha256(&payload).to_hex();
            let body = json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {"algorithm": "sha256", "value": sigstore_crypto::sha256(envelope_text.as_bytes()).to_hex()},
                    "payloadHash": {"algorithm": "sha256", "value": payload_hex},
                    "signatures": signatures,
                },
            });
            Ok(Canonical {
                body: body.to_string().into_bytes(),
                kind: "dsse",
                version: "0.0.1",
                artifact_sha256: Some(payload_hex),
                verifier_spki: first_spki,
            })
        }
        _ => Err(bad(format!(
            "unsupported entry kind {kind:?} version {api:?} (hashedrekord and dsse 0.0.1 are)"
        ))),
    }
}

/// The SPKI of a Rekor v2 verifier (`{x509Certificate|publicKey: {rawBytes}, keyDetails}`)
/// and its canonical JSON.
fn v2_verifier(verifier: &Value) -> Result<(Vec<u8>, Value), Rejection> {
    let (spki, json) = v2_verifier_unchecked(verifier)?;
    // rekor-tiles refuses a keyDetails that does not describe the key.
    let key_details = str_at(verifier, &["keyDetails"])?;
    let alg =
        sigstore_crypto::KeyAlgorithm::from_spki(&sigstore_types::DerPublicKey::new(spki.clone()))
            .map_err(|e| bad(format!("verifier key: {e}")))?;
    let expected = match alg {
        sigstore_crypto::KeyAlgorithm::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        sigstore_crypto::KeyAlgorithm::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
        sigstore_crypto::KeyAlgorithm::Ed25519 => "PKIX_ED25519",
        _ => return Err(bad("unsupported verifier key type")),
    };
    if key_details != expected {
        return Err(bad(format!(
            "keyDetails {key_details} does not match the key ({expected})"
        )));
    }
    Ok((spki, json))
}

fn v2_verifier_unchecked(verifier: &Value) -> Result<(Vec<u8>, Value), Rejection> {
    let key_details = str_at(verifier, &["keyDetails"])?;
    if let Ok(raw) = str_at(verifier, &["x509Certificate", "rawBytes"]) {
        let der_bytes = b64(raw, "x509Certificate.rawBytes")?;
        Ok((
            spki_of_cert(&der_bytes)?,
            json!({"keyDetails": key_details, "x509Certificate": {"rawBytes": B64.encode(&der_bytes)}}),
        ))
    } else {
        let raw = str_at(verifier, &["publicKey", "rawBytes"])?;
        let der_bytes = b64(raw, "publicKey.rawBytes")?;
        Ok((
            der_bytes.clone(),
            json!({"keyDetails": key_details, "publicKey": {"rawBytes": B64.encode(&der_bytes)}}),
        ))
    }
}

/// Validate and canonicalize a Rekor v2 request: `hashedRekordRequestV002`
/// (hashedrekord 0.0.2) or `dsseRequestV002` (dsse 0.0.2), as rekor-tiles does.
pub fn canonicalize_v2(request: &Value) -> Result<Canonical, Rejection> {
    if let Some(req) = request.get("dsseRequestV002") {
        return canonicalize_dsse_v2(req);
    }
    let Some(req) = request.get("hashedRekordRequestV002") else {
        return Err(bad("expected hashedRekordRequestV002 or dsseRequestV002"));
    };
    let digest = b64(str_at(req, &["digest"])?, "digest")?;
    if digest.len() != 32 {
        return Err(bad("digest must be a SHA-256 digest (32 bytes)"));
    }
    let sig = b64(str_at(req, &["signature", "content"])?, "signature")?;
    let (spki, verifier_json) = v2_verifier(&req["signature"]["verifier"])?;
    verify_prehashed(&spki, &digest, &sig)?;
    let body = json!({
        "apiVersion": "0.0.2",
        "kind": "hashedrekord",
        "spec": {"hashedRekordV002": {
            "data": {"algorithm": "SHA2_256", "digest": B64.encode(&digest)},
            "signature": {"content": B64.encode(&sig), "verifier": verifier_json},
        }},
    });
    Ok(Canonical {
        body: body.to_string().into_bytes(),
        kind: "hashedrekord",
        version: "0.0.2",
        artifact_sha256: Some(hex_encode(&digest)),
        verifier_spki: Some(spki),
    })
}

fn canonicalize_dsse_v2(req: &Value) -> Result<Canonical, Rejection> {
    let envelope = &req["envelope"];
    let payload = b64(str_at(envelope, &["payload"])?, "envelope.payload")?;
    let payload_type = str_at(envelope, &["payloadType"])?;
    let sigs = envelope["signatures"]
        .as_array()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("envelope has no signatures"))?;
    let verifiers = req["verifiers"]
        .as_array()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad("dsseRequestV002 needs verifiers"))?;
    let verifiers: Vec<(Vec<u8>, Value)> = verifiers
        .iter()
        .map(v2_verifier)
        .collect::<Result<_, _>>()?;
    let pae = sigstore_types::pae(payload_type, &payload);
    let mut signatures = Vec::new();
    for s in sigs {
        let sig = b64(str_at(s, &["sig"])?, "signature")?;
        let (_, verifier) = verifiers
            .iter()
            .find(|(spki, _)| {
                let key = sigstore_types::DerPublicKey::new(spki.clone());
                sigstore_crypto::KeyAlgorithm::from_spki(&key).is_ok_and(|alg| {
                    sigstore_crypto::verify_signature(
                        &key,
                        &pae,
                        &sigstore_types::SignatureBytes::new(sig.clone()),
                        alg.default_signing_scheme(),
                    )
                    .is_ok()
                })
            })
            .ok_or_else(|| bad("a DSSE signature verifies with no verifier"))?;
        signatures.push(json!({"content": B64.encode(&sig), "verifier": verifier}));
    }
    let payload_digest = sigstore_crypto::sha256(&payload);
    let body = json!({
        "apiVersion": "0.0.2",
        "kind": "dsse",
        "spec": {"dsseV002": {
            "payloadHash": {"algorithm": "SHA2_256", "digest": B64.encode(payload_digest.as_bytes())},
            "signatures": signatures,
        }},
    });
    Ok(Canonical {
        body: body.to_string().into_bytes(),
        kind: "dsse",
        version: "0.0.2",
        artifact_sha256: Some(payload_digest.to_hex()),
        verifier_spki: verifiers.first().map(|(k, _)| k.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hashedrekord(key: &TestKey, data: &[u8]) -> Value {
        let digest = sigstore_crypto::sha256(data);
        let sig = key.sign(data);
        json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest.to_hex()}},
            "signature": {"content": B64.encode(sig), "publicKey": {"content": B64.encode(key.public_key_pem())}},
        }})
    }

    fn logged(c: &Canonical, now: i64) -> LoggedEntry {
        LoggedEntry {
            body: B64.encode(&c.body),
            integrated_time: now,
            kind: c.kind.into(),
            version: c.version.into(),
            artifact_sha256: c.artifact_sha256.clone(),
            verifier_spki: None,
        }
    }

    #[test]
    fn v1_entries_prove_inclusion_and_checkpoints_and_sets_verify() {
        let key = TestKey::generate(KeyKind::EcdsaP256);
        let mut log = TransparencyLog::generate(LogVersion::V1, "rekor.testbed");
        let proposals: Vec<Value> = (0..5u8).map(|i| hashedrekord(&key, &[i])).collect();
        for p in &proposals {
            let c = canonicalize_v1(p).unwrap();
            log.append(c.body.clone(), logged(&c, 1_700_000_000))
                .unwrap();
        }
        // ECDSA signatures are randomized: only the same proposal is a duplicate.
        let c = canonicalize_v1(&proposals[2]).unwrap();
        assert_eq!(
            log.append(c.body.clone(), logged(&c, 0)),
            Err(2),
            "duplicate is refused"
        );

        let answer = log.v1_entry_json(3, AnswerFaults::default());
        let (uuid, e) = answer.as_object().unwrap().iter().next().unwrap();
        assert_eq!(log.index_of(uuid), Some(3));
        let proof = &e["verification"]["inclusionProof"];
        let hashes: Vec<_> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| sigstore_types::Sha256Hash::from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        let body = B64.decode(e["body"].as_str().unwrap()).unwrap();
        let root =
            sigstore_types::Sha256Hash::from_hex(proof["rootHash"].as_str().unwrap()).unwrap();
        sigstore_merkle::verify_inclusion_proof(
            &sigstore_merkle::hash_leaf(&body),
            3,
            5,
            &hashes,
            &root,
        )
        .unwrap();
        // The checkpoint parses and carries the same root and size.
        let cp =
            sigstore_types::Checkpoint::from_text(proof["checkpoint"].as_str().unwrap()).unwrap();
        assert_eq!(cp.tree_size(), 5);
        assert_eq!(cp.root_hash(), &root);
    }

    #[test]
    fn bad_proposals_are_400s() {
        let key = TestKey::generate(KeyKind::EcdsaP256);
        let mut p = hashedrekord(&key, b"data");
        p["spec"]["data"]["hash"]["value"] = json!(sigstore_crypto::sha256(b"other").to_hex());
        assert_eq!(canonicalize_v1(&p).unwrap_err().status, 400);
        for v in [
            json!({}),
            json!([]),
            json!({"kind": "rekord", "apiVersion": "0.0.1"}),
            json!("x"),
        ] {
            assert_eq!(canonicalize_v1(&v).unwrap_err().status, 400);
            assert_eq!(canonicalize_v2(&v).unwrap_err().status, 400);
        }
    }

    #[test]
    fn dsse_v2_requests_are_checked_and_canonicalized() {
        let key = TestKey::generate(KeyKind::EcdsaP256);
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let pae = sigstore_types::pae("application/vnd.in-toto+json", payload);
        let sig = key.sign(&pae);
        let verifier = json!({"keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "publicKey": {"rawBytes": B64.encode(key.public_key_spki_der())}});
        let mut req = json!({"dsseRequestV002": {
            "envelope": {"payload": B64.encode(payload), "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": B64.encode(&sig), "keyid": ""}]},
            "verifiers": [verifier],
        }});
        let c = canonicalize_v2(&req).unwrap();
        assert_eq!((c.kind, c.version), ("dsse", "0.0.2"));
        let body: Value = serde_json::from_slice(&c.body).unwrap();
        assert_eq!(
            body["spec"]["dsseV002"]["payloadHash"]["digest"],
            B64.encode(sigstore_crypto::sha256(payload).as_bytes())
        );
        // A signature over something else is refused.
        req["dsseRequestV002"]["envelope"]["payloadType"] = json!("text/plain");
        assert_eq!(canonicalize_v2(&req).unwrap_err().status, 400);
    }

    #[test]
    fn v2_log_id_hint_matches_checkpoint_signature() {
        let log = TransparencyLog::generate(LogVersion::V2, "log2026.rekor.testbed");
        let cp = log.checkpoint(0, None);
        let sig_b64 = cp.trim_end().rsplit(' ').next().unwrap();
        let sig = B64.decode(sig_b64).unwrap();
        assert_eq!(&sig[..4], &log.log_id()[..4]);
        assert_eq!(sig.len(), 4 + 64, "Ed25519 signature after the key hint");
    }
}
