//! One monitor run: verify the current checkpoint, hold the log to the
//! stored one, scan the new entries for watched identities.

use super::policy::MatchPolicy;
use super::report::{Match, MonitorReport, Outcome, Scan, Unreadable};
use super::state::State;
use super::watch::Watch;
use crate::error::{Error, FileKind, Result};
use crate::rekor::checkpoint::{self, Growth};
use crate::rekor::entry::{self, CertificateSummary, EntryReport};
use crate::rekor::{Auditor, Failure, Rekor, RekorApi, Step};
use std::path::PathBuf;

/// How to monitor.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// The state file (JSON).
    pub state: PathBuf,
    /// Identities to scan new entries for (none: no scan).
    pub watch: Vec<Watch>,
    /// At most this many entries are scanned per run.
    pub max_entries: u64,
    /// Which matches fail the run.
    pub policy: MatchPolicy,
    /// Where the first run's identity scan starts, instead of the log's end
    /// (the entries already logged from there on are scanned too, at most
    /// `max_entries` per run). Once a state exists it decides where the scan
    /// continues; `since` is then refused if it asks for entries before the
    /// state's scan began, and has no effect otherwise.
    pub since: Option<u64>,
}

/// One monitor run (see the module documentation). `Err` when no verdict
/// could be reached (network, I/O, a malformed answer or state file, or
/// options that contradict it): the state file is then left unchanged too.
///
/// The state moves on past the entries scanned even when the policy fails
/// the run on a match: the log itself proved consistent, the match is a
/// finding about a signer that the (delivered) report states, and a state
/// held back would fail every later run on the same entry. The same holds
/// for an entry proven in the log that cannot be read for identities (a
/// body that is not JSON, a certificate that does not parse): the run
/// fails (exit 1) and the report lists it by index with the reason, and as
/// the log proved it immutable no later run could read it either; holding
/// the state back would stop the scan there for good, leaving every later
/// entry unscanned. An entry that could not be *fetched* (network, a
/// malformed answer) is no verdict: the run is an `Err` (exit 2), the state
/// stays, and the next run fetches it again. Only an alarm, a verdict
/// against the log (or a state whose scan position it cannot have
/// stored), keeps the state where it was.
pub fn run(auditor: &Auditor, rekor: &Rekor, options: &MonitorOptions) -> Result<MonitorReport> {
    if options.since.is_some() && options.watch.is_empty() {
        return Err(Error::Usage(
            "--since says where the identity scan starts: it needs --identity or --gitlab-project"
                .into(),
        ));
    }
    let state = State::load(&options.state)?;
    if let Some(s) = &state
        && s.rekor_url != rekor.url()
    {
        return Err(Error::Usage(format!(
            "{} monitors {}, not {}; pass --rekor-url {} or use another --state file",
            options.state.display(),
            s.rekor_url,
            rekor.url(),
            s.rekor_url
        )));
    }
    if let (Some(since), Some(s)) = (options.since, &state) {
        // States written before scan_start was recorded: their scan began
        // somewhere before next_index, nobody knows where.
        let start = s.scan_start.unwrap_or(s.next_index);
        if since < start {
            return Err(Error::Usage(format!(
                "{} has scanned the log from index {start} on; --since {since} asks for earlier entries: \
                 scan them with another --state file, or drop --since",
                options.state.display()
            )));
        }
    }
    let stored = state
        .as_ref()
        .map(|s| {
            s.checkpoint().map_err(|reason| Error::Malformed {
                path: options.state.clone(),
                what: FileKind::MonitorState,
                reason,
            })
        })
        .transpose()?;
    let info = rekor.log_info()?;
    let mut report = MonitorReport {
        rekor_url: rekor.url().to_string(),
        state_path: options.state.clone(),
        stored: stored.clone(),
        current_text: info.signed_tree_head.clone(),
        current: None,
        proof: None,
        outcome: Outcome::Unchanged,
        scan: None,
        watching: options.watch.iter().map(Watch::describe).collect(),
        policy: options.policy.clone(),
        pending: None,
    };
    let alarm = |mut report: MonitorReport, f: Failure| {
        report.outcome = Outcome::Alarm(f);
        Ok(report)
    };

    // (1) The current checkpoint is signed by a trusted log key (the same
    // log as before, once one is stored) and agrees with the answer.
    let now = auditor.now();
    let pinned = stored.as_ref().map(|s| s.log_id);
    let names = checkpoint::SignerName::for_api(rekor.api());
    let current =
        match checkpoint::verify_log_info(&info, auditor.logs(), now, pinned.as_ref(), names)
            .map_err(|reason| rekor.network(reason))?
        {
            Ok(c) => c,
            Err(f) => return alarm(report, f),
        };
    report.current = Some(current.clone());
    // First run: when the trust root places logs at this URL, the checkpoint
    // must come from one of them, not from any trusted log.
    if pinned.is_none() {
        let here: Vec<_> = auditor
            .logs()
            .at_url(rekor.url())
            .map(|l| l.log_id)
            .collect();
        if !here.is_empty() && !here.contains(&current.log_id) {
            return alarm(
                report,
                Failure::new(
                    Step::LogIdentity,
                    format!(
                        "the checkpoint from {} is signed by a log the trust root places elsewhere",
                        rekor.url()
                    ),
                ),
            );
        }
    }
    let end = info
        .index_offset
        .checked_add(current.tree_size)
        .ok_or_else(|| rekor.network("log info: the log index overflows".into()))?;

    let scanner = Scanner {
        auditor,
        rekor,
        options,
        current: &current,
        index_offset: info.index_offset,
        end,
        now,
    };

    let (Some(state), Some(stored)) = (state, stored) else {
        // First run: trust on first use, recorded so later runs can hold
        // the log to it. Entries already logged are scanned only from
        // --since on.
        let start = options.since.unwrap_or(end);
        if start > end {
            return Err(Error::Usage(format!(
                "--since {start} is past the log's end: its next entry will be log index {end}"
            )));
        }
        if start < info.index_offset {
            return Err(Error::Usage(format!(
                "--since {start}: the log's active shard begins at log index {}; entries of \
                 older shards cannot be proven against its checkpoint",
                info.index_offset
            )));
        }
        report.outcome = Outcome::Initialized;
        return scanner.scan_and_move_on(report, start, Some(start));
    };

    // (2) Append-only: the same log, never smaller, one root per size, and
    // a verified consistency proof for growth.
    if info.index_offset != state.index_offset {
        return alarm(
            report,
            Failure::new(
                Step::LogIdentity,
                format!(
                    "the log's entries now start at index {} instead of {}: a new shard",
                    info.index_offset, state.index_offset
                ),
            ),
        );
    }
    let growth = match checkpoint::compare(&stored, &current) {
        Err(f) => return alarm(report, f),
        Ok(Some(g)) => g,
        Ok(None) => {
            let proof = rekor.consistency_proof(stored.tree_size, current.tree_size)?;
            report.proof = Some(proof.clone());
            match checkpoint::check_proof(&stored, &current, &proof) {
                Ok(g) => g,
                Err(f) => return alarm(report, f),
            }
        }
    };
    report.outcome = match growth {
        Growth::Unchanged => Outcome::Unchanged,
        Growth::Grew => Outcome::Grew,
    };

    // (3) The identity scan, from where the last run stopped (which must lie
    // within the stored tree: see `State::scan_position_error`); (4) the
    // state moves on past the entries it scanned.
    if let Some(reason) = state.scan_position_error() {
        return alarm(
            report,
            Failure::new(
                Step::MonitorState,
                format!(
                    "{reason}; the state file does not describe this log's history: monitor it \
                     with a new --state file (--since says where to scan from)"
                ),
            ),
        );
    }
    scanner.scan_and_move_on(report, state.next_index, state.scan_start)
}

