//! `keyless verify` and `keyless verify gitlab`.

use super::fail;
use crate::cli::{VerifyCommand, VerifyPreset, VerifyingArgs};
use crate::render::verify as render;
use keyless::trust::TrustMaterial;
use keyless::verify::policy::Policy;
use keyless::verify::{Input, InputReport, Outcome, Verifier};
use std::io::Write;

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
    } = options;
    if evidence.is_single_input() && inputs.len() > 1 {
        return fail(command, &keyless::Error::Usage(
            "--bundle, --attestation and --signature name one input's evidence; with several inputs each is found next to its file".into(),
        ));
    }
    let policy = match policy {
        Ok(p) => p,
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
    let rekor_url = evidence.rekor_url.clone().or_else(|| {
        trust
            .trusted_root
            .tlogs
            .first()
            .map(|t| t.base_url.trim_end_matches('/').to_string())
    });
    let source = evidence.source();
    let mut reports = Vec::with_capacity(inputs.len());
    let mut stdout = std::io::stdout().lock();
    for arg in inputs {
        let report = match Input::parse(arg) {
            Ok(input @ Input::Digest(_)) if evidence.attestation.is_some() => {
                eprintln!(
                    "keyless: warning: {arg}: a digest cannot be checked against the attestation's file name"
                );
                verifier.verify_input(&input, source.as_ref(), &policy)
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
                _ => verifier.verify_input(&input, source.as_ref(), &policy),
            },
            Err(e) => unchecked(arg, e),
        };
        if !*json {
            // A closed pipe (e.g. `| head`) is not an error worth a panic.
            if writeln!(stdout, "{}", render::text_line(&report)).is_err() {
                return 2;
            }
            if let Outcome::Error(e) = &report.outcome
                && let Some(hint) = e.hint()
            {
                eprintln!("  hint: {hint}");
            }
        }
        reports.push(report);
    }
    if *json && writeln!(stdout, "{}", render::json_report(&reports)).is_err() {
        return 2;
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
    }
}
