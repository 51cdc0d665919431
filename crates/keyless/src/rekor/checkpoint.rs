//! Checkpoints (signed tree heads): their signatures, and consistency
//! between two of them.
//!
//! A checkpoint is a C2SP signed note: origin, tree size, root hash, then
//! signature lines whose first four bytes are the signing key's hint (the
//! first four bytes of the log ID). Parsing is `sigstore-types`'s, signature
//! checks `sigstore-crypto`'s, consistency proofs `sigstore-merkle`'s.

use super::{Failure, Step, TrustedLogs, hex};
use sigstore_types::{Checkpoint, Sha256Hash};

/// The log's answer to `GET /api/v1/log`, as sent.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LogInfoWire {
    root_hash: String,
    tree_size: u64,
    signed_tree_head: String,
    #[serde(rename = "treeID", default)]
    tree_id: Option<serde_json::Value>,
    /// `null` from a Rekor with a single shard (its model has no
    /// `omitempty`), a list from a sharded one.
    #[serde(default)]
    inactive_shards: Option<Vec<InactiveShardWire>>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct InactiveShardWire {
    tree_size: u64,
}

impl LogInfoWire {
    pub(crate) fn into_log_info(self) -> Result<LogInfo, String> {
        let root_hash = Sha256Hash::from_hex(&self.root_hash)
            .map_err(|e| format!("log info: rootHash: {e}"))?;
        let tree_id = match self.tree_id {
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let mut index_offset = 0u64;
        for shard in self.inactive_shards.iter().flatten() {
            index_offset = index_offset
                .checked_add(shard.tree_size)
                .ok_or("log info: the inactive shards' sizes overflow")?;
        }
        Ok(LogInfo {
            root_hash,
            tree_size: self.tree_size,
            signed_tree_head: self.signed_tree_head,
            tree_id,
            index_offset,
        })
    }
}

/// The log's current tree head as it answered (unverified).
#[derive(Debug, Clone)]
pub struct LogInfo {
    /// The root hash it states.
    pub root_hash: Sha256Hash,
    /// The tree size it states.
    pub tree_size: u64,
    /// The signed checkpoint text.
    pub signed_tree_head: String,
    /// The active shard's tree ID (may be empty).
    pub tree_id: String,
    /// The log index of the active shard's first entry: the sizes of the
    /// inactive shards, added up. Rekor numbers entries across shards; tree
    /// sizes and inclusion proofs count within one.
    pub index_offset: u64,
}

/// A checkpoint whose signature a trusted log key verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The signed note, exactly as signed.
    pub text: String,
    /// Its origin line (the log's name and tree).
    pub origin: String,
    /// The tree size it signs.
    pub tree_size: u64,
    /// The root hash it signs.
    pub root_hash: Sha256Hash,
    /// The trusted log whose key verified it.
    pub log_id: Sha256Hash,
}

impl VerifiedCheckpoint {
    /// The log ID, hex.
    pub fn log_id_hex(&self) -> String {
        hex(self.log_id.as_bytes())
    }
}

/// Parse a signed note.
pub(crate) fn parse(text: &str) -> Result<Checkpoint, String> {
    Checkpoint::from_text(text).map_err(|e| format!("the checkpoint does not parse: {e}"))
}

/// Under which key names a checkpoint's signature lines count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerName {
    /// Any: a Rekor v1 log signs under its host name, not its origin.
    Any,
    /// The checkpoint's origin only: a Rekor v2 checkpoint is a C2SP signed
    /// note, and the Go note verifiers (sigstore-go, rekor-tiles) accept a
    /// log's signature under the log's name alone. The name is not signed;
    /// a renamed line that passed here would fail there (as it fails
    /// `keyless verify`, `verify::steps::check_rekor_v2_proof`).
    Origin,
}

impl SignerName {
    /// The rule for a log read through `api`.
    pub fn for_api(api: crate::rekor::RekorApi) -> Self {
        match api {
            crate::rekor::RekorApi::V1 => Self::Any,
            crate::rekor::RekorApi::V2 => Self::Origin,
        }
    }
}

