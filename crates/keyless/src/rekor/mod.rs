//! Tools for auditors of a Rekor v1 transparency log.
//!
//! A transparency log is only as good as the people who check it. These are
//! the checks an auditor (or a project watching for signatures made in its
//! name) makes, each against the log keys of a trust root:
//!
//! | job | use |
//! |---|---|
//! | talk to a Rekor v1 log (timeouts, retries) | [`Rekor`] |
//! | the log's keys from a trust root, and "now" | [`Auditor`] |
//! | fetch one entry and prove it | [`Auditor::get`] |
//! | prove an entry you hold, offline | [`Auditor::verify_entry_file`], [`entry::verify`] |
//! | write a bundle for a logged signature | [`Auditor::export_bundle`] |
//! | find entries by artifact or key | [`Auditor::search`] |
//! | the log's current checkpoint, verified | [`Auditor::log_info`] |
//! | watch the log: consistency and identities | [`monitor::run`] |
//!
//! The protocol work is sigstore-rust's: Merkle proofs are checked by
//! `sigstore-merkle`, checkpoints parsed by `sigstore-types`, signatures
//! checked by `sigstore-crypto`, entries fetched by `sigstore-rekor`.
//!
//! Every library call returns `Result<std::result::Result<T, Failure>>`-like
//! values: an [`Error`] means no verdict could be reached (network, I/O,
//! malformed answers; the CLI exits 2), a [`Failure`] is a verdict against
//! the log or the entry (the CLI exits 1).

pub mod checkpoint;
pub mod entry;
pub mod monitor;

use crate::clock::Clock;
use crate::error::{Error, FileKind, Result};
use crate::net::rekor::{NetError, RekorV1};
use crate::trust::TrustMaterial;
use sigstore_crypto::VerificationKey;
use sigstore_types::{Sha256Hash, TimeRange};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use crate::failure::{Failure, Step};

pub(crate) use crate::digest::hex;

/// One transparency log of the trust root, with its parsed key.
pub struct TrustedLog {
    /// The log ID: SHA-256 of the DER key (Rekor v1) or the C2SP signed-note
    /// key ID (Rekor v2). Its first four bytes are the checkpoint key hint.
    pub log_id: Sha256Hash,
    /// Where the trust root says the log is.
    pub base_url: String,
    key: VerificationKey,
    valid_for: Option<TimeRange>,
}

impl std::fmt::Debug for TrustedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedLog")
            .field("log_id", &self.log_id.to_hex())
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl TrustedLog {
    /// Whether the key's validity window has started by `time`. Expired keys
    /// stay usable for checkpoints, as the Sigstore clients keep them for
    /// historical material.
    fn started_by(&self, time: jiff::Timestamp) -> bool {
        self.valid_for.is_none_or(|v| v.has_started_by(time))
    }

    /// Whether the key was valid at `time` (an integrated time).
    fn valid_at(&self, time: jiff::Timestamp) -> bool {
        self.valid_for.is_none_or(|v| v.contains(time))
    }

    fn key_hint(&self) -> [u8; 4] {
        let mut hint = [0u8; 4];
        hint.copy_from_slice(&self.log_id.as_bytes()[..4]);
        hint
    }
}

/// The transparency logs a trust root names, with their keys.
#[derive(Debug)]
pub struct TrustedLogs {
    logs: Vec<TrustedLog>,
}

impl TrustedLogs {
    /// The logs of `trust` whose keys sigstore-crypto supports.
    pub fn new(trust: &TrustMaterial) -> Result<Self> {
        let fail = |reason: String| Error::TrustMaterial {
            source_name: trust.source.to_string(),
            reason,
        };
        let mut logs: Vec<TrustedLog> = Vec::new();
        for tlog in &trust.trusted_root.tlogs {
            // A key type this build cannot check is skipped, as
            // sigstore-trust-root's own keyring does.
            let Ok(key) = VerificationKey::from_spki(&tlog.public_key.raw_bytes) else {
                continue;
            };
            let log_id = Sha256Hash::try_from(tlog.log_id.key_id.as_bytes())
                .map_err(|e| fail(format!("transparency log ID: {e}")))?;
            if logs.iter().any(|l| l.log_id == log_id) {
                return Err(fail(format!(
                    "transparency log ID {} appears twice",
                    log_id.to_hex()
                )));
            }
            logs.push(TrustedLog {
                log_id,
                base_url: tlog.base_url.trim_end_matches('/').to_string(),
                key,
                valid_for: tlog.public_key.valid_for,
            });
        }
        if logs.is_empty() {
            return Err(fail(
                "it names no transparency log with a usable key".into(),
            ));
        }
        Ok(Self { logs })
    }

