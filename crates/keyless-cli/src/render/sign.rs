//! `keyless sign` and `keyless attest` output.
//!
//! One scheme, so that each file is named once: stdout has the result, one
//! line per file (or the `--json` summary); stderr has a line naming the
//! signer, errors, and with `-v` the services, retries as they happen and
//! timings. Strings that came from services or certificates are made
//! printable first: a control character could forge or hide a line.

use super::style::Style;
use keyless::sign::services::Services;
use keyless::sign::{Event, FileReport, SignReport, Timings};
use serde_json::json;
use std::time::Duration;

pub use super::escape::printable;

/// The result line of one file: `OK   <file>  -> <outputs>  Rekor #<index>`
/// or `FAIL <file>  <reason>`, the verdict word in `style`.
fn result_line(f: &FileReport, style: Style) -> String {
    match (&f.error, &f.outputs) {
        (None, Some(out)) => {
            let index = |i: Option<u64>| i.map_or("#?".into(), |i| format!("#{i}"));
            let mut written = out.bundle.display().to_string();
            let mut indexes = index(f.log_index);
            if let Some(att) = &out.attestation {
                written = format!("{written}, {}", att.display());
                indexes = format!("{indexes}, {}", index(f.attestation_log_index));
            }
            format!(
                "{}   {}  -> {written}  Rekor {indexes}",
                style.good("OK"),
                f.path.display()
            )
        }
        (err, _) => format!(
            "{} {}  {}",
            style.bad("FAIL"),
            f.path.display(),
            printable(err.as_deref().unwrap_or("not signed"))
        ),
    }
}

/// One line per file; with `quiet`, only the FAIL lines.
pub fn text(report: &SignReport, quiet: bool, style: Style) -> String {
    report
        .files
        .iter()
        .filter(|f| !quiet || f.error.is_some())
        .map(|f| result_line(f, style))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A duration for people: milliseconds under a second, else seconds.
pub fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Where a service came from, for `-v`.
fn origin(overridden: bool) -> &'static str {
    if overridden {
        "named on the command line or by KEYLESS_*"
    } else {
        "from the signing config"
    }
}

/// `-v`: the services a run uses and where each came from.
pub fn services(
    instance: &str,
    services: &Services,
    overrides: &keyless::sign::Overrides,
) -> Vec<String> {
    vec![
        format!("instance: {instance} (the trust root everything is verified against)"),
        format!(
            "Fulcio: {} ({})",
            services.fulcio,
            origin(overrides.fulcio.is_some())
        ),
        format!(
            "Rekor: {} v{} ({})",
            services.rekor,
            services.rekor_version,
            origin(overrides.rekor.is_some())
        ),
        match &services.tsa {
            Some(tsa) => format!("TSA: {tsa} ({})", origin(overrides.tsa.is_some())),
            None => "TSA: none (signing times come from Rekor v1)".into(),
        },
        match &services.oidc {
            Some(oidc) => format!(
                "OIDC: {oidc} ({}; used for interactive and device logins)",
                origin(overrides.oidc.is_some())
            ),
            None => "OIDC: none (no interactive or device login)".into(),
        },
    ]
}

fn timings(t: &Timings) -> String {
    format!(
        "hash {}, timestamp {}, log {}, verify {}, write {}",
        duration(t.hash),
        duration(t.timestamp),
        duration(t.log),
        duration(t.verify),
        duration(t.write)
    )
}

/// The `-v` line for a run's event.
pub fn event(event: &Event<'_>) -> Option<String> {
    Some(match event {
        Event::Certificate {
            identity,
            issuer,
            elapsed,
        } => format!(
            "certificate for {} ({}) from Fulcio in {}",
            printable(identity),
            printable(issuer),
            duration(*elapsed)
        ),
        Event::CertificateChecked { elapsed } => format!(
            "certificate verified against the trust root (chain, SCT, a TSA timestamp) in {}",
            duration(*elapsed)
        ),
        Event::Retry(r) => format!(
            "{} attempt {} failed: {}; retrying in {}",
            r.what,
            r.attempt,
            printable(&r.reason),
            duration(r.delay)
        ),
        Event::FileDone(f) => match &f.error {
            None => format!("signed {}: {}", f.path.display(), timings(&f.timings)),
            Some(e) => format!(
                "FAILED {}: {} ({})",
                f.path.display(),
                printable(e),
                timings(&f.timings)
            ),
        },
        _ => return None,
    })
}

