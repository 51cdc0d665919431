//! Checks of single verification steps that sigstore-verify does not make
//! (or makes differently), and the naming of the step its errors belong to.

use super::{Failure, Step};
use crate::error::Error;
use sigstore_types::{Bundle, KindVersion};

/// The signature bytes an RFC 3161 timestamp in this bundle must cover.
pub(super) fn signature_bytes(
    bundle: &Bundle,
) -> std::result::Result<sigstore_types::SignatureBytes, ()> {
    match &bundle.content {
        sigstore_types::SignatureContent::MessageSignature(m) => Ok(m.signature.clone()),
        sigstore_types::SignatureContent::DsseEnvelope(e) => Ok(e.signature.sig.clone()),
        _ => Err(()),
    }
}

/// For Rekor v1 entries the inclusion proof repeats the tree size the
/// checkpoint signs. sigstore-verify compares the root hashes but not the
/// sizes; a proof for another tree size must not borrow a checkpoint.
pub(super) fn check_checkpoint_tree_size(bundle: &Bundle) -> std::result::Result<(), Failure> {
    for entry in &bundle.verification_material.tlog_entries {
        if entry.kind_version == KindVersion::HashedRekordV002 {
            continue;
        }
        let Some(proof) = &entry.inclusion_proof else {
            continue;
        };
        if let Some(checkpoint) = proof.checkpoint.checkpoint()
            && checkpoint.tree_size() != proof.tree_size
        {
            return Err(Failure::new(
                Step::Checkpoint,
                format!(
                    "checkpoint is for tree size {} but the inclusion proof is for tree size {}",
                    checkpoint.tree_size(),
                    proof.tree_size
                ),
            ));
        }
    }
    Ok(())
}

/// Rekor v2 (hashedrekord 0.0.2) entries, once sigstore-verify has passed
/// the bundle. sigstore-verify 0.15.1 verifies the Merkle proof at the
/// entry's log index under the root and tree size of the checkpoint, and
/// the checkpoint's signature by any trusted log; it ignores the proof's own
/// root hash, tree size and log index, and the entry's log ID (Rekor v2 has
/// no SET that would cover it). As for Rekor v1 (and as sigstore-python
/// checks), they must agree with what was verified: the proof is for the
/// entry's index (4), its root and tree size are the checkpoint's, and the
/// log ID names a trusted log whose key signed the checkpoint (5).
pub(super) fn check_rekor_v2_proof(
    bundle: &Bundle,
    rekor_keys: &sigstore_crypto::Keyring,
) -> std::result::Result<(), Failure> {
    for entry in &bundle.verification_material.tlog_entries {
        if entry.kind_version != KindVersion::HashedRekordV002 {
            continue;
        }
        let Some(proof) = &entry.inclusion_proof else {
            continue;
        };
        if proof.log_index.get() != entry.log_index.get() {
            return Err(Failure::new(
                Step::InclusionProof,
                format!(
                    "the inclusion proof is for log index {} but the entry is at log index {}",
                    proof.log_index.get(),
                    entry.log_index.get()
                ),
            ));
        }
        // A missing or unreadable checkpoint is sigstore-verify's to report.
        let Some(checkpoint) = proof.checkpoint.checkpoint() else {
            continue;
        };
        if checkpoint.tree_size() != proof.tree_size {
            return Err(Failure::new(
                Step::Checkpoint,
                format!(
                    "checkpoint is for tree size {} but the inclusion proof is for tree size {}",
                    checkpoint.tree_size(),
                    proof.tree_size
                ),
            ));
        }
        if checkpoint.root_hash().as_bytes() != proof.root_hash.as_bytes() {
            return Err(Failure::new(
                Step::Checkpoint,
                format!(
                    "checkpoint root hash {} does not match the inclusion proof's root hash {}",
                    checkpoint.root_hash().to_hex(),
                    proof.root_hash.to_hex()
                ),
            ));
        }
        let log_id = crate::digest::hex(entry.log_id.key_id.as_bytes());
        let key = sigstore_types::Sha256Hash::try_from(entry.log_id.key_id.as_bytes())
            .ok()
            .and_then(|id| rekor_keys.key(&id).map(|key| (id, key)));
        let Some((id, key)) = key else {
            return Err(Failure::new(
                Step::Checkpoint,
                format!("the entry's log ID {log_id} names no trusted transparency log"),
            ));
        };
        let hint = &id.as_bytes()[..4];
        let signed: Vec<_> = checkpoint
            .signatures()
            .iter()
            .filter(|sig| {
                sig.key_id.as_bytes() == hint
                    && key.verify(checkpoint.signed_data(), &sig.signature).is_ok()
            })
            .collect();
        // A C2SP signed note names its signer on the signature line; the
        // name is not signed. The Go note verifiers (sigstore-go through
        // rekor-tiles) only accept the log's signature under the log's
        // name, which is the checkpoint's origin: so does keyless, lest a
        // renamed line pass here and fail there.
        let origin = checkpoint.origin();
        if !signed.is_empty() && !signed.iter().any(|sig| sig.name == origin) {
            return Err(Failure::new(
                Step::Checkpoint,
                format!(
                    "the log's signature on the checkpoint is under the key name {:?}, not the log's name {origin:?} (the checkpoint's origin)",
                    signed[0].name
                ),
            ));
        }
        if signed.is_empty() {
            return Err(Failure::new(
                Step::Checkpoint,
                format!(
                    "the checkpoint is not signed by the log the entry names (log ID {log_id})"
                ),
            ));
        }
    }
    Ok(())
}

