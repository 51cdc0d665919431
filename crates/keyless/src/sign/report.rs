//! Rendering a signing report: one line per file, or JSON.

use super::SignReport;
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
