//! `--junit FILE`: a JUnit XML report for CI (GitLab's
//! `artifacts:reports:junit`, Jenkins), one test case per input of `verify`
//! and `verify gitlab`, one per log entry of `rekor search`.
//!
//! The format is the common Jenkins/GitLab one (`testsuites` > `testsuite` >
//! `testcase` with `failure`, `error` or `system-out`), checked by a test
//! against the schema in `tests/junit/junit.xsd`. A verification failure is a
//! `failure` whose `type` is the failed step; an input that could not be
//! checked at all (missing file, unreadable bundle) is an `error`, as its
//! exit status 2 differs from a failure's 1. A command that stops before
//! checking any input (a bad option, an unreadable trust root) still writes
//! a report: one `error` case saying why ([`command_error`]), so the CI job
//! has a report to upload. The file is written atomically, so a CI job never
//! uploads half a report.
//!
//! GitLab parses reports with ActiveSupport's `Hash.from_xml`, which reads
//! a `type` attribute as a type cast: `symbol` and `yaml` make it reject the
//! whole report, `integer`, `boolean`... rewrite the element. A step name
//! never goes out as one of those ([`type_attr`]).

use crate::run::spool::Spool;
use keyless::rekor::SearchReport;
use keyless::verify::{InputReport, Outcome};
use std::fmt::Write as _;
use std::path::Path;

/// One test case: what was checked and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// What was checked: an input, or a log entry.
    pub name: String,
    /// How it went.
    pub verdict: Verdict,
}

/// A test case's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Verified.
    Passed {
        /// By whom and where, one fact a line.
        detail: String,
    },
    /// Verification failed.
    Failed {
        /// The failed step's name.
        step: &'static str,
        /// Why.
        reason: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// No verdict: the input could not be checked.
    Error {
        /// Why.
        reason: String,
        /// What to do about it.
        hint: Option<String>,
    },
}

/// `verify`'s reports as test cases, one per input.
pub fn verify_cases(reports: &[InputReport]) -> Vec<Case> {
    reports.iter().map(verify_case).collect()
}

/// One input's report as a test case.
pub fn verify_case(r: &InputReport) -> Case {
    Case {
        name: r.input.clone(),
        verdict: match &r.outcome {
            Outcome::Verified(v) => {
                let mut detail = match (&v.identity, &v.issuer) {
                    (Some(id), Some(iss)) => format!("identity: {id}\nissuer: {iss}"),
                    (Some(id), None) => format!("identity: {id}"),
                    _ => "public key".to_string(),
                };
                if let Some(index) = v.log_index {
                    let _ = write!(detail, "\nRekor log index: {index}");
                }
                if let Some(time) = v.signing_time() {
                    let _ = write!(detail, "\nsigned at: {time}");
                }
                if let Some(check) = r.listed {
                    let _ = write!(detail, "\nfile: {}", super::verify::listed_word(check));
                }
                Verdict::Passed { detail }
            }
            Outcome::Failed(f) => Verdict::Failed {
                step: f.step.name(),
                reason: f.reason.clone(),
                hint: r.hint(),
            },
            Outcome::Error(e) => Verdict::Error {
                reason: e.to_string(),
                hint: r.hint(),
            },
        },
    }
}

/// The one case of a command that checked no input: named after the
/// command, an error with the reason and hint.
pub fn command_error(suite: &str, reason: String, hint: Option<String>) -> Case {
    Case {
        name: suite.to_string(),
        verdict: Verdict::Error { reason, hint },
    }
}

/// `rekor search`'s entries as test cases, one per entry fetched, named
/// `#<log index> <uuid>`.
pub fn search_cases(s: &SearchReport) -> Vec<Case> {
    s.entries
        .iter()
        .map(|e| Case {
            name: format!("#{} {}", e.log_index, e.uuid),
            verdict: match &e.verdict {
                Ok(_) => {
                    let who = e
                        .certificate
                        .as_ref()
                        .and_then(|c| c.identity.clone())
                        .unwrap_or_else(|| "(public key)".into());
                    let mut detail = format!(
                        "{} {}\nidentity: {who}",
                        e.description.kind, e.description.version
                    );
                    if let Some(t) = e.integrated_time {
                        let _ = write!(detail, "\nintegrated at: {t}");
                    }
                    Verdict::Passed { detail }
                }
                Err(f) => Verdict::Failed {
                    step: f.step.name(),
                    reason: f.reason.clone(),
                    hint: None,
                },
            },
        })
        .collect()
}

