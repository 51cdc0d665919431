//! Watching a Rekor v1 log: is it append-only, and who signs in our name?
//!
//! Each run fetches the log's current checkpoint and verifies its
//! signature. The first run stores it in a state file. Later runs prove the
//! new checkpoint extends the stored one (a consistency proof), then store
//! it. A smaller tree (rollback), another root at the same size (fork), a
//! proof that does not verify, or a checkpoint that no trusted key signed
//! is an alarm: the evidence is reported and the state file is left exactly
//! as it was, so the next run compares against the same trusted point.
//!
//! With identities to watch, each run also reads the entries logged since
//! the last run (bounded by `max_entries` per run, resuming where it
//! stopped) and lists every certificate that claims one of them, so a
//! project learns of any signature made in its name.

use super::checkpoint::{self, ConsistencyProof, Growth, VerifiedCheckpoint};
use super::entry::{self, CertificateSummary, EntryReport};
use super::{Auditor, Failure, Rekor, Step};
use crate::error::{Error, FileKind, Result};
use sigstore_types::Sha256Hash;
use std::path::{Path, PathBuf};

/// An identity to watch for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// A certificate identity (SAN), exactly.
    Identity(String),
    /// A GitLab project (`group/[subgroup/]project`): certificates whose
    /// Source Repository URI (Fulcio OID .1.12) is
    /// `https://gitlab.com/<project>`, or whose SAN is a GitLab CI identity
    /// of a project of that path on any host (`https://<host>/<project>//...`).
    /// Both match ASCII case-insensitively, as GitLab paths do.
    GitLabProject(String),
}

impl Watch {
    /// Watch for an exact SAN.
    pub fn identity(value: &str) -> Result<Self> {
        if value.trim().is_empty() {
            return Err(Error::Usage("--identity needs a value".into()));
        }
        Ok(Watch::Identity(value.to_string()))
    }

    /// Watch for a GitLab project path.
    pub fn gitlab_project(path: &str) -> Result<Self> {
        let segments: Vec<&str> = path.split('/').collect();
        let ok = segments.len() >= 2
            && segments.iter().all(|s| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            });
        if !ok {
            return Err(Error::Usage(format!(
                "{path:?} is not a GitLab project path (group/[subgroup/]project)"
            )));
        }
        Ok(Watch::GitLabProject(path.to_string()))
    }

    /// How the watch is shown.
    pub fn describe(&self) -> String {
        match self {
            Watch::Identity(v) => format!("identity {v}"),
            Watch::GitLabProject(p) => format!("GitLab project {p}"),
        }
    }

    /// Why `cert` matches, if it does.
    pub fn matches(&self, cert: &CertificateSummary) -> Option<String> {
        match self {
            Watch::Identity(want) => (cert.identity.as_deref() == Some(want.as_str()))
                .then(|| format!("identity is {want}")),
            Watch::GitLabProject(project) => {
                let project = project.to_ascii_lowercase();
                if let Some(uri) = cert.extension(crate::cert::SOURCE_REPOSITORY_URI.oid)
                    && uri.to_ascii_lowercase() == format!("https://gitlab.com/{project}")
                {
                    return Some(format!("Source Repository URI is {uri}"));
                }
                let san = cert.identity.as_deref()?;
                let (host, path) = san.strip_prefix("https://")?.split_once('/')?;
                (!host.is_empty()
                    && path
                        .to_ascii_lowercase()
                        .starts_with(&format!("{project}//")))
                .then(|| format!("identity is a GitLab CI identity of {project} on {host}"))
            }
        }
    }
}

/// How to monitor.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// The state file (JSON).
    pub state: PathBuf,
    /// Identities to scan new entries for (none: no scan).
    pub watch: Vec<Watch>,
    /// At most this many entries are scanned per run.
    pub max_entries: u64,
}

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
pub fn lock_state(state: &Path) -> Result<StateLock> {
    let mut name = state.as_os_str().to_os_string();
    name.push(".lock");
    let path = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| crate::error::Error::Read {
            path: path.clone(),
            source,
        })?;
    file.try_lock().map_err(|_| {
        crate::error::Error::Usage(format!(
            "another keyless rekor monitor is using {} (lock {})",
            state.display(),
            path.display()
        ))
    })?;
    Ok(StateLock(file))
}