/// What an identity scan reads the log with and holds it to.
struct Scanner<'a> {
    auditor: &'a Auditor,
    rekor: &'a Rekor,
    options: &'a MonitorOptions,
    /// The checkpoint this run verified.
    current: &'a checkpoint::VerifiedCheckpoint,
    /// The log index of the active shard's first entry.
    index_offset: u64,
    /// One past the log's last entry at `current`.
    end: u64,
    now: jiff::Timestamp,
}

impl Scanner<'_> {
    /// The end of a run that reached a verdict for the log: the identity
    /// scan from `from` into `report`, then the state to store, past the
    /// entries scanned (and reported), its scan begun at `scan_start`. Only
    /// such a run moves the state forward; an alarm from the scan does not.
    fn scan_and_move_on(
        &self,
        mut report: MonitorReport,
        from: u64,
        scan_start: Option<u64>,
    ) -> Result<MonitorReport> {
        match self.scan_watched(from)? {
            Ok(scan) => report.scan = scan,
            Err(f) => {
                report.outcome = Outcome::Alarm(f);
                return Ok(report);
            }
        }
        // A run that watches nothing scans nothing: the scan position stays
        // where it was, and the next run with --identity/--gitlab-project
        // continues from it. Moving it to the log's end would skip the
        // entries not yet scanned without a word (issue #19: coverage is
        // never lost quietly). On a first run `from` is the log's end.
        let next_index = report.scan.as_ref().map_or(from, |scan| scan.to);
        report.pending = Some(State::new(
            self.rekor.url(),
            self.current,
            self.index_offset,
            next_index,
            scan_start,
            self.now,
        ));
        Ok(report)
    }

    /// [`Self::scan`] from `from` when anything is watched; `None` (the
    /// scan position stays at `from`) when nothing is.
    fn scan_watched(&self, from: u64) -> Result<std::result::Result<Option<Scan>, Failure>> {
        if self.options.watch.is_empty() {
            return Ok(Ok(None));
        }
        Ok(self.scan(from)?.map(Some))
    }

    /// Scan the entries from `from` (at most `max_entries`, up to the end)
    /// for watched identities, proving each. `Err` is a network error;
    /// `Ok(Err(_))` an alarm.
    fn scan(&self, from: u64) -> Result<std::result::Result<Scan, Failure>> {
        let (auditor, rekor, options) = (self.auditor, self.rekor, self.options);
        let end = self.end;
        let to = end.min(from.saturating_add(options.max_entries));
        let mut scan = Scan {
            from,
            to,
            end,
            matches: Vec::new(),
            unreadable: Vec::new(),
        };
        if rekor.api() == RekorApi::V2 {
            return self.scan_tiles(scan);
        }
        // Fetched a few at a time as the scan reads them: memory stays flat
        // in the number of entries scanned (issue #19).
        let entries = rekor.entries_by_index_lazily(from..to);
        // Trees (size, root) already shown consistent with `current`.
        let mut bound = std::collections::HashSet::new();
        for (index, raw) in (from..to).zip(entries) {
            let raw = &raw?;
            let evidence = entry::Evidence::from_log_entry(raw)
                .map_err(|reason| rekor.network(format!("entry #{index}: {reason}")))?;
            // A minute of tolerance: the newest entries' integrated times
            // must not raise an alarm on a runner whose clock is a little slow.
            let r = EntryReport::new(
                &evidence,
                auditor.logs(),
                self.now + jiff::SignedDuration::from_secs(60),
                true,
            );
            // Every entry is proven: a log that serves an entry it cannot
            // prove, or another entry than the one asked for, could hide
            // one in this range.
            if evidence.log_index != index {
                return Ok(Err(Failure::new(
                    Step::LogEntry,
                    format!(
                        "asked for entry #{index}, the log answered with entry #{}",
                        evidence.log_index
                    ),
                )));
            }
            if let Err(f) = &r.verdict {
                return Ok(Err(Failure::new(
                    f.step,
                    format!("entry #{index}: {}", f.reason),
                )));
            }
            // The entry must be in the tree this run verified, not merely in
            // some tree the log key signed: at the right leaf, under the same
            // origin, with its proof's root consistent with `current`.
            if let Err(f) = bind_to_current(
                rekor,
                self.current,
                &evidence,
                index - self.index_offset,
                &mut bound,
            )? {
                return Ok(Err(Failure::new(
                    f.step,
                    format!("entry #{index}: {}", f.reason),
                )));
            }
            self.read_entry(
                &mut scan,
                index,
                &r.uuid,
                &r.description,
                r.verdict.as_ref().ok().and_then(|v| v.integrated_time),
            );
        }
        Ok(Ok(scan))
    }
}

