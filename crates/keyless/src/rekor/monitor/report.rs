//! What a monitor run reports: its conclusion, the evidence for it, the
//! identity scan, and the state to store once the report is delivered.

use super::policy::MatchPolicy;
use super::state::State;
use crate::error::Result;
use crate::rekor::Failure;
use crate::rekor::checkpoint::{ConsistencyProof, VerifiedCheckpoint};
use crate::rekor::entry::{self, CertificateSummary};
use std::path::PathBuf;

/// How a monitor run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// First run: the verified checkpoint was stored.
    Initialized,
    /// The log signed the same tree again.
    Unchanged,
    /// The log grew consistently; the new checkpoint was stored.
    Grew,
    /// The log misbehaved (or its evidence does not verify): the state file
    /// was left unchanged.
    Alarm(Failure),
}

/// A certificate that matched a watched identity.
#[derive(Debug, Clone)]
pub struct Match {
    /// The entry's log index.
    pub log_index: u64,
    /// The entry's UUID.
    pub uuid: String,
    /// Its kind and version.
    pub kind: String,
    /// The SET-signed integrated time.
    pub integrated_time: Option<jiff::Timestamp>,
    /// The digest it names.
    pub digest: Option<entry::Digest>,
    /// The matching certificate.
    pub certificate: CertificateSummary,
    /// Why it matched.
    pub reasons: Vec<String>,
    /// Why the run's [`MatchPolicy`] does not allow it (which fails the
    /// run), or `None` when it is only listed.
    pub unexpected: Option<String>,
}

/// A scanned entry, proven in the log, that could not be read for
/// identities: whether it names a watched one is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The entry's log index.
    pub log_index: u64,
    /// The entry's UUID.
    pub uuid: String,
    /// Why it could not be read.
    pub reason: String,
}

/// What the identity scan covered and found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// The first log index scanned.
    pub from: u64,
    /// One past the last log index scanned.
    pub to: u64,
    /// One past the log's last entry at the current checkpoint.
    pub end: u64,
    /// The matches, in log order.
    pub matches: Vec<Match>,
    /// The entries in `from..to` that could not be read for identities, in
    /// log order. Each fails the run (see [`MonitorReport::is_failure`]).
    pub unreadable: Vec<Unreadable>,
}

/// A monitor run's report: the evidence for whatever it concluded.
#[derive(Debug, Clone)]
pub struct MonitorReport {
    /// The log.
    pub rekor_url: String,
    /// The state file.
    pub state_path: PathBuf,
    /// The checkpoint stored before this run.
    pub stored: Option<VerifiedCheckpoint>,
    /// The checkpoint the log serves now, exactly as sent.
    pub current_text: String,
    /// It, verified (absent when its signature did not verify).
    pub current: Option<VerifiedCheckpoint>,
    /// The consistency proof the log sent, when one was needed.
    pub proof: Option<ConsistencyProof>,
    /// The conclusion.
    pub outcome: Outcome,
    /// The identity scan, when identities are watched and no alarm stopped it.
    pub scan: Option<Scan>,
    /// The watched identities, as shown.
    pub watching: Vec<String>,
    /// Which matches fail the run.
    pub policy: MatchPolicy,
    /// The state to store once the report has been delivered; `None` after
    /// an alarm (the state is left as it was).
    pub(super) pending: Option<State>,
}

impl MonitorReport {
    /// Store the new state (atomically), after the report was delivered: a
    /// report that could not be printed must not have moved the state on.
    pub fn commit(&self) -> Result<()> {
        match &self.pending {
            Some(state) => state.save(&self.state_path),
            None => Ok(()),
        }
    }

    /// Whether the run raised an alarm.
    pub fn is_alarm(&self) -> bool {
        matches!(self.outcome, Outcome::Alarm(_))
    }

    /// The matches the policy does not allow, in log order.
    pub fn unexpected(&self) -> impl Iterator<Item = &Match> {
        self.scan
            .iter()
            .flat_map(|s| &s.matches)
            .filter(|m| m.unexpected.is_some())
    }

    /// The scanned entries that could not be read for identities.
    pub fn unreadable(&self) -> &[Unreadable] {
        self.scan.as_ref().map_or(&[], |s| &s.unreadable)
    }

    /// Whether the run failed: an alarm, a match the policy does not
    /// allow, or an entry that could not be read for identities. (The
    /// state still moves on past reported matches and unreadable entries:
    /// see [`super::run`].)
    pub fn is_failure(&self) -> bool {
        self.is_alarm() || self.unexpected().next().is_some() || !self.unreadable().is_empty()
    }
}
