//! Signature verifications remembered across the bundles of one run.
//!
//! The bundles of a release are signed in one run under one certificate, so
//! verifying them one after the other repeats the same signature checks:
//! the Fulcio intermediate over the leaf, the root over the intermediate,
//! the CT log over the SCT, the TSA's CA over its certificate. Each bundle's
//! own signature, SET, checkpoint and timestamp are new. [`MemoProvider`]
//! is the aws-lc-rs provider of sigstore-crypto that remembers which
//! (scheme, key, message, signature) checks succeeded and answers a repeat
//! without the elliptic-curve arithmetic.
//!
//! Why this is sound: a signature check is a pure function of those four
//! inputs. The memo is keyed by a SHA-256 over all of them (each
//! length-prefixed), so an answer is reused only for the very same check;
//! failures are not remembered (each is checked again). It is bounded, and
//! a message longer than [`MAX_MESSAGE`] is not remembered (hashing it would
//! cost more than it saves).

use sigstore_crypto::{
    CryptoProvider, HashContext, KeyAlgorithm, SigningKeyPair, SigningScheme, aws_lc_provider,
};
use sigstore_types::HashAlgorithm;
use std::collections::HashSet;
use std::sync::Mutex;

/// Messages up to this size are remembered (certificates, SCTs, notes).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// At most this many checks are remembered; then the memo starts afresh.
const CAPACITY: usize = 1 << 16;

/// sigstore-crypto's aws-lc-rs provider, remembering successful checks.
#[derive(Debug, Default)]
pub struct MemoProvider {
    verified: Mutex<HashSet<[u8; 32]>>,
}

impl MemoProvider {
    /// An empty memo.
    pub fn new() -> Self {
        Self::default()
    }

    /// Install a memo as sigstore-crypto's provider for this process; false
    /// when a provider was installed already (it stays). Call it before
    /// any cryptography (the `keyless` binary does, first thing).
    pub fn install() -> bool {
        let memo: &'static MemoProvider = Box::leak(Box::new(MemoProvider::new()));
        sigstore_crypto::install_default_provider(memo).is_ok()
    }

    /// How many checks are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<[u8; 32]>> {
        // The set is only ever inserted into whole values: usable after a
        // panic elsewhere.
        self.verified.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The check of `signature` by `key` over `message` (`prehashed`: a
    /// digest), done by aws-lc-rs unless it succeeded before.
    fn check(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        message: &[u8],
        prehashed: bool,
        signature: &[u8],
        verify: impl FnOnce() -> sigstore_crypto::Result<()>,
    ) -> sigstore_crypto::Result<()> {
        if message.len() > MAX_MESSAGE {
            return verify();
        }
        let id = check_id(scheme, key, message, prehashed, signature);
        if self.lock().contains(&id) {
            return Ok(());
        }
        verify()?;
        let mut verified = self.lock();
        if verified.len() >= CAPACITY {
            verified.clear();
        }
        verified.insert(id);
        Ok(())
    }
}

/// SHA-256 over the whole check, each part length-prefixed so that no two
/// checks share an encoding.
fn check_id(
    scheme: SigningScheme,
    key: &[u8],
    message: &[u8],
    prehashed: bool,
    signature: &[u8],
) -> [u8; 32] {
    let mut h = aws_lc_provider()
        .hash(HashAlgorithm::Sha2256)
        .expect("aws-lc-rs hashes SHA-256");
    let scheme = format!("{scheme:?}");
    for part in [
        scheme.as_bytes(),
        key,
        message,
        &[u8::from(prehashed)],
        signature,
    ] {
        h.update(&(part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let mut id = [0u8; 32];
    id.copy_from_slice(&h.finalize());
    id
}

impl CryptoProvider for MemoProvider {
    fn hash(&self, algorithm: HashAlgorithm) -> sigstore_crypto::Result<Box<dyn HashContext>> {
        aws_lc_provider().hash(algorithm)
    }

    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        aws_lc_provider().sha256(data)
    }

    fn sha384(&self, data: &[u8]) -> [u8; 48] {
        aws_lc_provider().sha384(data)
    }

    fn sha512(&self, data: &[u8]) -> [u8; 64] {
        aws_lc_provider().sha512(data)
    }

    fn verify_raw(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        data: &[u8],
        signature: &[u8],
    ) -> sigstore_crypto::Result<()> {
        self.check(scheme, key, data, false, signature, || {
            aws_lc_provider().verify_raw(scheme, key, data, signature)
        })
    }

    fn verify_prehashed(
        &self,
        scheme: SigningScheme,
        key: &[u8],
        digest: &[u8],
        signature: &[u8],
    ) -> sigstore_crypto::Result<()> {
        self.check(scheme, key, digest, true, signature, || {
            aws_lc_provider().verify_prehashed(scheme, key, digest, signature)
        })
    }

    fn generate_key_pair(
        &self,
        algorithm: KeyAlgorithm,
    ) -> sigstore_crypto::Result<Box<dyn SigningKeyPair>> {
        aws_lc_provider().generate_key_pair(algorithm)
    }

    fn key_pair_from_pkcs8_der(
        &self,
        pkcs8: &[u8],
    ) -> sigstore_crypto::Result<Box<dyn SigningKeyPair>> {
        aws_lc_provider().key_pair_from_pkcs8_der(pkcs8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_success_is_remembered_and_a_failure_never_is() {
        let memo = MemoProvider::new();
        let key = aws_lc_provider()
            .generate_key_pair(KeyAlgorithm::EcdsaP256)
            .unwrap();
        let scheme = SigningScheme::EcdsaP256Sha256;
        let message = b"an SCT, a certificate, a checkpoint";
        let good = key.sign_raw(message).unwrap();
        let public = key.public_key_bytes();

        memo.verify_raw(scheme, public, message, &good).unwrap();
        assert_eq!(memo.len(), 1);
        memo.verify_raw(scheme, public, message, &good).unwrap();
        assert_eq!(memo.len(), 1, "the repeat is answered from the memo");

        // Any one part changed is another check, made (and failing) anew.
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(memo.verify_raw(scheme, public, message, &bad).is_err());
        assert!(
            memo.verify_raw(scheme, public, b"another message", &good)
                .is_err()
        );
        let other = aws_lc_provider()
            .generate_key_pair(KeyAlgorithm::EcdsaP256)
            .unwrap();
        assert!(
            memo.verify_raw(scheme, other.public_key_bytes(), message, &good)
                .is_err()
        );
        // The same bytes as a digest are not the same check.
        assert!(
            memo.verify_prehashed(scheme, public, message, &good)
                .is_err()
        );
        assert_eq!(memo.len(), 1, "failures are not remembered");

        let digest = aws_lc_provider().sha256(message);
        let signed_digest = key.sign_prehashed(&digest).unwrap();
        memo.verify_prehashed(scheme, public, &digest, &signed_digest)
            .unwrap();
        assert_eq!(memo.len(), 2);
    }

    #[test]
    fn a_long_message_is_checked_but_not_remembered() {
        let memo = MemoProvider::new();
        let key = aws_lc_provider()
            .generate_key_pair(KeyAlgorithm::EcdsaP256)
            .unwrap();
        let message = vec![7u8; MAX_MESSAGE + 1];
        let sig = key.sign_raw(&message).unwrap();
        let scheme = SigningScheme::EcdsaP256Sha256;
        memo.verify_raw(scheme, key.public_key_bytes(), &message, &sig)
            .unwrap();
        assert!(memo.is_empty());
    }
}
