//! The server's shared state: every service's keys, the logs, the faults
//! and the device grants, loaded from and persisted to the state directory.

use crate::ca::{FulcioCa, StoredFulcio};
use crate::faults::{Fault, FaultTable};
use crate::keys::{KeyKind, StoredKey, TestKey};
use crate::material::{KeyEnd, Services, TRUST_FILES};
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
    /// Keys whose validity window the trust files end.
    pub(super) valid_until: Vec<KeyEnd>,
    /// How much of each log is on disk; shared with requests that write it
    /// without holding the state.
    pub(super) stored: Arc<StoredLogs>,
    /// Requests each endpoint is serving now, and the most it served at
    /// once (what a client's concurrency is seen as).
    pub(super) in_flight: HashMap<crate::faults::Endpoint, InFlight>,
}

/// An endpoint's requests being served now, and the most at once.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct InFlight {
    pub(super) now: u32,
    pub(super) most: u32,
}

/// How many entries of each log are on disk. Each lock is held by the one
/// request writing that log's file: requests that wait for it find their
/// entry written by it, or write the log once for all of them (a group
/// commit), so concurrent appends don't each rewrite the whole log while
/// every other request waits on the state.
pub(super) struct StoredLogs {
    v1: tokio::sync::Mutex<OnDisk>,
    v2: tokio::sync::Mutex<OnDisk>,
}

/// How much of a log its file holds: entries, and bytes of whole lines.
#[derive(Clone, Copy)]
pub(super) struct OnDisk {
    entries: usize,
    bytes: u64,
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

/// The file holding the `version` log's entries: JSON Lines, one entry a
/// line in log order, appended to as the log grows (rewriting the whole log
/// on every append made each entry cost more than the last).
fn log_file(dir: &Path, version: LogVersion) -> PathBuf {
    dir.join(match version {
        LogVersion::V1 => "rekor-v1.jsonl",
        LogVersion::V2 => "rekor-v2.jsonl",
    })
}

/// `entries` as JSON Lines.
fn entry_lines(entries: &[LoggedEntry]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for entry in entries {
        serde_json::to_writer(&mut out, entry).map_err(|e| e.to_string())?;
        out.push(b'\n');
    }
    Ok(out)
}

/// Append `entries` to the `version` log's file in `dir`, which holds
/// `stored` bytes of whole lines, and make them durable. A failed append
/// is cut back off, so the file keeps holding whole lines only. Returns
/// the file's new length.
fn append_entries(
    dir: &Path,
    version: LogVersion,
    stored: u64,
    entries: &[LoggedEntry],
) -> Result<u64, String> {
    use std::io::{Seek, SeekFrom, Write};
    let path = log_file(dir, version);
    let lines = entry_lines(entries)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| io_err(&path, e))?;
    // Written at `stored`, not at the file's end: whatever an append that
    // failed left behind is overwritten, never glued to.
    let appended = file
        .set_len(stored)
        .and_then(|()| file.seek(SeekFrom::Start(stored)))
        .and_then(|_| file.write_all(&lines))
        .and_then(|()| file.sync_data());
    if let Err(e) = appended {
        // Best effort (the next append truncates anyway); the error
        // reported is the write's.
        let _ = file.set_len(stored);
        return Err(io_err(&path, e));
    }
    Ok(stored + lines.len() as u64)
}