    /// The log with this ID.
    pub fn by_id(&self, log_id: &Sha256Hash) -> Option<&TrustedLog> {
        self.logs.iter().find(|l| &l.log_id == log_id)
    }

    /// The logs whose ID starts with `hint` and whose key had started being
    /// valid by `now` (four-byte hints may collide: all are returned).
    /// The log with this ID.
    pub(crate) fn find(&self, id: &Sha256Hash) -> Option<&TrustedLog> {
        self.logs.iter().find(|l| l.log_id == *id)
    }

    /// The logs the trust root places at `url`.
    pub(crate) fn at_url<'a>(&'a self, url: &'a str) -> impl Iterator<Item = &'a TrustedLog> {
        let url = url.trim_end_matches('/');
        self.logs
            .iter()
            .filter(move |l| l.base_url.trim_end_matches('/') == url)
    }

    fn by_hint(&self, hint: &[u8; 4], now: jiff::Timestamp) -> impl Iterator<Item = &TrustedLog> {
        self.logs
            .iter()
            .filter(move |l| &l.key_hint() == hint && l.started_by(now))
    }
}

/// A Rekor v1 log to query, from blocking code: [`crate::net`]'s Rekor
/// client on a runtime of its own. Transient failures (connection, timeout,
/// 5xx, 429) are retried with backoff within the timeout.
pub struct Rekor {
    url: String,
    client: RekorV1,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Rekor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rekor")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// How many entries are fetched at once while scanning.
const FETCH_CONCURRENCY: usize = 8;

impl Rekor {
    /// A client for the Rekor v1 API at `url`; every interaction (retries
    /// included) must finish within `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self> {
        let url = url.trim_end_matches('/').to_string();
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::Usage(format!(
                "{url:?} is not an http(s) URL of a Rekor v1 log"
            )));
        }
        // The retry loop enforces `timeout` (and says so); this only bounds
        // a request that outlives it.
        let http = crate::net::http_client(timeout + Duration::from_secs(1))?;
        let client = RekorV1::new(&url, http, timeout).map_err(|reason| Error::Network {
            service: format!("Rekor {url}"),
            reason,
        })?;
        Ok(Self {
            url,
            client,
            runtime: crate::net::current_thread_runtime()?,
        })
    }

    /// The log's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn network(&self, reason: String) -> Error {
        Error::Network {
            service: format!("Rekor {}", self.url),
            reason,
        }
    }

    fn block_on<T>(
        &self,
        op: impl std::future::Future<Output = std::result::Result<T, NetError>>,
    ) -> Result<T> {
        self.runtime
            .block_on(op)
            .map_err(|(reason, _)| self.network(reason))
    }

    /// `GET /api/v1/log`: the log's current tree head, unverified.
    pub fn log_info(&self) -> Result<checkpoint::LogInfo> {
        let wire: checkpoint::LogInfoWire =
            self.block_on(self.client.get_json("/api/v1/log", "GET /api/v1/log"))?;
        wire.into_log_info().map_err(|e| self.network(e))
    }

    /// `GET /api/v1/log/proof`: the consistency proof between two tree
    /// sizes, unverified.
    pub fn consistency_proof(&self, first: u64, last: u64) -> Result<checkpoint::ConsistencyProof> {
        let path = format!("/api/v1/log/proof?firstSize={first}&lastSize={last}");
        let wire: checkpoint::ConsistencyProofWire =
            self.block_on(self.client.get_json(&path, "GET /api/v1/log/proof"))?;
        wire.into_proof(first, last).map_err(|e| self.network(e))
    }

    /// The entry at a log index.
    pub fn entry_by_index(&self, index: u64) -> Result<sigstore_rekor::LogEntry> {
        let index = log_index(index)?;
        self.block_on(
            self.client
                .entry_by_index(index, &format!("entry #{index}")),
        )
    }

    /// The entry with a UUID (64 hex digits, or 80 with the tree ID prefix).
    pub fn entry_by_uuid(&self, uuid: &str) -> Result<sigstore_rekor::LogEntry> {
        if !matches!(uuid.len(), 64 | 80) || !uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Usage(format!(
                "{uuid:?} is not a Rekor entry UUID (64 or 80 hex digits)"
            )));
        }
        let uuid = sigstore_types::EntryUuid::new(uuid.to_ascii_lowercase());
        self.block_on(self.client.entry_by_uuid(&uuid, &format!("entry {uuid}")))
    }

    /// The entries at `indexes`, in order, a few requests at a time.
    pub fn entries_by_index(
        &self,
        indexes: std::ops::Range<u64>,
    ) -> Result<Vec<sigstore_rekor::LogEntry>> {
        let mut out = Vec::new();
        let all: Vec<u64> = indexes.collect();
        for chunk in all.chunks(FETCH_CONCURRENCY) {
            let mut tasks = Vec::with_capacity(chunk.len());
            for &i in chunk {
                let index = log_index(i)?;
                let client = &self.client;
                tasks.push(async move {
                    client
                        .entry_by_index(index, &format!("entry #{index}"))
                        .await
                });
            }
            let results = self.runtime.block_on(futures_util::future::join_all(tasks));
            for r in results {
                out.push(r.map_err(|(reason, _)| self.network(reason))?);
            }
        }
        Ok(out)
    }

    /// `POST /api/v1/index/retrieve`: the UUIDs the search index lists.
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<String>> {
        match query {
            SearchQuery::Sha256(digest) => {
                let uuids = self.block_on(self.client.search_by_hash(digest, "search"))?;
                Ok(uuids.into_iter().map(|u| u.into_string()).collect())
            }
            // sigstore-rekor's SearchIndex has no public-key query (only
            // sha256 and email constructors), so this one is sent as Rekor
            // documents it: the key or certificate, base64 of its PEM.
            SearchQuery::PublicKey { pem, .. } => {
                use base64::Engine;
                let body = serde_json::json!({"publicKey": {
                    "format": "x509",
                    "content": base64::engine::general_purpose::STANDARD.encode(pem.as_bytes()),
                }});
                self.block_on(self.client.post_json(
                    "/api/v1/index/retrieve",
                    &body,
                    "POST /api/v1/index/retrieve",
                ))
            }
        }
    }
}

