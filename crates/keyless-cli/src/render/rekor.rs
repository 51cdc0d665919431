//! `keyless rekor` output: text and JSON renderings of the auditor reports,
//! and their exit codes (0 ok, 1 a verification failure or monitor alarm).

use super::escape::printable;
use keyless::rekor::checkpoint::{ConsistencyProof, VerifiedCheckpoint};
use keyless::rekor::entry::{CertificateSummary, Digest, EntryReport};
use keyless::rekor::monitor::{MatchPolicy, MonitorReport, Outcome, Scan};
use keyless::rekor::{LogInfoReport, SearchReport};
use keyless::verify::Failure;
use serde_json::{Value, json};
use std::fmt::Write;
use std::path::PathBuf;

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("{by}{l}\n")
            }
        })
        .collect()
}

fn certificate_json(c: &CertificateSummary) -> Value {
    serde_json::to_value(c).unwrap_or_default()
}

fn certificate_text(out: &mut String, c: &CertificateSummary) {
    let _ = writeln!(
        out,
        "     identity         {}",
        printable(c.identity.as_deref().unwrap_or("(none)"))
    );
    for other in &c.other_identities {
        let _ = writeln!(out, "     also named       {}", printable(other));
    }
    let _ = writeln!(
        out,
        "     issuer           {}",
        printable(c.issuer.as_deref().unwrap_or("(none)"))
    );
    let _ = writeln!(
        out,
        "     valid            {} to {}",
        c.not_before, c.not_after
    );
    for e in &c.extensions {
        let _ = writeln!(
            out,
            "     {:<24} {:<40} {}",
            e.oid,
            printable(e.name),
            printable(&e.value)
        );
    }
}

/// A digest an entry names, as a detail line: the algorithm and hex are
/// the log's strings, escaped (a line break there would start a line of
/// the log's choosing).
fn digest_text(g: &Digest) -> String {
    format!(
        "     {:<16} {}:{}",
        g.what,
        printable(&g.algorithm),
        printable(&g.hex)
    )
}

/// One entry, as text: a verdict line and its details.
pub fn entry_text(r: &EntryReport) -> String {
    let mut out = String::new();
    match &r.verdict {
        Ok(v) => {
            // Only a SET signs the global log index of a v1 entry; the
            // inclusion proof covers the leaf within its tree.
            let note = if v.set_verified {
                ""
            } else {
                "  (log index not signed: no SET)"
            };
            let _ = writeln!(
                out,
                "OK   Rekor entry #{}  {}{note}",
                r.log_index,
                printable(&r.uuid)
            );
        }
        Err(f) => {
            let _ = writeln!(
                out,
                "FAIL Rekor entry #{}  {}",
                r.log_index,
                printable(&r.uuid)
            );
            let _ = writeln!(out, "     {}", printable(&f.to_string()));
        }
    }
    let d = &r.description;
    let _ = writeln!(
        out,
        "     kind             {} {}",
        printable(&d.kind),
        printable(&d.version)
    );
    if let Some(g) = &d.digest {
        let _ = writeln!(out, "{}", digest_text(g));
    }
    match (&r.verdict, r.integrated_time) {
        (Ok(v), Some(t)) if v.set_verified => {
            let _ = writeln!(out, "     integrated time  {t} (signed by the SET)");
        }
        (_, Some(t)) => {
            let _ = writeln!(out, "     integrated time  {t} (not authenticated)");
        }
        _ => {}
    }
    let _ = writeln!(out, "     log ID           {}", r.log_id);
    if let Ok(v) = &r.verdict {
        let _ = writeln!(
            out,
            "     proven           inclusion in tree size {} of {:?}, checkpoint signed by the log{}",
            v.tree_size,
            v.origin,
            if v.set_verified { ", SET" } else { "" }
        );
    }
    if let Some(c) = &r.certificate {
        certificate_text(&mut out, c);
    } else if !d.public_keys.is_empty() {
        let _ = writeln!(out, "     signed with      a public key (no certificate)");
    }
    out.pop();
    out
}

