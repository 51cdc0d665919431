//! `keyless verify pypi`'s lines and JSON report. Every string from the
//! index (file names, publisher claims, reasons quoting them) goes through
//! the caller's escaping before a terminal; JSON escapes its own.

use keyless::index::{FileOutcome, FileReport, Publisher};
use keyless::verify::Step;
use serde_json::{Value, json};

/// `OK   <file>  <publisher>  (<n> attestation(s))`, `NONE <file>  ...`,
/// `FAIL <file>  <step>: <reason>` or `ERR  <file>  <error>`.
pub fn text_line(r: &FileReport) -> String {
    match &r.outcome {
        FileOutcome::Verified {
            publishers,
            attestations,
            ..
        } => format!(
            "OK   {}  {}  ({attestations} attestation(s))",
            r.file,
            publishers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        FileOutcome::Unattested => format!(
            "NONE {}  no provenance on the index (allowed by --allow-missing)",
            r.file
        ),
        FileOutcome::Failed(f) => format!("FAIL {}  {}: {}", r.file, f.step, f.reason),
        FileOutcome::Error(e) => format!("ERR  {}  {e}", r.file),
    }
}

/// For a verified file: its publishers as a lock records them,
/// `  attestation-identities = [{kind = "GitLab", ...}]`.
pub fn identities_line(r: &FileReport) -> Option<String> {
    let FileOutcome::Verified { publishers, .. } = &r.outcome else {
        return None;
    };
    Some(format!(
        "     {}=={}: attestation-identities = [{}]",
        r.project,
        r.version,
        publishers
            .iter()
            .map(Publisher::to_toml_inline)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// What to do about a file that did not verify.
pub fn hint(r: &FileReport) -> Option<String> {
    match &r.outcome {
        FileOutcome::Failed(f) => Some(
            match f.step {
                Step::Provenance => format!(
                    "the index serves no usable PEP 740 provenance for {}: ask its publisher to upload attestations (Trusted Publishing), or accept its files unverified with --allow-missing {}",
                    r.file, r.project
                ),
                Step::Publisher => "the index's publisher claim does not match the certificate that signed the attestation: do not install this file".into(),
                Step::Identity => "published by someone other than expected: check --gitlab/--github, the lock's attestation-identities or --publishers (--print-identities shows who published it)".into(),
                Step::Artifact => "the provenance or a pin is not for this file: pin the hashes the index lists for this release (regenerate the requirements or lock)".into(),
                _ => "the provenance does not verify against the trust root: do not install this file".into(),
            },
        ),
        FileOutcome::Error(e) => e.hint().map(str::to_string),
        _ => None,
    }
}

/// The JSON report: `{ok, exit_code, index, files: [...]}`.
pub fn json(reports: &[FileReport], code: u8, index: &str) -> Value {
    let files: Vec<Value> = reports
        .iter()
        .map(|r| {
            let mut v = json!({
                "project": r.project,
                "version": r.version,
                "file": r.file,
                "sha256": r.sha256.map(|d| d.to_hex()),
                "ok": matches!(r.outcome, FileOutcome::Verified { .. } | FileOutcome::Unattested),
                "hint": hint(r),
            });
            let fields = match &r.outcome {
                FileOutcome::Verified {
                    publishers,
                    attestations,
                    first,
                } => json!({
                    "status": "verified",
                    "attestations": attestations,
                    "attestation_identities": publishers,
                    "log_index": first.log_index,
                    "signing_time": first.signing_time().map(|t| t.to_string()),
                }),
                FileOutcome::Unattested => json!({"status": "unattested"}),
                FileOutcome::Failed(f) => json!({
                    "status": "failed",
                    "failed_step": f.step,
                    "reason": f.reason,
                }),
                FileOutcome::Error(e) => json!({
                    "status": "error",
                    "failed_step": "input",
                    "reason": e.to_string(),
                }),
            };
            if let (Some(m), Some(extra)) = (v.as_object_mut(), fields.as_object()) {
                m.extend(extra.clone());
            }
            v
        })
        .collect();
    json!({
        "ok": code == 0,
        "exit_code": code,
        "index": index,
        "files": files,
    })
}
