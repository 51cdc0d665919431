//! `keyless verify`'s output: one line per input, or a JSON report, and the
//! exit status.

use super::escape::printable;
use super::style::Style;
use keyless::verify::{InputReport, ListedCheck, Outcome};
use serde::Serialize;

/// Exit status for a set of reports: 0 all verified, 1 any verification
/// failed, 2 any input could not be checked (that takes precedence, since a
/// missing verdict must never read as "only some failed").
pub fn exit_code(reports: &[InputReport]) -> u8 {
    if reports
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Error(_)))
    {
        2
    } else if reports
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Failed(_)))
    {
        1
    } else {
        0
    }
}

/// The human line for one input:
/// `OK   <input>  <SAN> (<issuer>)  Rekor #<index> at <time>` or
/// `FAIL <input>  <step>: <reason>`, the verdict word in `style`.
pub fn text_line(report: &InputReport, style: Style) -> String {
    match &report.outcome {
        Outcome::Verified(v) => {
            let who = match (&v.identity, &v.issuer) {
                (Some(id), Some(iss)) => format!("{id} ({iss})"),
                (Some(id), None) => id.clone(),
                _ => "public key".to_string(),
            };
            let mut line = format!("{}  {who}", report.input);
            match (v.log_index, v.signing_time()) {
                (Some(index), Some(time)) => line += &format!("  Rekor #{index} at {time}"),
                (Some(index), None) => line += &format!("  Rekor #{index}"),
                (None, Some(time)) => line += &format!("  timestamped at {time}"),
                (None, None) => {}
            }
            // A listed file that is not there was not checked: say so.
            if report.listed == Some(ListedCheck::Absent) {
                line += "  (no such file: its digest verified, the file not read)";
            }
            format!("{}   {}", style.good("OK"), printable(&line))
        }
        // The reason may quote the certificate's claims.
        Outcome::Failed(f) => format!(
            "{} {}",
            style.bad("FAIL"),
            printable(&format!("{}  {f}", report.input))
        ),
        Outcome::Error(e) => format!(
            "{} {}",
            style.bad("FAIL"),
            printable(&format!("{}  error: {e}", report.input))
        ),
    }
}

/// The hint line (for stderr) under one input's line: `  hint: <hint>`,
/// or, when several inputs are reported, `  hint: <input>: <hint>` so that
/// each hint says which input it is about.
pub fn hint_line(report: &InputReport, several: bool) -> Option<String> {
    let hint = report.hint()?;
    Some(if several {
        format!(
            "  hint: {}",
            printable(&format!("{}: {hint}", report.input))
        )
    } else {
        format!("  hint: {}", printable(&hint))
    })
}

/// The `-v` lines (for stderr) under one input's line: the evidence it was
/// checked against and the artifact's SHA-256, when known.
pub fn detail_lines(report: &InputReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(bundle) = &report.bundle {
        lines.push(format!(
            "  evidence: {}",
            printable(&bundle.display().to_string())
        ));
    }
    if let Some(digest) = &report.sha256 {
        lines.push(format!("  sha256: {}", digest.to_hex()));
    }
    if let keyless::verify::Outcome::Verified(v) = &report.outcome {
        if let Some(st) = &v.statement {
            lines.push(format!(
                "  statement: {}, {} subject(s)",
                printable(&st.predicate_type),
                st.subjects.len()
            ));
        }
        if let Some(p) = &v.provenance {
            lines.push(format!(
                "  provenance: {} at {}, built by job {}, signed by job {}",
                printable(&p.project_url),
                printable(&p.commit),
                printable(&p.build_job),
                printable(&p.signing_job)
            ));
        }
    }
    lines
}

#[derive(Serialize)]
struct JsonInput<'a> {
    input: &'a str,
    bundle: Option<String>,
    sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'static str>,
    ok: bool,
    identity: Option<&'a str>,
    issuer: Option<&'a str>,
    log_index: Option<u64>,
    integrated_time: Option<String>,
    timestamps: Vec<String>,
    failed_step: Option<&'static str>,
    reason: Option<String>,
    hint: Option<String>,
    /// A DSSE bundle's verified in-toto statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    predicate_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statement: Option<serde_json::Value>,
    /// The GitLab runner's claims, agreed with the certificate's.
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<&'a keyless::statement::provenance::RunnerClaims>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    exit_code: u8,
    results: Vec<JsonInput<'a>>,
}

/// The `--json` report for all inputs.
pub fn json_report(reports: &[InputReport]) -> String {
    let report = JsonReport {
        ok: exit_code(reports) == 0,
        exit_code: exit_code(reports),
        results: reports.iter().map(json_input).collect(),
    };
    serde_json::to_string_pretty(&report).expect("report serializes")
}

/// One input's entry of the `--json` report, as [`json_report`] prints it
/// inside its `results` (indented, no separator): a run with many inputs
/// writes them one by one ([`json_document`]).
pub fn json_result(report: &InputReport) -> String {
    let item = serde_json::to_string_pretty(&json_input(report)).expect("report serializes");
    let mut out = String::with_capacity(item.len() + 64);
    for (i, line) in item.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str("    ");
        out.push_str(line);
    }
    out
}

/// Writes the joined [`json_result`]s of a report.
pub type WriteResults<'a> = &'a mut dyn FnMut(&mut dyn std::io::Write) -> std::io::Result<()>;

/// The `--json` report around `results` (the [`json_result`]s joined by
/// `",\n"`, written by `write_results`), exactly as [`json_report`]
/// prints it.
pub fn json_document(
    code: u8,
    out: &mut dyn std::io::Write,
    write_results: Option<WriteResults<'_>>,
) -> std::io::Result<()> {
    write!(
        out,
        "{{\n  \"ok\": {},\n  \"exit_code\": {code},\n  \"results\": ",
        code == 0
    )?;
    match write_results {
        None => out.write_all(b"[]\n}"),
        Some(write) => {
            out.write_all(b"[\n")?;
            write(out)?;
            out.write_all(b"\n  ]\n}")
        }
    }
}