fn log_index(index: u64) -> Result<sigstore_types::LogIndex> {
    sigstore_types::LogIndex::new(index)
        .map_err(|e| Error::Usage(format!("log index {index}: {e}")))
}

/// What to search the log's index for.
#[derive(Debug, Clone)]
pub enum SearchQuery {
    /// Entries for an artifact with this SHA-256 digest.
    Sha256(Sha256Hash),
    /// Entries signed with this key, or a certificate for it.
    PublicKey {
        /// The PEM text as given (public key or certificate).
        pem: String,
        /// Its SubjectPublicKeyInfo, DER, to check the results against.
        spki: sigstore_types::DerPublicKey,
    },
}

impl SearchQuery {
    /// A search by artifact digest written as 64 hex digits (an optional
    /// `sha256:` prefix is allowed).
    pub fn sha256_hex(hex: &str) -> Result<Self> {
        let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Usage(format!(
                "{hex:?} is not a SHA-256 digest (64 hex digits)"
            )));
        }
        Sha256Hash::from_hex(&hex.to_ascii_lowercase())
            .map(SearchQuery::Sha256)
            .map_err(|e| Error::Usage(format!("{hex:?}: {e}")))
    }

    /// A search by the SHA-256 of a file, read as a stream.
    pub fn artifact(path: &Path) -> Result<Self> {
        crate::digest::sha256_file(path).map(SearchQuery::Sha256)
    }

    /// A search by a PEM public key or certificate file.
    pub fn public_key(path: &Path) -> Result<Self> {
        const WHAT: FileKind = FileKind::PublicKeyOrCertificate;
        let pem = crate::files::read_text_limited(path, 256 * 1024, WHAT)?;
        let malformed = |reason: String| Error::Malformed {
            path: path.to_path_buf(),
            what: WHAT,
            reason,
        };
        let spki = if pem.contains("-----BEGIN CERTIFICATE-----") {
            let cert = sigstore_types::DerCertificate::from_pem(&pem)
                .map_err(|e| malformed(e.to_string()))?;
            sigstore_crypto::parse_certificate_info(&cert)
                .map_err(|e| malformed(e.to_string()))?
                .public_key
        } else {
            sigstore_types::DerPublicKey::from_pem(&pem).map_err(|e| malformed(e.to_string()))?
        };
        Ok(SearchQuery::PublicKey { pem, spki })
    }

    /// How the query is shown.
    pub fn describe(&self) -> String {
        match self {
            SearchQuery::Sha256(d) => format!("sha256:{}", d.to_hex()),
            SearchQuery::PublicKey { spki, .. } => format!(
                "public key sha256:{}",
                sigstore_crypto::sha256(spki.as_bytes()).to_hex()
            ),
        }
    }
}