/// Verify `checkpoint`'s signature with the trust root's log keys: some
/// signature line whose key hint names a trusted log (whose key's validity
/// has started by `now`), under a key name `names` allows, must verify with
/// that log's key. With `pinned`, only that log's key counts.
pub fn verify_signature(
    text: &str,
    checkpoint: &Checkpoint,
    logs: &TrustedLogs,
    now: jiff::Timestamp,
    pinned: Option<&Sha256Hash>,
    names: SignerName,
) -> Result<VerifiedCheckpoint, Failure> {
    let signed = checkpoint.signed_data();
    // Logs whose key was tried and did not verify; whether another trusted
    // log than the pinned one signed; a good signature under another name.
    let mut tried = Vec::new();
    let mut other_log = false;
    let mut misnamed = None;
    for sig in checkpoint.signatures() {
        // Hints are four bytes and may collide: every matching key is tried,
        // and a bad signature never hides a good one.
        for log in logs.by_hint(sig.key_id.as_bytes(), now) {
            if pinned.is_some_and(|p| *p != log.log_id) {
                other_log = true;
                continue;
            }
            if log.key.verify(signed, &sig.signature).is_ok() {
                if names == SignerName::Origin && sig.name != checkpoint.origin() {
                    misnamed = Some(sig.name.clone());
                    continue;
                }
                return Ok(VerifiedCheckpoint {
                    text: text.to_string(),
                    origin: checkpoint.origin().to_string(),
                    tree_size: checkpoint.tree_size(),
                    root_hash: *checkpoint.root_hash(),
                    log_id: log.log_id,
                });
            }
            tried.push(log.log_id);
        }
    }
    if let Some(name) = misnamed {
        return Err(Failure::new(
            Step::Checkpoint,
            format!(
                "the log's signature on the checkpoint is under the key name {name:?}, not the log's name {:?} (the checkpoint's origin)",
                checkpoint.origin()
            ),
        ));
    }
    let reason = match (tried.first(), pinned) {
        (Some(id), _) => format!(
            "the checkpoint's signature does not verify with the key of log {}",
            hex(id.as_bytes())
        ),
        (None, Some(p)) if other_log => format!(
            "the checkpoint is signed by another log of the trust root, not by log {} (the one monitored so far)",
            hex(p.as_bytes())
        ),
        (None, _) => "no signature on the checkpoint comes from a log key of the trust root".into(),
    };
    Err(Failure::new(Step::Checkpoint, reason))
}

/// Verify the log's answer: its checkpoint's signature, and that the
/// unsigned tree size and root hash say what the checkpoint signs. `Err`
/// when the checkpoint does not even parse (a malformed answer).
pub(crate) fn verify_log_info(
    info: &LogInfo,
    logs: &TrustedLogs,
    now: jiff::Timestamp,
    pinned: Option<&Sha256Hash>,
    names: SignerName,
) -> Result<Result<VerifiedCheckpoint, Failure>, String> {
    let checkpoint = parse(&info.signed_tree_head)?;
    let verified = match verify_signature(
        &info.signed_tree_head,
        &checkpoint,
        logs,
        now,
        pinned,
        names,
    ) {
        Ok(v) => v,
        Err(f) => return Ok(Err(f)),
    };
    // The current tree head must come from a key valid now, not one whose
    // validity ended (a retired or compromised key).
    if logs
        .by_id(&verified.log_id)
        .is_some_and(|l| !l.valid_at(now))
    {
        return Ok(Err(Failure::new(
            Step::Checkpoint,
            format!(
                "the checkpoint is signed by log {} whose key is no longer valid",
                hex(verified.log_id.as_bytes())
            ),
        )));
    }
    if verified.tree_size != info.tree_size || verified.root_hash != info.root_hash {
        return Ok(Err(Failure::new(
            Step::Checkpoint,
            format!(
                "the log states tree size {} and root {}, but its checkpoint signs tree size {} and root {}",
                info.tree_size,
                info.root_hash.to_hex(),
                verified.tree_size,
                verified.root_hash.to_hex()
            ),
        )));
    }
    Ok(Ok(verified))
}

/// The log's answer to `GET /api/v1/log/proof`, as sent.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConsistencyProofWire {
    root_hash: String,
    #[serde(default)]
    hashes: Vec<String>,
}