/// The `--json` summary.
pub fn json(report: &SignReport) -> String {
    let files: Vec<_> = report
        .files
        .iter()
        .map(|f| {
            json!({
                "path": f.path.display().to_string(),
                "ok": f.error.is_none(),
                "sha256": f.sha256.map(|d| d.to_hex()),
                "bundle": f.outputs.as_ref().map(|o| o.bundle.display().to_string()),
                "signature": f.outputs.as_ref().and_then(|o| o.signature.as_ref()).map(|p| p.display().to_string()),
                "certificate": f.outputs.as_ref().and_then(|o| o.certificate.as_ref()).map(|p| p.display().to_string()),
                "attestation": f.outputs.as_ref().and_then(|o| o.attestation.as_ref()).map(|p| p.display().to_string()),
                "log_index": f.log_index,
                "attestation_log_index": f.attestation_log_index,
                "log_id": f.log_id,
                "integrated_time": f.integrated_time.map(|t| t.to_string()),
                "timestamps": f.timestamps.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                "error": f.error,
            })
        })
        .collect();
    let doc = json!({
        "ok": report.all_ok(),
        "identity": report.identity,
        "issuer": report.issuer,
        "services": {
            "fulcio": report.services.fulcio,
            "rekor": report.services.rekor,
            "rekor_version": report.services.rekor_version,
            "tsa": report.services.tsa,
            "oidc": report.services.oidc,
        },
        "files": files,
    });
    serde_json::to_string_pretty(&doc).expect("report serializes")
}

/// The exit status for a signing run that got as far as signing: 0 every
/// file signed, 1 some file failed.
pub fn exit_code(report: &SignReport) -> u8 {
    if report.all_ok() { 0 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless::sign::Outputs;
    use std::path::PathBuf;

    fn file(name: &str, error: Option<&str>) -> FileReport {
        FileReport {
            path: PathBuf::from(name),
            sha256: None,
            outputs: error.is_none().then(|| Outputs {
                bundle: PathBuf::from(format!("{name}.sigstore.json")),
                signature: None,
                certificate: None,
                attestation: None,
            }),
            log_index: error.is_none().then_some(9),
            attestation_log_index: None,
            log_id: None,
            integrated_time: None,
            timestamps: Vec::new(),
            error: error.map(str::to_string),
            rejected_by_verifier: false,
            timings: Timings::default(),
        }
    }

    fn report(files: Vec<FileReport>) -> SignReport {
        SignReport {
            identity: "me@example.com".into(),
            issuer: "https://issuer.example".into(),
            services: Services {
                fulcio: "https://fulcio.example".into(),
                rekor: "https://rekor.example".into(),
                rekor_version: 1,
                tsa: None,
                oidc: None,
            },
            files,
        }
    }

    #[test]
    fn one_line_per_file_and_1_when_any_failed() {
        let r = report(vec![file("a.whl", None), file("b.whl", Some("refused"))]);
        assert_eq!(
            text(&r, false, Style::Plain),
            "OK   a.whl  -> a.whl.sigstore.json  Rekor #9\nFAIL b.whl  refused"
        );
        assert_eq!(text(&r, true, Style::Plain), "FAIL b.whl  refused");
        assert_eq!(exit_code(&r), 1);
        let doc: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["files"][0]["bundle"], "a.whl.sigstore.json");
        assert_eq!(doc["services"]["rekor_version"], 1);
        assert_eq!(exit_code(&report(vec![file("a.whl", None)])), 0);
    }

    #[test]
    fn a_bundle_and_its_attestation_on_one_line() {
        let mut f = file("a.whl", None);
        if let Some(o) = f.outputs.as_mut() {
            o.attestation = Some(PathBuf::from("a.whl.publish.attestation"));
        }
        f.attestation_log_index = Some(10);
        assert_eq!(
            text(&report(vec![f]), false, Style::Plain),
            "OK   a.whl  -> a.whl.sigstore.json, a.whl.publish.attestation  Rekor #9, #10"
        );
    }

    #[test]
    fn service_words_cannot_forge_lines() {
        let f = file("a.whl", Some("Rekor: 400 \nOK   b.whl  -> forged\u{1b}[2K"));
        let out = text(&report(vec![f]), false, Style::Plain);
        let coloured = text(&report(vec![file("c.whl", None)]), false, Style::Colour);
        assert!(
            coloured.starts_with("\u{1b}[32mOK\u{1b}[0m   c.whl"),
            "{coloured:?}"
        );
        assert_eq!(out.lines().count(), 1, "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
        assert_eq!(duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(duration(Duration::from_millis(15)), "15 ms");
    }
}
