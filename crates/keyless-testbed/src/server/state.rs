//! The server's shared state: every service's keys, the logs, the faults
//! and the device grants, loaded from and persisted to the state directory.

use crate::ca::{FulcioCa, StoredFulcio};
use crate::faults::{Fault, FaultTable};
use crate::keys::{KeyKind, StoredKey, TestKey};
use crate::material::{Services, TRUST_FILES};
use crate::oidc::{OidcIssuer, StoredOidc};
use crate::rekor::{AnswerFaults, Canonical, LogVersion, LoggedEntry, StoredLog, TransparencyLog};
use crate::tsa::{StoredTsa, TimestampAuthority};
use crate::tuf::{RepoOptions, StoredTufKeys, TufKeys};
use crate::util::read_optional;
use keyless::clock::Clock;
use keyless::files::write_atomic;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Key material, stored as `keys.json`.
#[derive(Serialize, Deserialize)]
struct StoredKeys {
    created: i64,
    oidc: StoredOidc,
    fulcio: StoredFulcio,
    rekor_v1: StoredLog,
    rekor_v2: StoredLog,
    tsa: StoredTsa,
    tuf: StoredTufKeys,
    rogue: StoredKey,
}

/// Every service's keys (and the logs' entries).
pub(super) struct Keys {
    pub(super) created: i64,
    pub(super) oidc: OidcIssuer,
    pub(super) fulcio: FulcioCa,
    pub(super) rekor_v1: TransparencyLog,
    pub(super) rekor_v2: TransparencyLog,
    pub(super) tsa: TimestampAuthority,
    pub(super) tuf: TufKeys,
    /// A key no trust root knows, for forged-signature faults.
    pub(super) rogue: TestKey,
}

pub(super) struct State {
    /// Device authorization grants in progress: device code -> polls so far.
    pub(super) devices: HashMap<String, u32>,
    pub(super) url: String,
    pub(super) dir: PathBuf,
    pub(super) keys: Keys,
    pub(super) trusted_issuers: Vec<String>,
    pub(super) faults: FaultTable,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) tsa_serial: u128,
    /// How much of each log is on disk; shared with requests that write it
    /// without holding the state.
    pub(super) stored: Arc<StoredLogs>,
}

/// How many entries of each log are on disk. Each lock is held by the one
/// request writing that log's file: requests that wait for it find their
/// entry written by it, or write the log once for all of them (a group
/// commit), so concurrent appends don't each rewrite the whole log while
/// every other request waits on the state.
pub(super) struct StoredLogs {
    v1: tokio::sync::Mutex<usize>,
    v2: tokio::sync::Mutex<usize>,
}

pub(super) type Shared = Arc<Mutex<State>>;

/// The state, even after a handler panicked while holding it: a poisoned
/// lock must not turn one bad request into a dead testbed.
pub(super) fn lock(st: &Shared) -> std::sync::MutexGuard<'_, State> {
    st.lock().unwrap_or_else(|e| e.into_inner())
}

/// An I/O error, naming the file.
pub(super) fn io_err(path: &Path, e: impl std::fmt::Display) -> String {
    format!("{}: {e}", path.display())
}

/// Replace `path` with `bytes` atomically.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_atomic(path, bytes).map_err(|e| io_err(path, e))
}

/// Store `entries` as the `version` log's entries in `dir`.
fn write_entries(dir: &Path, version: LogVersion, entries: &[LoggedEntry]) -> Result<(), String> {
    let name = match version {
        LogVersion::V1 => "rekor-v1.json",
        LogVersion::V2 => "rekor-v2.json",
    };
    let json = serde_json::to_vec(entries).map_err(|e| e.to_string())?;
    write_file(&dir.join(name), &json)
}