/// The JUnit document for `cases`, in one suite named `suite` (the
/// command, e.g. `keyless verify gitlab`).
pub fn document(suite: &str, cases: &[Case]) -> String {
    let mut body = String::new();
    let mut totals = Totals::default();
    for case in cases {
        totals.count(case);
        body.push_str(&case_xml(suite, case));
    }
    let mut out = head(suite, &totals);
    out.push_str(&body);
    out.push_str(TAIL);
    out
}

/// How many cases there are of each verdict.
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    tests: usize,
    failures: usize,
    errors: usize,
}

impl Totals {
    fn count(&mut self, case: &Case) {
        self.tests += 1;
        match case.verdict {
            Verdict::Passed { .. } => {}
            Verdict::Failed { .. } => self.failures += 1,
            Verdict::Error { .. } => self.errors += 1,
        }
    }
}

/// The document's opening, up to its first case.
fn head(suite: &str, t: &Totals) -> String {
    let totals = format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\"",
        t.tests, t.failures, t.errors
    );
    let suite = attr(suite);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"{suite}\" {totals}>");
    let _ = writeln!(out, "  <testsuite name=\"{suite}\" {totals} skipped=\"0\">");
    out
}

/// The document's end, after its last case.
const TAIL: &str = "  </testsuite>\n</testsuites>\n";

/// One case's element, on a line of its own.
fn case_xml(suite: &str, case: &Case) -> String {
    let suite = attr(suite);
    let mut out = String::new();
    // GitLab shows `classname` as the suite column: the command.
    let _ = write!(
        out,
        "    <testcase classname=\"{suite}\" name=\"{}\">",
        attr(&case.name)
    );
    match &case.verdict {
        Verdict::Passed { detail } => {
            let _ = write!(out, "<system-out>{}</system-out>", text(detail));
        }
        Verdict::Failed { step, reason, hint } => {
            let _ = write!(
                out,
                "<failure type=\"{}\" message=\"{}\">{}</failure>",
                attr(&type_attr(step)),
                attr(&format!("{step}: {reason}")),
                text(&body(step, reason, hint.as_deref()))
            );
        }
        Verdict::Error { reason, hint } => {
            let _ = write!(
                out,
                "<error type=\"input\" message=\"{}\">{}</error>",
                attr(reason),
                text(&body("input", reason, hint.as_deref()))
            );
        }
    }
    out.push_str("</testcase>\n");
    out
}

/// A report written a case at a time, for runs too long to hold every
/// case in memory (a checksum list): the cases go to a [`Spool`], and the
/// document, whose opening counts them, is written at the end.
pub struct Report {
    suite: String,
    totals: Totals,
    cases: Spool,
}

impl Report {
    /// A report for the suite named `suite`, with no case yet.
    pub fn new(suite: &str) -> Self {
        Self {
            suite: suite.to_string(),
            totals: Totals::default(),
            cases: Spool::default(),
        }
    }

    /// One more case.
    pub fn add(&mut self, case: &Case) -> std::io::Result<()> {
        self.totals.count(case);
        self.cases.push(case_xml(&self.suite, case).as_bytes())
    }

