//! The testbed's Fulcio: a root and intermediate CA issuing ten-minute
//! code-signing certificates with Fulcio's identity extensions, each carrying
//! an embedded SCT from the testbed's CT log. Which identity a token gets
//! is decided in `identity`.

mod identity;

pub use identity::{CertIdentity, San, identity_from_claims};

use crate::keys::{KeyKind, StoredKey, TestKey, pem_encode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose, SanType, SerialNumber,
};
use serde::{Deserialize, Serialize};

/// Fulcio's OID arc for identity extensions: 1.3.6.1.4.1.57264.1.N.
const FULCIO_ARC: [u64; 8] = [1, 3, 6, 1, 4, 1, 57264, 1];
/// RFC 6962 embedded SCT list extension.
const SCT_LIST_OID: [u64; 10] = [1, 3, 6, 1, 4, 1, 11129, 2, 4, 2];

/// Leaf certificate lifetime, as Fulcio issues them.
pub const LEAF_VALIDITY_SECONDS: i64 = 600;

/// The CA: root, intermediate, and the CT log that timestamps its leaves.
#[derive(Debug)]
pub struct FulcioCa {
    root_key: TestKey,
    intermediate_key: TestKey,
    ct_key: TestKey,
    root_der: Vec<u8>,
    intermediate_der: Vec<u8>,
    not_before: i64,
}

/// [`FulcioCa`] as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredFulcio {
    root_key: StoredKey,
    intermediate_key: StoredKey,
    ct_key: StoredKey,
    root_der: String,
    intermediate_der: String,
    not_before: i64,
}

fn odt(seconds: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(seconds).expect("timestamp in range")
}

fn ca_params(common_name: &str, not_before: i64, is_root: bool) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "keyless-testbed");
    dn.push(DnType::CommonName, common_name);
    p.distinguished_name = dn;
    p.not_before = odt(not_before);
    p.not_after = odt(not_before + 10 * 365 * 86_400);
    p.is_ca = IsCa::Ca(if is_root {
        BasicConstraints::Unconstrained
    } else {
        BasicConstraints::Constrained(0)
    });
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    if !is_root {
        // Fulcio's intermediate carries the code-signing EKU too.
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    }
    p.serial_number = Some(SerialNumber::from_slice(&[if is_root { 1 } else { 2 }]));
    p
}

const ROOT_CN: &str = "keyless-testbed Fulcio root";
const INTERMEDIATE_CN: &str = "keyless-testbed Fulcio intermediate";

impl FulcioCa {
    /// A fresh CA valid from `not_before` (Unix seconds) for ten years.
    pub fn generate(not_before: i64) -> Self {
        let root_key = TestKey::generate(KeyKind::EcdsaP256);
        let intermediate_key = TestKey::generate(KeyKind::EcdsaP256);
        let ct_key = TestKey::generate(KeyKind::EcdsaP256);
        let root_rc = root_key.rcgen_key();
        let root_params = ca_params(ROOT_CN, not_before, true);
        let root_der = root_params
            .self_signed(&root_rc)
            .expect("root certificate")
            .der()
            .to_vec();
        let root_issuer = Issuer::new(root_params, root_rc);
        let intermediate_der = ca_params(INTERMEDIATE_CN, not_before, false)
            .signed_by(&intermediate_key.rcgen_key(), &root_issuer)
            .expect("intermediate certificate")
            .der()
            .to_vec();
        Self {
            root_key,
            intermediate_key,
            ct_key,
            root_der,
            intermediate_der,
            not_before,
        }
    }

    /// The stored form.
    pub fn to_stored(&self) -> StoredFulcio {
        StoredFulcio {
            root_key: self.root_key.to_stored(),
            intermediate_key: self.intermediate_key.to_stored(),
            ct_key: self.ct_key.to_stored(),
            root_der: B64.encode(&self.root_der),
            intermediate_der: B64.encode(&self.intermediate_der),
            not_before: self.not_before,
        }
    }

