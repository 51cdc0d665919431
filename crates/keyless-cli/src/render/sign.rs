//! `keyless sign` and `keyless attest` output: one line per file, or JSON.

use keyless::sign::SignReport;
use serde_json::json;

/// One line per file: `OK   <file>  -> <bundle>  Rekor #<index>` or
/// `FAIL <file>  <reason>`.
pub fn text(report: &SignReport) -> String {
    let mut lines = Vec::new();
    for f in &report.files {
        match (&f.error, &f.outputs) {
            (None, Some(out)) => lines.push(format!(
                "OK   {}  -> {}  Rekor #{}",
                f.path.display(),
                out.bundle.display(),
                f.log_index.map_or("?".into(), |i| i.to_string())
            )),
            (err, _) => lines.push(format!(
                "FAIL {}  {}",
                f.path.display(),
                err.as_deref().unwrap_or("not signed")
            )),
        }
    }
    lines.join("\n")
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
                "log_index": f.log_index,
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
    use keyless::sign::services::Services;
    use keyless::sign::{FileReport, Outputs};
    use std::path::PathBuf;

    fn file(name: &str, error: Option<&str>) -> FileReport {
        FileReport {
            path: PathBuf::from(name),
            sha256: None,
            outputs: error.is_none().then(|| Outputs {
                bundle: PathBuf::from(format!("{name}.sigstore.json")),
                signature: None,
                certificate: None,
            }),
            log_index: error.is_none().then_some(9),
            log_id: None,
            integrated_time: None,
            timestamps: Vec::new(),
            error: error.map(str::to_string),
            rejected_by_verifier: false,
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
            text(&r),
            "OK   a.whl  -> a.whl.sigstore.json  Rekor #9\nFAIL b.whl  refused"
        );
        assert_eq!(exit_code(&r), 1);
        let doc: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["files"][0]["bundle"], "a.whl.sigstore.json");
        assert_eq!(doc["services"]["rekor_version"], 1);
        assert_eq!(exit_code(&report(vec![file("a.whl", None)])), 0);
    }
}
