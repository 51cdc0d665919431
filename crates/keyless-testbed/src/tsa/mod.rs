//! An RFC 3161 Time-Stamp Authority, as Sigstore's timestamp-authority runs.
//!
//! Sigstore clients send the TSA a `TimeStampReq` whose message imprint is
//! the hash of the artifact signature, and store the DER `TimeStampResp` it
//! returns in the bundle (`rfc3161Timestamps[].signedTimestamp`). Verifiers
//! then check the CMS signature against the TSA's chain from the trusted
//! root, so this module builds both: the chain (root, intermediate, and a
//! leaf whose only, critical, extended key usage is id-kp-timeStamping, as
//! RFC 3161 §2.3 requires) and the signed responses.
//!
//! Structures come from the `der`, `x509-cert` and `cms` crates; only the
//! RFC 3161 and RFC 5035 types those crates lack are declared, in `asn1`.

mod asn1;

use asn1::{
    Accuracy, EssCertIdV2, IssuerSerial, MessageImprint, PkiStatusInfo, SigningCertificateV2,
    TimeStampReq, TimeStampResp, TstInfo,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use const_oid::db::{rfc5280, rfc5911, rfc5912};
use der::asn1::{GeneralizedTime, Int, OctetString, SetOfVec, Uint};
use der::{Any, Decode, Encode};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::keys::{KeyKind, StoredKey, TestKey, pem_encode};

/// id-ct-TSTInfo (RFC 3161 §2.4.2): the eContentType of a timestamp token.
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// The policy Sigstore's timestamp-authority puts in every TSTInfo.
pub const SIGSTORE_TSA_POLICY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.2");

/// id-ce-extKeyUsage, as the arc list rcgen's custom extensions take.
const EXT_KEY_USAGE_ARCS: &[u64] = &[2, 5, 29, 37];

/// How long the generated certificates stay valid: longer than any testbed
/// or demo will run, so persisted instances never expire under their users.
const VALIDITY_SECONDS: i64 = 20 * 366 * 24 * 60 * 60;

/// Why a request could not be answered with a timestamp token.
///
/// Every variant except [`TsaError::Encoding`] is the client's fault and
/// maps to HTTP 400.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaError {
    /// The bytes are not a DER `TimeStampReq`.
    #[error("malformed TimeStampReq: {0}")]
    MalformedRequest(String),
    /// The request version is not 1, the only one RFC 3161 defines.
    #[error("unsupported TimeStampReq version {0}; only version 1 is defined")]
    UnsupportedVersion(u8),
    /// The message imprint uses a hash other than SHA-256/384/512.
    #[error(
        "unsupported hash algorithm {0} in messageImprint; SHA-256, SHA-384 and SHA-512 are accepted"
    )]
    UnsupportedHashAlgorithm(ObjectIdentifier),
    /// The hash algorithm identifier has parameters other than NULL.
    #[error("hash algorithm {0} in messageImprint has parameters; they must be absent or NULL")]
    HashParameters(ObjectIdentifier),
    /// The hashed message is not as long as the named algorithm's digests.
    #[error("messageImprint holds {actual} bytes, but {algorithm} digests are {expected} bytes")]
    DigestLength {
        /// The hash algorithm the request names.
        algorithm: &'static str,
        /// That algorithm's digest length.
        expected: usize,
        /// The length of the hashed message in the request.
        actual: usize,
    },
    /// The request carries extensions; RFC 3161 §2.4.1 requires refusing
    /// any the TSA does not recognise, and this one recognises none.
    #[error("request extension {0} is not supported (RFC 3161 unacceptedExtension)")]
    UnacceptedExtension(ObjectIdentifier),
    /// The time cannot be written as a genTime.
    #[error("time {0} cannot be a timestamp's genTime: {1}")]
    TimeOutOfRange(Timestamp, String),
    /// The bytes are not a DER `TimeStampResp`.
    #[error("malformed TimeStampResp: {0}")]
    MalformedResponse(String),
    /// The response does not grant a token.
    #[error("TimeStampResp has status {0}, not granted")]
    NotGranted(u8),
    /// Encoding the response failed; a bug here, not in the request.
    #[error("encoding {0}")]
    Encoding(String),
}