    /// Load the stored form.
    pub fn from_stored(s: &StoredFulcio) -> Result<Self, String> {
        let der = |v: &str| {
            B64.decode(v)
                .map_err(|e| format!("stored certificate: {e}"))
        };
        Ok(Self {
            root_key: TestKey::from_stored(&s.root_key)?,
            intermediate_key: TestKey::from_stored(&s.intermediate_key)?,
            ct_key: TestKey::from_stored(&s.ct_key)?,
            root_der: der(&s.root_der)?,
            intermediate_der: der(&s.intermediate_der)?,
            not_before: s.not_before,
        })
    }

    /// When the CA became valid (Unix seconds).
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// Root certificate, DER.
    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    /// Intermediate certificate, DER.
    pub fn intermediate_der(&self) -> &[u8] {
        &self.intermediate_der
    }

    /// The CT log's public key, DER SPKI.
    pub fn ct_public_key(&self) -> Vec<u8> {
        self.ct_key.public_key_spki_der()
    }

    /// The CT log's ID: SHA-256 of its DER public key (RFC 6962 §3.2).
    pub fn ct_log_id(&self) -> [u8; 32] {
        *sigstore_crypto::sha256(&self.ct_public_key()).as_bytes()
    }

    fn intermediate_issuer(&self) -> Issuer<'static, rcgen::KeyPair> {
        Issuer::new(
            ca_params(INTERMEDIATE_CN, self.not_before, false),
            self.intermediate_key.rcgen_key(),
        )
    }

    /// Issue a leaf for `identity` and the subject key `spki_der`, valid from
    /// `now` (Unix seconds) for [`LEAF_VALIDITY_SECONDS`], with an embedded
    /// SCT signed by `sct_key` (normally this CA's CT log; a test passes
    /// another key to make an SCT from an untrusted log). Returns DER.
    pub fn issue(
        &self,
        identity: &CertIdentity,
        spki_der: &[u8],
        now: i64,
        validity_seconds: i64,
        untrusted_ct_key: Option<&TestKey>,
    ) -> Result<Vec<u8>, String> {
        self.issue_with_eku(
            identity,
            spki_der,
            now,
            validity_seconds,
            untrusted_ct_key,
            true,
        )
    }

    /// [`Self::issue`], with the code-signing extended key usage (as Fulcio
    /// always sets it) or, when `code_signing` is false, with TLS server
    /// authentication instead: a certificate verifiers must refuse.
    pub fn issue_with_eku(
        &self,
        identity: &CertIdentity,
        spki_der: &[u8],
        now: i64,
        validity_seconds: i64,
        untrusted_ct_key: Option<&TestKey>,
        code_signing: bool,
    ) -> Result<Vec<u8>, String> {
        let subject = SubjectKey::from_spki(spki_der)?;
        let mut p = CertificateParams::default();
        p.distinguished_name = DistinguishedName::new();
        p.not_before = odt(now);
        p.not_after = odt(now + validity_seconds);
        let mut serial = [0u8; 20];
        aws_lc_rs::rand::fill(&mut serial).map_err(|_| "random serial".to_string())?;
        serial[0] &= 0x7f;
        p.serial_number = Some(SerialNumber::from_slice(&serial));
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![if code_signing {
            ExtendedKeyUsagePurpose::CodeSigning
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        p.use_authority_key_identifier_extension = true;
        p.subject_alt_names = vec![match &identity.san {
            San::Uri(u) => SanType::URI(u.clone().try_into().map_err(|e| format!("SAN URI: {e}"))?),
            San::Email(e) => SanType::Rfc822Name(
                e.clone()
                    .try_into()
                    .map_err(|e| format!("SAN email: {e}"))?,
            ),
        }];
        // Subject key identifier, as Fulcio sets on leaves (rcgen only adds
        // one to CA certificates): RFC 5280 method 1, SHA-1 of the key bits.
        let key_hash =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &subject.raw);
        p.custom_extensions.push(CustomExtension::from_oid_content(
            &[2, 5, 29, 14],
            der_octet_string(key_hash.as_ref()),
        ));
        for (n, value) in &identity.extensions {
            let mut oid = FULCIO_ARC.to_vec();
            oid.push(*n);
            let content = if *n == 1 {
                value.as_bytes().to_vec()
            } else {
                der_utf8_string(value)
            };
            p.custom_extensions
                .push(CustomExtension::from_oid_content(&oid, content));
        }
        let issuer = self.intermediate_issuer();
        // The SCT signs the TBS of the certificate as it will be without the
        // SCT list extension (RFC 6962 §3.2), which rcgen appends last.
        let pre = p
            .signed_by(&subject, &issuer)
            .map_err(|e| format!("precertificate: {e}"))?;
        let tbs = tbs_der(pre.der())?;
        let ct_key = untrusted_ct_key.unwrap_or(&self.ct_key);
        let sct = make_sct(
            ct_key,
            &self.intermediate_key.public_key_spki_der(),
            &tbs,
            now,
        )?;
        let mut list = Vec::new();
        list.extend_from_slice(
            &u16::try_from(sct.len() + 2)
                .map_err(|_| "SCT too long")?
                .to_be_bytes(),
        );
        list.extend_from_slice(
            &u16::try_from(sct.len())
                .map_err(|_| "SCT too long")?
                .to_be_bytes(),
        );
        list.extend_from_slice(&sct);
        p.custom_extensions.push(CustomExtension::from_oid_content(
            &SCT_LIST_OID,
            der_octet_string(&list),
        ));
        let leaf = p
            .signed_by(&subject, &issuer)
            .map_err(|e| format!("certificate: {e}"))?;
        Ok(leaf.der().to_vec())
    }

    /// The chain Fulcio returns after a leaf: intermediate, then root, as PEM.
    pub fn chain_pem(&self) -> Vec<String> {
        vec![
            pem_encode("CERTIFICATE", &self.intermediate_der),
            pem_encode("CERTIFICATE", &self.root_der),
        ]
    }
}

