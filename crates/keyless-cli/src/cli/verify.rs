//! `keyless verify` and its presets, and where signatures come from.

use super::TrustArgs;
use clap::{Args, Subcommand};
use keyless::error::{Error, Result};
use keyless::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
use std::path::PathBuf;

/// `keyless verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Files or folders to verify, or digests written sha256:<64 hex> (a
    /// digest only when no file of that name exists; it needs --bundle). A
    /// folder stands for what `keyless sign` signs in it (*.whl, *.tar.gz)
    /// and every file with a bundle or attestation beside it; a bundle among
    /// the inputs is its file's evidence, not a file to verify.
    #[arg(value_name = "INPUT", required_unless_present = "from")]
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

    /// Evidence, trust and output.
    #[command(flatten)]
    pub verifying: VerifyingArgs,
}

/// Options shared by `keyless verify` and its presets, after their own.
#[derive(Debug, Args)]
pub struct VerifyingArgs {
    /// Where the artifacts' signatures come from.
    #[command(flatten)]
    pub evidence: EvidenceArgs,

    /// What to trust.
    #[command(flatten)]
    pub trust: TrustArgs,

    /// Print a JSON report instead of one line per input.
    #[arg(long)]
    pub json: bool,

    /// Also write a JUnit XML report to this file: one test case per input,
    /// the failed step and reason in its failure (for GitLab's
    /// artifacts:reports:junit).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Also show, on stderr under each input's line, the evidence it was
    /// checked against and the artifact's SHA-256.
    #[arg(short, long, conflicts_with = "quiet")]
    pub verbose: bool,

    /// Print only what failed: the FAIL lines on stdout, their hints and
    /// errors on stderr (--json still prints its whole report).
    #[arg(short, long)]
    pub quiet: bool,

    /// Verify the files a checksum list names instead of INPUTs: one per
    /// line, '<sha256>  <name>' as sha256sum writes it (a release's
    /// SHA256SUMS as is), each line read exactly as `sha256sum -c` reads it
    /// (lines it could read otherwise are refused). Each file is hashed and
    /// must have the list's digest, as sha256sum -c checks; the digest is
    /// verified against <name>.sigstore.json found as for a file. Relative
    /// names are relative to the list's folder. '-' reads the list from
    /// standard input.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["inputs", "bundle", "attestation", "signature"]
    )]
    pub from: Option<PathBuf>,

    /// With --from: verify each line by its digest alone, reading none of
    /// the files it names (by default each one is hashed).
    #[arg(long, requires = "from")]
    pub digest_only: bool,

    /// With --from: a listed name with no file at all is verified by its
    /// digest alone instead of failing (as sha256sum -c --ignore-missing).
    #[arg(long, requires = "from", conflicts_with = "digest_only")]
    pub ignore_missing: bool,

    /// A DSSE bundle's in-toto statement must have this predicate type: a
    /// URI, or one of cosign's names (slsaprovenance1, slsaprovenance02,
    /// spdxjson, cyclonedx, vuln, openvex, link, custom). A bundle that
    /// signs no statement fails.
    #[arg(long = "type", value_name = "TYPE")]
    pub predicate_type: Option<String>,

    /// Write the verified statement (the envelope's payload, byte for
    /// byte) here; one input only, written only if it verifies.
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    pub output_statement: Option<PathBuf>,

    /// Write the verified statement's predicate (JSON) here; one input
    /// only, written only if it verifies.
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    pub output_predicate: Option<PathBuf>,

    /// Inputs verified at once. Default: the number of CPU cores. Reports
    /// come in input order whatever the number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

impl VerifyingArgs {
    /// What a DSSE bundle's statement must be; `provenance` from `verify
    /// gitlab --provenance`.
    pub fn statement_policy(&self, provenance: bool) -> Result<keyless::verify::StatementPolicy> {
        Ok(keyless::verify::StatementPolicy {
            predicate_type: self
                .predicate_type
                .as_deref()
                .map(keyless::statement::predicate::resolve)
                .transpose()?,
            gitlab_provenance: provenance,
        })
    }

