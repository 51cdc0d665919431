//! `keyless verify pypi`: PEP 740 provenance from a package index.

use super::TrustArgs;
use clap::Args;
use keyless::error::{Error, Result};
use keyless::index::Publisher;
use std::path::PathBuf;

/// `keyless verify pypi`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").args(["releases", "requirement", "lock"]).multiple(true).required(true))]
pub struct VerifyPypiArgs {
    /// Releases to verify, NAME==VERSION: every file the index lists for
    /// each (or only the --file ones).
    #[arg(value_name = "NAME==VERSION")]
    pub releases: Vec<String>,

    /// With NAME==VERSION: verify only this file of the release(s)
    /// (repeatable).
    #[arg(long, value_name = "FILENAME", requires = "releases")]
    pub file: Vec<String>,

    /// A pip requirements file: NAME==VERSION lines with --hash=sha256:
    /// pins; the pinned files are verified, and each pin must name a file
    /// of that release on the index (repeatable).
    #[arg(short = 'r', long, value_name = "FILE")]
    pub requirement: Vec<PathBuf>,

    /// A PEP 751 lock file (pylock.toml): each package's files by their
    /// recorded hashes, published by one of its attestation-identities.
    #[arg(long, value_name = "pylock.toml")]
    pub lock: Vec<PathBuf>,

    /// The PEP 691 simple index [default: https://pypi.org/simple/]
    /// (PIP_INDEX_URL is not read: it often carries credentials).
    #[arg(long, value_name = "URL", env = super::env::INDEX_URL, hide_env_values = true)]
    pub index_url: Option<String>,

    /// Accept plain http:// to another machine in --index-url.
    #[arg(long)]
    pub allow_insecure_http: bool,

    /// The whole run's time limit, fetches and retries included, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Requests to the index at once.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// Every file must have been published by this GitLab project's
    /// pipeline (GROUP/[SUBGROUP/]PROJECT).
    #[arg(long, value_name = "GROUP/PROJECT", conflicts_with = "github")]
    pub gitlab: Option<String>,

    /// With --gitlab: the CI configuration file that must have run
    /// (default: any of the project's).
    #[arg(long, value_name = "PATH", requires = "gitlab")]
    pub config_path: Option<String>,

    /// With --gitlab: a self-managed instance [default: https://gitlab.com].
    #[arg(long, value_name = "URL", requires = "gitlab")]
    pub instance: Option<String>,

    /// Every file must have been published by this GitHub repository's
    /// workflow (OWNER/REPO).
    #[arg(long, value_name = "OWNER/REPO")]
    pub github: Option<String>,

    /// With --github: the workflow file name (release.yml).
    #[arg(long, value_name = "FILE", requires = "github")]
    pub workflow: Option<String>,

    /// With --gitlab or --github: the deployment environment the
    /// publishing job ran in.
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,

    /// A TOML file naming each package's publishers, for requirements
    /// files: [[packages]] with name and attestation-identities, as
    /// pylock.toml writes them.
    #[arg(long, value_name = "FILE")]
    pub publishers: Option<PathBuf>,

    /// Accept files of these packages that have no provenance on the
    /// index (reported, not verified; repeatable).
    #[arg(long, value_name = "NAME")]
    pub allow_missing: Vec<String>,

    /// Print each verified file's publisher, read from its certificate,
    /// as attestation-identities entries (to record in a lock or
    /// --publishers file: trust on first use). Without an expected
    /// publisher, any publisher is accepted and shown.
    #[arg(long)]
    pub print_identities: bool,

    /// Print a JSON report.
    #[arg(long)]
    pub json: bool,

    /// Print only what failed.
    #[arg(short, long)]
    pub quiet: bool,

    /// What to trust.
    #[command(flatten)]
    pub trust: TrustArgs,
}

impl VerifyPypiArgs {
    /// The publisher the command line expects of every file, if any.
    pub fn publisher(&self) -> Result<Option<Publisher>> {
        let non_empty = |flag: &str, v: &str| {
            let v = v.trim_matches('/');
            if v.split('/').count() < 2 || v.split('/').any(str::is_empty) {
                return Err(Error::Usage(format!("{flag} {v:?}: give OWNER/PROJECT")));
            }
            Ok(v.to_string())
        };
        if let Some(project) = &self.gitlab {
            let instance = match &self.instance {
                Some(i) => {
                    let url = keyless::check_url("--instance", i, false)?;
                    (url != keyless::index::publisher::GITLAB_ISSUER).then_some(url)
                }
                None => None,
            };
            return Ok(Some(Publisher::GitLab {
                repository: non_empty("--gitlab", project)?,
                workflow_filepath: self.config_path.clone(),
                environment: self.environment.clone(),
                instance,
            }));
        }
        if let Some(repo) = &self.github {
            return Ok(Some(Publisher::GitHub {
                repository: non_empty("--github", repo)?,
                workflow: self.workflow.clone(),
                environment: self.environment.clone(),
            }));
        }
        if self.environment.is_some() {
            return Err(Error::Usage(
                "--environment needs --gitlab or --github".into(),
            ));
        }
        Ok(None)
    }
}