/// One entry, as JSON.
pub fn entry_json(r: &EntryReport) -> Value {
    let d = &r.description;
    let verified = r.verdict.as_ref().ok();
    json!({
        "ok": r.verdict.is_ok(),
        "uuid": r.uuid,
        "log_index": r.log_index,
        "log_id": r.log_id,
        "kind": d.kind,
        "version": d.version,
        "digest": d.digest,
        "integrated_time": r.integrated_time.map(|t| t.to_string()),
        "integrated_time_verified": verified.is_some_and(|v| v.set_verified),
        "log_index_verified": verified.is_some_and(|v| v.set_verified),
        "tree_size": verified.map(|v| v.tree_size),
        "checkpoint_origin": verified.map(|v| v.origin.clone()),
        "certificate": r.certificate.as_ref().map(certificate_json),
        "failed_check": r.verdict.as_ref().err().map(|f| f.step),
        "reason": r.verdict.as_ref().err().map(|f| f.reason.clone()),
    })
}

/// `keyless rekor get`, as text: the entry, then the `--bundle-out` bundle
/// written (or why it was not), when one was asked for.
pub fn get_text(r: &EntryReport, bundle: Option<&Result<PathBuf, Failure>>) -> String {
    let mut t = entry_text(r);
    match bundle {
        Some(Ok(p)) => t += &format!("\n     bundle written   {}", p.display()),
        Some(Err(f)) => {
            t += &format!("\nFAIL the bundle for this entry does not verify, not written: {f}")
        }
        None => {}
    }
    t
}

/// `keyless rekor get`, as JSON: the entry with its `bundle` (and
/// `bundle_error`, which makes it not ok).
pub fn get_json(r: &EntryReport, bundle: Option<&Result<PathBuf, Failure>>) -> Value {
    let mut d = entry_json(r);
    d["bundle"] = match bundle {
        Some(Ok(p)) => json!(p),
        _ => Value::Null,
    };
    if let Some(Err(f)) = bundle {
        d["ok"] = false.into();
        d["bundle_error"] = f.to_string().into();
    }
    d
}

/// The exit code for an entry report.
pub fn entry_exit_code(r: &EntryReport) -> u8 {
    if r.verdict.is_ok() { 0 } else { 1 }
}

/// A search, as text: one line per entry.
pub fn search_text(s: &SearchReport) -> String {
    let mut out = format!(
        "{} entr{} for {}",
        s.total,
        if s.total == 1 { "y" } else { "ies" },
        s.query
    );
    for r in &s.entries {
        out.push('\n');
        match &r.verdict {
            Ok(_) => {
                let who = r
                    .certificate
                    .as_ref()
                    .and_then(|c| c.identity.clone())
                    .unwrap_or_else(|| "(public key)".into());
                let time = r.integrated_time.map(|t| t.to_string()).unwrap_or_default();
                let _ = write!(
                    out,
                    "OK   #{}  {}  {} {}  {}  {}",
                    r.log_index,
                    printable(&r.uuid),
                    printable(&r.description.kind),
                    printable(&r.description.version),
                    printable(&who),
                    time
                );
            }
            Err(f) => {
                let _ = write!(
                    out,
                    "FAIL #{}  {}  {}",
                    r.log_index,
                    printable(&r.uuid),
                    printable(&f.to_string())
                );
            }
        }
    }
    if s.total > s.entries.len() {
        let _ = write!(
            out,
            "\n({} more not fetched; raise --limit to see them)",
            s.total - s.entries.len()
        );
    }
    out
}

/// A search, as JSON.
pub fn search_json(s: &SearchReport) -> Value {
    json!({
        "query": s.query,
        "total": s.total,
        "ok": s.all_ok(),
        "entries": s.entries.iter().map(entry_json).collect::<Vec<_>>(),
        "not_fetched": s.total - s.entries.len(),
    })
}

/// The exit code for a search.
pub fn search_exit_code(s: &SearchReport) -> u8 {
    if s.all_ok() { 0 } else { 1 }
}

fn checkpoint_json(c: &VerifiedCheckpoint) -> Value {
    json!({
        "origin": c.origin,
        "tree_size": c.tree_size,
        "root_hash": c.root_hash.to_hex(),
        "log_id": c.log_id_hex(),
        "checkpoint": c.text,
    })
}