impl Scanner<'_> {
    /// [`Self::scan`] for a Rekor v2 log: the entries are read from its
    /// entry bundles, and each is proven included in the verified current
    /// checkpoint by an inclusion proof computed from its tiles (checked by
    /// sigstore-merkle). A Rekor v2 entry has no SET and no integrated time.
    fn scan_tiles(&self, mut scan: Scan) -> Result<std::result::Result<Scan, Failure>> {
        let rekor = self.rekor;
        let mut tree = rekor.tile_tree(self.current.tree_size);
        // One entry at a time (each bundle read once): memory stays flat in
        // the number of entries scanned (issue #19).
        for index in scan.from..scan.to {
            let body = tree.entry(index).map_err(|e| rekor.network(e))?;
            let leaf = sigstore_merkle::hash_leaf(&body);
            let proof = tree.inclusion(index).map_err(|e| rekor.network(e))?;
            if let Err(e) = sigstore_merkle::verify_inclusion_proof(
                &leaf,
                index,
                self.current.tree_size,
                &proof,
                &self.current.root_hash,
            ) {
                return Ok(Err(Failure::new(
                    Step::InclusionProof,
                    format!(
                        "entry #{index}: the log's tiles do not prove it in the checkpoint's tree: {e}"
                    ),
                )));
            }
            let description = entry::describe(&body);
            let uuid = leaf.to_hex();
            self.read_entry(&mut scan, index, &uuid, &description, None);
        }
        Ok(Ok(scan))
    }

    /// Record the watched identities among `description`'s certificates,
    /// or the entry as unreadable when part of it could not be read: a
    /// certificate skipped without a word could be one made in a watched
    /// name.
    fn read_entry(
        &self,
        scan: &mut Scan,
        index: u64,
        uuid: &str,
        description: &entry::Description,
        integrated_time: Option<jiff::Timestamp>,
    ) {
        let options = self.options;
        let mut unread: Vec<String> = description.unread.iter().cloned().collect();
        for cert in &description.certificates {
            // Read whatever its key algorithm: only a certificate whose DER
            // (or SAN) does not parse is unreadable.
            let summary = match CertificateSummary::read(cert) {
                Ok(summary) => summary,
                Err(e) => {
                    unread.push(format!("a certificate in it does not parse: {e}"));
                    continue;
                }
            };
            let reasons: Vec<String> = options
                .watch
                .iter()
                .filter_map(|w| w.matches(&summary))
                .collect();
            if !reasons.is_empty() {
                scan.matches.push(Match {
                    log_index: index,
                    uuid: uuid.to_string(),
                    kind: format!("{} {}", description.kind, description.version),
                    integrated_time,
                    digest: description.digest.clone(),
                    unexpected: options.policy.unexpected(&summary),
                    certificate: summary,
                    reasons,
                });
            }
        }
        if !unread.is_empty() {
            scan.unreadable.push(Unreadable {
                log_index: index,
                uuid: uuid.to_string(),
                reason: unread.join("; "),
            });
        }
    }
}

