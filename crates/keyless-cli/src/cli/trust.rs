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

/// Trust options shared by the verifying and auditing commands: what the
/// command line says, else `KEYLESS_TRUSTED_ROOT` or `KEYLESS_TRUST_CONFIG`
/// (see [`super::env`] for why these are read after clap).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustArgs {
    /// Trust the embedded Sigstore staging root.
    pub staging: bool,
    /// Trust this trusted_root.json.
    pub trusted_root: Option<PathBuf>,
    /// Trust the trusted root of this ClientTrustConfig.
    pub trust_config: Option<PathBuf>,
}

/// The trust flags as clap parses them: exclusive on the command line.
#[derive(Debug, Args)]
struct TrustFlags {
    /// Trust the embedded Sigstore staging root instead of production.
    #[arg(long, group = "trust")]
    staging: bool,

    /// Trust this trusted_root.json instead of the embedded production root
    /// [env: KEYLESS_TRUSTED_ROOT]
    #[arg(long, value_name = "FILE", group = "trust")]
    trusted_root: Option<PathBuf>,

    /// Trust the trusted root of this ClientTrustConfig JSON file [env:
    /// KEYLESS_TRUST_CONFIG]
    #[arg(long, value_name = "FILE", group = "trust")]
    trust_config: Option<PathBuf>,
}

impl clap::Args for TrustArgs {
    fn group_id() -> Option<clap::Id> {
        TrustFlags::group_id()
    }
    fn augment_args(cmd: clap::Command) -> clap::Command {
        TrustFlags::augment_args(cmd)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        TrustFlags::augment_args_for_update(cmd)
    }
}

impl clap::FromArgMatches for TrustArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> std::result::Result<Self, clap::Error> {
        let flags = TrustFlags::from_arg_matches(matches)?;
        Self::resolve(flags, &super::env::process)
    }
    fn update_from_arg_matches(
        &mut self,
        matches: &clap::ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl TrustArgs {
    /// The flags given, else the environment's choice. A trust flag on the
    /// command line wins over every variable (so `--staging` with
    /// `KEYLESS_TRUST_CONFIG` set trusts staging); both variables set, with
    /// no flag to choose, is ambiguous and refused.
    fn resolve(
        flags: TrustFlags,
        env: super::env::Env<'_>,
    ) -> std::result::Result<Self, clap::Error> {
        use super::env::{TRUST_CONFIG, TRUSTED_ROOT, value};
        let given = TrustArgs {
            staging: flags.staging,
            trusted_root: flags.trusted_root,
            trust_config: flags.trust_config,
        };
        if given != TrustArgs::default() {
            return Ok(given);
        }
        let file = |name: &str| match value(env, name) {
            Some(v) if v.is_empty() => Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidValue,
                format!("{name} is set but empty; name a file, or unset it\n"),
            )),
            v => Ok(v.map(PathBuf::from)),
        };
        match (file(TRUSTED_ROOT)?, file(TRUST_CONFIG)?) {
            (Some(_), Some(_)) => Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "{TRUSTED_ROOT} and {TRUST_CONFIG} are both set; unset one, or choose with --trusted-root, --trust-config or --staging\n"
                ),
            )),
            (trusted_root, trust_config) => Ok(TrustArgs {
                staging: false,
                trusted_root,
                trust_config,
            }),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn flags(staging: bool, root: Option<&str>, config: Option<&str>) -> TrustFlags {
        TrustFlags {
            staging,
            trusted_root: root.map(PathBuf::from),
            trust_config: config.map(PathBuf::from),
        }
    }

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.into())
    }

    #[test]
    fn flags_win_over_the_environment() {
        let both = env(&[
            ("KEYLESS_TRUSTED_ROOT", "env-root.json"),
            ("KEYLESS_TRUST_CONFIG", "env-config.json"),
        ]);
        let staging = TrustArgs::resolve(flags(true, None, None), &both).unwrap();
        assert_eq!(staging.source(), TrustSource::Staging);
        let root = TrustArgs::resolve(flags(false, Some("root.json"), None), &both).unwrap();
        assert_eq!(
            root.source(),
            TrustSource::TrustedRootFile("root.json".into())
        );
    }

    #[test]
    fn the_environment_chooses_when_no_flag_does() {
        let config = env(&[("KEYLESS_TRUST_CONFIG", "c.json")]);
        let args = TrustArgs::resolve(flags(false, None, None), &config).unwrap();
        assert_eq!(args.source(), TrustSource::TrustConfigFile("c.json".into()));
        // Empty is a value, refused as such (a flag still wins over it).
        let empty = env(&[("KEYLESS_TRUST_CONFIG", "")]);
        let err = TrustArgs::resolve(flags(false, None, None), &empty).unwrap_err();
        assert!(
            err.to_string()
                .contains("KEYLESS_TRUST_CONFIG is set but empty"),
            "{err}"
        );
        assert!(TrustArgs::resolve(flags(true, None, None), &empty).is_ok());
        let root = env(&[("KEYLESS_TRUSTED_ROOT", "r.json")]);
        let args = TrustArgs::resolve(flags(false, None, None), &root).unwrap();
        assert_eq!(args.source(), TrustSource::TrustedRootFile("r.json".into()));
        let none = env(&[]);
        let args = TrustArgs::resolve(flags(false, None, None), &none).unwrap();
        assert_eq!(args.source(), TrustSource::Production);

        let both = env(&[
            ("KEYLESS_TRUSTED_ROOT", "r.json"),
            ("KEYLESS_TRUST_CONFIG", "c.json"),
        ]);
        let err = TrustArgs::resolve(flags(false, None, None), &both).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert!(err.to_string().contains("are both set"), "{err}");
    }
}
