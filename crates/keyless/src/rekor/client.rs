//! The blocking Rekor client auditors use: URLs, timeouts, retries, and
//! the few API calls an audit needs, from a Rekor v1 API or from a Rekor v2
//! log's C2SP tlog-tiles read API.

use super::tiles::{self, TileTree};
use super::{SearchQuery, checkpoint};
use crate::error::{Error, Result};
use crate::net::rekor::{NetError, RekorV1};
use std::time::Duration;

/// Which API a log is read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RekorApi {
    /// Rekor v1 (`/api/v1`): log info, proofs, entries by index or UUID.
    V1,
    /// Rekor v2 (rekor-tiles): the C2SP tlog-tiles layout (`/checkpoint`,
    /// `/tile/...`), from which proofs are computed.
    V2,
}

/// A Rekor log to query, from blocking code: keyless's own Rekor
/// client on a runtime of its own. Transient failures (connection, timeout,
/// 5xx, 408, 429) are retried with backoff within the timeout.
pub struct Rekor {
    url: String,
    api: RekorApi,
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
    /// `url` passes [`crate::check_url`] (plain http to another machine
    /// only with `allow_insecure_http`).
    pub fn new(url: &str, timeout: Duration, allow_insecure_http: bool) -> Result<Self> {
        Self::with_api(url, RekorApi::V1, timeout, allow_insecure_http)
    }

    /// A client for the log at `url` read through `api` (see [`Self::new`]).
    pub fn with_api(
        url: &str,
        api: RekorApi,
        timeout: Duration,
        allow_insecure_http: bool,
    ) -> Result<Self> {
        let url = crate::net::check_url("--rekor-url", url, allow_insecure_http)?;
        // The retry loop enforces `timeout` (and says so); this only bounds
        // a request that outlives it.
        let http = crate::net::http_client(timeout + Duration::from_secs(1))?;
        let client = RekorV1::new(&url, http, timeout);
        Ok(Self {
            url,
            api,
            client,
            runtime: crate::net::current_thread_runtime()?,
        })
    }

    /// The log's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The API the log is read through.
    pub fn api(&self) -> RekorApi {
        self.api
    }

    /// A Rekor v1 call on a Rekor v2 log: no such API.
    pub(super) fn v1_only(&self, what: &str) -> Result<()> {
        match self.api {
            RekorApi::V1 => Ok(()),
            RekorApi::V2 => Err(Error::Usage(format!(
                "{what} needs the Rekor v1 API; a Rekor v2 log serves only its checkpoint and tiles"
            ))),
        }
    }

    /// The tree of a Rekor v2 log at `size`, read from its tiles.
    pub(super) fn tile_tree(
        &self,
        size: u64,
    ) -> TileTree<
        impl FnMut(&str, crate::net::answer::Cap) -> std::result::Result<Vec<u8>, tiles::FetchError>
        + '_,
    > {
        TileTree::new(size, move |path: &str, cap: crate::net::answer::Cap| {
            self.runtime
                .block_on(self.client.get_bytes(path, cap, &format!("GET {path}")))
        })
    }

    pub(super) fn network(&self, reason: String) -> Error {
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

    /// An entry fetch's failure: a 404 (by status) is the log saying it has
    /// no such entry, which no retry or network fix changes.
    fn entry_error(&self, entry: String, (reason, status): NetError) -> Error {
        match status {
            Some(404) => Error::NoSuchEntry {
                service: format!("Rekor {}", self.url),
                entry,
                log_entries: None,
            },
            _ => self.network(reason),
        }
    }

    /// The log's current tree head, unverified: `GET /api/v1/log`, or a
    /// Rekor v2 log's `GET /checkpoint` (whose size and root are the
    /// checkpoint's own).
    pub fn log_info(&self) -> Result<checkpoint::LogInfo> {
        if self.api == RekorApi::V2 {
            let bytes = self.block_on(self.client.get_bytes(
                "/checkpoint",
                crate::net::answer::REKOR_V2_CHECKPOINT,
                "GET /checkpoint",
            ))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| self.network("GET /checkpoint: the checkpoint is not text".into()))?;
            let parsed = checkpoint::parse(&text).map_err(|e| self.network(e))?;
            return Ok(checkpoint::LogInfo {
                root_hash: *parsed.root_hash(),
                tree_size: parsed.tree_size(),
                signed_tree_head: text,
                tree_id: String::new(),
                index_offset: 0,
            });
        }
        let wire: checkpoint::LogInfoWire =
            self.block_on(self.client.get_json("/api/v1/log", "GET /api/v1/log"))?;
        wire.into_log_info().map_err(|e| self.network(e))
    }