impl State {
    /// Read a state file; `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        const WHAT: FileKind = FileKind::MonitorState;
        if !path.exists() {
            return Ok(None);
        }
        let text = crate::files::read_text_limited(path, MAX_STATE_BYTES, WHAT)?;
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
    pub fn checkpoint(&self) -> std::result::Result<VerifiedCheckpoint, String> {
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

    fn new(
        rekor_url: &str,
        cp: &VerifiedCheckpoint,
        index_offset: u64,
        next_index: u64,
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
            checkpoint: cp.text.clone(),
            updated: now,
        }
    }

    fn save(&self, path: &Path) -> Result<()> {
        let mut json = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Usage(format!("cannot encode the monitor state: {e}")))?;
        json.push('\n');
        crate::files::write_atomic(path, json.as_bytes()).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

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
    /// The state to store once the report has been delivered; `None` after
    /// an alarm (the state is left as it was).
    pending: Option<State>,
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
}

/// One monitor run (see the module documentation). `Err` when no verdict
/// could be reached (network, I/O, a malformed answer or state file): the
/// state file is then left unchanged too.
pub fn run(auditor: &Auditor, rekor: &Rekor, options: &MonitorOptions) -> Result<MonitorReport> {
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
    let current = match checkpoint::verify_log_info(&info, auditor.logs(), now, pinned.as_ref())
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

    let (Some(state), Some(stored)) = (state, stored) else {
        // First run: trust on first use, recorded so later runs can hold
        // the log to it. Entries already logged are not scanned.
        report.outcome = Outcome::Initialized;
        if !options.watch.is_empty() {
            report.scan = Some(Scan {
                from: end,
                to: end,
                end,
                matches: Vec::new(),
            });
        }
        report.pending = Some(State::new(
            rekor.url(),
            &current,
            info.index_offset,
            end,
            now,
        ));
        return Ok(report);
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

    // (3) The identity scan, from where the last run stopped.
    let mut next_index = end;
    if !options.watch.is_empty() {
        let from = state.next_index.min(end);
        let to = end.min(from.saturating_add(options.max_entries));
        let mut scan = Scan {
            from,
            to,
            end,
            matches: Vec::new(),
        };
        let entries = rekor.entries_by_index(from..to)?;
        // Trees (size, root) already shown consistent with `current`.
        let mut bound = std::collections::HashSet::new();
        for (index, raw) in (from..to).zip(&entries) {
            let evidence =
                entry::Evidence::from_log_entry(raw).map_err(|reason| rekor.network(reason))?;
            // A minute of tolerance: the newest entries' integrated times
            // must not raise an alarm on a runner whose clock is a little slow.
            let r = EntryReport::new(
                &evidence,
                auditor.logs(),
                now + jiff::SignedDuration::from_secs(60),
                true,
            );
            // Every entry is proven: a log that serves an entry it cannot
            // prove, or another entry than the one asked for, could hide
            // one in this range.
            if evidence.log_index != index {
                return alarm(
                    report,
                    Failure::new(
                        Step::LogEntry,
                        format!(
                            "asked for entry #{index}, the log answered with entry #{}",
                            evidence.log_index
                        ),
                    ),
                );
            }
            if let Err(f) = &r.verdict {
                return alarm(
                    report,
                    Failure::new(f.step, format!("entry #{index}: {}", f.reason)),
                );
            }
            // The entry must be in the tree this run verified, not merely in
            // some tree the log key signed: at the right leaf, under the same
            // origin, with its proof's root consistent with `current`.
            if let Err(f) = bind_to_current(
                rekor,
                &current,
                &evidence,
                index - info.index_offset,
                &mut bound,
            )? {
                return alarm(
                    report,
                    Failure::new(f.step, format!("entry #{index}: {}", f.reason)),
                );
            }
            for cert in &r.description.certificates {
                let Some(summary) = CertificateSummary::of(cert) else {
                    continue;
                };
                let reasons: Vec<String> = options
                    .watch
                    .iter()
                    .filter_map(|w| w.matches(&summary))
                    .collect();
                if !reasons.is_empty() {
                    scan.matches.push(Match {
                        log_index: index,
                        uuid: r.uuid.clone(),
                        kind: format!("{} {}", r.description.kind, r.description.version),
                        integrated_time: r.verdict.as_ref().ok().and_then(|v| v.integrated_time),
                        digest: r.description.digest.clone(),
                        certificate: summary,
                        reasons,
                    });
                }
            }
        }
        next_index = to;
        report.scan = Some(scan);
    }

    // (4) Only a run that reached a clean verdict moves the state forward.
    report.pending = Some(State::new(
        rekor.url(),
        &current,
        info.index_offset,
        next_index,
        now,
    ));
    Ok(report)
}

/// Tie an entry's inclusion proof to the verified current checkpoint. `Err`
/// is a network error; `Ok(Err(_))` an alarm.
fn bind_to_current(
    rekor: &super::Rekor,
    current: &checkpoint::VerifiedCheckpoint,
    evidence: &entry::Evidence,
    leaf: u64,
    bound: &mut std::collections::HashSet<(u64, [u8; 32])>,
) -> crate::error::Result<std::result::Result<(), Failure>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(identity: &str, repo: Option<&str>) -> CertificateSummary {
        CertificateSummary {
            identity: Some(identity.into()),
            issuer: Some("https://gitlab.com".into()),
            not_before: jiff::Timestamp::UNIX_EPOCH,
            not_after: jiff::Timestamp::UNIX_EPOCH,
            extensions: repo
                .map(|r| crate::cert::ExtensionValue {
                    oid: crate::cert::SOURCE_REPOSITORY_URI.oid,
                    name: "Source Repository URI",
                    value: r.into(),
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn gitlab_projects_match_by_repository_or_ci_identity() {
        let w = Watch::gitlab_project("group/app").unwrap();
        let ours = "https://gitlab.com/group/app//.gitlab-ci.yml@refs/heads/main";
        assert!(
            w.matches(&cert(ours, Some("https://gitlab.com/group/app")))
                .is_some()
        );
        // A self-managed instance: the SAN carries the real host.
        let elsewhere = "https://gitlab.example.com/Group/App//ci.yml@refs/tags/v1";
        assert!(w.matches(&cert(elsewhere, None)).is_some());
        // .12 alone (what Fulcio writes for self-managed GitLab too).
        assert!(
            w.matches(&cert("x@example.com", Some("https://gitlab.com/group/app")))
                .is_some()
        );
        // Prefixes and other projects do not match.
        for other in [
            "https://gitlab.com/group/app-fork//.gitlab-ci.yml@refs/heads/main",
            "https://gitlab.com/group/application//.gitlab-ci.yml@refs/heads/main",
            "https://gitlab.com/other/group/app//.gitlab-ci.yml@refs/heads/main",
            "https:///group/app//x",
        ] {
            assert!(
                w.matches(&cert(other, Some("https://gitlab.com/group/app-fork")))
                    .is_none(),
                "{other}"
            );
        }
    }

    #[test]
    fn project_paths_and_identities_are_validated() {
        for bad in [
            "",
            "app",
            "/group/app",
            "group//app",
            "group/app/",
            "group/a p",
        ] {
            assert!(Watch::gitlab_project(bad).is_err(), "{bad:?}");
        }
        assert!(Watch::gitlab_project("group/sub/app").is_ok());
        assert!(Watch::identity(" ").is_err());
        let w = Watch::identity("dev@example.com").unwrap();
        assert!(w.matches(&cert("dev@example.com", None)).is_some());
        assert!(w.matches(&cert("Dev@example.com", None)).is_none());
    }
}