/// Tie an entry's inclusion proof to the verified current checkpoint. `Err`
/// is a network error; `Ok(Err(_))` an alarm.
fn bind_to_current(
    rekor: &Rekor,
    current: &checkpoint::VerifiedCheckpoint,
    evidence: &entry::Evidence,
    leaf: u64,
    bound: &mut std::collections::HashSet<(u64, [u8; 32])>,
) -> Result<std::result::Result<(), Failure>> {
    let Some(proof) = &evidence.proof else {
        return Ok(Err(Failure::new(
            Step::InclusionProof,
            "the log served it without an inclusion proof",
        )));
    };
    if proof.log_index != leaf {
        return Ok(Err(Failure::new(
            Step::InclusionProof,
            format!(
                "its proof is for leaf {} of the tree, not {leaf}",
                proof.log_index
            ),
        )));
    }
    let origin = sigstore_types::Checkpoint::from_text(&proof.checkpoint)
        .map(|c| c.origin().to_string())
        .unwrap_or_default();
    if origin != current.origin {
        return Ok(Err(Failure::new(
            Step::LogIdentity,
            format!("its checkpoint names {origin:?}, not {:?}", current.origin),
        )));
    }
    let mut root = [0u8; 32];
    root.copy_from_slice(proof.root_hash.as_bytes());
    if proof.tree_size == current.tree_size {
        if proof.root_hash != current.root_hash {
            return Ok(Err(Failure::new(
                Step::Fork,
                format!(
                    "its tree of size {} has another root than the checkpoint",
                    proof.tree_size
                ),
            )));
        }
        return Ok(Ok(()));
    }
    if !bound.insert((proof.tree_size, root)) {
        return Ok(Ok(()));
    }
    let (small, small_root, large, large_root) = if proof.tree_size < current.tree_size {
        (
            proof.tree_size,
            proof.root_hash,
            current.tree_size,
            current.root_hash,
        )
    } else {
        (
            current.tree_size,
            current.root_hash,
            proof.tree_size,
            proof.root_hash,
        )
    };
    let consistency = rekor.consistency_proof(small, large)?;
    if sigstore_merkle::verify_consistency_proof(
        small,
        large,
        &consistency.hashes,
        &small_root,
        &large_root,
    )
    .is_err()
    {
        bound.remove(&(proof.tree_size, root));
        return Ok(Err(Failure::new(
            Step::ConsistencyProof,
            format!(
                "its tree (size {}) is not consistent with the checkpoint (size {})",
                proof.tree_size, current.tree_size
            ),
        )));
    }
    Ok(Ok(()))
}