    /// The consistency proof between two tree sizes, unverified: `GET
    /// /api/v1/log/proof`, or for a Rekor v2 log computed from its tiles
    /// at `last` (with the root those tiles give).
    pub fn consistency_proof(&self, first: u64, last: u64) -> Result<checkpoint::ConsistencyProof> {
        if self.api == RekorApi::V2 {
            let mut tree = self.tile_tree(last);
            let hashes = tree.consistency(first).map_err(|e| self.network(e))?;
            let root_hash = tree.root().map_err(|e| self.network(e))?;
            return Ok(checkpoint::ConsistencyProof {
                first_size: first,
                last_size: last,
                root_hash,
                hashes,
            });
        }
        let path = format!("/api/v1/log/proof?firstSize={first}&lastSize={last}");
        let wire: checkpoint::ConsistencyProofWire =
            self.block_on(self.client.get_json(&path, "GET /api/v1/log/proof"))?;
        wire.into_proof(first, last).map_err(|e| self.network(e))
    }

    /// The entry at a log index.
    pub fn entry_by_index(&self, index: u64) -> Result<sigstore_rekor::LogEntry> {
        self.v1_only("fetching entries by log index")?;
        let index = log_index(index)?;
        self.runtime
            .block_on(
                self.client
                    .entry_by_index(index, &format!("entry #{index}")),
            )
            .map_err(|e| self.entry_error(format!("at log index {index}"), e))
    }

    /// The entry with a UUID (64 hex digits, or 80 with the tree ID prefix).
    pub fn entry_by_uuid(&self, uuid: &str) -> Result<sigstore_rekor::LogEntry> {
        self.v1_only("fetching entries by UUID")?;
        if !matches!(uuid.len(), 64 | 80) || !uuid.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Usage(format!(
                "{uuid:?} is not a Rekor entry UUID (64 or 80 hex digits)"
            )));
        }
        let uuid = sigstore_types::EntryUuid::new(uuid.to_ascii_lowercase());
        self.runtime
            .block_on(self.client.entry_by_uuid(&uuid, &format!("entry {uuid}")))
            .map_err(|e| self.entry_error(format!("with UUID {uuid}"), e))
    }

    /// The entries at `indexes`, in order, a few requests at a time.
    pub fn entries_by_index(
        &self,
        indexes: std::ops::Range<u64>,
    ) -> Result<Vec<sigstore_rekor::LogEntry>> {
        self.v1_only("fetching entries by log index")?;
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

    /// [`Self::entries_by_index`], read as the iterator is: a few requests
    /// at a time, so a scan of many entries holds a few of them, not all.
    pub fn entries_by_index_lazily(
        &self,
        indexes: std::ops::Range<u64>,
    ) -> impl Iterator<Item = Result<sigstore_rekor::LogEntry>> + '_ {
        let end = indexes.end;
        indexes.step_by(FETCH_CONCURRENCY).flat_map(move |start| {
            let chunk = start..end.min(start.saturating_add(FETCH_CONCURRENCY as u64));
            match self.entries_by_index(chunk) {
                Ok(entries) => entries.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            }
        })
    }

    /// `POST /api/v1/index/retrieve`: the UUIDs the search index lists.
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<String>> {
        self.v1_only("a search")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rekor_urls_must_be_http() {
        for bad in [
            "rekor.sigstore.dev",
            "ftp://rekor.example",
            "http://rekor.example",
        ] {
            let err = Rekor::new(bad, Duration::from_secs(1), false).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{bad}: {err}");
        }
        assert!(Rekor::new("http://rekor.example", Duration::from_secs(1), true).is_ok());
    }
}
