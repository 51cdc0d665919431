//! Fulcio's `POST /api/v2/signingCert`, the one Fulcio call keyless makes:
//! sent on the one HTTP client, the answer read through its size cap
//! ([`answer::FULCIO_SIGNING_CERT`]); the certificates are parsed by
//! sigstore-types and returned as sigstore-fulcio's [`SigningCertificate`].
//!
//! The wire format is Fulcio's v2 API (`fulcio.proto`, as sigstore-fulcio
//! 0.15.1, sigstore-go and cosign send it): the token in
//! `credentials.oidcIdentityToken`, the public key as PEM with a proof of
//! possession (a signature over the token's identity). Production Fulcio
//! answers 200; any 2xx is taken, as sigstore-fulcio does.

use super::HttpClient;
use super::answer::{self, AnswerError, exchange_json};
use serde::Deserialize;
use sigstore_crypto::KeyPair;
use sigstore_fulcio::SigningCertificate;
use sigstore_oidc::IdentityToken;
use sigstore_types::DerCertificate;

/// A Fulcio instance.
pub(crate) struct Fulcio {
    url: String,
    http: HttpClient,
}

impl Fulcio {
    /// Fulcio at `url`, as [`super::check_url`] returns it (no trailing
    /// slash).
    pub(crate) fn new(url: &str, http: HttpClient) -> Self {
        Self {
            url: url.to_string(),
            http,
        }
    }

    /// A certificate for `key`'s public key and `token`'s identity. One
    /// attempt; the caller retries.
    pub(crate) async fn signing_certificate(
        &self,
        token: &IdentityToken,
        key: &KeyPair,
    ) -> Result<SigningCertificate, AnswerError> {
        let public_key = key
            .public_key_der()
            .map_err(|e| AnswerError::Invalid(format!("cannot export the public key: {e}")))?
            .to_pem();
        let proof = key.sign(token.identity().as_bytes()).map_err(|e| {
            AnswerError::Invalid(format!("cannot sign the proof of possession: {e}"))
        })?;
        // The algorithm stays empty: the PEM says which it is.
        let request = serde_json::json!({
            "credentials": { "oidcIdentityToken": token.expose_secret() },
            "publicKeyRequest": {
                "publicKey": { "algorithm": "", "content": public_key },
                "proofOfPossession": proof,
            },
        });
        let wire: SigningCertificateWire = exchange_json(
            self.http
                .post(format!("{}/api/v2/signingCert", self.url))
                .json(&request),
            answer::FULCIO_SIGNING_CERT,
        )
        .await?;
        match (
            wire.signed_certificate_embedded_sct,
            wire.signed_certificate_detached_sct,
        ) {
            (Some(embedded), None) => Ok(SigningCertificate::EmbeddedSct {
                chain: embedded.chain.parse()?,
            }),
            (None, Some(detached)) => Ok(SigningCertificate::DetachedSct {
                chain: detached.chain.parse()?,
                signed_certificate_timestamp: detached.signed_certificate_timestamp,
            }),
            (None, None) => Err(AnswerError::Invalid("it contains no certificate".into())),
            (Some(_), Some(_)) => Err(AnswerError::Invalid(
                "it contains both an embedded and a detached SCT".into(),
            )),
        }
    }
}

/// Fulcio's answer: one of the two forms of `SigningCertificate`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SigningCertificateWire {
    #[serde(default)]
    signed_certificate_embedded_sct: Option<EmbeddedWire>,
    #[serde(default)]
    signed_certificate_detached_sct: Option<DetachedWire>,
}

#[derive(Deserialize)]
struct EmbeddedWire {
    chain: ChainWire,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetachedWire {
    chain: ChainWire,
    signed_certificate_timestamp: String,
}

/// PEM certificates, leaf first.
#[derive(Deserialize)]
struct ChainWire {
    certificates: Vec<String>,
}

impl ChainWire {
    /// The chain as DER certificates; never empty.
    fn parse(self) -> Result<Vec<DerCertificate>, AnswerError> {
        if self.certificates.is_empty() {
            return Err(AnswerError::Invalid(
                "the certificate chain is empty".into(),
            ));
        }
        self.certificates
            .iter()
            .map(|pem| {
                DerCertificate::from_pem(pem)
                    .map_err(|e| AnswerError::Invalid(format!("a certificate is not PEM: {e}")))
            })
            .collect()
    }
}
