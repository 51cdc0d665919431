//! An entry's log evidence, read from whatever JSON form it came in: a
//! Rekor v1 API answer or a bundle's `TransparencyLogEntry`.

use serde_json::Value;
use sigstore_types::{KindVersion, Sha256Hash, TransparencyLogEntry};

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
    pub(crate) fn from_log_entry(
        e: &sigstore_rekor::LogEntry,
    ) -> std::result::Result<Self, String> {
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
    pub(crate) fn from_tlog_entry(e: &TransparencyLogEntry) -> std::result::Result<Self, String> {
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
    pub(crate) fn from_json(text: &str) -> std::result::Result<Self, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
