//! The command-line interface definition, shared by the `keyless` binary,
//! its man pages and its completions.
//!
//! Only argument definitions and their translation into library types live
//! here, one module per command family; [`crate::run`] calls the library and
//! [`crate::render`] prints.
// Doc comments here are the CLI's help text (rendered by clap, read in a
// terminal), so `<file>` and bare URLs are meant literally.
#![allow(rustdoc::invalid_html_tags, rustdoc::bare_urls)]

mod attest;
pub mod env;
mod inspect;
mod lazy;
mod pypi;
mod rekor;
mod sign;
mod trust;
pub(crate) mod verify;

pub use attest::StatementArgs;
pub use inspect::InspectArgs;
pub use lazy::Lazy;
pub use pypi::VerifyPypiArgs;
pub use rekor::{
    RekorCommand, RekorGetArgs, RekorLogArgs, RekorLogInfoArgs, RekorMonitorArgs, RekorSearchArgs,
    RekorVerifyEntryArgs,
};
pub use sign::{AttestArgs, SecretArg, SignArgs, SigningArgs};
pub use trust::{TrustArgs, TrustCommand, TrustUpdateArgs};
pub use verify::{
    EvidenceArgs, VerifyArgs, VerifyCommand, VerifyGitLabArgs, VerifyPreset, VerifyingArgs,
};

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

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

/// keyless subcommands. Each one's arguments are defined only when it is
/// used ([`Lazy`]): a run builds the parser for its own subcommand alone.
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
    Verify(Lazy<VerifyCommand>),
    /// Sign release files keylessly (GitLab CI first).
    #[command(
        long_about = "Sign release files keylessly.\n\n\
Exchanges an OIDC identity token (GitLab CI id_tokens, GitHub Actions, or an interactive login) \
with Fulcio for a short-lived certificate bound to an ephemeral key, signs every file, logs each \
signature in Rekor, verifies each bundle with keyless's own verifier, and only then writes \
<file>.sigstore.json next to each file.",
        after_help = "GitLab CI:\n  sign:\n    id_tokens:\n      SIGSTORE_ID_TOKEN:\n        aud: sigstore\n    script:\n      - keyless sign dist/\n\n\
Output: one line per file on stdout ('OK   <file>  -> <outputs>  Rekor #<index>' or 'FAIL <file>  <reason>'), \
or --json; on stderr the signer and errors, with -v also the services, retries and timings, and on a \
terminal a counter of files done. -q leaves only errors.\n\n\
Environment: KEYLESS_TRUST_CONFIG, KEYLESS_FULCIO_URL, KEYLESS_REKOR_URL, KEYLESS_TIMESTAMP_SERVER_URL, \
KEYLESS_REKOR_VERSION and KEYLESS_TIMEOUT stand in for their flags; a flag wins.\n\n\
Exit status: 0 all files signed, 1 some file failed after signing began (the others keep their \
outputs), 2 an error before any signing (usage, token, I/O, Fulcio or the certificate check)."
    )]
    Sign(Lazy<SignArgs>),
    /// Sign attestations: PEP 740 publish attestations for Python
    /// distributions, or in-toto statements (SLSA provenance, SBOMs, any
    /// predicate) over files.
    #[command(after_help = "Three forms:\n\
  keyless attest [PATH...]\n      \
PEP 740: <file>.publish.attestation for each *.whl / *.tar.gz (default: dist/), a DSSE envelope over an in-toto \
Statement v1 with predicate type https://docs.pypi.org/attestations/publish/v1, in PyPI's attestation JSON, \
ready for `twine upload --attestations`. Rekor v1 only (the format has no place for the RFC 3161 timestamp a \
Rekor v2 entry needs).\n\
  keyless attest --predicate FILE [--type TYPE] PATH...\n      \
One in-toto Statement v1 carrying the predicate, one subject per file (its name and sha256), signed in one \
DSSE bundle (payload type application/vnd.in-toto+json), as cosign attest-blob --predicate does.\n\
  keyless attest --statement FILE [PATH...]\n      \
The statement's bytes as they are (the GitLab runner's artifacts-metadata.json included), after checking \
that its subjects are exactly the PATHs, or the files they name next to the statement.\n\n\
The in-toto forms write <first file>.intoto.sigstore.json (--bundle names another), logged as a dsse entry \
in Rekor v1 or a hashedrekord over the DSSE PAE in Rekor v2, as sigstore-python and sigstore-go log them. \
Verify with `keyless verify --type TYPE --bundle B FILE` (or `verify gitlab --provenance`).\n\n\
Same token, instance and exit codes as `keyless sign`.")]
    Attest(Lazy<AttestArgs>),
    /// Show what a bundle, certificate or PEP 740 attestation claims, without
    /// verifying anything.
    Inspect(Lazy<InspectArgs>),
    /// Manage trust material (refresh it through TUF).
    #[command(subcommand)]
    Trust(Lazy<TrustCommand>),
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
    Rekor(Lazy<RekorCommand>),
    /// Print a shell completion script to standard output.
    Completions(Lazy<CompletionsArgs>),
}

