//! `keyless trust`, and the trust options of the verifying commands.

use clap::{Args, Subcommand};
use keyless::error::Result;
use keyless::trust::TrustSource;
use std::path::PathBuf;

/// `keyless trust`.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Refresh the trusted root and signing config through TUF into the cache
    /// directory; `verify` then uses them instead of the embedded snapshot.
    #[command(
        after_help = "The cache directory is $KEYLESS_CACHE_DIR, else $XDG_CACHE_HOME/keyless, else ~/.cache/keyless.\n\
Production and staging material there is used by default; material from another repository is\n\
written to custom-<hash>/ and used with --trusted-root."
    )]
    Update(TrustUpdateArgs),
}

/// `keyless trust update`.
#[derive(Debug, Args)]
pub struct TrustUpdateArgs {
    /// Refresh Sigstore's staging instance instead of production.
    #[arg(long, conflicts_with_all = ["tuf_url", "tuf_root"])]
    pub staging: bool,
    /// Refresh from this TUF repository (needs --tuf-root).
    #[arg(long, value_name = "URL", requires = "tuf_root")]
    pub tuf_url: Option<String>,
    /// The TUF root.json to trust initially for --tuf-url.
    #[arg(long, value_name = "FILE", requires = "tuf_url")]
    pub tuf_root: Option<PathBuf>,
    /// Use only the local TUF cache: no network at all.
    #[arg(long)]
    pub offline: bool,
}

impl TrustUpdateArgs {
    /// The repository the arguments select.
    pub fn repository(&self) -> Result<keyless::trust::TufRepository> {
        use keyless::trust::TufRepository;
        match (&self.tuf_url, &self.tuf_root) {
            (Some(url), Some(root)) => TufRepository::custom(url, root),
            _ if self.staging => Ok(TufRepository::staging()),
            _ => Ok(TufRepository::production()),
        }
    }
}

/// Trust options shared by the verifying commands.
#[derive(Debug, Args, Clone, Default)]
pub struct TrustArgs {
    /// Trust the embedded Sigstore staging root instead of production.
    #[arg(long, group = "trust")]
    pub staging: bool,

    /// Trust this trusted_root.json instead of the embedded production root.
    #[arg(long, value_name = "FILE", group = "trust")]
    pub trusted_root: Option<PathBuf>,

    /// Trust the trusted root of this ClientTrustConfig JSON file.
    #[arg(long, value_name = "FILE", group = "trust")]
    pub trust_config: Option<PathBuf>,
}

impl TrustArgs {
    /// The trust material the arguments select.
    pub fn source(&self) -> TrustSource {
        if let Some(p) = &self.trusted_root {
            TrustSource::TrustedRootFile(p.clone())
        } else if let Some(p) = &self.trust_config {
            TrustSource::TrustConfigFile(p.clone())
        } else if self.staging {
            TrustSource::Staging
        } else {
            TrustSource::Production
        }
    }
}