/// Return once every entry the `version` log holds now is on disk: a
/// request that logged an entry answers only then (as before, when the
/// log was written under the state lock). The file is written without
/// the state, so other requests go on meanwhile; one in-memory snapshot
/// of the log is written at a time, in log order, so the file always holds
/// a prefix of the log (a snapshot never replaces a longer one).
pub(super) async fn stored(st: &Shared, version: LogVersion) -> Result<(), String> {
    let (stored, target) = {
        let s = lock(st);
        (s.stored.clone(), s.keys.log(version).entries().len())
    };
    let mut on_disk = match version {
        LogVersion::V1 => stored.v1.lock().await,
        LogVersion::V2 => stored.v2.lock().await,
    };
    if *on_disk >= target {
        return Ok(());
    }
    let (dir, entries) = {
        let s = lock(st);
        (s.dir.clone(), s.keys.log(version).entries().to_vec())
    };
    let len = entries.len();
    tokio::task::spawn_blocking(move || write_entries(&dir, version, &entries))
        .await
        .map_err(|e| format!("writing the log failed: {e}"))??;
    *on_disk = len;
    Ok(())
}

impl Keys {
    /// The keys in `dir/keys.json` with the logs' entries, or fresh keys
    /// (then stored there) if the directory has none yet. The Rekor v2 log
    /// is named `v2_name` (the host it is served on); an empty log gets its
    /// genesis entry.
    pub(super) fn load_or_create(dir: &Path, now: i64, v2_name: &str) -> Result<Self, String> {
        let path = dir.join("keys.json");
        let mut keys = match read_optional(&path).map_err(|e| io_err(&path, e))? {
            Some(bytes) => Self::load(dir, &path, &bytes)?,
            None => Self::create(&path, now)?,
        };
        keys.rekor_v2 = keys.rekor_v2.named(v2_name);
        for version in [LogVersion::V1, LogVersion::V2] {
            if keys.log_mut(version).ensure_genesis(now)? {
                keys.persist_log(dir, version)?;
            }
        }
        Ok(keys)
    }

    /// The logs as they are on disk now: all of their entries.
    pub(super) fn stored_logs(&self) -> StoredLogs {
        StoredLogs {
            v1: tokio::sync::Mutex::new(self.rekor_v1.entries().len()),
            v2: tokio::sync::Mutex::new(self.rekor_v2.entries().len()),
        }
    }

    fn log(&self, version: LogVersion) -> &TransparencyLog {
        match version {
            LogVersion::V1 => &self.rekor_v1,
            LogVersion::V2 => &self.rekor_v2,
        }
    }

    fn log_mut(&mut self, version: LogVersion) -> &mut TransparencyLog {
        match version {
            LogVersion::V1 => &mut self.rekor_v1,
            LogVersion::V2 => &mut self.rekor_v2,
        }
    }

    /// Store the `version` log's entries in `dir`.
    fn persist_log(&self, dir: &Path, version: LogVersion) -> Result<(), String> {
        write_entries(dir, version, self.log(version).entries())
    }

    fn load(dir: &Path, path: &Path, bytes: &[u8]) -> Result<Self, String> {
        let entries = |name: &str| -> Result<Vec<LoggedEntry>, String> {
            let p = dir.join(name);
            match read_optional(&p).map_err(|e| io_err(&p, e))? {
                Some(b) => serde_json::from_slice(&b).map_err(|e| io_err(&p, e)),
                None => Ok(Vec::new()),
            }
        };
        let s: StoredKeys = serde_json::from_slice(bytes).map_err(|e| io_err(path, e))?;
        Ok(Self {
            created: s.created,
            oidc: OidcIssuer::from_stored(&s.oidc)?,
            fulcio: FulcioCa::from_stored(&s.fulcio)?,
            rekor_v1: TransparencyLog::from_stored(&s.rekor_v1, entries("rekor-v1.json")?)?,
            rekor_v2: TransparencyLog::from_stored(&s.rekor_v2, entries("rekor-v2.json")?)?,
            tsa: TimestampAuthority::from_stored(&s.tsa)?,
            tuf: TufKeys::from_stored(&s.tuf)?,
            rogue: TestKey::from_stored(&s.rogue)?,
        })
    }