/// A [`TimestampAuthority`] as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTsa {
    /// The signing key of the leaf certificate.
    pub key: StoredKey,
    /// Base64 DER certificates: leaf, intermediate, root.
    pub chain: Vec<String>,
}

/// A Time-Stamp Authority: a P-256 signing key and its certificate chain.
pub struct TimestampAuthority {
    key: TestKey,
    /// DER, leaf first.
    chain_der: Vec<Vec<u8>>,
    /// `chain_der` parsed, for the CMS certificate set and the signer id.
    chain: Vec<Certificate>,
    /// The DER signingCertificateV2 attribute value naming the leaf; fixed
    /// for the authority's lifetime, so computed once.
    signing_certificate: Any,
}

impl std::fmt::Debug for TimestampAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimestampAuthority")
            .field("key", &self.key)
            .field("chain_len", &self.chain_der.len())
            .finish_non_exhaustive()
    }
}

impl TimestampAuthority {
    /// A fresh authority whose certificates are valid from `not_before` for
    /// twenty years.
    ///
    /// The root and intermediate keys are thrown away once they have signed:
    /// the testbed never issues a second leaf, and a persisted authority
    /// then holds only the key it signs timestamps with.
    pub fn generate(not_before: Timestamp) -> Self {
        let root_key = TestKey::generate(KeyKind::EcdsaP256);
        let intermediate_key = TestKey::generate(KeyKind::EcdsaP256);
        let leaf_key = TestKey::generate(KeyKind::EcdsaP256);

        let mut root_params = ca_params("keyless-testbed TSA Root", not_before);
        root_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let root_rcgen = root_key.rcgen_key();
        let root_cert = root_params
            .self_signed(&root_rcgen)
            .expect("rcgen signs the TSA root");
        let root_issuer = rcgen::Issuer::new(root_params, root_rcgen);

        let mut intermediate_params = ca_params("keyless-testbed TSA Intermediate", not_before);
        // Only the leaf may sit below the intermediate.
        intermediate_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        intermediate_params.use_authority_key_identifier_extension = true;
        // sigstore-tsa validates the chain with webpki, which demands the
        // required EKU of every certificate below the trust anchor, not just
        // the leaf: an intermediate without timeStamping fails the chain.
        intermediate_params.extended_key_usages =
            vec![rcgen::ExtendedKeyUsagePurpose::TimeStamping];
        let intermediate_rcgen = intermediate_key.rcgen_key();
        let intermediate_cert = intermediate_params
            .signed_by(&intermediate_rcgen, &root_issuer)
            .expect("rcgen signs the TSA intermediate");
        let intermediate_issuer = rcgen::Issuer::new(intermediate_params, intermediate_rcgen);

        let mut leaf_params = base_params("keyless-testbed TSA Timestamping", not_before);
        leaf_params.is_ca = rcgen::IsCa::ExplicitNoCa;
        leaf_params.use_authority_key_identifier_extension = true;
        leaf_params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        // rcgen writes its own extendedKeyUsage as non-critical, but RFC 3161
        // §2.3 requires the timeStamping EKU to be critical and alone.
        let eku = x509_cert::ext::pkix::ExtendedKeyUsage(vec![rfc5280::ID_KP_TIME_STAMPING])
            .to_der()
            .expect("an EKU of one OID encodes");
        let mut eku = rcgen::CustomExtension::from_oid_content(EXT_KEY_USAGE_ARCS, eku);
        eku.set_criticality(true);
        leaf_params.custom_extensions.push(eku);
        let leaf_cert = leaf_params
            .signed_by(&leaf_key.rcgen_key(), &intermediate_issuer)
            .expect("rcgen signs the TSA leaf");

        let chain = vec![
            leaf_cert.der().to_vec(),
            intermediate_cert.der().to_vec(),
            root_cert.der().to_vec(),
        ];
        Self::from_parts(leaf_key, chain).expect("a freshly generated TSA is consistent")
    }

