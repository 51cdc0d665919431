//! `keyless sign` and `keyless attest`, and the options they share.

use clap::Args;
use keyless::error::{Error, Result};
use std::path::PathBuf;

/// A command-line value that must not appear in debug output (a token).
#[derive(Clone)]
pub struct SecretArg(pub String);

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Self(s.to_string()))
    }
}

/// Options shared by `keyless sign` and `keyless attest`.
///
/// Variables a pipeline sets once (`KEYLESS_*`) stand in for absent flags;
/// a flag on the command line wins over its variable.
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// Files, or directories whose *.whl and *.tar.gz files are signed
    /// (sorted, not recursive). Default: dist/.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The identity token: @FILE to read it from a file, - for standard
    /// input, or the JWT itself (visible to other local users in the process
    /// list: prefer the others). Default: $SIGSTORE_ID_TOKEN, then GitHub
    /// Actions' ambient token, then (on a terminal) an interactive login.
    #[arg(long, value_name = "TOKEN")]
    pub identity_token: Option<SecretArg>,

    /// Do not use GitHub Actions' ambient OIDC token.
    #[arg(long)]
    pub oidc_disable_ambient_providers: bool,

    /// For the interactive login, print a URL and read the code back instead
    /// of opening a browser with a loopback redirect.
    #[arg(long, conflicts_with = "oauth_device")]
    pub oauth_force_oob: bool,

    /// Log in with the OAuth 2.0 device flow (RFC 8628): print a URL and a
    /// code to enter on any device, and wait. Works without a terminal.
    #[arg(long)]
    pub oauth_device: bool,

    /// The OIDC provider to log in with (interactive or device login),
    /// instead of the signing config's; as cosign's --oidc-issuer. Whatever
    /// its source, the identity token must then come from this issuer:
    /// a token from another is refused (exit 2) before any network call.
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,

    /// Sign with Sigstore's staging instance instead of production.
    #[arg(long, group = "which_instance")]
    pub staging: bool,

    /// Sign with the instance whose TUF repository is at URL, from the
    /// trust material `keyless trust update --tuf-url URL --tuf-root
    /// root.json` cached for it (as sigstore-python's --instance after
    /// trust-instance).
    #[arg(long, value_name = "URL", group = "which_instance")]
    pub instance: Option<String>,

    /// A ClientTrustConfig (trusted root and signing config): self-hosted
    /// Sigstore, or keyless-testbed. Cannot be combined with the other
    /// instance flags, which win over $KEYLESS_TRUST_CONFIG.
    #[arg(
        long,
        value_name = "FILE",
        env = "KEYLESS_TRUST_CONFIG",
        hide_env_values = true
    )]
    pub trust_config: Option<PathBuf>,

    /// Where --trust-config came from: a flag contradicting another instance
    /// flag is an error, $KEYLESS_TRUST_CONFIG gives way to it.
    #[arg(skip)]
    pub trust_config_source: Option<clap::parser::ValueSource>,

    /// A signing config (v0.2) naming the services; needs --trusted-root.
    #[arg(
        long,
        value_name = "FILE",
        group = "which_instance",
        requires = "trusted_root"
    )]
    pub signing_config: Option<PathBuf>,

    /// The trusted root to verify against: with --signing-config, or with
    /// --fulcio-url and --rekor-url naming the services.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["staging", "instance"])]
    pub trusted_root: Option<PathBuf>,

    /// Request the certificate from this Fulcio (base URL) instead of the
    /// one the signing config selects; as cosign's --fulcio-url. It must
    /// still verify against the instance's trust root.
    #[arg(
        long,
        value_name = "URL",
        env = "KEYLESS_FULCIO_URL",
        hide_env_values = true
    )]
    pub fulcio_url: Option<String>,

    /// Log in this Rekor (base URL) instead of the one the signing config
    /// selects; as cosign's --rekor-url. It speaks --rekor-version, else v1.
    /// Its entries must still verify against the instance's trust root.
    #[arg(
        long,
        value_name = "URL",
        env = "KEYLESS_REKOR_URL",
        hide_env_values = true
    )]
    pub rekor_url: Option<String>,

    /// Timestamp with this RFC 3161 TSA (the full URL, e.g.
    /// https://timestamp.example/api/v1/timestamp) instead of the signing
    /// config's; as cosign's --timestamp-server-url. Its timestamps must
    /// verify against the instance's trust root.
    #[arg(
        long,
        value_name = "URL",
        env = "KEYLESS_TIMESTAMP_SERVER_URL",
        hide_env_values = true
    )]
    pub timestamp_server_url: Option<String>,

    /// Use Rekor v1 or v2 whatever the signing config prefers (the API of
    /// --rekor-url).
    #[arg(
        long,
        value_name = "1|2",
        value_parser = clap::value_parser!(u32).range(1..=2),
        env = super::env::REKOR_VERSION,
        hide_env_values = true
    )]
    pub rekor_version: Option<u32>,

    /// Accept plain http:// to another machine in service URLs (a token,
    /// signatures and queries then cross the network in clear). Without
    /// it, http is accepted only for localhost, 127.0.0.1 and ::1.
    #[arg(long)]
    pub allow_insecure_http: bool,

    /// Replace existing outputs.
    #[arg(long)]
    pub overwrite: bool,

    /// Concurrent uploads.
    // Uploads wait on the network, not the cores: 32 in flight take 100
    // files in 4 round trips (16: 7). sigstore-python 4.5.1 signs files on
    // a thread pool of min(32, cores + 4); 32 is its most.
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// Seconds allowed for each service interaction, retries included.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 120,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        env = "KEYLESS_TIMEOUT",
        hide_env_values = true
    )]
    pub timeout: u64,

    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,

    /// Also show, on stderr, the services chosen, each retry as it happens
    /// (service, reason, delay), and the time each phase took.
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print only errors: no progress on stderr, and on stdout only the
    /// FAIL lines (--json still prints its summary).
    #[arg(short, long)]
    pub quiet: bool,
}

