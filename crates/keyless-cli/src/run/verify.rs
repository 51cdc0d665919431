//! `keyless verify` and `keyless verify gitlab`.

use super::Delivery;
use crate::cli::{VerifyCommand, VerifyPreset, VerifyingArgs};
use crate::render::junit;
use crate::render::style::Style;
use crate::render::verify as render;
use keyless::trust::TrustMaterial;
use keyless::verify::checksums::read_checksum_list;
use keyless::verify::policy::Policy;
use keyless::verify::{
    BundleSource, Input, InputReport, Outcome, Selected, Verifier, select_inputs,
};

/// `keyless verify [gitlab]`: verify every input, print a line each (or the
/// JSON report) and return the exit status.
pub fn run(cmd: &VerifyCommand) -> u8 {
    match &cmd.preset {
        Some(VerifyPreset::Gitlab(g)) => {
            verify("verify gitlab", &g.inputs, &g.verifying, g.policy())
        }
        None => verify(
            "verify",
            &cmd.args.inputs,
            &cmd.args.verifying,
            cmd.args.policy(),
        ),
    }
}

fn verify(
    command: &str,
    inputs: &[String],
    options: &VerifyingArgs,
    policy: keyless::Result<Policy>,
) -> u8 {
    let VerifyingArgs {
        evidence,
        trust,
        json,
        junit,
        verbose,
        quiet,
        ..
    } = options;
    let verbosity = super::Verbosity::new(*quiet, *verbose);
    let fail = |command: &str, err: &keyless::Error| {
        // Stopped before any input: the report says why, as one error case.
        if let Some(path) = junit {
            let suite = format!("keyless {command}");
            let case = junit::command_error(&suite, err.to_string(), super::hint(command, err));
            if let Err(e) = junit::write(path, &suite, &[case]) {
                super::fail(command, &e);
            }
        }
        super::fail_json(command, *json, err)
    };
    let policy = match policy {
        Ok(p) => p,
        Err(e) => return fail(command, &e),
    };
    let selected = match plan(inputs, options) {
        Ok(s) => s,
        Err(e) => return fail(command, &e),
    };
    let trust = match TrustMaterial::load(&trust.source()) {
        Ok(t) => t,
        Err(e) => return fail(command, &e),
    };
    let verifier = match Verifier::new(&trust) {
        Ok(v) => v,
        Err(e) => return fail(command, &e),
    };
    // A --rekor-url is checked before any input, as every service URL is.
    if let Some(url) = &evidence.rekor_url
        && let Err(e) = keyless::check_url("--rekor-url", url, evidence.allow_insecure_http)
    {
        return fail(command, &e);
    }
    let rekor_url = evidence.rekor_url.clone().or_else(|| {
        trust
            .trusted_root
            .tlogs
            .first()
            .map(|t| t.base_url.trim_end_matches('/').to_string())
    });
    // A checksum list's line is reported by the name it gives, not by its digest.
    let by_name = options.from.is_some();
    let check = |selection: Selected| -> InputReport {
        let arg = &selection.arg;
        let source = selection.evidence.as_ref();
        let mut report = match selection.input {
            // A list's name is what a PEP 740 attestation must name.
            Ok(Input::Digest(digest)) if by_name => {
                verifier.verify_listed(digest, arg, source, &policy)
            }
            Ok(input @ Input::Digest(_)) if evidence.attestation.is_some() => {
                eprintln!(
                    "keyless: warning: {}: a digest cannot be checked against the attestation's file name",
                    crate::render::escape::printable(arg)
                );
                verifier.verify_input(&input, source, &policy)
            }
            Ok(input) => match (&evidence.signature, &evidence.certificate, &rekor_url) {
                (Some(sig), Some(cert), Some(url)) => {
                    verifier.verify_legacy(&input, sig, cert, url, &policy)
                }
                (Some(_), _, None) => unchecked(
                    arg,
                    keyless::Error::Usage(
                        "the trust root names no transparency log; pass --rekor-url".into(),
                    ),
                ),
                _ => verifier.verify_input(&input, source, &policy),
            },
            Err(e) => unchecked(arg, e),
        };
        if by_name {
            report.input = selection.arg;
        }
        report
    };
    let style = Style::for_stdout();
    let several = selected.len() > 1;
    // Progress for many inputs when their lines are not on that terminal
    // already (--json, or stdout redirected).
    let counter = super::Counter::new(
        verbosity == super::Verbosity::Normal
            && several
            && (*json || !std::io::IsTerminal::is_terminal(&std::io::stdout())),
        selected.len(),
        "input(s)",
    );
    // One report per input, in input order, whatever order they finish in.
    let mut reports = Vec::with_capacity(selected.len());
    let mut delivery = Delivery::Delivered;
    // One input runs on this thread (no core count looked up).
    let jobs = if several { options.jobs() } else { 1 };
    super::ordered::map_in_order(selected, jobs, check, |report| {
        counter.tick();
        let shown = !*json
            && (verbosity != super::Verbosity::Quiet
                || !matches!(report.outcome, Outcome::Verified(_)));
        // A closed pipe (e.g. `| head`) stops the printing quietly, not the
        // checks: the exit status and the JUnit report still cover every
        // input. Another write failure stops the run: exit 2.
        if shown && delivery == Delivery::Delivered {
            delivery = super::write_stdout(render::text_line(&report, style).as_bytes());
            if delivery == Delivery::Delivered {
                let hint = render::hint_line(&report, several);
                let details = if verbosity == super::Verbosity::Verbose {
                    render::detail_lines(&report)
                } else {
                    Vec::new()
                };
                if hint.is_some() || !details.is_empty() {
                    // Lines of their own, not after the counter.
                    counter.clear();
                }
                if let Some(hint) = hint {
                    eprintln!("{hint}");
                }
                for detail in details {
                    eprintln!("{detail}");
                }
            }
        }
        reports.push(report);
        delivery != Delivery::Failed
    });
    counter.clear();
    // The JUnit report is written whatever became of stdout (after another
    // write failure it lists the inputs checked until then).
    if let Some(path) = junit {
        let suite = format!("keyless {command}");
        if let Err(e) = junit::write(path, &suite, &junit::verify_cases(&reports)) {
            super::fail(command, &e);
            return 2;
        }
    }
    if delivery != Delivery::Delivered {
        return delivery.exit_code(render::exit_code(&reports));
    }
    if *json {
        return super::write_stdout(render::json_report(&reports).as_bytes())
            .exit_code(render::exit_code(&reports));
    }
    render::exit_code(&reports)
}