/// The entries in the `version` log's file in `dir` (none if there is no
/// file yet) and the file's length up to the last whole line. A last line
/// without its newline is an append cut short, whose request was never
/// answered: it is left out (and overwritten by the next append). A state
/// directory from before the logs were JSON Lines holds the log as one
/// JSON array in `rekor-v1.json` / `rekor-v2.json`: read from there (the
/// start-up rewrite then moves it).
fn read_entries(dir: &Path, version: LogVersion) -> Result<(Vec<LoggedEntry>, u64), String> {
    let path = log_file(dir, version);
    let Some(bytes) = read_optional(&path).map_err(|e| io_err(&path, e))? else {
        let legacy = legacy_log_file(dir, version);
        return match read_optional(&legacy).map_err(|e| io_err(&legacy, e))? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(|entries| (entries, 0))
                .map_err(|e| io_err(&legacy, e)),
            None => Ok((Vec::new(), 0)),
        };
    };
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let entries = bytes[..whole]
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_slice(line).map_err(|e| io_err(&path, format!("entry {i}: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok((entries, whole as u64))
}

/// Where the `version` log was kept before it was JSON Lines.
fn legacy_log_file(dir: &Path, version: LogVersion) -> PathBuf {
    dir.join(match version {
        LogVersion::V1 => "rekor-v1.json",
        LogVersion::V2 => "rekor-v2.json",
    })
}

/// Return once every entry the `version` log holds now is on disk: a
/// request that logged an entry answers only then (as before, when the
/// log was written under the state lock). The file is appended to without
/// the state, so other requests go on meanwhile; one append runs at a
/// time, in log order, so the file always holds a prefix of the log. The
/// commit is a task of its own: a request dropped while waiting (its client
/// gave up) does not stop it half way, with the file written but not
/// counted.
pub(super) async fn stored(st: &Shared, version: LogVersion) -> Result<(), String> {
    let st = st.clone();
    tokio::spawn(async move { commit(&st, version).await })
        .await
        .map_err(|e| format!("writing the log failed: {e}"))?
}

/// [`stored`]'s work.
async fn commit(st: &Shared, version: LogVersion) -> Result<(), String> {
    let (stored, target) = {
        let s = lock(st);
        (s.stored.clone(), s.keys.log(version).entries().len())
    };
    let mut on_disk = match version {
        LogVersion::V1 => stored.v1.lock().await,
        LogVersion::V2 => stored.v2.lock().await,
    };
    if on_disk.entries >= target {
        return Ok(());
    }
    let (dir, entries) = {
        let s = lock(st);
        let all = s.keys.log(version).entries();
        (s.dir.clone(), all[on_disk.entries..].to_vec())
    };
    let (count, bytes) = (on_disk.entries + entries.len(), on_disk.bytes);
    let bytes = tokio::task::spawn_blocking(move || append_entries(&dir, version, bytes, &entries))
        .await
        .map_err(|e| format!("writing the log failed: {e}"))??;
    *on_disk = OnDisk {
        entries: count,
        bytes,
    };
    Ok(())
}

impl Keys {
    /// The keys in `dir/keys.json` with the logs' entries, or fresh keys
    /// (then stored there) if the directory has none yet. The Rekor v2 log
    /// is named `v2_name` (the host it is served on); an empty log gets its
    /// genesis entry. Each log's file is written anew (dropping an append
    /// cut short), and what it holds is returned with the keys.
    pub(super) fn load_or_create(
        dir: &Path,
        now: i64,
        v2_name: &str,
    ) -> Result<(Self, StoredLogs), String> {
        let path = dir.join("keys.json");
        let mut keys = match read_optional(&path).map_err(|e| io_err(&path, e))? {
            Some(bytes) => Self::load(dir, &path, &bytes)?,
            None => Self::create(&path, now)?,
        };
        keys.rekor_v2 = keys.rekor_v2.named(v2_name);
        let mut on_disk = |version| -> Result<tokio::sync::Mutex<OnDisk>, String> {
            keys.log_mut(version).ensure_genesis(now)?;
            let entries = keys.log(version).entries();
            let lines = entry_lines(entries)?;
            write_file(&log_file(dir, version), &lines)?;
            Ok(tokio::sync::Mutex::new(OnDisk {
                entries: entries.len(),
                bytes: lines.len() as u64,
            }))
        };
        let stored = StoredLogs {
            v1: on_disk(LogVersion::V1)?,
            v2: on_disk(LogVersion::V2)?,
        };
        // Moved into the JSON Lines files just written.
        for version in [LogVersion::V1, LogVersion::V2] {
            let legacy = legacy_log_file(dir, version);
            match std::fs::remove_file(&legacy) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_err(&legacy, e));
                }
                _ => {}
            }
        }
        Ok((keys, stored))
    }

    pub(super) fn log(&self, version: LogVersion) -> &TransparencyLog {
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

    fn load(dir: &Path, path: &Path, bytes: &[u8]) -> Result<Self, String> {
        let entries = |version| read_entries(dir, version).map(|(entries, _)| entries);
        let s: StoredKeys = serde_json::from_slice(bytes).map_err(|e| io_err(path, e))?;
        Ok(Self {
            created: s.created,
            oidc: OidcIssuer::from_stored(&s.oidc)?,
            fulcio: FulcioCa::from_stored(&s.fulcio)?,
            rekor_v1: TransparencyLog::from_stored(&s.rekor_v1, entries(LogVersion::V1)?)?,
            rekor_v2: TransparencyLog::from_stored(&s.rekor_v2, entries(LogVersion::V2)?)?,
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
            ends: &self.valid_until,
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
            forked_proof: faults.contains(&Fault::ForkedProof),
            other_shard: faults.contains(&Fault::OtherShard),
            stale_by: faults
                .iter()
                .map(|f| match f {
                    Fault::StaleProof(n) => *n,
                    _ => 0,
                })
                .sum(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn json(entries: &[LoggedEntry]) -> String {
        serde_json::to_string(entries).unwrap()
    }

    #[test]
    fn a_log_file_is_appended_to_and_an_append_cut_short_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TransparencyLog::generate(LogVersion::V1, "test");
        log.ensure_genesis(1_700_000_000).unwrap();
        let one = log.entries().to_vec();
        let three: Vec<LoggedEntry> = one.iter().cycle().take(3).cloned().collect();

        let first = append_entries_to_new(dir.path(), &one);
        let second = append_entries(dir.path(), LogVersion::V1, first, &three[1..]).unwrap();
        let (read, bytes) = read_entries(dir.path(), LogVersion::V1).unwrap();
        assert_eq!(json(&read), json(&three));
        assert_eq!(bytes, second);

        // An append whose last line never got its newline (a crash) does
        // not count, and the whole lines before it still load.
        let path = log_file(dir.path(), LogVersion::V1);
        let mut torn = std::fs::read(&path).unwrap();
        torn.extend_from_slice(b"{\"kind\":\"hashedr");
        std::fs::write(&path, &torn).unwrap();
        let (read, bytes) = read_entries(dir.path(), LogVersion::V1).unwrap();
        assert_eq!(json(&read), json(&three));
        assert_eq!(bytes, second);

        // A damaged whole line is an error naming the entry, not a shorter log.
        std::fs::write(&path, b"{}\n").unwrap();
        let err = read_entries(dir.path(), LogVersion::V1).unwrap_err();
        assert!(err.contains("entry 0"), "{err}");
    }

    /// A new log file holding `entries`; its length.
    fn append_entries_to_new(dir: &Path, entries: &[LoggedEntry]) -> u64 {
        std::fs::write(log_file(dir, LogVersion::V1), b"").unwrap();
        append_entries(dir, LogVersion::V1, 0, entries).unwrap()
    }

    #[test]
    fn a_log_kept_as_a_json_array_before_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TransparencyLog::generate(LogVersion::V2, "test");
        log.ensure_genesis(1_700_000_000).unwrap();
        let two: Vec<LoggedEntry> = log.entries().iter().cycle().take(2).cloned().collect();
        std::fs::write(
            legacy_log_file(dir.path(), LogVersion::V2),
            serde_json::to_vec(&two).unwrap(),
        )
        .unwrap();
        let (read, _) = read_entries(dir.path(), LogVersion::V2).unwrap();
        assert_eq!(json(&read), json(&two));
    }

    #[test]
    fn an_append_after_a_failed_one_overwrites_its_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TransparencyLog::generate(LogVersion::V1, "test");
        log.ensure_genesis(1_700_000_000).unwrap();
        let one = log.entries().to_vec();
        let first = append_entries_to_new(dir.path(), &one);
        // What a failed append could leave behind.
        let path = log_file(dir.path(), LogVersion::V1);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut file, b"{\"half\": ").unwrap();
        append_entries(dir.path(), LogVersion::V1, first, &one).unwrap();
        let (read, _) = read_entries(dir.path(), LogVersion::V1).unwrap();
        assert_eq!(json(&read), json(&[one.clone(), one].concat()));
    }

    #[test]
    fn no_log_file_is_an_empty_log() {
        let dir = tempfile::tempdir().unwrap();
        let (read, bytes) = read_entries(dir.path(), LogVersion::V2).unwrap();
        assert!(read.is_empty());
        assert_eq!(bytes, 0);
    }
}