impl SigningArgs {
    /// Record where values came from, where it matters (after parsing
    /// `matches`, this command's): see [`SigningArgs::trust_config_source`].
    pub fn note_sources(&mut self, matches: &clap::ArgMatches) {
        self.trust_config_source = matches.value_source("trust_config");
    }

    /// The instance flags given besides --trust-config.
    fn other_instance_flag(&self) -> Option<&'static str> {
        [
            ("--staging", self.staging),
            ("--instance", self.instance.is_some()),
            ("--signing-config", self.signing_config.is_some()),
            ("--trusted-root", self.trusted_root.is_some()),
        ]
        .into_iter()
        .find_map(|(flag, set)| set.then_some(flag))
    }

    /// The trust material (with signing config) the arguments select.
    pub fn trust(&self) -> Result<keyless::trust::TrustMaterial> {
        use clap::parser::ValueSource;
        use keyless::trust::{TrustMaterial, TrustSource};
        let mut trust_config = self.trust_config.as_ref();
        if let (Some(_), Some(other)) = (trust_config, self.other_instance_flag()) {
            if self.trust_config_source == Some(ValueSource::EnvVariable) {
                // A flag wins over the pipeline's variable.
                trust_config = None;
            } else {
                return Err(Error::Usage(format!(
                    "--trust-config cannot be used with {other}: each names the instance"
                )));
            }
        }
        if let Some(url) = &self.instance {
            return instance_trust(url);
        }
        if let Some(root) = &self.trusted_root {
            let material = TrustMaterial::load(&TrustSource::TrustedRootFile(root.clone()))?;
            return match &self.signing_config {
                Some(config) => material.with_signing_config_file(config),
                None => Ok(material),
            };
        }
        let source = if let Some(p) = trust_config {
            TrustSource::TrustConfigFile(p.clone())
        } else if self.staging {
            TrustSource::Staging
        } else {
            TrustSource::Production
        };
        TrustMaterial::load(&source)
    }

    /// The services named on the command line (or by `KEYLESS_*`).
    pub fn overrides(&self) -> keyless::sign::Overrides {
        keyless::sign::Overrides {
            fulcio: self.fulcio_url.clone(),
            rekor: self.rekor_url.clone(),
            tsa: self.timestamp_server_url.clone(),
            oidc: self.oidc_issuer.clone(),
            allow_insecure_http: self.allow_insecure_http,
        }
    }

    /// The selected input files.
    pub fn inputs(&self) -> Result<Vec<PathBuf>> {
        let paths = if self.paths.is_empty() {
            vec![PathBuf::from("dist")]
        } else {
            self.paths.clone()
        };
        keyless::sign::select_inputs(&paths)
    }
}

