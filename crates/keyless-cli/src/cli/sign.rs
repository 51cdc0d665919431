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

    /// Sign with Sigstore's staging instance instead of production.
    #[arg(long, group = "instance")]
    pub staging: bool,

    /// A ClientTrustConfig (trusted root and signing config): self-hosted
    /// Sigstore, or keyless-testbed.
    #[arg(long, value_name = "FILE", group = "instance")]
    pub trust_config: Option<PathBuf>,

    /// A signing config (v0.2) naming the services; needs --trusted-root.
    #[arg(
        long,
        value_name = "FILE",
        group = "instance",
        requires = "trusted_root"
    )]
    pub signing_config: Option<PathBuf>,

    /// The trusted root matching --signing-config.
    #[arg(long, value_name = "FILE", requires = "signing_config")]
    pub trusted_root: Option<PathBuf>,

    /// Use Rekor v1 or v2 whatever the signing config prefers.
    #[arg(long, value_name = "1|2", value_parser = clap::value_parser!(u32).range(1..=2))]
    pub rekor_version: Option<u32>,

    /// Replace existing outputs.
    #[arg(long)]
    pub overwrite: bool,

    /// Concurrent uploads.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,

    /// Seconds allowed for each service interaction, retries included.
    #[arg(long, value_name = "SECONDS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

impl SigningArgs {
    /// The trust material (with signing config) the arguments select.
    pub fn trust(&self) -> Result<keyless::trust::TrustMaterial> {
        use keyless::trust::{TrustMaterial, TrustSource};
        if let (Some(config), Some(root)) = (&self.signing_config, &self.trusted_root) {
            return TrustMaterial::load(&TrustSource::TrustedRootFile(root.clone()))?
                .with_signing_config_file(config);
        }
        let source = if let Some(p) = &self.trust_config {
            TrustSource::TrustConfigFile(p.clone())
        } else if self.staging {
            TrustSource::Staging
        } else {
            TrustSource::Production
        };
        TrustMaterial::load(&source)
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

    /// Write the attestation here (one input only). Default:
    /// <file>.publish.attestation.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
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
                };
                (file, out)
            })
            .collect())
    }
}
