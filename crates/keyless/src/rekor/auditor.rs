//! The auditor: the trust root's logs and a clock, and the audits made
//! against them (get and prove an entry, export a bundle, search, log info,
//! prove an entry file).

use super::{Failure, Rekor, SearchQuery, SearchReport, Step, TrustedLogs, checkpoint, entry};
use crate::clock::Clock;
use crate::error::{Error, FileKind, Result};
use crate::trust::TrustMaterial;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which entry to get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryRef {
    /// By log index.
    Index(u64),
    /// By UUID.
    Uuid(String),
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
    /// signature (by a log key valid now: it is the current tree head),
    /// and that it is the entry asked for. The raw entry is
    /// returned too, for [`Auditor::export_bundle`].
    pub fn get(
        &self,
        rekor: &Rekor,
        which: &EntryRef,
    ) -> Result<(entry::EntryReport, sigstore_rekor::LogEntry)> {
        let fetched = match which {
            EntryRef::Index(i) => rekor.entry_by_index(*i),
            EntryRef::Uuid(u) => rekor.entry_by_uuid(u),
        };
        let raw = match fetched {
            Ok(raw) => raw,
            // Say what the log does hold, so a wrong index is seen as such.
            Err(Error::NoSuchEntry {
                service,
                entry,
                log_entries: None,
            }) => {
                let held = rekor.log_info().ok().and_then(|info| {
                    let end = info.index_offset.checked_add(info.tree_size)?;
                    Some(info.index_offset..end)
                });
                return Err(Error::NoSuchEntry {
                    service,
                    entry,
                    log_entries: held,
                });
            }
            Err(e) => return Err(e),
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
        // The answer's checkpoint is the log's current tree head, signed
        // now: a key the trust root has retired (a compromised one, say)
        // must not sign it, even for an entry its SET proves was logged
        // while the key was valid (which `verify-entry` accepts offline).
        if let Ok(v) = &report.verdict
            && self
                .logs
                .by_id(&v.log_id)
                .is_some_and(|l| !l.valid_at(self.now()))
        {
            report.verdict = Err(Failure::new(
                Step::Checkpoint,
                format!(
                    "the log's current checkpoint is signed by log {} whose key is no longer valid",
                    super::hex(v.log_id.as_bytes())
                ),
            ));
        }
        Ok((report, raw))
    }

    /// Fetch the entry at `index` of a Rekor v2 log from its tiles and prove
    /// it: its inclusion proof (computed from the tiles) leads from its leaf
    /// to the log's current checkpoint, signed by a log of the trust root.
    /// A Rekor v2 entry has no UUID lookup, SET or integrated time.
    pub fn get_from_tiles(&self, rekor: &Rekor, index: u64) -> Result<entry::EntryReport> {
        let info = rekor.log_info()?;
        if index >= info.tree_size {
            return Err(Error::NoSuchEntry {
                service: format!("Rekor {}", rekor.url()),
                entry: format!("at log index {index}"),
                log_entries: Some(0..info.tree_size),
            });
        }
        let signed = checkpoint::verify_log_info(
            &info,
            &self.logs,
            self.now(),
            None,
            checkpoint::SignerName::Origin,
        )
        .map_err(|e| rekor.network(e))?;
        // The entry names its log as a bundle's would: by the checkpoint's
        // signer (or, when no trusted key signed it, the log at this URL).
        let log_id = match &signed {
            Ok(v) => v.log_id,
            Err(_) => self
                .logs
                .at_url(rekor.url())
                .map(|l| l.log_id)
                .next()
                .unwrap_or_else(|| sigstore_types::Sha256Hash::new([0; 32])),
        };
        let mut tree = rekor.tile_tree(info.tree_size);
        let body = tree
            .entries(index, index + 1)
            .map_err(|e| rekor.network(e))?
            .pop()
            .ok_or_else(|| rekor.network(format!("no entry #{index} in its entry bundle")))?;
        let hashes = tree.inclusion(index).map_err(|e| rekor.network(e))?;
        let evidence = entry::Evidence {
            uuid: None,
            body,
            log_index: index,
            log_id,
            integrated_time: None,
            set: None,
            proof: Some(entry::Proof {
                log_index: index,
                tree_size: info.tree_size,
                root_hash: info.root_hash,
                hashes,
                checkpoint: info.signed_tree_head.clone(),
            }),
            api: entry::LogApi::V2,
            kind_version: None,
        };
        let mut report = entry::EntryReport::new(&evidence, &self.logs, self.now(), false);
        if let Err(f) = signed {
            report.verdict = Err(f);
        }
        Ok(report)
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
        let info =
            sigstore_crypto::parse_certificate_info(&cert).map_err(|e| Error::UnusableEntry {
                reason: format!("the logged certificate does not parse: {e}"),
                source: Some(Box::new(e)),
            })?;
        let (Some(identity), Some(issuer)) = (info.identity, info.issuer) else {
            return Err(Error::UnusableEntry {
                reason: "the logged certificate has no identity or issuer, so no keyless bundle can be made from it".into(),
                source: None,
            });
        };
        use crate::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
        let policy = Policy::Identity(IdentityPolicy::new(
            ValueMatcher::Exact(identity.as_str().to_string()),
            ValueMatcher::Exact(issuer),
        ));
        let verifier = crate::verify::Verifier::with_clock(&self.trust, self.clock.clone())?;
        verifier.verify_digest(digest, &bundle, &policy)?;
        let json = bundle.to_json_pretty().map_err(|e| Error::Runtime {
            what: "cannot encode the bundle",
            source: Box::new(e),
        })?;
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
                if let Some(reason) = super::search::mismatch(body, query) {
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
        let verdict = checkpoint::verify_log_info(
            &info,
            &self.logs,
            self.now(),
            None,
            checkpoint::SignerName::for_api(rekor.api()),
        )
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