/// Which entry to get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryRef {
    /// By log index.
    Index(u64),
    /// By UUID.
    Uuid(String),
}

/// What a search found.
#[derive(Debug)]
pub struct SearchReport {
    /// The query, as shown.
    pub query: String,
    /// How many UUIDs the index listed.
    pub total: usize,
    /// The entries fetched (at most the limit), each verified.
    pub entries: Vec<entry::EntryReport>,
}

impl SearchReport {
    /// Whether every fetched entry verified and matched the query.
    pub fn all_ok(&self) -> bool {
        self.entries.iter().all(|e| e.verdict.is_ok())
    }
}

/// The log's current state, verified against the trust root.
#[derive(Debug)]
pub struct LogInfoReport {
    /// The log's URL.
    pub url: String,
    /// What the log answered.
    pub info: checkpoint::LogInfo,
    /// The verified checkpoint, or why it did not verify.
    pub verdict: std::result::Result<checkpoint::VerifiedCheckpoint, Failure>,
}

/// The trust root's logs and a clock: what every audit is checked against.
pub struct Auditor {
    trust: TrustMaterial,
    logs: TrustedLogs,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("logs", &self.logs)
            .finish_non_exhaustive()
    }
}

impl Auditor {
    /// An auditor for the logs of `trust`, taking "now" from `clock`.
    pub fn new(trust: TrustMaterial, clock: Arc<dyn Clock>) -> Result<Self> {
        let logs = TrustedLogs::new(&trust)?;
        Ok(Self { trust, logs, clock })
    }

    /// The log to ask by default: the trust root's first transparency log.
    pub fn default_rekor_url(&self) -> Option<String> {
        self.trust
            .trusted_root
            .tlogs
            .first()
            .map(|t| t.base_url.trim_end_matches('/').to_string())
    }

    /// The trusted logs.
    pub fn logs(&self) -> &TrustedLogs {
        &self.logs
    }

    /// The current time, from the clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }

    /// Fetch an entry and prove it: SET, inclusion proof, checkpoint
    /// signature, and that it is the entry asked for. The raw entry is
    /// returned too, for [`Auditor::export_bundle`].
    pub fn get(
        &self,
        rekor: &Rekor,
        which: &EntryRef,
    ) -> Result<(entry::EntryReport, sigstore_rekor::LogEntry)> {
        let raw = match which {
            EntryRef::Index(i) => rekor.entry_by_index(*i)?,
            EntryRef::Uuid(u) => rekor.entry_by_uuid(u)?,
        };
        let evidence = entry::Evidence::from_log_entry(&raw).map_err(|e| rekor.network(e))?;
        let mut report = entry::EntryReport::new(&evidence, &self.logs, self.now(), true);
        // The log must answer with the entry that was asked for.
        if report.verdict.is_ok() {
            let asked = match which {
                EntryRef::Index(i) => (evidence.log_index != *i).then(|| {
                    format!(
                        "asked for log index {i}, the log answered with entry {}",
                        evidence.log_index
                    )
                }),
                EntryRef::Uuid(u) => (!u
                    .to_ascii_lowercase()
                    .ends_with(&evidence.leaf_hash().to_hex()))
                .then(|| {
                    format!(
                        "asked for UUID {u}, the log answered with entry {}",
                        evidence.leaf_hash().to_hex()
                    )
                }),
            };
            if let Some(reason) = asked {
                report.verdict = Err(Failure::new(Step::LogEntry, reason));
            }
        }
        Ok((report, raw))
    }

