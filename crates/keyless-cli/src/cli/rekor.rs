//! `keyless rekor`: auditing a transparency log.

use super::TrustArgs;
use clap::{Args, Subcommand};
use keyless::error::{Error, Result};
use std::path::PathBuf;

/// `keyless rekor`.
#[derive(Debug, Subcommand)]
pub enum RekorCommand {
    /// Fetch one entry and prove it: SET, inclusion proof, signed checkpoint.
    #[command(
        after_help = "Prints the entry's kind, digest, integrated time and signing certificate \
(identity, issuer, Fulcio extensions).\n\
Exit status: 0 proven, 1 the entry does not verify, 2 usage, I/O or network error.\n\n\
Example:\n  keyless rekor get --log-index 123456789 --bundle-out pkg.tar.gz.sigstore.json"
    )]
    Get(RekorGetArgs),
    /// Find entries by artifact digest, artifact file or public key.
    #[command(
        after_help = "Each entry the index lists is fetched (up to --limit) and proven, and must \
contain what was searched for.\n\
Exit status: 0 every entry verified, 1 some entry did not, 2 usage, I/O or network error."
    )]
    Search(RekorSearchArgs),
    /// Show the log's tree size, root hash and checkpoint, verified.
    #[command(
        after_help = "Exit status: 0 the checkpoint verified, 1 it did not (or contradicts the answer), \
2 usage or network error."
    )]
    LogInfo(RekorLogInfoArgs),
    /// Check the log stays append-only, and watch for signatures in your name.
    #[command(
        long_about = "Check that the log stays append-only, and watch for signatures in your name.\n\n\
The first run verifies the log's checkpoint and stores it in the --state file. Each later run \
verifies the new checkpoint's signature and a consistency proof from the stored one, then stores \
the new one. A smaller tree, another root for the same tree size, a consistency proof that does \
not verify or a checkpoint no trusted key signed is an alarm: the evidence is printed, the exit \
status is 1 and the state file is left exactly as it was.\n\n\
With --identity or --gitlab-project, the entries logged since the previous run are read (at most \
--max-entries per run; the next run continues) and every certificate claiming a watched identity \
is listed. --fail-on-match makes any match fail the run; --expect-ref fails it for a match signed \
from a ref that fits none of the globs. The state still moves past the entries reported, so the \
same match fails one run, not every later one. The first run watches from the log's end, or scans \
from --since.",
        after_help = "Exit status: 0 consistent (and no match the policy fails), 1 alarm or a match \
--fail-on-match / --expect-ref does not allow, 2 usage, I/O or network error (no verdict; the state \
file is unchanged).\n\n\
Example (a scheduled pipeline):\n  keyless rekor monitor --state rekor-state.json --gitlab-project group/project --expect-ref 'refs/tags/*'"
    )]
    Monitor(RekorMonitorArgs),
    /// Prove an entry held in a file, offline.
    #[command(
        long_about = "Prove a transparency log entry held in a file, offline.\n\n\
FILE is a Rekor v1 log entry as the API returns it ({\"<uuid>\": {\"body\": ...}}), or a bundle's \
transparency log entry (Rekor v1 with its SET and inclusion proof, or Rekor v2 hashedrekord 0.0.2 \
with its signed checkpoint). The inclusion proof, the checkpoint's signature by the entry's log \
and the SET (when present) are checked against the trust root.",
        after_help = "Exit status: 0 proven, 1 the entry does not verify, 2 usage, I/O or parse error."
    )]
    VerifyEntry(RekorVerifyEntryArgs),
}

/// Which log to ask, and how long to wait.
#[derive(Debug, Args)]
pub struct RekorLogArgs {
    /// The Rekor log to ask. Default: the trust root's first
    /// transparency log.
    #[arg(long, value_name = "URL", env = super::env::REKOR_URL, hide_env_values = true)]
    pub rekor_url: Option<String>,

    /// The log's API: 1 (Rekor v1) or 2 (Rekor v2, read through its C2SP
    /// tlog-tiles checkpoint and tiles: `log-info`, `monitor`, and `get
    /// --log-index` without `--bundle-out`).
    #[arg(
        long,
        value_name = "1|2",
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..=2),
        env = super::env::REKOR_VERSION,
        hide_env_values = true
    )]
    pub rekor_version: u32,

    /// Accept plain http:// to another machine in --rekor-url (queries and
    /// answers then cross the network in clear). Without it, http is
    /// accepted only for localhost, 127.0.0.1 and ::1.
    #[arg(long)]
    pub allow_insecure_http: bool,

    /// Seconds allowed for each interaction with the log, retries included.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600), env = super::env::TIMEOUT, hide_env_values = true)]
    pub timeout: u64,

    /// The trust root.
    #[command(flatten)]
    pub trust: TrustArgs,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `keyless rekor get`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("entry").required(true).args(["log_index", "uuid"]))]
pub struct RekorGetArgs {
    /// The entry's log index.
    #[arg(long, value_name = "N")]
    pub log_index: Option<u64>,

    /// The entry's UUID (64 hex digits, or 80 with the tree ID).
    #[arg(long, value_name = "UUID")]
    pub uuid: Option<String>,

    /// Also write a v0.3 bundle for the entry here (hashedrekord entries
    /// signed with a certificate); `keyless verify` accepts it.
    #[arg(long, value_name = "PATH")]
    pub bundle_out: Option<PathBuf>,