impl ConsistencyProofWire {
    pub(crate) fn into_proof(self, first: u64, last: u64) -> Result<ConsistencyProof, String> {
        let parse = |h: &str| {
            Sha256Hash::from_hex(h).map_err(|e| format!("consistency proof: hash {h:?}: {e}"))
        };
        Ok(ConsistencyProof {
            first_size: first,
            last_size: last,
            root_hash: parse(&self.root_hash)?,
            hashes: self
                .hashes
                .iter()
                .map(|h| parse(h))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A consistency proof between two tree sizes, as the log sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older tree size.
    pub first_size: u64,
    /// The newer tree size.
    pub last_size: u64,
    /// The root the log says the newer tree has.
    pub root_hash: Sha256Hash,
    /// The proof's hashes.
    pub hashes: Vec<Sha256Hash>,
}

/// How the log got from one verified checkpoint to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Growth {
    /// The same tree: same size, same root.
    Unchanged,
    /// A larger tree, consistent with the older one.
    Grew,
}

/// Whether `new` is a possible future of `old` without a proof: the same
/// log, not smaller, and the same root at the same size. `Ok(None)` when
/// the tree grew and a consistency proof must decide (see [`check_proof`]).
pub fn compare(
    old: &VerifiedCheckpoint,
    new: &VerifiedCheckpoint,
) -> Result<Option<Growth>, Failure> {
    // A new origin is a new tree (Rekor shards restart their tree): sizes
    // and roots cannot be compared, and a person has to look.
    if old.origin != new.origin || old.log_id != new.log_id {
        return Err(Failure::new(
            Step::LogIdentity,
            format!(
                "the checkpoint now names {:?} (log {}), not {:?} (log {})",
                new.origin,
                new.log_id_hex(),
                old.origin,
                old.log_id_hex()
            ),
        ));
    }
    // An append-only log never shrinks: a smaller signed tree means the log
    // (or a man in the middle holding its key) rolled history back.
    if new.tree_size < old.tree_size {
        return Err(Failure::new(
            Step::Rollback,
            format!(
                "the log signed tree size {} before and now signs tree size {}",
                old.tree_size, new.tree_size
            ),
        ));
    }
    if new.tree_size == old.tree_size {
        // Two signed roots for one size are a split view: proof the log
        // showed different histories to different people.
        if new.root_hash != old.root_hash {
            return Err(Failure::new(
                Step::Fork,
                format!(
                    "the log signed two different roots for tree size {}: {} and {}",
                    old.tree_size,
                    old.root_hash.to_hex(),
                    new.root_hash.to_hex()
                ),
            ));
        }
        return Ok(Some(Growth::Unchanged));
    }
    // Every tree is consistent with the empty tree.
    if old.tree_size == 0 {
        return Ok(Some(Growth::Grew));
    }
    Ok(None)
}

/// Verify that `proof` shows the tree of `new` extends the tree of `old`
/// (RFC 6962 consistency, by sigstore-merkle).
pub fn check_proof(
    old: &VerifiedCheckpoint,
    new: &VerifiedCheckpoint,
    proof: &ConsistencyProof,
) -> Result<Growth, Failure> {
    if proof.first_size != old.tree_size || proof.last_size != new.tree_size {
        return Err(Failure::new(
            Step::ConsistencyProof,
            format!(
                "the proof is from tree size {} to {}, not {} to {}",
                proof.first_size, proof.last_size, old.tree_size, new.tree_size
            ),
        ));
    }
    if proof.root_hash != new.root_hash {
        return Err(Failure::new(
            Step::ConsistencyProof,
            format!(
                "the proof is for root {}, but the checkpoint signs root {}",
                proof.root_hash.to_hex(),
                new.root_hash.to_hex()
            ),
        ));
    }
    sigstore_merkle::verify_consistency_proof(
        old.tree_size,
        new.tree_size,
        &proof.hashes,
        &old.root_hash,
        &new.root_hash,
    )
    .map_err(|e| {
        Failure::new(
            Step::ConsistencyProof,
            format!(
                "tree size {} (root {}) is not a prefix of tree size {} (root {}): {e}",
                old.tree_size,
                old.root_hash.to_hex(),
                new.tree_size,
                new.root_hash.to_hex()
            ),
        )
    })?;
    Ok(Growth::Grew)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(origin: &str, size: u64, root: u8, log: u8) -> VerifiedCheckpoint {
        VerifiedCheckpoint {
            text: String::new(),
            origin: origin.into(),
            tree_size: size,
            root_hash: Sha256Hash::new([root; 32]),
            log_id: Sha256Hash::new([log; 32]),
        }
    }

    #[test]
    fn comparisons_name_what_went_wrong() {
        let old = cp("log", 10, 1, 9);
        assert_eq!(
            compare(&old, &cp("log", 10, 1, 9)),
            Ok(Some(Growth::Unchanged))
        );
        assert_eq!(compare(&old, &cp("log", 11, 2, 9)), Ok(None));
        assert_eq!(
            compare(&cp("log", 0, 0, 9), &cp("log", 3, 2, 9)),
            Ok(Some(Growth::Grew))
        );
        let check = |new| compare(&old, &new).unwrap_err().step;
        assert_eq!(check(cp("log", 9, 1, 9)), Step::Rollback);
        assert_eq!(check(cp("log", 10, 2, 9)), Step::Fork);
        assert_eq!(check(cp("other", 12, 2, 9)), Step::LogIdentity);
        assert_eq!(check(cp("log", 12, 2, 8)), Step::LogIdentity);
    }

    #[test]
    fn proofs_for_other_sizes_or_roots_are_refused() {
        let (old, new) = (cp("log", 4, 1, 9), cp("log", 8, 2, 9));
        let proof = ConsistencyProof {
            first_size: 4,
            last_size: 8,
            root_hash: Sha256Hash::new([3; 32]),
            hashes: vec![Sha256Hash::new([4; 32])],
        };
        let f = check_proof(&old, &new, &proof).unwrap_err();
        assert!(f.reason.contains("the proof is for root"), "{f}");
        let proof = ConsistencyProof {
            root_hash: new.root_hash,
            ..proof
        };
        let f = check_proof(&old, &new, &proof).unwrap_err();
        assert!(f.reason.contains("not a prefix"), "{f}");
        let proof = ConsistencyProof {
            first_size: 3,
            ..proof
        };
        assert!(check_proof(&old, &new, &proof).is_err());
    }
}
