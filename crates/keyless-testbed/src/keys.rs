//! Key pairs the testbed signs with, kept as PKCS#8 so they survive restarts.
//!
//! Everything goes through aws-lc-rs, the crypto backend sigstore-rust uses.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

/// The algorithm of a [`TestKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyKind {
    /// ECDSA P-256 with SHA-256, ASN.1 (DER) signatures.
    EcdsaP256,
    /// Ed25519.
    Ed25519,
    /// RSA 2048, PKCS#1 v1.5 with SHA-256.
    Rsa2048,
}

/// A signing key pair with its PKCS#8 encoding.
pub struct TestKey {
    kind: KeyKind,
    pkcs8: Vec<u8>,
    inner: Inner,
}

enum Inner {
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

impl std::fmt::Debug for TestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKey")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A [`TestKey`] as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    /// The algorithm.
    pub kind: KeyKind,
    /// Base64 of the PKCS#8 DER private key.
    pub pkcs8: String,
}

impl TestKey {
    /// A fresh key of `kind`.
    pub fn generate(kind: KeyKind) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = match kind {
            KeyKind::EcdsaP256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                    .expect("P-256 key generation")
                    .as_ref()
                    .to_vec()
            }
            KeyKind::Ed25519 => Ed25519KeyPair::generate_pkcs8(&rng)
                .expect("Ed25519 key generation")
                .as_ref()
                .to_vec(),
            KeyKind::Rsa2048 => {
                let kp = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .expect("RSA key generation");
                aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&kp)
                    .expect("RSA PKCS#8 encoding")
                    .as_ref()
                    .to_vec()
            }
        };
        Self::from_pkcs8(kind, pkcs8).expect("freshly generated key parses")
    }

    /// Load a key of `kind` from PKCS#8 DER.
    pub fn from_pkcs8(kind: KeyKind, pkcs8: Vec<u8>) -> Result<Self, String> {
        let inner = match kind {
            KeyKind::EcdsaP256 => Inner::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8)
                    .map_err(|e| format!("P-256 key: {e}"))?,
            ),
            KeyKind::Ed25519 => Inner::Ed25519(
                Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|e| format!("Ed25519 key: {e}"))?,
            ),
            KeyKind::Rsa2048 => {
                Inner::Rsa(RsaKeyPair::from_pkcs8(&pkcs8).map_err(|e| format!("RSA key: {e}"))?)
            }
        };
        Ok(Self { kind, pkcs8, inner })
    }

    /// The stored form.
    pub fn to_stored(&self) -> StoredKey {
        StoredKey {
            kind: self.kind,
            pkcs8: B64.encode(&self.pkcs8),
        }
    }

    /// Load the stored form.
    pub fn from_stored(stored: &StoredKey) -> Result<Self, String> {
        let der = B64
            .decode(&stored.pkcs8)
            .map_err(|e| format!("stored key is not base64: {e}"))?;
        Self::from_pkcs8(stored.kind, der)
    }

    /// The algorithm.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// PKCS#8 DER of the private key (for rcgen).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// Sign `message` (hashing it with SHA-256 first, except for Ed25519).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.inner {
            Inner::Ecdsa(k) => k
                .sign(&rng, message)
                .expect("ECDSA signing")
                .as_ref()
                .to_vec(),
            Inner::Ed25519(k) => k.sign(message).as_ref().to_vec(),
            Inner::Rsa(k) => {
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .expect("RSA signing");
                sig
            }
        }
    }

    /// Sign `message` as a JWS does: ECDSA signatures as fixed-width `r || s`
    /// (RFC 7518 §3.4) rather than DER; other algorithms as [`Self::sign`].
    pub fn sign_jws(&self, message: &[u8]) -> Vec<u8> {
        match self.kind {
            KeyKind::EcdsaP256 => {
                let fixed = EcdsaKeyPair::from_pkcs8(
                    &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    &self.pkcs8,
                )
                .expect("the key parsed before");
                fixed
                    .sign(&SystemRandom::new(), message)
                    .expect("ECDSA signing")
                    .as_ref()
                    .to_vec()
            }
            _ => self.sign(message),
        }
    }

    /// Verify a signature made by [`Self::sign_jws`].
    pub fn verify_jws(&self, message: &[u8], signature: &[u8]) -> bool {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey,
        };
        let raw = self.public_key_raw();
        let alg: &dyn aws_lc_rs::signature::VerificationAlgorithm = match self.kind {
            KeyKind::EcdsaP256 => &ECDSA_P256_SHA256_FIXED,
            KeyKind::Ed25519 => &ED25519,
            KeyKind::Rsa2048 => &RSA_PKCS1_2048_8192_SHA256,
        };
        UnparsedPublicKey::new(alg, raw)
            .verify(message, signature)
            .is_ok()
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
        match &self.inner {
            Inner::Ecdsa(k) => AsDer::<PublicKeyX509Der>::as_der(k.public_key())
                .expect("SPKI encoding")
                .as_ref()
                .to_vec(),
            Inner::Ed25519(k) => AsDer::<PublicKeyX509Der>::as_der(k.public_key())
                .expect("SPKI encoding")
                .as_ref()
                .to_vec(),
            Inner::Rsa(k) => AsDer::<PublicKeyX509Der>::as_der(k.public_key())
                .expect("SPKI encoding")
                .as_ref()
                .to_vec(),
        }
    }

    /// The public key as PEM ("PUBLIC KEY").
    pub fn public_key_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.public_key_spki_der())
    }

    /// The raw public key bytes (uncompressed point, Ed25519 key, or PKCS#1 RSA key).
    pub fn public_key_raw(&self) -> Vec<u8> {
        match &self.inner {
            Inner::Ecdsa(k) => k.public_key().as_ref().to_vec(),
            Inner::Ed25519(k) => k.public_key().as_ref().to_vec(),
            Inner::Rsa(k) => k.public_key().as_ref().to_vec(),
        }
    }

    /// An rcgen key pair for issuing certificates with this key.
    pub fn rcgen_key(&self) -> rcgen::KeyPair {
        let alg = match self.kind {
            KeyKind::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyKind::Ed25519 => &rcgen::PKCS_ED25519,
            KeyKind::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
        };
        let der = rustls_pki_types::PrivatePkcs8KeyDer::from(self.pkcs8.clone());
        rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&der, alg).expect("rcgen accepts the key")
    }
}

/// PEM-encode `der` with `label`, wrapped at 64 columns.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_sign_verifiably() {
        for kind in [KeyKind::EcdsaP256, KeyKind::Ed25519, KeyKind::Rsa2048] {
            let key = TestKey::generate(kind);
            let again = TestKey::from_stored(&key.to_stored()).unwrap();
            assert_eq!(key.public_key_spki_der(), again.public_key_spki_der());
            let sig = again.sign(b"message");
            let der = sigstore_types::DerPublicKey::new(key.public_key_spki_der());
            let scheme = match kind {
                KeyKind::EcdsaP256 => sigstore_crypto::SigningScheme::EcdsaP256Sha256,
                KeyKind::Ed25519 => sigstore_crypto::SigningScheme::Ed25519,
                KeyKind::Rsa2048 => sigstore_crypto::SigningScheme::RsaPkcs1Sha256,
            };
            sigstore_crypto::verify_signature(
                &der,
                b"message",
                &sigstore_types::SignatureBytes::new(sig),
                scheme,
            )
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        }
    }
}
