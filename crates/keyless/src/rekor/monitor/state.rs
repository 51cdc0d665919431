//! What a monitor keeps between runs: the state file (the last verified
//! checkpoint and where the identity scan stopped) and its lock.

use crate::error::{Error, FileKind, Result};
use crate::rekor::checkpoint::{self, VerifiedCheckpoint};
use sigstore_types::Sha256Hash;
use std::path::{Path, PathBuf};

/// What a monitor keeps between runs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Format version: 1.
    pub version: u32,
    /// The log monitored.
    pub rekor_url: String,
    /// The log ID whose key signed the stored checkpoint (hex).
    pub log_id: String,
    /// The stored checkpoint's origin.
    pub origin: String,
    /// The stored checkpoint's tree size.
    pub tree_size: u64,
    /// The stored checkpoint's root hash (hex).
    pub root_hash: String,
    /// The log index of the active shard's first entry.
    pub index_offset: u64,
    /// The next log index to scan for watched identities.
    pub next_index: u64,
    /// The log index the identity scan of this state began at: the log's
    /// end on the first run, or its `--since`. Absent in states written
    /// before keyless recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_start: Option<u64>,
    /// The stored checkpoint, exactly as the log signed it.
    pub checkpoint: String,
    /// When it was stored.
    pub updated: jiff::Timestamp,
}

const STATE_VERSION: u32 = 1;
const MAX_STATE_BYTES: u64 = 1024 * 1024;

/// An exclusive lock on a state file (`<state>.lock`), held for a run so
/// two overlapping monitors cannot race and move the state backwards.
#[derive(Debug)]
pub struct StateLock(#[allow(dead_code)] std::fs::File);

/// Take the lock for `state`, or fail at once if another run holds it.
///
/// The lock file is opened without following a symlink and without
/// blocking, and must be a regular file: a symlink planted at
/// `<state>.lock` would otherwise make the monitor create (or lock) a file
/// wherever it points, and a FIFO there would hang the run.
pub fn lock_state(state: &Path) -> Result<StateLock> {
    let mut name = state.as_os_str().to_os_string();
    name.push(".lock");
    let path = PathBuf::from(name);
    let write_err = |source| Error::Write {
        path: path.clone(),
        source,
    };
    let file = open_lock(&path).map_err(write_err)?;
    let meta = file.metadata().map_err(write_err)?;
    if !meta.is_file() {
        return Err(write_err(std::io::Error::other(
            "not a regular file; keyless locks only a regular file it may create",
        )));
    }
    file.try_lock().map_err(|e| match e {
        std::fs::TryLockError::WouldBlock => Error::Busy {
            path: state.to_path_buf(),
            lock: path.clone(),
            source: e,
        },
        // Locking itself failed (a file system without locks): not "in use".
        std::fs::TryLockError::Error(source) => write_err(source),
    })?;
    Ok(StateLock(file))
}

/// Open (or create) the lock file, never through a symlink (`O_NOFOLLOW`:
/// a symlink is refused, not followed) and never blocking (`O_NONBLOCK`: a
/// FIFO does not wait for a reader).
fn open_lock(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return std::io::Error::other(
                "a symbolic link; keyless does not follow one to its lock file",
            );
        }
        e
    })
}

