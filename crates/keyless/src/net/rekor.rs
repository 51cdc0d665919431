//! The one Rekor v1 client: entries, search, uploads, log info and proofs,
//! each answer read through the Rekor v1 size cap ([`answer::REKOR_V1`])
//! and parsed with sigstore-rekor's types, every call retried within one
//! budget.

use super::answer::{self, AnswerError, exchange_json};
use super::{HttpClient, SharedOnRetry, retry_observed};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sigstore_rekor::LogEntry;
use sigstore_types::{DerCertificate, EntryUuid, Sha256Hash, SignatureBytes};
use std::time::Duration;

/// A failed interaction: the message (never containing a token) and the
/// HTTP status, when Rekor answered with one.
pub(crate) type NetError = (String, Option<u16>);

/// How many of an artifact's entries are examined when looking for one
/// signature: an artifact signed very many times is checked against its
/// first entries only, so a hostile index cannot make the search unbounded.
const MAX_CANDIDATES: usize = 64;

/// A Rekor v1 log.
pub(crate) struct RekorV1 {
    url: String,
    http: HttpClient,
    timeout: Duration,
    /// Told of each retry (a signing run shows them as they happen).
    on_retry: Option<SharedOnRetry>,
}

impl RekorV1 {
    /// A client for the log at `url` (no trailing slash); each interaction,
    /// retries included, must finish within `timeout`.
    pub(crate) fn new(url: &str, http: HttpClient, timeout: Duration) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            http,
            timeout,
            on_retry: None,
        }
    }

    /// Tell `on_retry` of every retry of this client's calls.
    #[cfg(feature = "sign")]
    pub(crate) fn with_retry_observer(mut self, on_retry: SharedOnRetry) -> Self {
        self.on_retry = Some(on_retry);
        self
    }

    /// [`retry_observed`] with this client's budget and observer.
    async fn retry<T, E, F, Fut>(&self, what: &str, op: F) -> Result<T, NetError>
    where
        E: super::retry::Classify + std::fmt::Display,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let result = match &self.on_retry {
            Some(observer) => retry_observed(what, self.timeout, observer.as_ref(), op).await,
            None => retry_observed(what, self.timeout, &super::ignore_retries, op).await,
        };
        // What Rekor says is cut for people (an error answer may be as
        // long as the cap); Rekor is never sent a token, so nothing needs
        // redacting first.
        result.map_err(|(message, status)| (super::shorten(&message), status))
    }

    /// The entry with this UUID.
    pub(crate) async fn entry_by_uuid(
        &self,
        uuid: &EntryUuid,
        what: &str,
    ) -> Result<LogEntry, NetError> {
        let path = format!("/api/v1/log/entries/{uuid}");
        single_entry(self.get_json(&path, what).await?, what)
    }

    /// The entry at a log index.
    pub(crate) async fn entry_by_index(
        &self,
        index: sigstore_types::LogIndex,
        what: &str,
    ) -> Result<LogEntry, NetError> {
        let path = format!("/api/v1/log/entries?logIndex={index}");
        single_entry(self.get_json(&path, what).await?, what)
    }

    /// The UUIDs the search index lists for an artifact digest.
    pub(crate) async fn search_by_hash(
        &self,
        digest: &Sha256Hash,
        what: &str,
    ) -> Result<Vec<EntryUuid>, NetError> {
        let query = serde_json::to_value(sigstore_rekor::SearchIndex::sha256(digest))
            .map_err(|e| (format!("{what}: {e}"), None))?;
        self.post_json("/api/v1/index/retrieve", &query, what).await
    }

    /// The hashedrekord entry that logs `signature` over `digest` (and, when
    /// given, by `cert`), among the first entries the index lists for the
    /// digest; `None` when there is none.
    pub(crate) async fn find_hashedrekord(
        &self,
        digest: &Sha256Hash,
        signature: &SignatureBytes,
        cert: Option<&DerCertificate>,
    ) -> Result<Option<LogEntry>, NetError> {
        let want_sig = B64.encode(signature.as_bytes());
        let uuids = self.search_by_hash(digest, "Rekor search").await?;
        for uuid in uuids.iter().take(MAX_CANDIDATES) {
            let entry = self.entry_by_uuid(uuid, "Rekor").await?;
            let body: serde_json::Value =
                serde_json::from_slice(entry.body.as_bytes()).unwrap_or_default();
            let sig_matches = body["kind"] == "hashedrekord"
                && body["spec"]["signature"]["content"].as_str() == Some(want_sig.as_str());
            let cert_matches = cert.is_none_or(|cert| {
                body["spec"]["signature"]["publicKey"]["content"]
                    .as_str()
                    .and_then(|b| B64.decode(b).ok())
                    .and_then(|pem| String::from_utf8(pem).ok())
                    .and_then(|pem| DerCertificate::from_pem(&pem).ok())
                    .as_ref()
                    == Some(cert)
            });
            if sig_matches && cert_matches {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    #[cfg(feature = "sign")]
    /// Log a hashedrekord entry; a 409 is recovered as [`Self::created_or_logged`]
    /// says, by searching for this signature when Rekor names no entry.
    pub(crate) async fn create_hashedrekord(
        &self,
        request: &sigstore_rekor::HashedRekord,
        digest: &Sha256Hash,
        signature: &SignatureBytes,
        cert: &DerCertificate,
    ) -> Result<LogEntry, String> {
        let created = self.create_entry(request).await;
        self.created_or_logged(created, || {
            self.find_hashedrekord(digest, signature, Some(cert))
        })
        .await
    }

    #[cfg(feature = "sign")]
    /// Log a DSSE entry; a 409 is recovered as [`Self::created_or_logged`]
    /// says (only by the UUID Rekor names: a DSSE entry cannot be searched
    /// for by its signature).
    pub(crate) async fn create_dsse(
        &self,
        request: &sigstore_rekor::DsseEntry,
    ) -> Result<LogEntry, String> {
        let created = self.create_entry(request).await;
        self.created_or_logged(created, || async { Ok(None) }).await
    }

    /// `POST /api/v1/log/entries`: the entry Rekor created.
    #[cfg(feature = "sign")]
    async fn create_entry(&self, request: &impl serde::Serialize) -> Result<LogEntry, NetError> {
        let request = serde_json::to_value(request).map_err(|e| (format!("Rekor: {e}"), None))?;
        single_entry(
            self.post_json("/api/v1/log/entries", &request, "Rekor")
                .await?,
            "Rekor",
        )
    }

    #[cfg(feature = "sign")]
    /// The entry an upload created. A 409 means it is already logged (a
    /// retried upload whose answer was lost): the existing entry is fetched
    /// instead, by the UUID Rekor names in its answer, else by `find`.
    async fn created_or_logged<F, Fut>(
        &self,
        created: Result<LogEntry, NetError>,
        find: F,
    ) -> Result<LogEntry, String>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<LogEntry>, NetError>>,
    {
        let message = match created {
            Ok(entry) => return Ok(entry),
            Err((message, Some(409))) => message,
            Err((e, _)) => return Err(e),
        };
        let found = match uuid_in(&message) {
            Some(uuid) => Some(
                self.entry_by_uuid(&EntryUuid::new(uuid), "Rekor")
                    .await
                    .map_err(|e| e.0)?,
            ),
            None => find().await.map_err(|e| e.0)?,
        };
        found.ok_or_else(|| {
            format!(
                "Rekor answered 409 (already logged) but the existing entry was not found: {message}"
            )
        })
    }

    /// `GET <path>`, the JSON answer read through the size cap.
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path_and_query: &str,
        what: &str,
    ) -> Result<T, NetError> {
        let url = format!("{}{path_and_query}", self.url);
        let http = &self.http;
        self.retry(what, || exchange_json(http.get(&url), answer::REKOR_V1))
            .await
    }

    /// `GET <path>`, the answer's bytes read through `cap`, for the C2SP
    /// tlog-tiles read API of a Rekor v2 log.
    pub(crate) async fn get_bytes(
        &self,
        path: &str,
        cap: answer::Cap,
        what: &str,
    ) -> Result<Vec<u8>, NetError> {
        let url = format!("{}{path}", self.url);
        let http = &self.http;
        self.retry(what, || answer::exchange(http.get(&url), cap))
            .await
    }

    /// `POST <path>` with a JSON body, the JSON answer read through the cap.
    pub(crate) async fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        what: &str,
    ) -> Result<T, NetError> {
        let url = format!("{}{path}", self.url);
        let http = &self.http;
        self.retry(what, || {
            exchange_json(http.post(&url).json(body), answer::REKOR_V1)
        })
        .await
    }
}