    /// Replace an existing --bundle-out file.
    #[arg(long, requires = "bundle_out")]
    pub overwrite: bool,

    /// The log and trust root.
    #[command(flatten)]
    pub log: RekorLogArgs,
}

impl RekorGetArgs {
    /// The entry the arguments name.
    pub fn entry(&self) -> keyless::rekor::EntryRef {
        match (&self.uuid, self.log_index) {
            (Some(u), _) => keyless::rekor::EntryRef::Uuid(u.clone()),
            (None, Some(i)) => keyless::rekor::EntryRef::Index(i),
            // clap requires one of them.
            (None, None) => keyless::rekor::EntryRef::Index(0),
        }
    }
}

/// `keyless rekor search`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("query").required(true).args(["sha256", "artifact", "public_key"]))]
pub struct RekorSearchArgs {
    /// The artifact's SHA-256 digest (64 hex digits).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,

    /// The artifact itself (hashed as a stream).
    #[arg(long, value_name = "FILE")]
    pub artifact: Option<PathBuf>,

    /// A PEM public key or certificate: entries signed with that key.
    #[arg(long, value_name = "PEM")]
    pub public_key: Option<PathBuf>,

    /// Fetch and prove at most this many entries.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,

    /// Also write a JUnit XML report to this file: one test case per entry
    /// fetched, the failed check and reason in its failure.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// The log and trust root.
    #[command(flatten)]
    pub log: RekorLogArgs,
}

impl RekorSearchArgs {
    /// The query the arguments describe.
    pub fn query(&self) -> Result<keyless::rekor::SearchQuery> {
        use keyless::rekor::SearchQuery;
        match (&self.sha256, &self.artifact, &self.public_key) {
            (Some(hex), _, _) => SearchQuery::sha256_hex(hex),
            (_, Some(file), _) => SearchQuery::artifact(file),
            (_, _, Some(pem)) => SearchQuery::public_key(pem),
            _ => Err(Error::Usage(
                "one of --sha256, --artifact or --public-key is required".into(),
            )),
        }
    }
}

/// `keyless rekor log-info`.
#[derive(Debug, Args)]
pub struct RekorLogInfoArgs {
    /// The log and trust root.
    #[command(flatten)]
    pub log: RekorLogArgs,
}

/// `keyless rekor monitor`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("watch").multiple(true).args(["identity", "gitlab_project"]))]
pub struct RekorMonitorArgs {
    /// The state file: the last verified checkpoint and where the identity
    /// scan stopped (created on the first run, written atomically).
    #[arg(long, value_name = "FILE")]
    pub state: PathBuf,

    /// Watch for certificates with exactly this identity (SAN). Repeatable.
    #[arg(long, value_name = "VALUE")]
    pub identity: Vec<String>,

    /// Watch for certificates of this GitLab project (group/[subgroup/]project):
    /// Source Repository URI https://gitlab.com/<project>, or a GitLab CI
    /// identity https://<host>/<project>//... Repeatable.
    #[arg(long, value_name = "GROUP/PROJECT")]
    pub gitlab_project: Vec<String>,

    /// Scan at most this many new entries per run; the next run continues.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_entries: u64,

    /// Fail the run (exit 1) if the scan finds any certificate claiming a
    /// watched identity.
    #[arg(long, requires = "watch", conflicts_with = "expect_ref")]
    pub fail_on_match: bool,

    /// Fail the run (exit 1) for a match whose certificate's Source
    /// Repository Ref (Fulcio OID .1.14) fits none of these globs, e.g.
    /// 'refs/tags/*' ('*' any characters, '?' one; the whole ref must fit).
    /// Repeatable; matches that fit are listed, as without it.
    #[arg(long, value_name = "GLOB", requires = "watch")]
    pub expect_ref: Vec<String>,

    /// First run: also scan the entries already logged from this log index
    /// on (at most --max-entries per run; later runs continue), instead of
    /// watching from the log's end. Refused once the state file's scan
    /// began after INDEX; no effect otherwise, so it can stay in a
    /// scheduled job.
    #[arg(long, value_name = "INDEX", requires = "watch")]
    pub since: Option<u64>,

    /// The log and trust root.
    #[command(flatten)]
    pub log: RekorLogArgs,
}

impl RekorMonitorArgs {
    /// The monitor options the arguments describe.
    pub fn options(&self) -> Result<keyless::rekor::monitor::MonitorOptions> {
        use keyless::rekor::monitor::{MatchPolicy, MonitorOptions, RefGlob, Watch};
        let mut watch = Vec::new();
        for v in &self.identity {
            watch.push(Watch::identity(v)?);
        }
        for p in &self.gitlab_project {
            watch.push(Watch::gitlab_project(p)?);
        }
        let policy = if self.fail_on_match {
            MatchPolicy::FailOnMatch
        } else if !self.expect_ref.is_empty() {
            let globs = self.expect_ref.iter().map(|g| RefGlob::new(g));
            MatchPolicy::ExpectRef(globs.collect::<Result<_>>()?)
        } else {
            MatchPolicy::Report
        };
        Ok(MonitorOptions {
            state: self.state.clone(),
            watch,
            max_entries: self.max_entries,
            policy,
            since: self.since,
        })
    }
}

/// `keyless rekor verify-entry`.
#[derive(Debug, Args)]
pub struct RekorVerifyEntryArgs {
    /// The entry: a Rekor v1 log entry or a bundle transparency log entry (JSON).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// The trust root.
    #[command(flatten)]
    pub trust: TrustArgs,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
