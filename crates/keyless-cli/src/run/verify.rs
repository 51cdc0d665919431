//! `keyless verify` and `keyless verify gitlab`.

use super::Delivery;
use crate::cli::{VerifyCommand, VerifyPreset, VerifyingArgs};
use crate::render::junit;
use crate::render::style::Style;
use crate::render::verify as render;
use keyless::trust::TrustMaterial;
use keyless::verify::policy::Policy;
use keyless::verify::{Input, InputReport, Outcome, Verifier, select_inputs};

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
    let one_input_only = || {
        fail(command, &keyless::Error::Usage(
            "--bundle, --attestation and --signature name one input's evidence; with several inputs each is found next to its file".into(),
        ))
    };
    if evidence.is_single_input() && inputs.len() > 1 {
        return one_input_only();
    }
    let policy = match policy {
        Ok(p) => p,
        Err(e) => return fail(command, &e),
    };
    // Folders expanded; evidence named among the inputs is verified as
    // evidence, unless an option names the evidence itself.
    let selected = match select_inputs(inputs, !evidence.is_single_input()) {
        Ok(s) => s,
        Err(e) => return fail(command, &e),
    };
    if evidence.is_single_input() && selected.len() > 1 {
        return one_input_only();
    }
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
    let source = evidence.source();
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
    let mut reports = Vec::with_capacity(selected.len());
    let mut delivered = Delivery::Delivered;
    for selection in selected {
        let arg = &selection.arg;
        // Evidence named in the artifact's place is what it is checked against.
        let source = selection.evidence.as_ref().or(source.as_ref());
        let report = match selection.input {
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
        counter.tick();
        let shown = !*json
            && (verbosity != super::Verbosity::Quiet
                || !matches!(report.outcome, Outcome::Verified(_)));
        let line = shown.then(|| render::text_line(&report, style));
        let hint = render::hint_line(&report, several);
        let details = if verbosity == super::Verbosity::Verbose {
            render::detail_lines(&report)
        } else {
            Vec::new()
        };
        reports.push(report);
        if let Some(line) = line {
            // A closed pipe (e.g. `| head`) stops the run quietly with the
            // status earned so far; another write failure is exit 2.
            match super::write_stdout(line.as_bytes()) {
                Delivery::Delivered => {}
                gone => {
                    delivered = gone;
                    break;
                }
            }
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
    counter.clear();
    // The JUnit report is written whatever became of stdout (a closed pipe
    // stopped the run: it lists the inputs checked until then).
    if let Some(path) = junit {
        let suite = format!("keyless {command}");
        if let Err(e) = junit::write(path, &suite, &junit::verify_cases(&reports)) {
            super::fail(command, &e);
            return 2;
        }
    }
    if delivered != Delivery::Delivered {
        return delivered.exit_code(render::exit_code(&reports));
    }
    if *json {
        return super::write_stdout(render::json_report(&reports).as_bytes())
            .exit_code(render::exit_code(&reports));
    }
    render::exit_code(&reports)
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
