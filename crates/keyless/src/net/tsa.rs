//! A Time-Stamp Authority (RFC 3161 over HTTP): the request sent on the one
//! HTTP client, the answer read through its size cap
//! ([`answer::TSA_TIMESTAMP`]).
//!
//! As sigstore-tsa 0.15.1 (and sigstore-python, sigstore-go) send it: a DER
//! `TimeStampReq` (version 1, SHA-256 message imprint, a random nonce,
//! `certReq` true) as `application/timestamp-query`; the answer is the
//! `TimeStampResp` whose status must be granted and whose TSTInfo must
//! carry the request's imprint and nonce. Whether the TSA is trusted and its
//! signature valid is verification's business (sigstore-tsa, through
//! sigstore-verify), not this client's.

use super::HttpClient;
use super::answer::{self, AnswerError, exchange};
use cms::content_info::ContentInfo;
use der::asn1::{GeneralizedTime, Int, OctetString};
use der::{Decode, Encode};
use sigstore_types::{SignatureBytes, TimestampToken};
use x509_cert::spki::AlgorithmIdentifierOwned;

/// id-sha256, the imprint's hash algorithm.
const SHA256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// id-signedData, what a timestamp token is (RFC 3161 §2.4.2).
const SIGNED_DATA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo, the content a timestamp token signs.
const TST_INFO: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");

/// A TSA's timestamp endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Tsa {
    url: String,
    http: HttpClient,
}

impl Tsa {
    /// The TSA whose timestamp endpoint is `url` (the full URL).
    pub(crate) fn new(url: &str, http: HttpClient) -> Self {
        Self {
            url: url.to_string(),
            http,
        }
    }

    /// A timestamp over SHA-256(`signature`). One attempt; the caller
    /// retries.
    pub(crate) async fn timestamp_signature(
        &self,
        signature: &SignatureBytes,
    ) -> Result<TimestampToken, AnswerError> {
        let digest = sigstore_crypto::sha256(signature.as_bytes());
        let mut nonce = [0u8; 8];
        aws_lc_rs::rand::fill(&mut nonce)
            .map_err(|_| AnswerError::Invalid("no randomness for the nonce".into()))?;
        let request = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: SHA256,
                    parameters: None,
                },
                hashed_message: OctetString::new(digest.as_bytes().to_vec())
                    .map_err(|e| AnswerError::Invalid(e.to_string()))?,
            },
            nonce: Some(Int::from(
                der::asn1::Uint::new(&nonce).map_err(|e| AnswerError::Invalid(e.to_string()))?,
            )),
            cert_req: true,
        };
        let der = request
            .to_der()
            .map_err(|e| AnswerError::Invalid(format!("cannot encode the request: {e}")))?;
        let body = exchange(
            self.http
                .post(&self.url)
                .header("Content-Type", "application/timestamp-query")
                .body(der),
            answer::TSA_TIMESTAMP,
        )
        .await?;
        let info = tst_info(&body).map_err(AnswerError::Invalid)?;
        answers(&request, &info).map_err(|why| AnswerError::Invalid(why.into()))?;
        Ok(TimestampToken::new(body))
    }
}

/// RFC 3161 §2.4.2: whether `info` answers `request`: the same hash
/// algorithm and hashed message, and the same nonce.
///
/// The algorithm is compared by OID, as sigstore-tsa compares it: the
/// request leaves SHA-256's parameters absent (as sigstore-tsa sends it)
/// and production TSAs (sigstore/timestamp-authority) answer with explicit
/// NULL parameters; RFC 5754 §2 allows both. Any other parameters are
/// refused (SHA-256 has none).
fn answers(request: &TimeStampReq, info: &TstInfo) -> Result<(), &'static str> {
    let (asked, got) = (&request.message_imprint, &info.message_imprint);
    let no_parameters = |alg: &AlgorithmIdentifierOwned| {
        alg.parameters
            .as_ref()
            .is_none_or(|p| *p == der::Any::from(der::asn1::Null))
    };
    if got.hash_algorithm.oid != asked.hash_algorithm.oid
        || !no_parameters(&got.hash_algorithm)
        || got.hashed_message != asked.hashed_message
    {
        return Err("the timestamp is for another message imprint");
    }
    if info.nonce != request.nonce {
        return Err("the timestamp carries another nonce");
    }
    Ok(())
}

/// The TSTInfo of a `TimeStampResp` (or of a bare token, as sigstore-tsa
/// also reads), after its status says granted.
fn tst_info(answer: &[u8]) -> Result<TstInfo, String> {
    let token = match TimeStampResp::from_der(answer) {
        Ok(resp) => {
            // granted (0) or grantedWithMods (1)
            if resp.status.status > 1 {
                return Err(format!(
                    "the TSA did not grant it (status {})",
                    resp.status.status
                ));
            }
            resp.token.ok_or("the answer holds no timestamp token")?
        }
        Err(_) => ContentInfo::from_der(answer)
            .map_err(|e| format!("not an RFC 3161 timestamp answer: {e}"))?,
    };
    if token.content_type != SIGNED_DATA {
        return Err("the token is not CMS SignedData".into());
    }
    let signed: cms::signed_data::SignedData = token
        .content
        .decode_as()
        .map_err(|e| format!("the token is not CMS SignedData: {e}"))?;
    if signed.encap_content_info.econtent_type != TST_INFO {
        return Err("the token does not sign a TSTInfo".into());
    }
    let content = signed
        .encap_content_info
        .econtent
        .ok_or("the token holds no TSTInfo")?;
    TstInfo::from_der(content.value()).map_err(|e| format!("the TSTInfo does not parse: {e}"))
}

