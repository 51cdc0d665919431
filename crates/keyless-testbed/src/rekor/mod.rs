//! The testbed's transparency logs: a Rekor v1 log (ECDSA, SETs, signed-note
//! checkpoints) and a Rekor v2 log (Ed25519 C2SP checkpoints, no SETs), each
//! over a real RFC 6962 Merkle tree. Proposed entries are validated and
//! canonicalized in `canonical`.

mod canonical;

pub use crate::util::hex_encode;
pub(crate) use canonical::spki_of_cert;
pub use canonical::{Canonical, Rejection, canonicalize_v1, canonicalize_v2};

use crate::keys::{KeyKind, StoredKey, TestKey};
use crate::merkle::MerkleTree;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The Rekor v1 log's (Trillian) tree ID: it ends the checkpoint origin
/// and prefixes entry IDs, as in a sharded Rekor v1.
pub const TREE_ID: u64 = 1_193_050_959_916_656_506;

/// Hashes per full tile and entries per full entry bundle (C2SP tlog-tiles).
pub const TILE_WIDTH: u64 = 256;

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

impl LoggedEntry {
    /// The entry for `c` integrated at `now`, and the body to log.
    pub fn from_canonical(c: Canonical, now: i64) -> (Vec<u8>, Self) {
        let entry = Self {
            body: B64.encode(&c.body),
            integrated_time: now,
            kind: c.kind.to_string(),
            version: c.version.to_string(),
            artifact_sha256: c.artifact_sha256,
            verifier_spki: c.verifier_spki.map(|k| B64.encode(k)),
        };
        (c.body, entry)
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
    /// A new empty log. `name` is the log's host-like name: for Rekor v2,
    /// the host of the URL clients know the log by (see [`Self::named`]).
    pub fn generate(version: LogVersion, name: &str) -> Self {
        let kind = match version {
            LogVersion::V1 => KeyKind::EcdsaP256,
            LogVersion::V2 => KeyKind::Ed25519,
        };
        Self::with_key(version, TestKey::generate(kind), name)
    }

    /// A new empty log signing with `key` (a Rekor v2 log may use Ed25519
    /// or ECDSA, as rekor-tiles can).
    pub fn with_key(version: LogVersion, key: TestKey, name: &str) -> Self {
        let origin = match version {
            LogVersion::V1 => format!("{name} - {TREE_ID}"),
            LogVersion::V2 => name.to_string(),
        };
        Self::from_parts(version, key, origin, name.to_string())
    }

    /// The same Rekor v2 log, named `name`. A Rekor v2 log's checkpoint
    /// origin and key name are its public hostname (rekor-tiles'
    /// `--hostname`), and verifiers (sigstore-go, cosign) expect the host of
    /// the trust root's `baseUrl`: the name follows the URL the testbed
    /// serves on. A Rekor v1 log keeps its name.
    pub fn named(mut self, name: &str) -> Self {
        if self.version == LogVersion::V2 {
            self.origin = name.to_string();
            self.signer_name = name.to_string();
        }
        self
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

    /// The log ID as the trusted root and entries name it; its first four
    /// bytes are the checkpoint signature's key hash. As rekor-tiles'
    /// `note.KeyHash`: for an Ed25519 key the C2SP signed-note key ID
    /// `SHA-256(key name || "\n" || 0x01 || 32-byte key)`; for an ECDSA key
    /// (every Rekor v1 log, and a Rekor v2 log so configured) SHA-256 of the
    /// DER SPKI, which signed-note leaves to the key type.
    pub fn log_id(&self) -> [u8; 32] {
        let digest = match self.key.kind() {
            KeyKind::Ed25519 => {
                let mut m = self.signer_name.as_bytes().to_vec();
                m.push(b'\n');
                m.push(0x01);
                m.extend_from_slice(&self.key.public_key_raw());
                sigstore_crypto::sha256(&m)
            }
            KeyKind::EcdsaP256 | KeyKind::Rsa2048 => {
                sigstore_crypto::sha256(&self.public_key_spki())
            }
        };
        *digest.as_bytes()
    }

    /// The key's kind (for the trust root's `keyDetails`).
    pub fn key_kind(&self) -> KeyKind {
        self.key.kind()
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

    /// Log a genesis entry if the log is empty; whether it did. Real logs
    /// are never seen at size 1 (a one-leaf tree has an empty inclusion
    /// proof, which Go clients refuse), so no user entry of a testbed log
    /// is index 0 either. The entry is a well-formed hashedrekord (signed
    /// by a throwaway key) like any other, so every reader can parse it.
    pub fn ensure_genesis(&mut self, now: i64) -> Result<bool, String> {
        if !self.entries.is_empty() {
            return Ok(false);
        }
        let key = TestKey::generate(KeyKind::EcdsaP256);
        let data = format!("genesis of the keyless-testbed log {}", self.origin);
        let digest = sigstore_crypto::sha256(data.as_bytes());
        let sig = key.sign(data.as_bytes());
        let c = match self.version {
            LogVersion::V1 => canonicalize_v1(&json!({
                "apiVersion": "0.0.1", "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": digest.to_hex()}},
                    "signature": {"content": B64.encode(&sig),
                        "publicKey": {"content": B64.encode(key.public_key_pem())}},
                },
            })),
            LogVersion::V2 => canonicalize_v2(&json!({"hashedRekordRequestV002": {
                "digest": B64.encode(digest.as_bytes()),
                "signature": {"content": B64.encode(&sig), "verifier": {
                    "publicKey": {"rawBytes": B64.encode(key.public_key_spki_der())},
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                }},
            }})),
        }
        .map_err(|r| format!("genesis entry: {}", r.message))?;
        let (body, entry) = LoggedEntry::from_canonical(c, now);
        self.push(body, entry);
        Ok(true)
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
        self.sign_note_as(&self.origin, size, root, forger)
    }

