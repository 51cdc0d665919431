//! `keyless inspect` output, for a person; `--json` serializes the
//! [`Inspection`] itself.

use super::escape::printable;
use keyless::inspect::Inspection;
use std::path::Path;

/// Human-readable rendering: the claims, each on its own line, under a
/// reminder that none of them was verified.
pub fn text(path: &Path, i: &Inspection) -> String {
    let mut out = vec![format!(
        "{}: {:?} (NOT VERIFIED: inspect shows claims; use keyless verify)",
        path.display(),
        i.kind
    )];
    if let Some(m) = &i.media_type {
        out.push(format!("  media type:   {m}"));
    }
    if let Some(c) = &i.content {
        out.push(format!("  content:      {c}"));
    }
    if let Some(c) = &i.certificate {
        out.push(format!(
            "  identity:     {}",
            c.identity.as_deref().unwrap_or("(none)")
        ));
        out.push(format!(
            "  issuer:       {}",
            c.issuer.as_deref().unwrap_or("(none)")
        ));
        out.push(format!(
            "  valid:        {} .. {}",
            c.not_before, c.not_after
        ));
        if !c.extensions.is_empty() {
            out.push("  Fulcio extensions:".into());
            for e in &c.extensions {
                out.push(format!("    {:<40} {}  [{}]", e.name, e.value, e.oid));
            }
        }
    }
    for e in &i.log_entries {
        out.push(format!(
            "  log entry:    #{} {} in {}{}{}{}",
            e.log_index,
            e.kind,
            e.log.as_deref().unwrap_or("an unknown log"),
            e.integrated_time
                .as_ref()
                .map_or(String::new(), |t| format!(", integrated {t}")),
            if e.inclusion_proof {
                ", inclusion proof"
            } else {
                ""
            },
            if e.inclusion_promise { ", SET" } else { "" },
        ));
    }
    if i.rfc3161_timestamps > 0 {
        out.push(format!("  RFC 3161 timestamps: {}", i.rfc3161_timestamps));
    }
    if let Some(p) = &i.predicate_type {
        out.push(format!("  predicate:    {p}"));
    }
    for s in &i.dsse_subjects {
        out.push(format!(
            "  subject:      {} sha256:{}",
            s["name"].as_str().unwrap_or("?"),
            s["digest"]["sha256"].as_str().unwrap_or("?")
        ));
    }
    // Every line carries the file's claims: each made one printable line.
    out.iter()
        .map(|l| printable(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `--json` rendering: the inspection itself, with `"ok": true` as
/// every keyless JSON document has (the file was read; `verified` stays
/// false: none of it is verified).
pub fn json(i: &Inspection) -> String {
    let mut doc = serde_json::to_value(i).expect("inspection serializes");
    doc["ok"] = true.into();
    serde_json::to_string_pretty(&doc).expect("inspection serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless::inspect::{CertificateClaims, Kind};

    #[test]
    fn a_certificate_reads_as_unverified_claims() {
        let i = Inspection {
            verified: false,
            kind: Kind::Certificate,
            media_type: None,
            certificate: Some(CertificateClaims {
                identity: Some("me@example.com".into()),
                issuer: None,
                not_before: "2025-01-01T00:00:00Z".into(),
                not_after: "2025-01-01T00:10:00Z".into(),
                extensions: Vec::new(),
            }),
            log_entries: Vec::new(),
            rfc3161_timestamps: 0,
            content: None,
            dsse_subjects: Vec::new(),
            predicate_type: None,
        };
        assert_eq!(
            text(Path::new("c.pem"), &i),
            "c.pem: Certificate (NOT VERIFIED: inspect shows claims; use keyless verify)\n\
             \x20 identity:     me@example.com\n\
             \x20 issuer:       (none)\n\
             \x20 valid:        2025-01-01T00:00:00Z .. 2025-01-01T00:10:00Z"
        );
        let doc = serde_json::from_str::<serde_json::Value>(&json(&i)).unwrap();
        assert_eq!(doc["kind"], "certificate");
        assert_eq!(
            (&doc["ok"], &doc["verified"]),
            (&true.into(), &false.into())
        );
    }
}