/// `keyless completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The whole clap command tree, every subcommand defined (for man pages and
/// completions; see [`lazy`]).
pub fn command() -> clap::Command {
    lazy::define_eagerly();
    Cli::command()
}

/// Parse `args` (the program name first), noting where the values that
/// need it came from: a flag wins over its `KEYLESS_*` variable even where
/// the two would otherwise conflict (see [`SigningArgs::note_sources`]).
pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    // Only the subcommand used gets its arguments defined.
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let Some((_, sub)) = matches.subcommand() {
        match &mut cli.command {
            Command::Sign(args) => args.common.note_sources(sub),
            Command::Attest(args) => args.common.note_sources(sub),
            _ => {}
        }
    }
    Ok(cli)
}

/// Parse the process's arguments as [`try_parse_from`] (exiting with clap's
/// message on a usage error), then apply the environment where clap could
/// not (see [`env`]).
pub fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cli = try_parse_from(args.iter().cloned()).unwrap_or_else(|e| {
        junit_on_usage_error(&args, &e);
        e.exit()
    });
    cli.apply_env(&env::process);
    cli
}

/// A command line clap refused (an unknown flag, a missing value) still
/// replaces the `--junit` report it names, with one `error` case saying
/// why: else a report of an earlier, passing run stays in place and CI
/// collects it as this job's verdict (a pass). An error report rather than
/// none: GitLab shows it among the pipeline's test results, where a missing
/// file is only a warning in the job log and the failure shows nowhere in
/// the merge request's test summary.
fn junit_on_usage_error(args: &[std::ffi::OsString], err: &clap::Error) {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return;
    }
    let Some((suite, paths)) = junit_paths(args) else {
        return;
    };
    // clap's message without its usage and tips (after the first blank
    // line), on one line.
    let rendered = err.render().to_string();
    let reason = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let reason = reason.trim_start_matches("error: ").to_string();
    let hint = format!("see '{suite} --help'");
    for path in paths {
        let case = crate::render::junit::command_error(suite, reason.clone(), Some(hint.clone()));
        if let Err(e) = crate::render::junit::write(&path, suite, &[case]) {
            eprintln!(
                "keyless: error: {}",
                crate::render::escape::printable_lines(&e.to_string())
            );
        }
    }
}

/// The command that takes `--junit` in `args` (its report's suite name) and
/// the reports named, read as clap would have: `--junit FILE` or
/// `--junit=FILE`, before a `--` (after it, every argument is an input).
fn junit_paths(args: &[std::ffi::OsString]) -> Option<(&'static str, Vec<std::path::PathBuf>)> {
    let word = |i: usize| args.get(i).and_then(|a| a.to_str());
    let (suite, from) = match (word(1), word(2)) {
        (Some("verify"), Some("gitlab")) => ("keyless verify gitlab", 3),
        (Some("verify"), _) => ("keyless verify", 2),
        (Some("rekor"), Some("search")) => ("keyless rekor search", 3),
        _ => return None,
    };
    let mut paths = Vec::new();
    let mut rest = args.iter().skip(from);
    while let Some(arg) = rest.next() {
        match arg.to_str() {
            Some("--") => break,
            Some("--junit") => {
                // A value clap would not take as one (another flag) is none.
                if let Some(value) = rest
                    .next()
                    .filter(|v| !v.to_string_lossy().starts_with('-'))
                {
                    paths.push(value.into());
                }
            }
            Some(a) => paths.extend(a.strip_prefix("--junit=").map(std::path::PathBuf::from)),
            None => {}
        }
    }
    (!paths.is_empty()).then_some((suite, paths))
}

impl Cli {
    /// Fill what a flag not given takes from the environment, where clap's
    /// own `env` would have counted as the flag given: `verify`'s
    /// `--rekor-url` (which requires `--signature`) from `KEYLESS_REKOR_URL`.
    pub fn apply_env(&mut self, env: env::Env<'_>) {
        if let Command::Verify(v) = &mut self.command {
            let evidence = match &mut v.preset {
                Some(VerifyPreset::Gitlab(g)) => &mut g.verifying.evidence,
                Some(VerifyPreset::Pypi(_)) => return,
                None => &mut v.args.verifying.evidence,
            };
            if evidence.rekor_url.is_none() {
                evidence.rekor_url =
                    env::value(env, env::REKOR_URL).map(|url| url.to_string_lossy().into_owned());
            }
        }
    }
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
