//! Proving an entry offline: its inclusion proof, checkpoint and SET,
//! checked against the trust root's log keys.

use super::describe::body_kind;
use super::evidence::{Evidence, LogApi};
use crate::rekor::checkpoint;
use crate::rekor::{Failure, Step, TrustedLogs, hex};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sigstore_types::Sha256Hash;

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

/// Whether a Rekor UUID (64 hex digits, or 80 lowercase ones with a
/// 16-digit tree ID in front) is this leaf hash. The tree ID is checked too:
/// the UUID is shown to a person, and a log could put a line break or an
/// escape sequence there.
fn uuid_names(uuid: &str, leaf: &Sha256Hash) -> bool {
    match uuid.len() {
        64 => uuid.to_ascii_lowercase() == leaf.to_hex(),
        80 => {
            uuid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                && uuid.get(16..) == Some(leaf.to_hex().as_str())
        }
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
        // Rekor v2's proof fields are unauthenticated duplicates of the
        // entry's index and the checkpoint's size and root, which are what
        // count; they must agree all the same (3), as `keyless verify` and
        // sigstore-python require (`verify::steps::check_rekor_v2_proof`).
        LogApi::V2 => {
            if proof.log_index != ev.log_index {
                return Err(Failure::new(
                    Step::InclusionProof,
                    format!(
                        "the inclusion proof is for log index {} but the entry is at log index {}",
                        proof.log_index, ev.log_index
                    ),
                ));
            }
            (ev.log_index, parsed.tree_size(), *parsed.root_hash())
        }
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
    if parsed.tree_size() != proof.tree_size || *parsed.root_hash() != proof.root_hash {
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
    let names = match ev.api {
        LogApi::V1 => checkpoint::SignerName::Any,
        LogApi::V2 => checkpoint::SignerName::Origin,
    };
    let signed = checkpoint::verify_signature(
        &proof.checkpoint,
        &parsed,
        logs,
        now,
        Some(&ev.log_id),
        names,
    )?;

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
        // The tree ID is lowercase hex too: no line break, escape or
        // other text smuggled in front of a genuine leaf hash.
        for tree_id in [
            "\n\u{1b}[2KOK 00000000",
            "000000000000000G",
            "00000000000000AB",
        ] {
            assert_eq!(tree_id.len(), 16);
            assert!(
                !uuid_names(&format!("{tree_id}{}", leaf.to_hex()), &leaf),
                "{tree_id:?}"
            );
        }
    }
}
