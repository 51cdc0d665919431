//! The command-line interface definition, shared by the `keyless` binary,
//! its man pages and its completions.
//!
//! Only argument definitions and their translation into library types live
//! here; the binary parses, calls the library, prints and picks exit codes.
// Doc comments here are the CLI's help text (rendered by clap, read in a
// terminal), so `<file>` and bare URLs are meant literally.
#![allow(rustdoc::invalid_html_tags, rustdoc::bare_urls)]

use clap::{Args, CommandFactory, Parser, Subcommand};
use keyless::error::{Error, Result};
use keyless::trust::TrustSource;
use keyless::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
use std::path::PathBuf;

/// Sigstore keyless signing and verification, built first for GitLab CI/CD.
#[derive(Debug, Parser)]
#[command(name = "keyless", version, propagate_version = true)]
#[command(
    after_help = "Exit status: 0 success, 1 verification failed, 2 usage, I/O, parse or network error."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// keyless subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Verify artifacts against Sigstore bundles, offline.
    #[command(
        long_about = "Verify artifacts against Sigstore bundles, offline.\n\n\
    Every check of the Sigstore client specification is made: bundle format; a \
    certificate chain to a Fulcio CA of the trust root, valid at the verified signing \
    time; an SCT from a trusted CT log; the signature over the artifact (or a DSSE \
    envelope whose in-toto subject matches it); a log entry consistent with the bundle; \
    an inclusion proof up to a checkpoint signed by a trusted log key; a SET or RFC 3161 \
    timestamps from a trusted TSA; and finally the identity policy. No network is used, except to \
look up the log entry of a cosign-style --signature/--certificate pair.",
        after_help = "Output: one line per input, 'OK   <input>  <identity> (<issuer>)  Rekor #<index> at <time>' \
    or 'FAIL <input>  <step>: <reason>'.\n\
    Exit status: 0 all verified, 1 any verification failed, 2 usage, I/O or parse error.\n\n\
    Example:\n  keyless verify dist/pkg-1.0.tar.gz \\\n    \
    --certificate-identity 'https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main' \\\n    \
    --certificate-oidc-issuer https://gitlab.com"
    )]
    Verify(VerifyCommand),
    /// Sign release files keylessly (GitLab CI first).
    #[command(
        long_about = "Sign release files keylessly.\n\n\
Exchanges an OIDC identity token (GitLab CI id_tokens, GitHub Actions, or an interactive login) \
with Fulcio for a short-lived certificate bound to an ephemeral key, signs every file, logs each \
signature in Rekor, verifies each bundle with keyless's own verifier, and only then writes \
<file>.sigstore.json next to each file.",
        after_help = "GitLab CI:\n  sign:\n    id_tokens:\n      SIGSTORE_ID_TOKEN:\n        aud: sigstore\n    script:\n      - keyless sign dist/\n\n\
Exit status: 0 all files signed, 1 some file failed after signing began (the others keep their \
outputs), 2 an error before any signing (usage, token, I/O, Fulcio or the certificate check)."
    )]
    Sign(SignArgs),
    /// Write PEP 740 publish attestations for Python distributions, signed
    /// keylessly and logged, ready for `twine upload --attestations`.
    #[command(
        after_help = "Each <file>.publish.attestation is a DSSE envelope over an in-toto Statement v1 with predicate \
type https://docs.pypi.org/attestations/publish/v1 whose subject is the file's name and sha256, in PyPI's \
attestation JSON format. Same token, instance and exit codes as `keyless sign`; Rekor v1 only (Rekor v2 \
dsse entries cannot be verified by sigstore-rust 0.15.1)."
    )]
    Attest(AttestArgs),
    /// Show what a bundle, certificate or PEP 740 attestation claims, without
    /// verifying anything.
    Inspect(InspectArgs),
    /// Manage trust material (refresh it through TUF).
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Audit a Rekor transparency log: entries, search, checkpoints, monitoring.
    #[command(
        subcommand,
        long_about = "Audit a Rekor v1 transparency log.\n\n\
Every answer is checked against the log keys of the trust root: entries by their SET, \
inclusion proof and signed checkpoint; the log by its signed checkpoints and the \
consistency proofs between them. The log is the trust root's first transparency log \
unless --rekor-url names another.",
        after_help = "Exit status: 0 ok, 1 a verification failure or monitor alarm, 2 usage, I/O or network error."
    )]
    Rekor(RekorCommand),
    /// Print a shell completion script to standard output.
    Completions(CompletionsArgs),
}

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