    /// [`Self::sign_note`] with another origin line (another shard's tree).
    fn sign_note_as(
        &self,
        origin: &str,
        size: u64,
        root: &sigstore_types::Sha256Hash,
        forger: Option<&TestKey>,
    ) -> String {
        let note = format!("{origin}\n{size}\n{}\n", B64.encode(root.as_bytes()));
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
        self.set_claiming(index, index, forger)
    }

    /// The SET over entry `index` as if it were at log index `claimed`.
    fn set_claiming(&self, index: usize, claimed: usize, forger: Option<&TestKey>) -> Vec<u8> {
        let e = &self.entries[index];
        let payload = json!({
            "body": e.body,
            "integratedTime": e.integrated_time,
            "logID": hex_encode(&self.log_id()),
            "logIndex": claimed,
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

    /// The entry ID of entry `index` as a sharded Rekor v1 names it: the
    /// tree ID (16 hex digits) then the UUID.
    pub fn entry_id(&self, index: usize) -> String {
        format!("{TREE_ID:016x}{}", self.uuid(index))
    }

    /// The inclusion proof hashes of `index` in the current tree.
    pub fn inclusion_hashes(&self, index: usize) -> Vec<sigstore_types::Sha256Hash> {
        self.tree
            .inclusion_proof(index as u64, self.size())
            .unwrap_or_default()
    }

    /// Tile `index` of level `level` (C2SP tlog-tiles), `width` hashes
    /// (1 to 256) wide: the hashes of the complete subtrees of 256^level
    /// leaves at positions `index * 256 ..`, concatenated; `None` past what
    /// the tree holds. With `forked`, the tile of [`Self::forked_tree`]
    /// (leaf 0 replaced) instead.
    pub fn tile(&self, level: u32, index: u64, width: u64, forked: bool) -> Option<Vec<u8>> {
        if !(1..=TILE_WIDTH).contains(&width) {
            return None;
        }
        let fork;
        let tree = if forked {
            fork = self.forked_tree(self.size(), 0);
            &fork
        } else {
            &self.tree
        };
        let first = index.checked_mul(TILE_WIDTH)?;
        let mut out = Vec::with_capacity(32 * width as usize);
        for i in first..first.checked_add(width)? {
            out.extend_from_slice(tree.node(level.checked_mul(8)?, i)?.as_bytes());
        }
        Some(out)
    }

    /// A fork of the log: its first `size` entries, with another leaf in
    /// place of leaf `replaced`. What an equivocating log proves entries in.
    fn forked_tree(&self, size: u64, replaced: u64) -> MerkleTree {
        let mut tree = MerkleTree::new();
        for (i, e) in self.entries.iter().enumerate().take(size as usize) {
            if i as u64 == replaced {
                tree.append(format!("forked leaf {i}").as_bytes());
            } else {
                tree.append(&B64.decode(&e.body).unwrap_or_default());
            }
        }
        tree
    }

    /// Entry bundle `index` (C2SP tlog-tiles), `width` entries wide: each
    /// logged body after its length as a big-endian u16; with `corrupt`,
    /// each body's middle byte changed.
    pub fn entry_bundle(&self, index: u64, width: u64, corrupt: bool) -> Option<Vec<u8>> {
        if !(1..=TILE_WIDTH).contains(&width) {
            return None;
        }
        let first = usize::try_from(index.checked_mul(TILE_WIDTH)?).ok()?;
        let entries = self
            .entries
            .get(first..first.checked_add(width as usize)?)?;
        let mut out = Vec::new();
        for e in entries {
            let mut body = B64.decode(&e.body).ok()?;
            if corrupt && !body.is_empty() {
                let middle = body.len() / 2;
                body[middle] ^= 0x20;
            }
            out.extend_from_slice(&u16::try_from(body.len()).ok()?.to_be_bytes());
            out.extend_from_slice(&body);
        }
        Some(out)
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
    /// Prove entries in a fork of the log (see [`crate::faults::Fault::ForkedProof`]).
    pub forked_proof: bool,
    /// Prove entries in the tree this many entries smaller, when it holds them.
    pub stale_by: u64,
    /// Sign the entries' checkpoints under another shard's origin.
    pub other_shard: bool,
}

impl TransparencyLog {
    /// The tree size an entry is proven in (the current one, or a smaller
    /// one for a stale-proof fault), the inclusion proof of `index` in it
    /// with each hash encoded by `encode` (its first hash zeroed for a
    /// wrong-proof fault), the root hash, and the checkpoint signing it (in
    /// a fork of the log for a forked-proof fault).
    fn proof(
        &self,
        index: usize,
        faults: AnswerFaults<'_>,
        encode: impl Fn(&[u8]) -> String,
    ) -> (u64, Vec<String>, sigstore_types::Sha256Hash, String) {
        let mut size = self.size();
        if size.saturating_sub(faults.stale_by) > index as u64 {
            size -= faults.stale_by;
        }
        let fork;
        let tree = if faults.forked_proof {
            let replaced = if index == 0 {
                size.saturating_sub(1)
            } else {
                0
            };
            fork = self.forked_tree(size, replaced);
            &fork
        } else {
            &self.tree
        };
        let mut hashes: Vec<String> = tree
            .inclusion_proof(index as u64, size)
            .unwrap_or_default()
            .iter()
            .map(|h| encode(h.as_bytes()))
            .collect();
        if faults.wrong_proof {
            let zero = encode(&[0u8; 32]);
            match hashes.first_mut() {
                Some(h) => *h = zero,
                None => hashes.push(zero),
            }
        }
        let root = tree.root_at(size).unwrap_or_else(|| tree.root());
        let origin = match faults.other_shard {
            true => format!("{} - 1", self.signer_name),
            false => self.origin.clone(),
        };
        let checkpoint = self.sign_note_as(&origin, size, &root, faults.checkpoint_forger);
        (size, hashes, root, checkpoint)
    }

    /// The Rekor v1 `LogEntry` answer for `index`: `{uuid: {...}}`.
    pub fn v1_entry_json(&self, index: usize, faults: AnswerFaults<'_>) -> Value {
        self.v1_entry_json_claiming(index, index, faults)
    }

    /// [`Self::v1_entry_json`] for entry `index` filed at log index
    /// `claimed` (its SET signed for that index, its proof still for its
    /// own leaf): a log misnumbering an entry.
    pub fn v1_entry_json_claiming(
        &self,
        index: usize,
        claimed: usize,
        faults: AnswerFaults<'_>,
    ) -> Value {
        let e = &self.entries[index];
        let (size, hashes, root, checkpoint) = self.proof(index, faults, hex_encode);
        json!({ self.entry_id(index): {
            "body": e.body,
            "integratedTime": e.integrated_time,
            "logID": hex_encode(&self.log_id()),
            "logIndex": claimed,
            "verification": {
                "inclusionProof": {
                    "checkpoint": checkpoint,
                    "hashes": hashes,
                    "logIndex": index,
                    "rootHash": root.to_hex(),
                    "treeSize": size,
                },
                "signedEntryTimestamp": B64.encode(self.set_claiming(index, claimed, faults.set_forger)),
            },
        }})
    }

    /// The Rekor v2 answer for `index`: a bundle `TransparencyLogEntry`.
    pub fn v2_entry_json(&self, index: usize, faults: AnswerFaults<'_>) -> Value {
        let e = &self.entries[index];
        let (size, hashes, root, checkpoint) = self.proof(index, faults, |h| B64.encode(h));
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
                "checkpoint": {"envelope": checkpoint},
            },
            "canonicalizedBody": e.body,
        })
    }
}

fn leaf_uuid(body: &[u8]) -> String {
    sigstore_merkle::hash_leaf(body).to_hex()
}

#[cfg(test)]
mod tests;