/// What became of a listed file, as the reports say it.
pub fn listed_word(check: ListedCheck) -> &'static str {
    match check {
        ListedCheck::Hashed => "hashed",
        ListedCheck::Absent => "absent",
        ListedCheck::NotRead => "not read",
    }
}

fn json_input(r: &InputReport) -> JsonInput<'_> {
    let mut j = JsonInput {
        input: &r.input,
        bundle: r.bundle.as_ref().map(|p| p.display().to_string()),
        sha256: r.sha256.map(|d| d.to_hex()),
        file: r.listed.map(listed_word),
        ok: false,
        identity: None,
        issuer: None,
        log_index: None,
        integrated_time: None,
        timestamps: Vec::new(),
        failed_step: None,
        reason: None,
        hint: r.hint(),
        predicate_type: None,
        statement: None,
        provenance: None,
    };
    match &r.outcome {
        Outcome::Verified(v) => {
            j.ok = true;
            j.identity = v.identity.as_deref();
            j.issuer = v.issuer.as_deref();
            j.log_index = v.log_index;
            j.integrated_time = v.integrated_time.map(|t| t.to_string());
            j.timestamps = v.verified_times.iter().map(|t| t.to_string()).collect();
            if let Some(st) = &v.statement {
                j.predicate_type = Some(&st.predicate_type);
                j.statement = serde_json::from_slice(&st.bytes).ok();
            }
            j.provenance = v.provenance.as_ref();
        }
        Outcome::Failed(f) => {
            j.failed_step = Some(f.step.name());
            j.reason = Some(f.reason.clone());
        }
        Outcome::Error(e) => {
            j.failed_step = Some("input");
            j.reason = Some(e.to_string());
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless::verify::{Failure, Step, Verified};

    fn report(input: &str, outcome: Outcome) -> InputReport {
        InputReport {
            input: input.into(),
            bundle: None,
            sha256: None,
            outcome,
            diagnosis: None,
            listed: None,
        }
    }

    fn verified() -> Outcome {
        Outcome::Verified(Box::new(Verified {
            identity: Some("https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main".into()),
            issuer: Some("https://gitlab.com".into()),
            certificate: None,
            log_index: Some(7),
            integrated_time: Some("2025-01-02T03:04:05Z".parse().unwrap()),
            verified_times: Vec::new(),
            statement: None,
            provenance: None,
        }))
    }

    fn failed() -> Outcome {
        Outcome::Failed(Failure {
            step: Step::Identity,
            reason: "no match".into(),
        })
    }

    #[test]
    fn a_missing_verdict_outranks_a_failure() {
        let error = || Outcome::Error(keyless::Error::Usage("bad".into()));
        assert_eq!(exit_code(&[report("a", verified())]), 0);
        assert_eq!(
            exit_code(&[report("a", verified()), report("b", failed())]),
            1
        );
        assert_eq!(exit_code(&[report("a", error()), report("b", failed())]), 2);
    }

    #[test]
    fn one_line_per_input() {
        assert_eq!(
            text_line(&report("a.whl", verified()), Style::Plain),
            "OK   a.whl  https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main (https://gitlab.com)  Rekor #7 at 2025-01-02T03:04:05Z"
        );
        assert!(text_line(&report("a.whl", failed()), Style::Plain).starts_with("FAIL a.whl  "));
    }

    #[test]
    fn only_the_verdict_word_is_coloured() {
        assert!(
            text_line(&report("a.whl", verified()), Style::Colour)
                .starts_with("\x1b[32mOK\x1b[0m   a.whl  ")
        );
        assert!(
            text_line(&report("a.whl", failed()), Style::Colour)
                .starts_with("\x1b[31mFAIL\x1b[0m a.whl  ")
        );
    }

    #[test]
    fn a_hint_names_its_input_when_there_are_several() {
        let missing = || {
            report(
                "dist/a.whl",
                Outcome::Error(keyless::Error::MissingArtifact {
                    path: "dist/a.whl".into(),
                    source: std::io::ErrorKind::NotFound.into(),
                }),
            )
        };
        let alone = hint_line(&missing(), false).unwrap();
        assert!(alone.starts_with("  hint: check the path"), "{alone}");
        let among = hint_line(&missing(), true).unwrap();
        assert!(
            among.starts_with("  hint: dist/a.whl: check the path"),
            "{among}"
        );
        assert_eq!(hint_line(&report("a", verified()), true), None);
        assert_eq!(hint_line(&report("a", failed()), true), None);
    }

    #[test]
    fn the_json_report_carries_the_exit_code() {
        let doc: serde_json::Value = serde_json::from_str(&json_report(&[
            report("a", verified()),
            report("b", failed()),
        ]))
        .unwrap();
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["exit_code"], 1);
        assert_eq!(doc["results"][0]["log_index"], 7);
        assert_eq!(doc["results"][1]["reason"], "no match");
    }

    #[test]
    fn the_json_report_written_a_result_at_a_time_is_the_same_document() {
        for reports in [
            vec![],
            vec![report("a", verified())],
            vec![report("a", verified()), report("b\"\n", failed())],
        ] {
            let mut out = Vec::new();
            let results: Vec<String> = reports.iter().map(json_result).collect();
            let mut write =
                |w: &mut dyn std::io::Write| w.write_all(results.join(",\n").as_bytes());
            json_document(
                exit_code(&reports),
                &mut out,
                (!reports.is_empty()).then_some(&mut write as _),
            )
            .unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), json_report(&reports));
        }
    }
}