impl State {
    /// Read a state file; `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        const WHAT: FileKind = FileKind::MonitorState;
        if !path.exists() {
            return Ok(None);
        }
        // Read without blocking, and only from a regular file: a FIFO (or
        // a symlink to one) planted at the state path would otherwise hang
        // the run while it holds the lock.
        let text = crate::files::read_regular_text_limited(path, MAX_STATE_BYTES, WHAT)?;
        let malformed = |reason: String| Error::Malformed {
            path: path.to_path_buf(),
            what: WHAT,
            reason,
        };
        let state: State = serde_json::from_str(&text).map_err(|e| malformed(e.to_string()))?;
        if state.version != STATE_VERSION {
            return Err(malformed(format!(
                "version {} (this keyless writes version {STATE_VERSION})",
                state.version
            )));
        }
        let cp = state.checkpoint().map_err(malformed)?;
        if cp.tree_size != state.tree_size
            || cp.root_hash.to_hex() != state.root_hash
            || cp.origin != state.origin
        {
            return Err(malformed(
                "tree_size, root_hash or origin disagree with the stored checkpoint".into(),
            ));
        }
        Ok(Some(state))
    }

    /// The stored checkpoint (verified when it was stored).
    pub(crate) fn checkpoint(&self) -> std::result::Result<VerifiedCheckpoint, String> {
        let parsed = checkpoint::parse(&self.checkpoint)?;
        let log_id = Sha256Hash::from_hex(&self.log_id).map_err(|e| format!("log_id: {e}"))?;
        Ok(VerifiedCheckpoint {
            text: self.checkpoint.clone(),
            origin: parsed.origin().to_string(),
            tree_size: parsed.tree_size(),
            root_hash: *parsed.root_hash(),
            log_id,
        })
    }

    /// Why the state's scan position is not one a run could have stored,
    /// or `None`. A run stores `next_index` within the tree it verified,
    /// from where its scan began on: `index_offset <= scan_start <=
    /// next_index <= index_offset + tree_size`. A `next_index` past the
    /// stored tree claims entries scanned that the log had not logged when
    /// the state was stored; once the log grows past it, the entries in
    /// between would be skipped without a word (an edited or mixed-up state
    /// file hiding a signature). Clamping it to the log's end would hide
    /// that too, so it is an alarm.
    pub(super) fn scan_position_error(&self) -> Option<String> {
        let end = self.index_offset.saturating_add(self.tree_size);
        let start = self.scan_start.unwrap_or(self.next_index);
        if self.next_index > end {
            return Some(format!(
                "the state says the scan reached log index {}, but its stored checkpoint \
                 holds entries only up to log index {end}: entries from {end} on would go unscanned",
                self.next_index
            ));
        }
        if self.next_index < self.index_offset || start < self.index_offset {
            return Some(format!(
                "the state's scan position (log index {}, begun at {start}) is before the log's \
                 first entry, log index {}",
                self.next_index, self.index_offset
            ));
        }
        if start > self.next_index {
            return Some(format!(
                "the state says the scan began at log index {start}, after where it stopped, {}",
                self.next_index
            ));
        }
        None
    }

    pub(super) fn new(
        rekor_url: &str,
        cp: &VerifiedCheckpoint,
        index_offset: u64,
        next_index: u64,
        scan_start: Option<u64>,
        now: jiff::Timestamp,
    ) -> Self {
        Self {
            version: STATE_VERSION,
            rekor_url: rekor_url.to_string(),
            log_id: cp.log_id_hex(),
            origin: cp.origin.clone(),
            tree_size: cp.tree_size,
            root_hash: cp.root_hash.to_hex(),
            index_offset,
            next_index,
            scan_start,
            checkpoint: cp.text.clone(),
            updated: now,
        }
    }

    pub(super) fn save(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_string_pretty(self).map_err(|e| Error::Runtime {
            what: "cannot encode the monitor state",
            source: Box::new(e),
        })?;
        json.push('\n');
        crate::files::write_atomic(path, json.as_bytes()).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// State files written before `scan_start` was recorded still load
    /// (without it), and a state without one is written as they were.
    #[test]
    fn scan_start_is_optional_in_the_file() {
        let state = State {
            version: STATE_VERSION,
            rekor_url: "http://127.0.0.1:1".into(),
            log_id: "00".repeat(32),
            origin: "log".into(),
            tree_size: 0,
            root_hash: "00".repeat(32),
            index_offset: 0,
            next_index: 7,
            scan_start: None,
            checkpoint: String::new(),
            updated: jiff::Timestamp::UNIX_EPOCH,
        };
        let old = serde_json::to_value(&state).unwrap();
        assert!(old.get("scan_start").is_none(), "{old}");
        assert_eq!(serde_json::from_value::<State>(old).unwrap(), state);
        let new = State {
            scan_start: Some(3),
            ..state
        };
        let json = serde_json::to_value(&new).unwrap();
        assert_eq!(json["scan_start"], 3);
        assert_eq!(serde_json::from_value::<State>(json).unwrap(), new);
    }

    /// A scan position runs of keyless store: within the stored tree, from
    /// where the scan began. Anything else is named.
    #[test]
    fn scan_positions_must_lie_within_the_stored_tree() {
        let state = |index_offset, tree_size, scan_start, next_index| State {
            version: STATE_VERSION,
            rekor_url: String::new(),
            log_id: String::new(),
            origin: String::new(),
            tree_size,
            root_hash: String::new(),
            index_offset,
            next_index,
            scan_start,
            checkpoint: String::new(),
            updated: jiff::Timestamp::UNIX_EPOCH,
        };
        for ok in [
            state(0, 10, Some(10), 10),
            state(0, 10, Some(0), 4),
            state(100, 10, Some(105), 110),
            state(0, 10, None, 7),
        ] {
            assert_eq!(ok.scan_position_error(), None, "{ok:?}");
        }
        for (bad, says) in [
            (state(0, 10, Some(0), 11), "only up to log index 10"),
            (state(100, 10, None, 111), "only up to log index 110"),
            (
                state(100, 10, Some(99), 105),
                "before the log's first entry",
            ),
            (state(100, 10, None, 99), "before the log's first entry"),
            (state(0, 10, Some(6), 5), "after where it stopped"),
        ] {
            let why = bad.scan_position_error().unwrap_or_default();
            assert!(why.contains(says), "{bad:?}: {why}");
        }
    }
}