/// A subject public key given as DER SPKI, for rcgen.
struct SubjectKey {
    spki: Vec<u8>,
    raw: Vec<u8>,
    alg: &'static rcgen::SignatureAlgorithm,
}

impl SubjectKey {
    fn from_spki(spki_der: &[u8]) -> Result<Self, String> {
        use der::Decode;
        let spki = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(spki_der)
            .map_err(|e| format!("subject public key is not DER SPKI: {e}"))?;
        let alg = match sigstore_crypto::KeyAlgorithm::from_spki(
            &sigstore_types::DerPublicKey::new(spki_der.to_vec()),
        )
        .map_err(|e| format!("subject public key: {e}"))?
        {
            sigstore_crypto::KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            sigstore_crypto::KeyAlgorithm::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            sigstore_crypto::KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
            other => return Err(format!("unsupported subject key algorithm {other:?}")),
        };
        let raw = spki
            .subject_public_key
            .as_bytes()
            .ok_or("subject public key has unused bits")?
            .to_vec();
        Ok(Self {
            spki: spki_der.to_vec(),
            raw,
            alg,
        })
    }
}

impl rcgen::PublicKeyData for SubjectKey {
    fn subject_public_key_info(&self) -> Vec<u8> {
        self.spki.clone()
    }
    fn der_bytes(&self) -> &[u8] {
        &self.raw
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.alg
    }
}

fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    der_len(value.len(), &mut out);
    out.extend_from_slice(value);
    out
}

/// DER UTF8String, as Fulcio encodes extensions .1.8 onwards.
pub fn der_utf8_string(value: &str) -> Vec<u8> {
    der_tlv(0x0c, value.as_bytes())
}