/// The trust material `keyless trust update --tuf-url URL` cached for the
/// instance at `url`: its trusted root, and its signing config when TUF
/// served one.
fn instance_trust(url: &str) -> Result<keyless::trust::TrustMaterial> {
    use keyless::trust::{InstanceName, TrustMaterial, TrustSource, cache_dir};
    let dir = cache_dir()
        .ok_or_else(|| {
            Error::Usage(
                "--instance: no cache directory (set KEYLESS_CACHE_DIR, XDG_CACHE_HOME or HOME)"
                    .into(),
            )
        })?
        .join(InstanceName::custom(url).0);
    let root = dir.join("trusted_root.json");
    if !root.is_file() {
        return Err(Error::Usage(format!(
            "--instance {url}: no trust material for it in {}; run `keyless trust update --tuf-url {url} --tuf-root ROOT.json` first",
            dir.display()
        )));
    }
    let material = TrustMaterial::load(&TrustSource::TrustedRootFile(root))?;
    let config = dir.join("signing_config.json");
    if config.is_file() {
        material.with_signing_config_file(&config)
    } else {
        Ok(material)
    }
}

/// `keyless sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Inputs, identity and instance.
    #[command(flatten)]
    pub common: SigningArgs,

    /// Write the bundle here (one input only).
    #[arg(long, value_name = "PATH")]
    pub bundle: Option<PathBuf>,

    /// Also write the base64 signature here (one input only).
    #[arg(long, value_name = "PATH")]
    pub output_signature: Option<PathBuf>,

    /// Also write the PEM certificate here (one input only).
    #[arg(long, value_name = "PATH")]
    pub output_certificate: Option<PathBuf>,

    /// Also write <file>.sig (base64 signature) and <file>.crt (PEM
    /// certificate), as cosign sign-blob does.
    #[arg(long)]
    pub legacy_outputs: bool,

    /// Also write <file>.publish.attestation (PEP 740, as `keyless attest`
    /// does) under the same certificate: what a PyPI release needs, in one
    /// run. Attestations are logged in Rekor v1, the default with this flag.
    #[arg(long)]
    pub attestations: bool,
}

fn single_input_only(inputs: usize, flags: &[(&str, bool)]) -> Result<()> {
    if inputs > 1
        && let Some((flag, _)) = flags.iter().find(|(_, set)| *set)
    {
        return Err(Error::Usage(format!(
            "{flag} names the output of a single input, but {inputs} files were selected"
        )));
    }
    Ok(())
}

impl SignArgs {
    /// The files to sign with their outputs.
    pub fn files(&self) -> Result<Vec<(PathBuf, keyless::sign::Outputs)>> {
        let inputs = self.common.inputs()?;
        single_input_only(
            inputs.len(),
            &[
                ("--bundle", self.bundle.is_some()),
                ("--output-signature", self.output_signature.is_some()),
                ("--output-certificate", self.output_certificate.is_some()),
            ],
        )?;
        Ok(inputs
            .into_iter()
            .map(|file| {
                let mut out = keyless::sign::default_outputs(&file, self.legacy_outputs);
                if let Some(b) = &self.bundle {
                    out.bundle = b.clone();
                }
                if self.output_signature.is_some() {
                    out.signature = self.output_signature.clone();
                }
                if self.output_certificate.is_some() {
                    out.certificate = self.output_certificate.clone();
                }
                if self.attestations {
                    out.attestation = Some(keyless::attestation::default_path(&file));
                }
                (file, out)
            })
            .collect())
    }
}

/// `keyless attest`.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// Inputs, identity and instance.
    #[command(flatten)]
    pub common: SigningArgs,

    /// PEP 740 form: write the attestation here (one input only). Default:
    /// <file>.publish.attestation.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["predicate", "statement", "bundle"])]
    pub output: Option<PathBuf>,

    /// The in-toto forms.
    #[command(flatten)]
    pub intoto: super::attest::StatementArgs,
}

impl AttestArgs {
    /// The files to attest with their outputs.
    pub fn files(&self) -> Result<Vec<(PathBuf, keyless::sign::Outputs)>> {
        let inputs = self.common.inputs()?;
        single_input_only(inputs.len(), &[("--output", self.output.is_some())])?;
        Ok(inputs
            .into_iter()
            .map(|file| {
                let out = keyless::sign::Outputs {
                    bundle: self
                        .output
                        .clone()
                        .unwrap_or_else(|| keyless::attestation::default_path(&file)),
                    signature: None,
                    certificate: None,
                    attestation: None,
                };
                (file, out)
            })
            .collect())
    }
}