    /// Assemble an authority, checking that the chain has three parseable
    /// certificates (leaf, intermediate, root) and that the leaf certifies
    /// `key`, so a mismatched stored file fails at load, not at verify.
    fn from_parts(key: TestKey, chain_der: Vec<Vec<u8>>) -> Result<Self, String> {
        if key.kind() != KeyKind::EcdsaP256 {
            return Err(format!(
                "TSA key is {:?}; the TSA signs with ECDSA P-256",
                key.kind()
            ));
        }
        if chain_der.len() != 3 {
            return Err(format!(
                "TSA chain has {} certificates; expected leaf, intermediate and root",
                chain_der.len()
            ));
        }
        let chain = chain_der
            .iter()
            .enumerate()
            .map(|(i, der)| {
                Certificate::from_der(der).map_err(|e| format!("TSA chain certificate {i}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let leaf = &chain[0];
        let leaf_public_key = leaf
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        if leaf_public_key != key.public_key_raw() {
            return Err("TSA leaf certificate does not certify the TSA signing key".into());
        }
        let signing_certificate = SigningCertificateV2 {
            certs: vec![EssCertIdV2 {
                cert_hash: OctetString::new(sha256(&chain_der[0]))
                    .map_err(|e| format!("ESSCertIDv2 hash: {e}"))?,
                issuer_serial: IssuerSerial {
                    issuer: vec![GeneralName::DirectoryName(
                        leaf.tbs_certificate.issuer.clone(),
                    )],
                    serial_number: leaf.tbs_certificate.serial_number.clone(),
                },
            }],
        };
        let signing_certificate = Any::encode_from(&signing_certificate)
            .map_err(|e| format!("signingCertificateV2: {e}"))?;
        Ok(Self {
            key,
            chain_der,
            chain,
            signing_certificate,
        })
    }

    /// The stored form.
    pub fn to_stored(&self) -> StoredTsa {
        StoredTsa {
            key: self.key.to_stored(),
            chain: self.chain_der.iter().map(|der| B64.encode(der)).collect(),
        }
    }

    /// Load the stored form, refusing a chain that does not fit the key.
    pub fn from_stored(stored: &StoredTsa) -> Result<Self, String> {
        let key = TestKey::from_stored(&stored.key).map_err(|e| format!("TSA key: {e}"))?;
        let chain = stored
            .chain
            .iter()
            .enumerate()
            .map(|(i, b64)| {
                B64.decode(b64)
                    .map_err(|e| format!("TSA chain certificate {i} is not base64: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::from_parts(key, chain)
    }

    /// DER certificates: leaf, intermediate, root (the order of a trusted
    /// root's `certChain`).
    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        self.chain_der.clone()
    }

    /// PEM certificates, leaf first: what Sigstore's TSA serves at
    /// `/api/v1/timestamp/certchain`.
    pub fn chain_pem(&self) -> String {
        self.chain_der
            .iter()
            .map(|der| pem_encode("CERTIFICATE", der))
            .collect()
    }

    /// Answer a DER `TimeStampReq` with a DER `TimeStampResp` granting a
    /// token with genTime `now` (whole seconds) and serial number `serial`.
    /// The token's policy is the request's reqPolicy if it names one, else
    /// [`SIGSTORE_TSA_POLICY`]; the chain is embedded only if certReq is set.
    ///
    /// Sigstore bundles store this response as is; see
    /// [`token_from_response`] for the bare token.
    pub fn respond(
        &self,
        request_der: &[u8],
        now: Timestamp,
        serial: u128,
    ) -> Result<Vec<u8>, TsaError> {
        let request = parse_request(request_der)?;

        let seconds = u64::try_from(now.as_second())
            .map_err(|_| TsaError::TimeOutOfRange(now, "before 1970".into()))?;
        let unix = std::time::Duration::from_secs(seconds);
        let gen_time = GeneralizedTime::from_unix_duration(unix)
            .map_err(|e| TsaError::TimeOutOfRange(now, e.to_string()))?;
        let signing_time = x509_cert::time::Time::try_from(std::time::UNIX_EPOCH + unix)
            .map_err(|e| TsaError::TimeOutOfRange(now, e.to_string()))?;

        let tst_info = TstInfo {
            version: 1,
            policy: request.req_policy.unwrap_or(SIGSTORE_TSA_POLICY),
            // As sigstore/timestamp-authority answers: the request's
            // imprint, its hash algorithm's parameters written as NULL
            // even when the request left them absent.
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    parameters: Some(der::asn1::Null.into()),
                    ..request.message_imprint.hash_algorithm
                },
                ..request.message_imprint
            },
            serial_number: uint(&serial.to_be_bytes()),
            gen_time,
            // genTime drops the sub-second part of `now`.
            accuracy: Some(Accuracy { seconds: 1 }),
            nonce: request.nonce,
        }
        .to_der()
        .map_err(encoding("TSTInfo"))?;

        let signed_attrs = SetOfVec::try_from(vec![
            attribute(rfc5911::ID_CONTENT_TYPE, &ID_CT_TST_INFO)?,
            attribute(rfc5911::ID_SIGNING_TIME, &signing_time)?,
            attribute(
                rfc5911::ID_MESSAGE_DIGEST,
                &OctetString::new(sha256(&tst_info)).map_err(encoding("messageDigest"))?,
            )?,
            Attribute {
                oid: rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2,
                values: SetOfVec::try_from(vec![self.signing_certificate.clone()])
                    .map_err(encoding("signingCertificateV2"))?,
            },
        ])
        .map_err(encoding("signed attributes"))?;
        // RFC 5652 §5.4: the signature covers the attributes as a universal
        // SET OF (tag 0x31), not as the [0] IMPLICIT field they travel in.
        let signature = self.key.sign(
            &signed_attrs
                .to_der()
                .map_err(encoding("signed attributes"))?,
        );

        let leaf = &self.chain[0].tbs_certificate;
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: leaf.issuer.clone(),
                serial_number: leaf.serial_number.clone(),
            }),
            digest_alg: sha256_algorithm(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: rfc5912::ECDSA_WITH_SHA_256,
                parameters: None,
            },
            signature: OctetString::new(signature).map_err(encoding("signature"))?,
            unsigned_attrs: None,
        };
        let certificates = if request.cert_req {
            let choices = self
                .chain
                .iter()
                .cloned()
                .map(CertificateChoices::Certificate)
                .collect::<Vec<_>>();
            Some(CertificateSet(
                SetOfVec::try_from(choices).map_err(encoding("certificates"))?,
            ))
        } else {
            None
        };
        let signed_data = SignedData {
            // Version 3 because eContentType is not id-data (RFC 5652 §5.1).
            version: CmsVersion::V3,
            digest_algorithms: SetOfVec::try_from(vec![sha256_algorithm()])
                .map_err(encoding("digestAlgorithms"))?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_CT_TST_INFO,
                econtent: Some(
                    Any::encode_from(&OctetString::new(tst_info).map_err(encoding("eContent"))?)
                        .map_err(encoding("eContent"))?,
                ),
            },
            certificates,
            crls: None,
            signer_infos: SignerInfos(
                SetOfVec::try_from(vec![signer_info]).map_err(encoding("signerInfos"))?,
            ),
        };
        let token = ContentInfo {
            content_type: rfc5911::ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data).map_err(encoding("SignedData"))?,
        };
        TimeStampResp {
            status: PkiStatusInfo {
                status: 0, // granted
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: Some(token),
        }
        .to_der()
        .map_err(encoding("TimeStampResp"))
    }
}

/// A DER `TimeStampReq` for the SHA-256 digest of `message`, as a Sigstore
/// client sends one to timestamp a signature.
pub fn build_request(message: &[u8], nonce: Option<u64>, cert_req: bool) -> Vec<u8> {
    TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: sha256_algorithm(),
            hashed_message: OctetString::new(sha256(message)).expect("32 bytes fit"),
        },
        req_policy: None,
        nonce: nonce.map(|n| uint(&n.to_be_bytes())),
        cert_req,
        extensions: None,
    }
    .to_der()
    .expect("a TimeStampReq of fixed-size fields encodes")
}