/// `keyless inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A bundle, a certificate (PEM or DER), or a PEP 740 attestation.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Also name logs from this trust material (production and staging are
    /// always known).
    #[command(flatten)]
    pub trust: TrustArgs,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

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

/// `keyless verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Files to verify, or digests written sha256:<64 hex> (a digest only when
    /// no file of that name exists; it needs --bundle).
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,

    /// The exact certificate identity (SAN: email or URI) that must have signed.
    #[arg(long, value_name = "IDENTITY", group = "identity")]
    pub certificate_identity: Option<String>,

    /// A regular expression the whole certificate identity must match
    /// (anchored at both ends, unlike cosign).
    #[arg(long, value_name = "REGEX", group = "identity")]
    pub certificate_identity_regexp: Option<String>,

    /// The exact OIDC issuer of the signer's identity, e.g. https://gitlab.com.
    #[arg(long, value_name = "URL", group = "issuer")]
    pub certificate_oidc_issuer: Option<String>,

    /// A regular expression the whole OIDC issuer must match.
    #[arg(long, value_name = "REGEX", group = "issuer")]
    pub certificate_oidc_issuer_regexp: Option<String>,

    /// Verify a bundle signed with this managed public key (PEM) instead of a
    /// Fulcio certificate; no identity options apply.
    #[arg(long, value_name = "PUBKEY.pem", conflicts_with_all = ["identity", "issuer"])]
    pub key: Option<PathBuf>,

    /// Require a Fulcio certificate extension: NAME=VALUE or OID=VALUE, e.g.
    /// source-repository-ref=refs/tags/v1.0 (repeatable; names are listed in
    /// the man page and by an unknown name's error).
    #[arg(
        long = "certificate-extension",
        value_name = "NAME=VALUE",
        conflicts_with = "key"
    )]
    pub certificate_extensions: Vec<String>,

    /// Where the artifacts' signatures come from.
    #[command(flatten)]
    pub evidence: EvidenceArgs,

    /// What to trust.
    #[command(flatten)]
    pub trust: TrustArgs,

    /// Print a JSON report instead of one line per input.
    #[arg(long)]
    pub json: bool,
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

/// Where signatures come from, shared by the verifying commands.
#[derive(Debug, Args, Clone, Default)]
pub struct EvidenceArgs {
    /// The bundle to verify against (one input only). Default, per input:
    /// <file>.sigstore.json, then <file>.sigstore, then (for a wheel or
    /// sdist) <file>.publish.attestation.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["signature", "attestation"])]
    pub bundle: Option<PathBuf>,

    /// A PEP 740 attestation to verify against (one input only): its
    /// statement must name the file and its digest.
    #[arg(long, value_name = "PATH", conflicts_with = "signature")]
    pub attestation: Option<PathBuf>,

    /// Verify cosign-style detached outputs instead of a bundle: this base64
    /// signature (one input only; needs --certificate). The log entry is
    /// looked up in Rekor, online.
    #[arg(long, value_name = "FILE.sig", requires = "certificate")]
    pub signature: Option<PathBuf>,

    /// The signing certificate for --signature: PEM, or base64-wrapped PEM.
    #[arg(long, value_name = "FILE.crt", requires = "signature")]
    pub certificate: Option<PathBuf>,

