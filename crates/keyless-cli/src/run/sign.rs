//! `keyless sign` and `keyless attest`.
//!
//! What is printed where (see [`crate::render::sign`]): stdout gets one
//! result line per file (or the JSON summary); stderr gets the line naming
//! the signer, errors, and with `-v` the services, every retry as it
//! happens and the timings. On a terminal, a counter that erases itself
//! shows progress without naming files; `-q` leaves only errors.

use super::{Counter, Verbosity};
use crate::cli::{AttestArgs, SignArgs, SigningArgs};
use crate::render::sign as render;
use keyless::clock::{Clock, SystemClock};
use keyless::sign::{Event, Mode, Outputs, SignOptions, Signer};
use std::path::PathBuf;
use std::sync::Arc;
// Durations are measured on the monotonic clock; `Clock` is for the
// decisions about what time it is.
use std::time::Instant;

/// `keyless sign`: write a bundle (and with --attestations a PEP 740
/// attestation) next to every file.
pub fn sign(args: &SignArgs) -> u8 {
    // Attestations are dsse entries: Rekor v1 unless asked otherwise.
    let default_rekor_version = args.attestations.then_some(1);
    run(
        "sign",
        &args.common,
        args.files(),
        Mode::Bundle,
        default_rekor_version,
    )
}

/// `keyless attest`: write a PEP 740 attestation next to every file, or
/// sign one in-toto statement over the files.
pub fn attest(args: &AttestArgs) -> u8 {
    if args.intoto.is_statement() {
        return attest_statement(args);
    }
    if args.intoto.bundle.is_some() {
        // Not silently ignored: PEP 740 attestations are named by --output.
        return super::fail_json(
            "attest",
            args.common.json,
            &keyless::Error::Usage(
                "--bundle names the bundle of --predicate or --statement; a PEP 740 attestation is named by --output".into(),
            ),
        );
    }
    // PEP 740 attestations are dsse entries: Rekor v1 unless asked otherwise.
    run(
        "attest",
        &args.common,
        args.files(),
        Mode::Attestation,
        Some(1),
    )
}

/// `keyless attest --predicate` / `--statement`: one DSSE bundle over the
/// statement. The files are hashed and the statement checked before the
/// token is looked at; the log is the signing config's (v1: a dsse entry,
/// v2: a hashedrekord over the PAE).
fn attest_statement(args: &AttestArgs) -> u8 {
    let prepared = args.intoto.prepare(&args.common.paths);
    let (mode, files) = match prepared {
        Ok((statement, input, bundle)) => (
            Mode::Statement(Arc::new(statement)),
            Ok(vec![(
                input,
                Outputs {
                    bundle,
                    signature: None,
                    certificate: None,
                    attestation: None,
                },
            )]),
        ),
        Err(e) => (Mode::Bundle, Err(e)),
    };
    run("attest", &args.common, files, mode, None)
}

fn say(line: &str) {
    super::say(&format!("keyless: {line}"));
}

fn run(
    command: &str,
    args: &SigningArgs,
    files: keyless::Result<Vec<(PathBuf, Outputs)>>,
    mode: Mode,
    default_rekor_version: Option<u32>,
) -> u8 {
    use std::io::IsTerminal;
    let started = Instant::now();
    let verbosity = Verbosity::new(args.quiet, args.verbose);
    let verbose = verbosity == Verbosity::Verbose;
    let rekor_version = args.rekor_version.or(default_rekor_version);
    let overrides = args.overrides();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let prepared = files.and_then(|files| {
        let trust = args.trust()?;
        let signer = Signer::with_overrides(&trust, rekor_version, &overrides, clock.clone())?;
        if verbose {
            let instance = trust.source.to_string();
            for line in render::services(&instance, signer.services(), &overrides) {
                say(&line);
            }
        }
        let token_options = keyless::sign::token::TokenOptions {
            flag: args.identity_token.as_ref().map(|t| t.0.clone()),
            no_ambient: args.oidc_disable_ambient_providers,
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            oauth_out_of_band: args.oauth_force_oob,
            oauth_device: args.oauth_device,
            oidc_url: signer.services().oidc.clone(),
        };
        let token_started = Instant::now();
        let token = keyless::sign::token::resolve(&token_options, &|k| std::env::var(k).ok())?;
        token.preflight(clock.now())?;
        if let Some(issuer) = &args.oidc_issuer {
            token.check_issuer(issuer)?;
        }
        if verbose {
            say(&format!(
                "identity token from {} in {}",
                token.origin(),
                render::duration(token_started.elapsed())
            ));
        }
        Ok((files, signer, token))
    });
    let (files, signer, token) = match prepared {
        Ok(p) => p,
        Err(e) => return super::fail_json(command, args.json, &e),
    };
    if verbosity != Verbosity::Quiet {
        say(&format!(
            "{} {} file(s) as {} (token from {})",
            match mode {
                Mode::Bundle => "signing",
                Mode::Attestation => "attesting",
                _ => "attesting",
            },
            files.len(),
            render::printable(&token.describe()),
            token.origin()
        ));
    }
    let total = files.len();
    let options = SignOptions {
        mode,
        files,
        overwrite: args.overwrite,
        jobs: usize::from(args.jobs),
        timeout: std::time::Duration::from_secs(args.timeout),
    };
    let counter = Arc::new(Counter::new(
        verbosity == Verbosity::Normal,
        Some(total),
        "file(s)",
    ));
    let ticks = counter.clone();
    let progress = move |event: &Event<'_>| {
        if verbose {
            if let Some(line) = render::event(event) {
                say(&line);
            }
        } else if matches!(event, Event::FileDone(_)) {
            ticks.tick();
        }
    };
    let result = signer.sign(&token, &options, progress);
    counter.clear();
    let report = match result {
        Ok(r) => r,
        Err(e) => return super::fail_json(command, args.json, &e),
    };
    if verbose {
        say(&format!(
            "{} of {total} file(s) signed in {}",
            report.files.iter().filter(|f| f.error.is_none()).count(),
            render::duration(started.elapsed())
        ));
    }
    let text = if args.json {
        render::json(&report)
    } else {
        render::text(
            &report,
            verbosity == Verbosity::Quiet,
            crate::render::style::Style::for_stdout(),
        )
    };
    if text.is_empty() {
        return render::exit_code(&report);
    }
    // A closed pipe is quiet and keeps the status earned; another write
    // failure is exit 2.
    super::write_stdout(text.as_bytes()).exit_code(render::exit_code(&report))
}