/// RFC 3161 §2.4.1 (extensions and policy never sent).
#[derive(der::Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(default = "bool::default")]
    cert_req: bool,
}

#[derive(der::Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// RFC 3161 §2.4.2.
#[derive(der::Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    token: Option<ContentInfo>,
}

#[derive(der::Sequence)]
struct PkiStatusInfo {
    status: u8,
    #[asn1(optional = "true")]
    status_string: Option<Vec<String>>,
    #[asn1(optional = "true")]
    fail_info: Option<der::asn1::BitString>,
}

/// RFC 3161 §2.4.2; only the imprint and nonce are used here.
#[derive(der::Sequence)]
struct TstInfo {
    version: u8,
    policy: der::oid::ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GeneralizedTime,
    /// `Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0]
    /// IMPLICIT ..., micros [1] IMPLICIT ... }`, left opaque: it is not
    /// used here, and however a TSA writes it is verification's business.
    #[asn1(optional = "true")]
    accuracy: Option<der::asn1::SequenceOf<der::Any, 3>>,
    #[asn1(default = "bool::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    tsa: Option<x509_cert::ext::pkix::name::GeneralName>,
    #[asn1(context_specific = "1", optional = "true", tag_mode = "IMPLICIT")]
    extensions: Option<x509_cert::ext::Extensions>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// The `TimeStampResp` of a real Sigstore staging timestamp
    /// (sigstore/timestamp-authority, in a sigstore-python bundle).
    fn staging_answer() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/vectors/sigstore-python/staging-rekor-v2.txt.sigstore.json"
        );
        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let b64 = bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            [0]["signedTimestamp"]
            .as_str()
            .unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    }

    /// The request keyless sends for the digest and nonce `info` carries.
    fn request_for(info: &TstInfo) -> TimeStampReq {
        TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: SHA256,
                    parameters: None,
                },
                hashed_message: info.message_imprint.hashed_message.clone(),
            },
            nonce: info.nonce.clone(),
            cert_req: true,
        }
    }

    #[test]
    fn a_real_sigstore_timestamp_with_null_parameters_answers_the_request() {
        let info = tst_info(&staging_answer()).unwrap();
        // sigstore/timestamp-authority writes SHA-256's parameters as NULL.
        assert_eq!(
            info.message_imprint.hash_algorithm.parameters,
            Some(der::Any::from(der::asn1::Null))
        );
        answers(&request_for(&info), &info).unwrap();
    }

    /// Where `pattern` starts in `bytes`.
    fn find(bytes: &[u8], pattern: &[u8]) -> usize {
        bytes
            .windows(pattern.len())
            .position(|w| w == pattern)
            .unwrap()
    }

    #[test]
    fn an_accuracy_in_milliseconds_is_read() {
        let answer = staging_answer();
        // The staging TSTInfo (`30 81 ad`, version 1) with its accuracy
        // `{ seconds 1 }` made `{ seconds 1, millis [0] IMPLICIT 5 }`.
        let start = find(&answer, &[0x30, 0x81, 0xad, 0x02, 0x01, 0x01]);
        let der = &answer[start..start + 3 + 0xad];
        let accuracy = find(der, &[0x30, 0x03, 0x02, 0x01, 0x01]);
        let mut with_millis = der[..accuracy].to_vec();
        with_millis.extend([0x30, 0x06, 0x02, 0x01, 0x01, 0x80, 0x01, 0x05]);
        with_millis.extend(&der[accuracy + 5..]);
        with_millis[2] += 3;
        let info = TstInfo::from_der(&with_millis).unwrap();
        answers(&request_for(&info), &info).unwrap();
        let original = tst_info(&answer).unwrap();
        assert_eq!(info.nonce, original.nonce);
    }

    #[test]
    fn a_token_that_is_not_signed_data_is_refused() {
        let mut answer = staging_answer();
        // The token's contentType, id-signedData, made id-data.
        let oid = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
        ];
        let at = find(&answer, &oid);
        answer[at + oid.len() - 1] = 0x01;
        assert_eq!(
            tst_info(&answer).err().as_deref(),
            Some("the token is not CMS SignedData")
        );
    }

    #[test]
    fn another_digest_algorithm_parameters_or_nonce_is_refused() {
        let info = tst_info(&staging_answer()).unwrap();
        let imprint = Err("the timestamp is for another message imprint");

        let mut digest = request_for(&info);
        digest.message_imprint.hashed_message = OctetString::new([0u8; 32]).unwrap();
        assert_eq!(answers(&digest, &info), imprint);

        let mut algorithm = request_for(&info);
        algorithm.message_imprint.hash_algorithm.oid =
            der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
        assert_eq!(answers(&algorithm, &info), imprint);

        let mut odd = tst_info(&staging_answer()).unwrap();
        odd.message_imprint.hash_algorithm.parameters =
            Some(der::Any::new(der::Tag::OctetString, vec![0]).unwrap());
        assert_eq!(answers(&request_for(&info), &odd), imprint);

        let mut nonce = request_for(&info);
        nonce.nonce = Some(Int::new(&[1]).unwrap());
        assert_eq!(
            answers(&nonce, &info),
            Err("the timestamp carries another nonce")
        );
    }
}
