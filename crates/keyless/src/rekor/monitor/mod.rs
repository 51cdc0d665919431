//! Watching a Rekor log (v1, or v2 through its tiles): is it append-only,
//! and who signs in our name?
//!
//! Each run fetches the log's current checkpoint and verifies its
//! signature. The first run stores it in a state file. Later runs prove the
//! new checkpoint extends the stored one (a consistency proof), then store
//! it. A smaller tree (rollback), another root at the same size (fork), a
//! proof that does not verify, or a checkpoint that no trusted key signed
//! is an alarm: the evidence is reported and the state file is left exactly
//! as it was, so the next run compares against the same trusted point. A
//! Rekor v2 log serves no proofs: they are computed from its tiles
//! ([`crate::rekor::proofs`]) and verified the same way.
//!
//! With identities to watch, each run also reads the entries logged since
//! the last run (bounded by `max_entries` per run, resuming where it
//! stopped) and lists every certificate that claims one of them, so a
//! project learns of any signature made in its name. A [`MatchPolicy`]
//! decides which matches fail the run (any, or those from a ref the project
//! does not sign from); the others are listed. The first run scans from the
//! log's end, or from [`MonitorOptions::since`].

mod policy;
mod report;
mod run;
mod state;
mod watch;

pub use policy::{MatchPolicy, RefGlob};
pub use report::{Match, MonitorReport, Outcome, Scan, Unreadable};
pub use run::{MonitorOptions, run};
pub use state::{State, StateLock, lock_state};
pub use watch::Watch;