    /// Write the document to `path`: a temporary file, then a rename.
    pub fn write(mut self, path: &Path) -> keyless::Result<()> {
        use std::io::Write as _;
        let head = head(&self.suite, &self.totals);
        keyless::files::write_atomic_with(path, |f| {
            let mut out = std::io::BufWriter::new(f);
            out.write_all(head.as_bytes())?;
            self.cases.copy_to(&mut out)?;
            out.write_all(TAIL.as_bytes())?;
            out.flush()
        })
        .map_err(|source| keyless::Error::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// The `type` names ActiveSupport's `Hash.from_xml` (GitLab's JUnit
/// parser) casts an element by (`ActiveSupport::XmlMini` and
/// `Hash#typecast_xml_value`); `symbol` and `yaml` are refused outright.
const ACTIVESUPPORT_TYPES: &[&str] = &[
    "array",
    "base64Binary",
    "binary",
    "boolean",
    "date",
    "dateTime",
    "datetime",
    "decimal",
    "double",
    "file",
    "float",
    "hash",
    "integer",
    "string",
    "symbol",
    "yaml",
];

/// A `type` attribute for step `name`: the name, unless GitLab's parser
/// would take it for a type cast.
fn type_attr(name: &str) -> String {
    if ACTIVESUPPORT_TYPES.contains(&name) {
        format!("{name} step")
    } else {
        name.to_string()
    }
}

/// Write the report to `path`: a temporary file, then a rename.
pub fn write(path: &Path, suite: &str, cases: &[Case]) -> keyless::Result<()> {
    keyless::files::write_atomic(path, document(suite, cases).as_bytes()).map_err(|source| {
        keyless::Error::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

fn body(step: &str, reason: &str, hint: Option<&str>) -> String {
    let mut b = format!("failed step: {step}\nreason: {reason}");
    if let Some(hint) = hint {
        let _ = write!(b, "\nhint: {hint}");
    }
    b
}

/// Element text: markup escaped, and the characters XML 1.0 cannot carry at
/// all (other C0 controls, which an untrusted file name or certificate may
/// hold) written as `\u{..}` so the document stays well formed.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\t' => out.push(c),
            c if is_xml_char(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    out
}

/// Attribute text: as [`text`], and quotes and line breaks as character
/// references (a parser would otherwise fold a newline into a space).
fn attr(s: &str) -> String {
    text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\t', "&#9;")
}

/// XML 1.0's `Char` production, less `\r` (which a parser would drop).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cases() -> Vec<Case> {
        vec![
            Case {
                name: "dist/a.whl".into(),
                verdict: Verdict::Passed {
                    detail: "identity: x".into(),
                },
            },
            Case {
                name: "b\"<&>\u{1b}\r.whl".into(),
                verdict: Verdict::Failed {
                    step: "identity",
                    reason: "SAN is \"x\"\nnot y".into(),
                    hint: Some("pin x".into()),
                },
            },
            Case {
                name: "c".into(),
                verdict: Verdict::Error {
                    reason: "c: not found".into(),
                    hint: None,
                },
            },
        ]
    }

    #[test]
    fn a_report_written_a_case_at_a_time_is_the_same_document() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.xml");
        let mut report = Report::new("keyless verify");
        for case in cases() {
            report.add(&case).unwrap();
        }
        report.write(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            document("keyless verify", &cases())
        );
    }

    #[test]
    fn counts_and_one_case_per_input() {
        let doc = document("keyless verify", &cases());
        assert!(doc.contains(
            "<testsuites name=\"keyless verify\" tests=\"3\" failures=\"1\" errors=\"1\">"
        ));
        assert_eq!(doc.matches("<testcase ").count(), 3);
        assert!(doc.contains("<failure type=\"identity\" message=\"identity: SAN is &quot;x&quot;&#10;not y\">failed step: identity\nreason: SAN is \"x\"\nnot y\nhint: pin x</failure>"), "{doc}");
        assert!(doc.contains("<error type=\"input\" message=\"c: not found\">"));
    }

    #[test]
    fn no_type_attribute_is_an_activesupport_type_cast() {
        use keyless::failure::Step;
        // Every step there is (keep in step with `Step`).
        let steps = [
            Step::Bundle,
            Step::SigningTime,
            Step::Timestamp,
            Step::Certificate,
            Step::Sct,
            Step::InclusionProof,
            Step::Checkpoint,
            Step::Set,
            Step::IntegratedTime,
            Step::LogEntry,
            Step::Signature,
            Step::Artifact,
            Step::Identity,
            Step::ConsistencyProof,
            Step::Rollback,
            Step::Fork,
            Step::LogIdentity,
            Step::SearchResult,
            Step::MonitorState,
        ];
        let cases: Vec<Case> = steps
            .iter()
            .map(|s| Case {
                name: "x".into(),
                verdict: Verdict::Failed {
                    step: s.name(),
                    reason: "r".into(),
                    hint: None,
                },
            })
            .chain(std::iter::once(command_error(
                "keyless verify",
                "e".into(),
                None,
            )))
            .collect();
        let doc = document("keyless verify", &cases);
        let types: Vec<&str> = doc
            .split(" type=\"")
            .skip(1)
            .map(|rest| rest.split_once('"').unwrap().0)
            .collect();
        assert_eq!(types.len(), steps.len() + 1);
        for t in &types {
            assert!(!ACTIVESUPPORT_TYPES.contains(t), "{t}");
        }
        // The steps keep their names; a name that would be a cast does not.
        assert_eq!(types[0], "bundle");
        assert_eq!(type_attr("symbol"), "symbol step");
        assert_eq!(type_attr("yaml"), "yaml step");
        assert_eq!(type_attr("integer"), "integer step");
    }

    #[test]
    fn untrusted_names_cannot_break_the_document() {
        let doc = document("keyless verify", &cases());
        assert!(
            doc.contains("name=\"b&quot;&lt;&amp;&gt;\\u{1b}\\u{d}.whl\""),
            "{doc}"
        );
        assert!(!doc.contains('\u{1b}') && !doc.contains('\r'));
    }
}