/// What to verify against what: the checksum list's lines (`--from`), the
/// inputs paired in order with the `--bundle`s, or the inputs as
/// [`select_inputs`] reads them, each with its evidence found beside it.
fn plan(inputs: &[String], options: &VerifyingArgs) -> keyless::Result<Vec<Selected>> {
    let evidence = &options.evidence;
    if let Some(from) = &options.from {
        return read_checksum_list(from);
    }
    let one_input_only = || {
        keyless::Error::Usage(
            "--attestation and --signature name one input's evidence; with several inputs each is found next to its file".into(),
        )
    };
    let single = evidence.attestation.is_some() || evidence.signature.is_some();
    if single && inputs.len() > 1 {
        return Err(one_input_only());
    }
    // Folders expanded; evidence named among the inputs is verified as
    // evidence, unless an option names the evidence itself.
    let mut selected = select_inputs(inputs, !evidence.names_evidence())?;
    if single && selected.len() > 1 {
        return Err(one_input_only());
    }
    if !evidence.bundle.is_empty() {
        if selected.len() != evidence.bundle.len() {
            return Err(keyless::Error::Usage(format!(
                "{} input(s) and {} --bundle: give one --bundle per input, paired in order (a folder counts as its files), or none to use each file's own",
                selected.len(),
                evidence.bundle.len()
            )));
        }
        for (s, bundle) in selected.iter_mut().zip(&evidence.bundle) {
            s.evidence = Some(BundleSource::Bundle(bundle.clone()));
        }
    } else if let Some(att) = &evidence.attestation {
        for s in &mut selected {
            s.evidence = Some(BundleSource::Attestation(att.clone()));
        }
    }
    Ok(selected)
}

/// The report for an input that could not be checked at all.
fn unchecked(input: &str, err: keyless::Error) -> InputReport {
    InputReport {
        input: input.to_string(),
        bundle: None,
        sha256: None,
        outcome: Outcome::Error(err),
        diagnosis: None,
    }
}