    /// Rekor v1 to look the --signature entry up in. Default: the trust
    /// root's first transparency log.
    #[arg(long, value_name = "URL", requires = "signature")]
    pub rekor_url: Option<String>,
}

impl EvidenceArgs {
    /// The explicit bundle or attestation, if one was named.
    pub fn source(&self) -> Option<keyless::verify::BundleSource> {
        use keyless::verify::BundleSource;
        match (&self.bundle, &self.attestation) {
            (Some(b), _) => Some(BundleSource::Bundle(b.clone())),
            (None, Some(a)) => Some(BundleSource::Attestation(a.clone())),
            (None, None) => None,
        }
    }

    /// Whether the evidence names a single input's files.
    pub fn is_single_input(&self) -> bool {
        self.bundle.is_some() || self.attestation.is_some() || self.signature.is_some()
    }
}

/// `keyless verify gitlab`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("gitref").args(["branch", "tag", "git_ref"]))]
pub struct VerifyGitLabArgs {
    /// Files to verify, or digests written sha256:<64 hex>.
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<String>,

    /// The project that must have signed: GROUP/[SUBGROUP/]PROJECT.
    #[arg(long, value_name = "GROUP/PROJECT")]
    pub project: String,

    /// The GitLab instance; the certificate's issuer must be exactly this.
    #[arg(long, value_name = "URL", default_value = "https://gitlab.com")]
    pub instance: String,

    /// The branch the pipeline ran for.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,

    /// The tag the pipeline ran for.
    #[arg(long, value_name = "NAME")]
    pub tag: Option<String>,

    /// The full ref the pipeline ran for (refs/...). Without --branch, --tag
    /// or --ref, any branch or tag of the project is accepted.
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,

    /// The CI configuration file the pipeline ran.
    #[arg(long, value_name = "PATH", default_value = ".gitlab-ci.yml")]
    pub config_path: String,

    /// The pipeline source (push, web, schedule, merge_request_event, ...).
    #[arg(long, value_name = "SOURCE")]
    pub pipeline_source: Option<String>,

    /// The runner environment.
    #[arg(long, value_name = "ENV", value_parser = ["gitlab-hosted", "self-hosted"])]
    pub runner_environment: Option<String>,

    /// The commit SHA the artifact was built from.
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,

    /// The numeric project ID (survives renames and transfers).
    #[arg(long, value_name = "N")]
    pub project_id: Option<String>,

    /// Where the artifacts' signatures come from.
    #[command(flatten)]
    pub evidence: EvidenceArgs,

    /// What to trust.
    #[command(flatten)]
    pub trust: TrustArgs,

    /// Print a JSON report instead of one line per input.
    #[arg(long)]
    pub json: bool,
}

impl VerifyGitLabArgs {
    /// The composite GitLab policy.
    pub fn policy(&self) -> Result<Policy> {
        use keyless::verify::gitlab::{GitLabSigner, GitRef};
        let git_ref = match (&self.branch, &self.tag, &self.git_ref) {
            (Some(b), _, _) => Some(GitRef::Branch(b.clone())),
            (_, Some(t), _) => Some(GitRef::Tag(t.clone())),
            (_, _, Some(r)) => Some(GitRef::Full(r.clone())),
            _ => None,
        };
        let signer = GitLabSigner {
            project: self.project.clone(),
            instance: self.instance.clone(),
            git_ref,
            config_path: self.config_path.clone(),
            pipeline_source: self.pipeline_source.clone(),
            runner_environment: self.runner_environment.clone(),
            commit: self.commit.clone(),
            project_id: self.project_id.clone(),
        };
        Ok(Policy::Identity(signer.policy()?))
    }
}

/// `keyless verify` and its subcommands.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct VerifyCommand {
    /// A verification preset.
    #[command(subcommand)]
    pub preset: Option<VerifyPreset>,

    /// Generic verification.
    #[command(flatten)]
    pub args: VerifyArgs,
}