    /// How many inputs to verify at once: `--jobs`, else one per core.
    pub fn jobs(&self) -> usize {
        match self.jobs {
            Some(n) => usize::from(n),
            None => std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

/// Where signatures come from, shared by the verifying commands.
#[derive(Debug, Args, Clone, Default)]
pub struct EvidenceArgs {
    /// The bundle to verify against; repeated, one per input, paired in
    /// order (`--bundle a.json sha256:... --bundle b.json sha256:...`); with
    /// --type, once for every input (an in-toto statement's bundle naming
    /// several files: each must be one of its subjects).
    /// Default, per input: <file>.sigstore.json, then <file>.sigstore, then
    /// (for a wheel or sdist) <file>.publish.attestation.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["signature", "attestation"])]
    pub bundle: Vec<PathBuf>,

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
    /// root's first transparency log [env: KEYLESS_REKOR_URL]
    #[arg(long, value_name = "URL", requires = "signature")]
    pub rekor_url: Option<String>,

    /// Accept plain http:// to another machine in --rekor-url (the lookup
    /// then crosses the network in clear). Without it, http is accepted
    /// only for localhost, 127.0.0.1 and ::1.
    #[arg(long)]
    pub allow_insecure_http: bool,
}

impl EvidenceArgs {
    /// Whether the evidence options name the evidence (so that evidence
    /// among the inputs is an input like any other).
    pub fn names_evidence(&self) -> bool {
        !self.bundle.is_empty() || self.attestation.is_some() || self.signature.is_some()
    }
}

/// `keyless verify gitlab`.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("gitref").args(["branch", "tag", "git_ref", "any_ref"]))]
pub struct VerifyGitLabArgs {
    /// Files or folders to verify (as `keyless verify` takes them), or
    /// digests written sha256:<64 hex>.
    #[arg(value_name = "INPUT", required_unless_present = "from")]
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

    /// The full ref the pipeline ran for (refs/...).
    #[arg(long = "ref", value_name = "REF")]
    pub git_ref: Option<String>,

    /// Accept any branch or tag of the project. One of --branch, --tag,
    /// --ref or --any-ref is required.
    #[arg(long)]
    pub any_ref: bool,

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

    /// The bundle must sign the GitLab runner's SLSA provenance
    /// (RUNNER_GENERATE_ARTIFACTS_METADATA; v1, or the legacy v0.2), and
    /// its project, commit and job must be those Fulcio certified (Source
    /// Repository URI .12, Digest .13, Run Invocation URI .21); a
    /// disagreement fails naming the field. Looks for
    /// <file>.intoto.sigstore.json first.
    #[arg(long)]
    pub provenance: bool,

    /// Evidence, trust and output.
    #[command(flatten)]
    pub verifying: VerifyingArgs,
}

/// The usage error of `verify gitlab` given no ref.
pub(crate) const NO_REF: &str =
    "verify gitlab needs the ref the pipeline ran for, or --any-ref to accept any";

/// Its hint: the choices.
pub(crate) const NO_REF_HINT: &str = "pass --branch NAME, --tag NAME or --ref refs/..., or --any-ref to accept any branch or tag of the project";

impl VerifyGitLabArgs {
    /// The composite GitLab policy.
    pub fn policy(&self) -> Result<Policy> {
        use keyless::verify::gitlab::{GitLabSigner, GitRef};
        let git_ref = match (&self.branch, &self.tag, &self.git_ref) {
            (Some(b), _, _) => Some(GitRef::Branch(b.clone())),
            (_, Some(t), _) => Some(GitRef::Tag(t.clone())),
            (_, _, Some(r)) => Some(GitRef::Full(r.clone())),
            _ if self.any_ref => None,
            _ => return Err(Error::Usage(NO_REF.into())),
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
#[allow(clippy::large_enum_variant)] // parsed once per process
#[derive(Debug, Subcommand)]
pub enum VerifyPreset {
    /// Verify files signed by a GitLab CI pipeline of one project, pinning the
    /// issuer, SAN, ref, runner and trigger claims in one policy.
    #[command(
        after_help = "Example:\n  keyless verify gitlab dist/*.whl --project group/hello-py --tag v1.0 --runner-environment gitlab-hosted\n\n\
Self-managed instances: the issuer, SAN, build signer (.9) and config (.18) URIs carry the instance;\n\
Fulcio writes https://gitlab.com into the source repository (.12), owner (.16) and run invocation\n\
(.21) extensions whatever the instance, so .12 and .21 are accepted with either host but their\n\
path must be exactly --project. A file literally named 'gitlab' is written ./gitlab."
    )]
    Gitlab(VerifyGitLabArgs),
    /// Verify what pip installs: each file's PEP 740 provenance, straight
    /// from the package index, against who must have published it.
    #[command(
        long_about = "Verify what pip installs: each file's PEP 740 provenance, straight from the package index.\n\n\
For each file (every file of NAME==VERSION, a requirements file's --hash pins, a pylock.toml's \
locked files) the index's PEP 691 JSON page gives its sha256 and where its provenance is (else \
the Integrity API, /integrity/<project>/<version>/<file>/provenance, on the index's origin). \
Every attestation is verified offline against the trust root as `keyless verify` verifies a \
PEP 740 attestation, and must name this file and digest. The publisher is read from the verified \
certificate (GitLab: issuer, Source Repository URI, Build Config URI \
https://gitlab.com/<project>//<config path>@<the certificate's ref or commit>); the index's \
publisher claim must agree with it, and it must be one expected: --gitlab/--github for every \
file, a lock's attestation-identities, or --publishers per package.",
        after_help = "Output: 'OK   <file>  <publisher>' / 'FAIL <file>  <step>: <reason>' / 'NONE <file>' \
(no provenance, allowed by --allow-missing); --print-identities adds each file's \
attestation-identities entry.\n\
Exit status: 0 all verified, 1 any verification failed (missing provenance included), 2 usage, \
I/O, index or network error.\n\n\
Examples:\n  keyless verify pypi --lock pylock.toml\n  \
keyless verify pypi -r requirements.txt --gitlab group/project --config-path .gitlab-ci.yml\n  \
keyless verify pypi sampleproject==4.0.0 --print-identities"
    )]
    Pypi(super::VerifyPypiArgs),
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
