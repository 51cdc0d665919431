//! `keyless verify` and `keyless verify gitlab`.

use super::Delivery;
use super::spool::Spool;
use crate::cli::{VerifyCommand, VerifyPreset, VerifyingArgs};
use crate::render::junit;
use crate::render::style::Style;
use crate::render::verify as render;
use keyless::trust::TrustMaterial;
use keyless::verify::checksums::{ChecksumList, ListedLine, open_checksum_list};
use keyless::verify::policy::Policy;
use keyless::verify::{
    BundleSource, InputReport, Outcome, ReadListed, Selected, Verifier, select_inputs,
};

/// `keyless verify [gitlab]`: verify every input, print a line each (or the
/// JSON report) and return the exit status.
pub fn run(cmd: &VerifyCommand) -> u8 {
    match &cmd.preset {
        Some(VerifyPreset::Pypi(p)) => super::pypi::run(p),
        Some(VerifyPreset::Gitlab(g)) => verify(
            "verify gitlab",
            &g.inputs,
            &g.verifying,
            g.policy(),
            g.provenance,
        ),
        None => verify(
            "verify",
            &cmd.args.inputs,
            &cmd.args.verifying,
            cmd.args.policy(),
            false,
        ),
    }
}

fn verify(
    command: &str,
    inputs: &[String],
    options: &VerifyingArgs,
    policy: keyless::Result<Policy>,
    provenance: bool,
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
    let statement_policy = match options.statement_policy(provenance) {
        Ok(p) => p,
        Err(e) => return fail(command, &e),
    };
    let plan = match plan(inputs, options) {
        Ok(s) => s,
        Err(e) => return fail(command, &e),
    };
    let writes_statement = options.output_statement.is_some() || options.output_predicate.is_some();
    if writes_statement && !matches!(&plan, Plan::Inputs(s) if s.len() == 1) {
        return fail(
            command,
            &keyless::Error::Usage(
                "--output-statement and --output-predicate write one input's statement: name one input".into(),
            ),
        );
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
    let read_listed = if options.digest_only {
        ReadListed::DigestOnly
    } else if options.ignore_missing {
        ReadListed::IgnoreMissing
    } else {
        ReadListed::Hash
    };
    let check = |job: Job| -> InputReport {
        let selection = match job {
            // A list's line is reported by the name it gives, not by its
            // digest; a refused line by the list's name and line number.
            Job::Line(ListedLine { arg, file }) => {
                return match file {
                    Ok(listed) => verifier.verify_listed_with(
                        &listed,
                        read_listed,
                        &policy,
                        &statement_policy,
                    ),
                    Err(e) => unchecked(&arg, e),
                };
            }
            Job::Input(selection) => selection,
        };
        let arg = &selection.arg;
        let source = selection.evidence.as_ref();
        match selection.input {
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
                _ => verifier.verify_input_with(&input, source, &policy, &statement_policy),
            },
            Err(e) => unchecked(arg, e),
        }
    };
    let style = Style::for_stdout();
    let (jobs, count): (Box<dyn Iterator<Item = Job> + Send>, Option<usize>) = match plan {
        Plan::Inputs(selected) => {
            let n = selected.len();
            (Box::new(selected.into_iter().map(Job::Input)), Some(n))
        }
        Plan::List(list) => (Box::new(list.map(Job::Line)), None),
    };
    // A list's lines are several inputs, however many it turns out to have.
    let several = count.is_none_or(|n| n > 1);
    // Progress for many inputs when their lines are not on that terminal
    // already (--json, or stdout redirected).
    let counter = super::Counter::new(
        verbosity == super::Verbosity::Normal
            && several
            && (*json || !std::io::IsTerminal::is_terminal(&std::io::stdout())),
        count,
        "input(s)",
    );
    // Nothing is kept per input but its place in the reports being
    // written, so memory stays flat however long a list is.
    let mut tally = Tally::default();
    let mut json_results = json.then(Spool::default);
    let mut junit_report = junit
        .as_ref()
        .map(|_| junit::Report::new(&format!("keyless {command}")));
    let mut spool_error = None;
    let mut delivery = Delivery::Delivered;
    // One input runs on this thread (no core count looked up).
    let workers = if several { options.jobs() } else { 1 };
    let mut written_statement = None;
    super::ordered::map_in_order(jobs, workers, check, |report| {
        counter.tick();
        if let Outcome::Verified(v) = &report.outcome {
            written_statement = v.statement.clone();
        }
        tally.count(&report);
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
                    super::say(&hint);
                }
                for detail in details {
                    super::say(&detail);
                }
            }
        }
        let mut spooled = Ok(());
        if let Some(spool) = &mut json_results {
            let separator: &[u8] = if spool.is_empty() { b"" } else { b",\n" };
            spooled = spool
                .push(separator)
                .and_then(|()| spool.push(render::json_result(&report).as_bytes()));
        }
        if let Some(r) = &mut junit_report {
            spooled = spooled.and_then(|()| r.add(&junit::verify_case(&report)));
        }
        if let Err(e) = spooled {
            spool_error = Some(e);
            return false;
        }
        delivery != Delivery::Failed
    });
    counter.clear();
    if let Some(e) = spool_error {
        super::say(&format!(
            "keyless: error: cannot keep the report's parts in a temporary file: {e}"
        ));
        return 2;
    }
    if tally.inputs == 0 {
        // Only a list can turn out to name nothing.
        let origin = options.from.clone().unwrap_or_default();
        return fail(
            command,
            &keyless::Error::Malformed {
                path: origin,
                what: keyless::error::FileKind::ChecksumList,
                reason: "it lists no file".into(),
            },
        );
    }
    let mut code = tally.exit_code();
    if writes_statement && code == 0 {
        if let Some(statement) = written_statement.as_deref()
            && let Err(e) = write_statement(options, statement)
        {
            super::fail(command, &e);
            return 2;
        }
        if written_statement.is_none() {
            code = 1;
            eprintln!(
                "keyless: the bundle signs no in-toto statement: nothing to write to --output-statement / --output-predicate"
            );
        }
    }
    // The JUnit report is written whatever became of stdout (after another
    // write failure it lists the inputs checked until then).
    if let (Some(path), Some(report)) = (junit, junit_report)
        && let Err(e) = report.write(path)
    {
        super::fail(command, &e);
        return 2;
    }
    if delivery != Delivery::Delivered {
        return delivery.exit_code(code);
    }
    if let Some(mut results) = json_results {
        let mut write_results = |w: &mut dyn std::io::Write| results.copy_to(w);
        return super::write_stdout_with(|out| {
            render::json_document(code, out, Some(&mut write_results))
        })
        .exit_code(code);
    }
    code
}