/// Verification presets.
#[derive(Debug, Subcommand)]
pub enum VerifyPreset {
    /// Verify files signed by a GitLab CI pipeline of one project, pinning the
    /// issuer, SAN, ref, runner and trigger claims in one policy.
    #[command(
        after_help = "Example:\n  keyless verify gitlab dist/*.whl --project group/hello-py --tag v1.0 --runner-environment gitlab-hosted\n\n\
Self-managed instances: Fulcio writes https://gitlab.com into the source repository, owner and run\n\
invocation extensions whatever the instance, so those are checked only on gitlab.com; the SAN and\n\
issuer carry the instance. A file literally named 'gitlab' is written ./gitlab."
    )]
    Gitlab(VerifyGitLabArgs),
}

impl VerifyArgs {
    /// The policy the arguments describe.
    pub fn policy(&self) -> Result<Policy> {
        if let Some(key_path) = &self.key {
            return Policy::from_public_key_file(key_path);
        }
        let identity = ValueMatcher::from_options(
            self.certificate_identity.as_deref(),
            self.certificate_identity_regexp.as_deref(),
        )?
        .ok_or_else(|| {
            Error::Usage(
                "--certificate-identity or --certificate-identity-regexp is required (or --key for a managed-key bundle)".into(),
            )
        })?;
        let issuer = ValueMatcher::from_options(
            self.certificate_oidc_issuer.as_deref(),
            self.certificate_oidc_issuer_regexp.as_deref(),
        )?
        .ok_or_else(|| {
            Error::Usage(
                "--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required (e.g. https://gitlab.com)".into(),
            )
        })?;
        let extensions = self
            .certificate_extensions
            .iter()
            .map(|e| keyless::verify::policy::ExtensionRequirement::parse(e))
            .collect::<Result<Vec<_>>>()?;
        Ok(Policy::Identity(
            IdentityPolicy::new(identity, issuer).with_extensions(extensions),
        ))
    }
}

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
is listed.",
        after_help = "Exit status: 0 consistent, 1 alarm, 2 usage, I/O or network error (no verdict; \
the state file is unchanged).\n\n\
Example (a scheduled pipeline):\n  keyless rekor monitor --state rekor-state.json --gitlab-project group/project"
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
    /// The Rekor v1 log to ask. Default: the trust root's first
    /// transparency log.
    #[arg(long, value_name = "URL")]
    pub rekor_url: Option<String>,

    /// Seconds allowed for each interaction with the log, retries included.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
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

    /// The log and trust root.
    #[command(flatten)]
    pub log: RekorLogArgs,
}

impl RekorMonitorArgs {
    /// The monitor options the arguments describe.
    pub fn options(&self) -> Result<keyless::rekor::monitor::MonitorOptions> {
        use keyless::rekor::monitor::{MonitorOptions, Watch};
        let mut watch = Vec::new();
        for v in &self.identity {
            watch.push(Watch::identity(v)?);
        }
        for p in &self.gitlab_project {
            watch.push(Watch::gitlab_project(p)?);
        }
        Ok(MonitorOptions {
            state: self.state.clone(),
            watch,
            max_entries: self.max_entries,
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

/// `keyless completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The clap command tree.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Man pages for `keyless` and every (nested) subcommand, as (file name,
/// roff text): `keyless.1`, `keyless-verify.1`, `keyless-trust-update.1`, ...
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    fn walk(cmd: &clap::Command, name: &str, pages: &mut Vec<(String, Vec<u8>)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let sub_name = format!("{name}-{}", sub.get_name());
            walk(sub, &sub_name, pages);
        }
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd.clone().name(name.to_string()))
            .render(&mut out)
            .expect("rendering to memory cannot fail");
        pages.push((format!("{name}.1"), out));
    }
    let mut cmd = command();
    cmd.build();
    let mut pages = Vec::new();
    walk(&cmd, "keyless", &mut pages);
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        command().debug_assert();
    }
}