/// Log info, as text.
pub fn log_info_text(r: &LogInfoReport) -> String {
    let mut out = String::new();
    match &r.verdict {
        Ok(c) => {
            let _ = writeln!(
                out,
                "OK   {}  tree size {}, root {}",
                r.url,
                c.tree_size,
                c.root_hash.to_hex()
            );
            let _ = writeln!(out, "     origin     {}", c.origin);
            let _ = writeln!(out, "     signed by  log {}", c.log_id_hex());
        }
        Err(f) => {
            let _ = writeln!(
                out,
                "FAIL {}  tree size {}, root {}",
                r.url,
                r.info.tree_size,
                r.info.root_hash.to_hex()
            );
            let _ = writeln!(out, "     {}", printable(&f.to_string()));
        }
    }
    if !r.info.tree_id.is_empty() {
        let _ = writeln!(out, "     tree ID    {}", r.info.tree_id);
    }
    if r.info.index_offset > 0 {
        let _ = writeln!(
            out,
            "     first index of this shard  {}",
            r.info.index_offset
        );
    }
    let _ = writeln!(out, "     checkpoint:");
    out.push_str(&indent(&r.info.signed_tree_head, "       "));
    out.pop();
    out
}

/// Log info, as JSON.
pub fn log_info_json(r: &LogInfoReport) -> Value {
    json!({
        "ok": r.verdict.is_ok(),
        "url": r.url,
        "tree_size": r.info.tree_size,
        "root_hash": r.info.root_hash.to_hex(),
        "tree_id": r.info.tree_id,
        "index_offset": r.info.index_offset,
        "origin": r.verdict.as_ref().ok().map(|c| c.origin.clone()),
        "log_id": r.verdict.as_ref().ok().map(|c| c.log_id_hex()),
        "checkpoint": r.info.signed_tree_head,
        "failed_check": r.verdict.as_ref().err().map(|f| f.step),
        "reason": r.verdict.as_ref().err().map(|f| f.reason.clone()),
    })
}

/// The exit code for log info.
pub fn log_info_exit_code(r: &LogInfoReport) -> u8 {
    if r.verdict.is_ok() { 0 } else { 1 }
}

fn proof_json(p: &ConsistencyProof) -> Value {
    json!({
        "first_size": p.first_size,
        "last_size": p.last_size,
        "root_hash": p.root_hash.to_hex(),
        "hashes": p.hashes.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
    })
}

fn scan_json(s: &Scan) -> Value {
    json!({
        "from": s.from,
        "to": s.to,
        "end": s.end,
        "remaining": s.end - s.to,
        "unexpected": s.matches.iter().filter(|m| m.unexpected.is_some()).count(),
        "matches": s.matches.iter().map(|m| json!({
            "log_index": m.log_index,
            "uuid": m.uuid,
            "kind": m.kind,
            "integrated_time": m.integrated_time.map(|t| t.to_string()),
            "digest": m.digest,
            "certificate": certificate_json(&m.certificate),
            "source_repository_ref": m.certificate.extension(keyless::cert::SOURCE_REPOSITORY_REF.oid),
            "reasons": m.reasons,
            "unexpected": m.unexpected.is_some(),
            "unexpected_reason": m.unexpected,
        })).collect::<Vec<_>>(),
        // Proven entries that could not be read for identities: each fails
        // the run; the next run does not scan them again.
        "unreadable": s.unreadable.iter().map(|u| json!({
            "log_index": u.log_index,
            "uuid": u.uuid,
            "reason": u.reason,
        })).collect::<Vec<_>>(),
    })
}

fn policy_json(p: &MatchPolicy) -> Value {
    json!({
        "fail_on_match": *p == MatchPolicy::FailOnMatch,
        "expect_ref": match p {
            MatchPolicy::ExpectRef(globs) => globs.iter().map(|g| g.as_str()).collect(),
            _ => Vec::new(),
        },
    })
}