    /// Write a v0.3 bundle for a verified hashedrekord entry to `path`
    /// (atomically; an existing file only with `overwrite`). The bundle is
    /// verified as `keyless verify` would before it is written
    /// ([`Error::Failed`] when it does not verify).
    pub fn export_bundle(
        &self,
        raw: &sigstore_rekor::LogEntry,
        path: &Path,
        overwrite: bool,
    ) -> Result<PathBuf> {
        if !overwrite && path.exists() {
            return Err(Error::Usage(format!(
                "{} exists; pass --overwrite to replace it",
                path.display()
            )));
        }
        let (bundle, digest, cert) = entry::bundle_for(raw)?;
        let info = sigstore_crypto::parse_certificate_info(&cert)
            .map_err(|e| Error::Usage(format!("the logged certificate does not parse: {e}")))?;
        let (Some(identity), Some(issuer)) = (info.identity, info.issuer) else {
            return Err(Error::Usage(
                "the logged certificate has no identity or issuer, so no keyless bundle can be made from it".into(),
            ));
        };
        use crate::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
        let policy = Policy::Identity(IdentityPolicy::new(
            ValueMatcher::Exact(identity.as_str().to_string()),
            ValueMatcher::Exact(issuer),
        ));
        let verifier = crate::verify::Verifier::with_clock(&self.trust, self.clock.clone())?;
        verifier.verify_digest(digest, &bundle, &policy)?;
        let json = bundle
            .to_json_pretty()
            .map_err(|e| Error::Usage(format!("cannot encode the bundle: {e}")))?;
        crate::files::write_atomic(path, json.as_bytes()).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(path.to_path_buf())
    }

    /// Search the log's index and fetch and prove the first `limit` entries
    /// it lists; an entry that does not contain what was searched for fails.
    pub fn search(&self, rekor: &Rekor, query: &SearchQuery, limit: usize) -> Result<SearchReport> {
        let mut uuids = rekor.search(query)?;
        uuids.sort();
        uuids.dedup();
        let total = uuids.len();
        let mut entries = Vec::new();
        for uuid in uuids.iter().take(limit) {
            let (mut report, raw) = self.get(rekor, &EntryRef::Uuid(uuid.clone()))?;
            if report.verdict.is_ok() {
                let body = raw.body.as_bytes();
                if let Some(reason) = entry::mismatch(body, query) {
                    report.verdict = Err(Failure::new(Step::SearchResult, reason));
                }
            }
            entries.push(report);
        }
        entries.sort_by_key(|e| e.log_index);
        Ok(SearchReport {
            query: query.describe(),
            total,
            entries,
        })
    }

    /// The log's current tree head, with its checkpoint verified against
    /// the trust root's log keys and compared with the unsigned fields.
    pub fn log_info(&self, rekor: &Rekor) -> Result<LogInfoReport> {
        let info = rekor.log_info()?;
        let verdict = checkpoint::verify_log_info(&info, &self.logs, self.now(), None)
            .map_err(|e| rekor.network(e))?;
        Ok(LogInfoReport {
            url: rekor.url().to_string(),
            info,
            verdict,
        })
    }

    /// Prove an entry held in a file, offline: a Rekor v1 `LogEntry`
    /// (`{uuid: {...}}`) or a bundle's `TransparencyLogEntry` (Rekor v1, or
    /// Rekor v2 hashedrekord 0.0.2 with its C2SP checkpoint).
    pub fn verify_entry_file(&self, path: &Path) -> Result<entry::EntryReport> {
        const WHAT: FileKind = FileKind::TransparencyLogEntry;
        let text = crate::files::read_text_limited(path, 8 * 1024 * 1024, WHAT)?;
        let evidence = entry::Evidence::from_json(&text).map_err(|reason| Error::Malformed {
            path: path.to_path_buf(),
            what: WHAT,
            reason,
        })?;
        Ok(entry::EntryReport::new(
            &evidence,
            &self.logs,
            self.now(),
            false,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_queries_validate_their_input() {
        assert!(SearchQuery::sha256_hex("zz").is_err());
        let hex = "AB".repeat(32);
        let SearchQuery::Sha256(d) = SearchQuery::sha256_hex(&format!("sha256:{hex}")).unwrap()
        else {
            panic!("a digest query")
        };
        assert_eq!(d.to_hex(), "ab".repeat(32));
    }

    #[test]
    fn production_logs_load_from_the_embedded_root() {
        let trust = TrustMaterial::load_uncached(&crate::trust::TrustSource::Production).unwrap();
        let logs = TrustedLogs::new(&trust).unwrap();
        assert!(!logs.logs.is_empty());
        let first = &logs.logs[0];
        assert!(logs.by_id(&first.log_id).is_some());
        assert!(first.base_url.starts_with("https://"));
    }

    #[test]
    fn rekor_urls_must_be_http() {
        let err = Rekor::new("rekor.sigstore.dev", Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
    }
}