    fn create(path: &Path, now: i64) -> Result<Self, String> {
        // Valid from a minute ago, so clock skew cannot make the first
        // certificate predate its CA.
        let created = now - 60;
        let keys = Self {
            created,
            oidc: OidcIssuer::generate(),
            fulcio: FulcioCa::generate(created),
            rekor_v1: TransparencyLog::generate(LogVersion::V1, "rekor.keyless-testbed"),
            // Named for the host it is served on by `load_or_create`.
            rekor_v2: TransparencyLog::generate(LogVersion::V2, "127.0.0.1"),
            tsa: TimestampAuthority::generate(
                jiff::Timestamp::from_second(created).map_err(|e| e.to_string())?,
            ),
            tuf: TufKeys::generate(),
            rogue: TestKey::generate(KeyKind::EcdsaP256),
        };
        let stored = StoredKeys {
            created,
            oidc: keys.oidc.to_stored(),
            fulcio: keys.fulcio.to_stored(),
            rekor_v1: keys.rekor_v1.to_stored(),
            rekor_v2: keys.rekor_v2.to_stored(),
            tsa: keys.tsa.to_stored(),
            tuf: keys.tuf.to_stored(),
            rogue: keys.rogue.to_stored(),
        };
        let json = serde_json::to_vec_pretty(&stored).map_err(|e| e.to_string())?;
        write_file(path, &json)?;
        Ok(keys)
    }
}

impl State {
    pub(super) fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    pub(super) fn services(&self) -> Services<'_> {
        Services {
            url: &self.url,
            valid_from: jiff::Timestamp::from_second(self.keys.created)
                .map(|t| t.to_string())
                .unwrap_or_default(),
            ca: &self.keys.fulcio,
            rekor_v1: &self.keys.rekor_v1,
            rekor_v2: &self.keys.rekor_v2,
            tsa_chain: Some(self.keys.tsa.chain_der()),
        }
    }

    /// Write the trust files for the current URL.
    pub(super) fn write_trust_files(&self) -> Result<(), String> {
        let s = self.services();
        for name in TRUST_FILES {
            let doc = s
                .trust_file(name)
                .ok_or_else(|| format!("no trust file {name:?}"))?;
            let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
            write_file(&self.dir.join(name), text.as_bytes())?;
        }
        write_file(&self.dir.join("url"), format!("{}\n", self.url).as_bytes())?;
        // A testbed's root outlives many restarts, and a long-running one
        // keeps a fresh timestamp for a month.
        self.publish_tuf(&RepoOptions {
            root_lifetime: jiff::SignedDuration::from_hours(24 * 3650),
            timestamp_lifetime: jiff::SignedDuration::from_hours(24 * 30),
            ..Default::default()
        })
    }

    /// Publish the trusted root and signing config through the TUF
    /// repository in `<state>/tuf`, at the next metadata version.
    pub(super) fn publish_tuf(&self, options: &RepoOptions) -> Result<(), String> {
        let dir = self.dir.join("tuf");
        let next = crate::tuf::published_version(&dir)?.unwrap_or(0) + 1;
        let s = self.services();
        let root = serde_json::to_vec_pretty(&s.trusted_root()).map_err(|e| e.to_string())?;
        let config = serde_json::to_vec_pretty(&s.signing_config(1)).map_err(|e| e.to_string())?;
        crate::tuf::write_repository(
            &dir,
            &self.keys.tuf,
            &[
                ("trusted_root.json", &root),
                ("signing_config.v0.2.json", &config),
            ],
            self.clock.now(),
            &options.clone().with_version(next),
        )
    }

    /// The log faults among `faults`, with the rogue key to forge with.
    pub(super) fn answer_faults(&self, faults: &[Fault]) -> AnswerFaults<'_> {
        AnswerFaults {
            checkpoint_forger: faults
                .contains(&Fault::WrongCheckpointKey)
                .then_some(&self.keys.rogue),
            set_forger: faults
                .contains(&Fault::WrongSetKey)
                .then_some(&self.keys.rogue),
            wrong_proof: faults.contains(&Fault::WrongProof),
        }
    }

    /// Log `c` on the `version` log (in memory: the request answers once
    /// [`stored`] has written it). Returns the entry's index, and whether
    /// to answer as for a duplicate: it was logged before (its first index
    /// is returned), or a duplicate fault is active.
    pub(super) fn log_entry(
        &mut self,
        version: LogVersion,
        c: Canonical,
        faults: &[Fault],
    ) -> (usize, bool) {
        let (body, entry) = LoggedEntry::from_canonical(c, self.now());
        match self.keys.log_mut(version).append(body, entry) {
            Ok(i) => (i, faults.contains(&Fault::Duplicate)),
            Err(existing) => (existing, true),
        }
    }
}