/// One item of a run: an input the command line selected, or a checksum
/// list's line.
enum Job {
    Input(Selected),
    Line(ListedLine),
}

/// What a run verifies: inputs, or a checksum list's lines, read as they
/// are verified.
enum Plan {
    Inputs(Vec<Selected>),
    List(ChecksumList),
}

/// How many inputs were reported and how many of them failed or could not
/// be checked: what the exit status needs, without the reports.
#[derive(Debug, Default)]
struct Tally {
    inputs: usize,
    failed: usize,
    errors: usize,
}

impl Tally {
    fn count(&mut self, report: &InputReport) {
        self.inputs += 1;
        match report.outcome {
            Outcome::Verified(_) => {}
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Error(_) => self.errors += 1,
        }
    }

    /// As [`render::exit_code`] says it: 2 over 1 over 0.
    fn exit_code(&self) -> u8 {
        if self.errors > 0 {
            2
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

/// What to verify against what: the checksum list's lines (`--from`), the
/// inputs paired in order with the `--bundle`s, or the inputs as
/// [`select_inputs`] reads them, each with its evidence found beside it.
fn plan(inputs: &[String], options: &VerifyingArgs) -> keyless::Result<Plan> {
    let evidence = &options.evidence;
    if let Some(from) = &options.from {
        return open_checksum_list(from).map(Plan::List);
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
    if let [bundle] = evidence.bundle.as_slice()
        && selected.len() > 1
        && options.predicate_type.is_some()
    {
        // With --type, one bundle for every input (an in-toto statement's
        // bundle names several files): each input is still verified on its
        // own against it, so a file it does not name fails at its artifact
        // step. Without --type, one bundle for several files stays a usage
        // error (most likely a mistake: a blob bundle signs one file).
        for s in &mut selected {
            s.evidence = Some(BundleSource::Bundle(bundle.clone()));
        }
    } else if !evidence.bundle.is_empty() {
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
    Ok(Plan::Inputs(selected))
}

/// Write the verified statement where --output-statement and
/// --output-predicate say, each atomically (a reader never sees half).
fn write_statement(
    options: &VerifyingArgs,
    statement: &keyless::statement::Statement,
) -> keyless::Result<()> {
    let write = |path: &std::path::Path, bytes: &[u8]| {
        keyless::files::write_atomic(path, bytes).map_err(|source| keyless::Error::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    if let Some(path) = &options.output_statement {
        write(path, &statement.bytes)?;
    }
    if let Some(path) = &options.output_predicate {
        let mut text = serde_json::to_string_pretty(&statement.predicate)
            .map_err(|e| keyless::Error::Usage(e.to_string()))?;
        text.push('\n');
        write(path, text.as_bytes())?;
    }
    Ok(())
}

/// The report for an input that could not be checked at all.
fn unchecked(input: &str, err: keyless::Error) -> InputReport {
    InputReport {
        input: input.to_string(),
        bundle: None,
        sha256: None,
        outcome: Outcome::Error(err),
        diagnosis: None,
        listed: None,
    }
}