/// The `timeStampToken` (a CMS `ContentInfo`) inside a granted DER
/// `TimeStampResp`.
pub fn token_from_response(response_der: &[u8]) -> Result<Vec<u8>, TsaError> {
    let response = TimeStampResp::from_der(response_der)
        .map_err(|e| TsaError::MalformedResponse(e.to_string()))?;
    // 0 is granted, 1 grantedWithMods (RFC 3161 §2.4.2).
    if response.status.status > 1 {
        return Err(TsaError::NotGranted(response.status.status));
    }
    response
        .time_stamp_token
        .ok_or_else(|| TsaError::MalformedResponse("granted but no timeStampToken".into()))?
        .to_der()
        .map_err(encoding("timeStampToken"))
}

/// Decode and check a request; what is left is safe to copy into a token.
fn parse_request(request_der: &[u8]) -> Result<TimeStampReq, TsaError> {
    let request = TimeStampReq::from_der(request_der)
        .map_err(|e| TsaError::MalformedRequest(e.to_string()))?;
    if request.version != 1 {
        return Err(TsaError::UnsupportedVersion(request.version));
    }
    if let Some(extension) = request.extensions.iter().flatten().next() {
        return Err(TsaError::UnacceptedExtension(extension.extn_id));
    }
    let algorithm = &request.message_imprint.hash_algorithm;
    let (name, length) = match algorithm.oid {
        rfc5912::ID_SHA_256 => ("SHA-256", 32),
        rfc5912::ID_SHA_384 => ("SHA-384", 48),
        rfc5912::ID_SHA_512 => ("SHA-512", 64),
        other => return Err(TsaError::UnsupportedHashAlgorithm(other)),
    };
    if algorithm
        .parameters
        .as_ref()
        .is_some_and(|p| der::Tagged::tag(p) != der::Tag::Null)
    {
        return Err(TsaError::HashParameters(algorithm.oid));
    }
    let actual = request.message_imprint.hashed_message.as_bytes().len();
    if actual != length {
        return Err(TsaError::DigestLength {
            algorithm: name,
            expected: length,
            actual,
        });
    }
    Ok(request)
}