/// A monitor run, as text.
pub fn monitor_text(r: &MonitorReport) -> String {
    let mut out = String::new();
    let state = r.state_path.display();
    match (&r.outcome, &r.current) {
        (Outcome::Initialized, Some(c)) => {
            let _ = writeln!(
                out,
                "OK   initialized: {} at tree size {}, root {}, signed by log {}; stored in {state}",
                r.rekor_url,
                c.tree_size,
                c.root_hash.to_hex(),
                c.log_id_hex()
            );
        }
        (Outcome::Unchanged, Some(c)) => {
            let _ = writeln!(
                out,
                "OK   unchanged: {} still at tree size {}, root {}",
                r.rekor_url,
                c.tree_size,
                c.root_hash.to_hex()
            );
        }
        (Outcome::Grew, Some(c)) => {
            let from = r.stored.as_ref().map_or(0, |s| s.tree_size);
            let proof = r
                .proof
                .as_ref()
                .map(|p| format!("consistency proof of {} hashes verified", p.hashes.len()))
                .unwrap_or_else(|| "from the empty tree".into());
            let _ = writeln!(
                out,
                "OK   consistent: {} grew from tree size {from} to {}, root {} ({proof}); state updated",
                r.rekor_url,
                c.tree_size,
                c.root_hash.to_hex()
            );
        }
        (Outcome::Alarm(f), _) => {
            let _ = writeln!(out, "ALARM {f}");
            let _ = writeln!(out, "  log: {}", r.rekor_url);
            if let Some(s) = &r.stored {
                let _ = writeln!(out, "  stored checkpoint (tree size {}):", s.tree_size);
                out.push_str(&indent(&s.text, "    "));
            }
            let _ = writeln!(out, "  current checkpoint, as the log sent it:");
            out.push_str(&indent(&r.current_text, "    "));
            if let Some(p) = &r.proof {
                let _ = writeln!(
                    out,
                    "  consistency proof from tree size {} to {} (root {}):",
                    p.first_size,
                    p.last_size,
                    p.root_hash.to_hex()
                );
                for h in &p.hashes {
                    let _ = writeln!(out, "    {}", h.to_hex());
                }
            }
            let _ = writeln!(out, "  the state file {state} was left unchanged");
        }
        (_, None) => {}
    }
    if let Some(s) = &r.scan {
        if s.from == s.to && r.outcome == Outcome::Initialized {
            let _ = writeln!(
                out,
                "     watching {} from log index {}",
                r.watching.join(", "),
                s.end
            );
        } else {
            let _ = writeln!(
                out,
                "     scanned log indexes {}..{} for {}: {} match{}",
                s.from,
                s.to,
                r.watching.join(", "),
                s.matches.len(),
                if s.matches.len() == 1 { "" } else { "es" }
            );
        }
        for m in &s.matches {
            let _ = writeln!(
                out,
                "MATCH #{}  {}  {}  {}",
                m.log_index,
                printable(&m.uuid),
                printable(&m.kind),
                m.integrated_time.map(|t| t.to_string()).unwrap_or_default()
            );
            if let Some(g) = &m.digest {
                let _ = writeln!(out, "{}", digest_text(g));
            }
            certificate_text(&mut out, &m.certificate);
            for why in &m.reasons {
                let _ = writeln!(out, "     matched          {}", printable(why));
            }
            if let Some(why) = &m.unexpected {
                let _ = writeln!(out, "     unexpected       {}", printable(why));
            }
        }
        for u in &s.unreadable {
            let _ = writeln!(
                out,
                "UNREADABLE #{}  {}  {}",
                u.log_index,
                printable(&u.uuid),
                printable(&u.reason)
            );
        }
        if s.end > s.to {
            let _ = writeln!(
                out,
                "     {} entries remain to scan; run again to continue",
                s.end - s.to
            );
        }
        let unexpected: Vec<String> = r
            .unexpected()
            .map(|m| format!("#{}", m.log_index))
            .collect();
        if let (false, Some(policy)) = (unexpected.is_empty(), r.policy.describe()) {
            let _ = writeln!(
                out,
                "FAIL {} of {} match{} not allowed by {policy}: {}",
                unexpected.len(),
                s.matches.len(),
                if s.matches.len() == 1 { "" } else { "es" },
                unexpected.join(", ")
            );
        }
        if !s.unreadable.is_empty() {
            let indexes: Vec<String> = s
                .unreadable
                .iter()
                .map(|u| format!("#{}", u.log_index))
                .collect();
            let _ = writeln!(
                out,
                "FAIL {} scanned entr{} could not be read for watched identities (the next run \
                 does not scan {} again): {}",
                indexes.len(),
                if indexes.len() == 1 { "y" } else { "ies" },
                if indexes.len() == 1 { "it" } else { "them" },
                indexes.join(", ")
            );
        }
    }
    out.pop();
    out
}