fn der_octet_string(value: &[u8]) -> Vec<u8> {
    der_tlv(0x04, value)
}

/// The DER TBSCertificate of a certificate.
fn tbs_der(cert_der: &[u8]) -> Result<Vec<u8>, String> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(cert_der).map_err(|e| format!("parse: {e}"))?;
    cert.tbs_certificate
        .to_der()
        .map_err(|e| format!("encode TBS: {e}"))
}

/// A serialized RFC 6962 SignedCertificateTimestamp for a precertificate.
fn make_sct(
    ct_key: &TestKey,
    issuer_spki_der: &[u8],
    tbs: &[u8],
    now: i64,
) -> Result<Vec<u8>, String> {
    let timestamp_ms = u64::try_from(now).map_err(|_| "negative time")? * 1000;
    let issuer_key_hash = sigstore_crypto::sha256(issuer_spki_der);
    let tbs_len = u32::try_from(tbs.len()).map_err(|_| "TBS too long")?;
    if tbs_len >= 1 << 24 {
        return Err("TBS too long".into());
    }
    let mut signed = vec![0u8, 0u8]; // v1, certificate_timestamp
    signed.extend_from_slice(&timestamp_ms.to_be_bytes());
    signed.extend_from_slice(&1u16.to_be_bytes()); // precert_entry
    signed.extend_from_slice(issuer_key_hash.as_bytes());
    signed.extend_from_slice(&tbs_len.to_be_bytes()[1..]);
    signed.extend_from_slice(tbs);
    signed.extend_from_slice(&0u16.to_be_bytes()); // no extensions
    let signature = ct_key.sign(&signed);

    let log_id = sigstore_crypto::sha256(&ct_key.public_key_spki_der());
    let mut sct = vec![0u8]; // v1
    sct.extend_from_slice(log_id.as_bytes());
    sct.extend_from_slice(&timestamp_ms.to_be_bytes());
    sct.extend_from_slice(&0u16.to_be_bytes()); // extensions
    sct.push(4); // sha256
    sct.push(3); // ecdsa
    sct.extend_from_slice(
        &u16::try_from(signature.len())
            .map_err(|_| "sig")?
            .to_be_bytes(),
    );
    sct.extend_from_slice(&signature);
    Ok(sct)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::TokenSpec;

    /// The leaf's chain and embedded SCT verify with sigstore-verify's own
    /// code paths (via a real trusted root built from this CA), and its
    /// Fulcio claims parse back with sigstore-crypto.
    #[test]
    fn issued_leaf_parses_with_the_claims_it_was_given() {
        let ca = FulcioCa::generate(1_600_000_000);
        let key = TestKey::generate(KeyKind::EcdsaP256);
        let claims = TokenSpec::gitlab("https://gitlab.com").claims(1_700_000_000);
        let identity = identity_from_claims(claims.as_object().unwrap()).unwrap();
        let leaf = ca
            .issue(
                &identity,
                &key.public_key_spki_der(),
                1_700_000_000,
                600,
                None,
            )
            .unwrap();
        let info = sigstore_crypto::parse_certificate_info(&sigstore_types::DerCertificate::new(
            leaf.clone(),
        ))
        .unwrap();
        assert_eq!(info.issuer.as_deref(), Some("https://gitlab.com"));
        assert_eq!(
            info.ci_claims.source_repository_uri.as_deref(),
            Some("https://gitlab.com/keyless-demo/hello-py")
        );
        assert_eq!(
            info.public_key.as_bytes(),
            key.public_key_spki_der().as_slice()
        );
        assert_eq!(
            info.not_after.as_second() - info.not_before.as_second(),
            600
        );
        let again = FulcioCa::from_stored(&ca.to_stored()).unwrap();
        assert_eq!(again.root_der(), ca.root_der());
        assert_eq!(again.ct_log_id(), ca.ct_log_id());
    }
}
