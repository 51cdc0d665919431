//! Rekor v2 (rekor-tiles) `POST /api/v2/log/entries`, the one Rekor v2 call
//! keyless makes: sent on the one HTTP client, the answer read through its
//! size cap ([`answer::REKOR_V2_ENTRY`]) and parsed as sigstore-types'
//! `TransparencyLogEntry`, which goes into the bundle as it is.
//!
//! The request is sigstore-rekor's `HashedRekordV2`
//! (`{hashedRekordRequestV002: ...}`); rekor-tiles answers 201, any 2xx is
//! taken (as sigstore-rekor does), 409 means already logged. The answer's
//! shape is checked here as sigstore-rekor checks it; that the logged body
//! describes this signature, certificate and artifact, and the inclusion
//! proof and checkpoint, are checked by verifying the bundle before it is
//! written.

use super::HttpClient;
use super::answer::{self, AnswerError, exchange_json};
use sigstore_types::{KindVersion, TransparencyLogEntry};

/// A Rekor v2 log.
pub(crate) struct RekorV2 {
    url: String,
    http: HttpClient,
}

impl RekorV2 {
    /// The log at `url` (its base URL, as [`super::check_url`] returns
    /// it: no trailing slash).
    pub(crate) fn new(url: &str, http: HttpClient) -> Self {
        Self {
            url: url.to_string(),
            http,
        }
    }

    /// Log a hashedrekord 0.0.2 entry. One attempt; the caller retries.
    pub(crate) async fn create_entry(
        &self,
        request: &sigstore_rekor::HashedRekordV2,
    ) -> Result<TransparencyLogEntry, AnswerError> {
        let entry: TransparencyLogEntry = exchange_json(
            self.http
                .post(format!("{}/api/v2/log/entries", self.url))
                .json(request),
            answer::REKOR_V2_ENTRY,
        )
        .await?;
        let unusable = |why: &str| Err(AnswerError::Invalid(why.to_string()));
        if entry.kind_version != KindVersion::HashedRekordV002 {
            return unusable("the entry is not a hashedrekord 0.0.2");
        }
        if entry.integrated_time.is_some() || entry.inclusion_promise.is_some() {
            return unusable("a Rekor v2 entry has no integrated time or SET");
        }
        match &entry.inclusion_proof {
            Some(proof) if !proof.checkpoint.is_empty() => Ok(entry),
            _ => unusable("the entry has no inclusion proof up to a checkpoint"),
        }
    }
}