/// A monitor run, as JSON.
pub fn monitor_json(r: &MonitorReport) -> Value {
    let status = match r.outcome {
        Outcome::Initialized => "initialized",
        Outcome::Unchanged => "unchanged",
        Outcome::Grew => "grew",
        Outcome::Alarm(_) => "alarm",
    };
    let alarm = match &r.outcome {
        Outcome::Alarm(f) => json!({"check": f.step, "reason": f.reason}),
        _ => Value::Null,
    };
    json!({
        "status": status,
        "ok": !r.is_failure(),
        "rekor_url": r.rekor_url,
        "state": r.state_path,
        "stored": r.stored.as_ref().map(checkpoint_json),
        "current": r.current.as_ref().map(checkpoint_json),
        "current_checkpoint": r.current_text,
        "proof": r.proof.as_ref().map(proof_json),
        "alarm": alarm,
        "watching": r.watching,
        "policy": policy_json(&r.policy),
        "scan": r.scan.as_ref().map(scan_json),
    })
}

/// The exit code for a monitor run: 1 for an alarm or a match the policy
/// does not allow.
pub fn monitor_exit_code(r: &MonitorReport) -> u8 {
    if r.is_failure() { 1 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyless::rekor::entry::{Description, VerifiedEntry};

    fn proven() -> EntryReport {
        EntryReport {
            uuid: "ab".repeat(32),
            log_index: 42,
            log_id: "cd".repeat(32),
            integrated_time: Some("2025-01-02T03:04:05Z".parse().unwrap()),
            description: Description {
                kind: "hashedrekord".into(),
                version: "0.0.1".into(),
                ..Description::default()
            },
            certificate: None,
            verdict: Ok(VerifiedEntry {
                log_id: sigstore_types::Sha256Hash::new([0xcd; 32]),
                tree_size: 100,
                origin: "rekor.example - 1".into(),
                set_verified: true,
                integrated_time: Some("2025-01-02T03:04:05Z".parse().unwrap()),
            }),
        }
    }

    #[test]
    fn a_proven_entry_reads_ok() {
        let r = proven();
        let text = entry_text(&r);
        assert!(text.starts_with(&format!("OK   Rekor entry #42  {}\n", r.uuid)));
        assert!(text.contains("integrated time  2025-01-02T03:04:05Z (signed by the SET)"));
        assert!(!text.ends_with('\n'));
        assert_eq!(entry_exit_code(&r), 0);
        let doc = entry_json(&r);
        assert_eq!(doc["ok"], true);
        assert_eq!(doc["tree_size"], 100);
    }

    #[test]
    fn get_adds_the_bundle_written_or_why_not() {
        let r = proven();
        assert_eq!(get_text(&r, None), entry_text(&r));
        assert_eq!(get_json(&r, None)["bundle"], Value::Null);

        let written = Ok(PathBuf::from("out.sigstore.json"));
        assert!(
            get_text(&r, Some(&written)).ends_with("\n     bundle written   out.sigstore.json")
        );
        assert_eq!(get_json(&r, Some(&written))["bundle"], "out.sigstore.json");

        let refused = Err(Failure {
            step: keyless::verify::Step::Signature,
            reason: "bad".into(),
        });
        let text = get_text(&r, Some(&refused));
        assert!(text.contains("\nFAIL the bundle for this entry does not verify, not written: "));
        let doc = get_json(&r, Some(&refused));
        assert_eq!(doc["ok"], false);
        assert_eq!(doc["bundle"], Value::Null);
        assert!(doc["bundle_error"].as_str().unwrap().contains("bad"));
    }
}