/// The first Rekor entry UUID (64 or 80 hex digits) in a message.
#[cfg(feature = "sign")]
fn uuid_in(message: &str) -> Option<String> {
    message
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64 || w.len() == 80)
        .map(str::to_string)
}

/// The one entry of a Rekor v1 `{uuid: entry}` answer, its UUID set from
/// the key. An answer holding no entry, or several, is refused: which one
/// was asked for is the caller's to check, and a second entry is never the
/// caller's to pick.
fn single_entry(
    answer: std::collections::BTreeMap<String, LogEntry>,
    what: &str,
) -> Result<LogEntry, NetError> {
    if answer.len() != 1 {
        return Err((
            format!(
                "{what}: {}",
                AnswerError::Invalid(format!("{} entries in an answer for one", answer.len()))
            ),
            None,
        ));
    }
    let (uuid, mut entry) = answer.into_iter().next().expect("one entry");
    entry.uuid = EntryUuid::new(uuid);
    Ok(entry)
}

#[cfg(all(test, feature = "sign"))]
mod tests {
    use super::*;

    #[test]
    fn a_409_names_the_entry_by_uuid() {
        let uuid = "a".repeat(64);
        assert_eq!(
            uuid_in(&format!(
                "Rekor: HTTP 409: {{\"message\":\"{uuid} exists\"}}"
            )),
            Some(uuid)
        );
        let long = "b".repeat(80);
        assert_eq!(uuid_in(&format!("at /entries/{long}")), Some(long));
        assert_eq!(uuid_in("no uuid here, only abc123"), None);
    }
}