/// Parameters shared by the three certificates.
fn base_params(common_name: &str, not_before: Timestamp) -> rcgen::CertificateParams {
    let mut params = rcgen::CertificateParams::default();
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, common_name);
    name.push(rcgen::DnType::OrganizationName, "keyless-testbed");
    params.distinguished_name = name;
    // rcgen takes `time` dates; adding a std Duration to its epoch avoids
    // depending on `time` ourselves. Certificates cannot start before 1970
    // or end after 9999, so clamp rather than overflow.
    let start = not_before.as_second().clamp(0, MAX_CERT_SECOND);
    let end = start.saturating_add(VALIDITY_SECONDS).min(MAX_CERT_SECOND);
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + std::time::Duration::from_secs(start.unsigned_abs());
    params.not_after = epoch + std::time::Duration::from_secs(end.unsigned_abs());
    params
}

/// 9999-12-31T23:59:59Z, the last second a GeneralizedTime can hold.
const MAX_CERT_SECOND: i64 = 253_402_300_799;

/// Parameters of a CA certificate in the chain.
fn ca_params(common_name: &str, not_before: Timestamp) -> rcgen::CertificateParams {
    let mut params = base_params(common_name, not_before);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    params
}

fn sha256(data: &[u8]) -> Vec<u8> {
    sigstore_crypto::sha256(data).as_slice().to_vec()
}

/// SHA-256 with absent parameters, as RFC 5754 §2 says to generate it.
fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: rfc5912::ID_SHA_256,
        parameters: None,
    }
}

/// A non-negative INTEGER from big-endian bytes, minimally encoded.
fn uint(bytes: &[u8]) -> Int {
    Int::from(Uint::new(bytes).expect("a u128 is a valid unsigned integer"))
}

/// A single-valued CMS attribute.
fn attribute(oid: ObjectIdentifier, value: &impl Encode) -> Result<Attribute, TsaError> {
    // Through DER bytes because CHOICE types such as Time have no fixed tag
    // for `Any::encode_from`.
    let value = value
        .to_der()
        .and_then(|der| Any::from_der(&der))
        .map_err(encoding("attribute value"))?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(encoding("attribute values"))?,
    })
}

fn encoding(what: &'static str) -> impl Fn(der::Error) -> TsaError {
    move |e| TsaError::Encoding(format!("{what}: {e}"))
}

#[cfg(test)]
mod tests;
