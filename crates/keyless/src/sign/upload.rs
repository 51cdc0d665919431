//! Uploads to the services: an RFC 3161 timestamp from the TSA, and the
//! signature (or DSSE envelope) logged in Rekor v1 or v2.

use super::events::tell_retry;
use super::pipeline::FileContext;
use crate::net::rekor::RekorV1;
use crate::net::{RetryEvent, retry_observed};
use sigstore_types::{Sha256Hash, SignatureBytes, TransparencyLogEntry};

/// What a Rekor v2 409 is reported as.
pub(super) const ALREADY_LOGGED_V2: &str =
    "Rekor v2 answered 409: this signature is already logged";

impl FileContext<'_> {
    /// Tell the run's progress of a retry (TSA and Rekor are not sent the
    /// token: their words are only cut).
    fn on_retry(&self, retry: &RetryEvent) {
        tell_retry(self.progress, retry, None);
    }

    /// An RFC 3161 timestamp over `signature`, when a TSA is configured.
    pub(super) async fn timestamp(
        &self,
        signature: &SignatureBytes,
    ) -> std::result::Result<Option<sigstore_types::TimestampToken>, String> {
        match self.tsa {
            Some(tsa) => retry_observed(
                "TSA",
                self.options.timeout,
                &|r: &RetryEvent| self.on_retry(r),
                || tsa.timestamp_signature(signature),
            )
            .await
            .map(Some)
            .map_err(|e| e.0),
            None => Ok(None),
        }
    }

    /// Log a DSSE envelope in Rekor v1 (a `dsse` 0.0.1 entry).
    pub(super) async fn log_dsse(
        &self,
        envelope: &sigstore_types::DsseEnvelope,
    ) -> std::result::Result<TransparencyLogEntry, String> {
        let rekor = self.rekor_v1()?;
        let request =
            sigstore_rekor::DsseEntry::new(envelope, self.leaf).map_err(|e| e.to_string())?;
        rekor
            .create_dsse(&request)
            .await?
            .to_bundle_entry(sigstore_types::KindVersion::DsseV001)
            .map_err(|e| format!("Rekor answered with an unusable entry: {e}"))
    }

    fn rekor_v1(&self) -> std::result::Result<&RekorV1, String> {
        self.rekor_v1
            .ok_or_else(|| "this run logs to Rekor v2, which takes no such entry".to_string())
    }

    /// Log the signature in Rekor; a 409 from Rekor v1 (already logged, e.g.
    /// a retried upload) fetches the existing entry instead.
    pub(super) async fn log(
        &self,
        digest: &Sha256Hash,
        signature: &SignatureBytes,
    ) -> std::result::Result<TransparencyLogEntry, String> {
        let services = &self.signer.services;
        let timeout = self.options.timeout;
        if services.rekor_version == 2 {
            let client = crate::net::rekor_v2::RekorV2::new(&services.rekor, self.http.clone());
            let request = sigstore_rekor::HashedRekordV2::new_with_certificate(
                digest,
                signature,
                self.leaf,
                sigstore_rekor::RekorV2KeyDetails::PkixEcdsaP256Sha256,
            );
            return retry_observed("Rekor", timeout, &|r: &RetryEvent| self.on_retry(r), || {
                client.create_entry(&request)
            })
            .await
            .map_err(|e| match e.1 {
                Some(409) => ALREADY_LOGGED_V2.to_string(),
                _ => e.0,
            });
        }
        let request = sigstore_rekor::HashedRekord::new(digest, signature, self.leaf);
        let entry = self
            .rekor_v1()?
            .create_hashedrekord(&request, digest, signature, self.leaf)
            .await?;
        entry
            .to_bundle_entry(sigstore_types::KindVersion::HashedRekordV001)
            .map_err(|e| format!("Rekor answered with an unusable entry: {e}"))
    }
}