/// No log entry may be vouched for by a log key that the trust root
/// retired before the signing time (the earliest verified time): the entry
/// was logged, and its checkpoint signed, after the signature was made, so
/// only a retired (perhaps compromised) key could have signed them.
/// sigstore-verify 0.15.1 checks a SET's key at the integrated time, but a
/// checkpoint's key only for having started by now; a Rekor v2 entry has
/// no SET, so nothing else ties its log key's window to the signature.
/// For Rekor v2 the entry's log key is the checkpoint's signer
/// ([`check_rekor_v2_proof`]); for Rekor v1 it is the SET's.
pub(super) fn check_log_key_windows(
    bundle: &Bundle,
    root: &sigstore_trust_root::TrustedRoot,
    signing_time: jiff::Timestamp,
) -> std::result::Result<(), Failure> {
    for entry in &bundle.verification_material.tlog_entries {
        let id = entry.log_id.key_id.as_bytes();
        let end = root
            .tlogs
            .iter()
            .find(|t| t.log_id.key_id.as_bytes() == id)
            .and_then(|t| t.public_key.valid_for)
            .and_then(|window| window.end);
        if let Some(end) = end
            && end < signing_time
        {
            return Err(Failure::new(
                Step::Checkpoint,
                format!(
                    "the key of log {}, which vouches for the entry, was retired at {end}, before the signing time {signing_time}",
                    crate::digest::hex(id)
                ),
            ));
        }
    }
    Ok(())
}

/// Name the step a sigstore-verify error belongs to. Errors that say nothing
/// about the bundle (unusable trust material, or a kind this version of
/// keyless does not know) are no verdict at all: `Err`, exit status 2.
pub(super) fn classify(
    err: sigstore_verify::Error,
    trust_source: &str,
) -> std::result::Result<Failure, Error> {
    use sigstore_bundle::Error as B;
    use sigstore_verify::{
        CertificateError as C, Error as E, TimestampError as T, TransparencyLogError as L,
    };
    let step = match &err {
        E::IdentityMismatch { .. } | E::IssuerMismatch { .. } => Step::Identity,
        E::SignatureInvalid(_) => Step::Signature,
        E::ArtifactMismatch(_) | E::UnsupportedArtifact(_) => Step::Artifact,
        E::Certificate(C::Sct(_)) => Step::Sct,
        E::Certificate(_) => Step::Certificate,
        E::TransparencyLog(L::InclusionProof(_)) => Step::InclusionProof,
        E::TransparencyLog(L::Checkpoint(_)) => Step::Checkpoint,
        E::TransparencyLog(L::InclusionPromise(_)) => Step::Set,
        E::TransparencyLog(L::IntegratedTime(_)) => Step::IntegratedTime,
        E::TransparencyLog(_) => Step::LogEntry,
        E::Timestamp(T::NoVerifiedTimestamp(_)) => Step::SigningTime,
        E::Timestamp(_) => Step::Timestamp,
        // Structural problems that belong to one piece of log evidence are
        // named after it, so "checkpoint: ..." reads as what is missing.
        E::Bundle(B::MissingCheckpoint | B::CheckpointRootMismatch) => Step::Checkpoint,
        E::Bundle(B::MissingInclusionProof(_) | B::LogIndexOutOfRange { .. }) => {
            Step::InclusionProof
        }
        E::Bundle(B::MissingInclusionPromise(_)) => Step::Set,
        E::InvalidBundle(_) | E::UnsupportedBundle(_) | E::Bundle(_) | E::Types(_) => Step::Bundle,
        E::Crypto(_) => Step::Signature,
        E::InvalidTrustRoot(_) | E::TrustRoot(_) | E::TrustedCertificate(_) => {
            return Err(Error::TrustMaterial {
                source_name: trust_source.to_string(),
                reason: err.to_string(),
            });
        }
        E::ArtifactRead(_) => Step::Artifact,
        _ => return Err(Error::Verifier { source: err }),
    };
    Ok(Failure::new(step, err.to_string()))
}
