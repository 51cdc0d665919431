//! `keyless rekor verify-entry`: an entry proven offline, as the Rekor v1
//! API serves it and as a bundle carries it (Rekor v1 and v2); each tampered
//! field fails at its check; what is not an entry gets no verdict; a
//! hostile UUID fails at the log entry, without a panic.

use super::{GITLAB, Log, PROJECT, raw_entry, start, strs};
use crate::common::read_json;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `keyless rekor verify-entry --json` of `doc` under `trust`: (exit code, report).
fn verify_entry(log: &Log, doc: &Value, trust: &Path) -> (i32, Value) {
    let path = log.write("entry.json", doc.to_string());
    let r = log.rekor_with(trust, &["verify-entry".as_ref(), path.as_os_str()], true);
    (r.code, r.json)
}

#[test]
fn entries_are_proven_offline_and_tampered_ones_fail() {
    let log = start();
    let [(i1, _), (i2, _)]: [(u64, PathBuf); 2] =
        log.sign(&["a.tar.gz", "b.tar.gz"]).try_into().unwrap();
    let v1 = log.trust();

    // A Rekor v1 LogEntry, as the API serves it.
    let entry: Value = serde_json::from_str(&raw_entry(&log, i1)).unwrap();
    let (code, r) = verify_entry(&log, &entry, &v1);
    assert_eq!((code, r["log_index"].as_u64()), (0, Some(i1)), "{r}");
    assert_eq!(r["integrated_time_verified"], true);
    let uuid = entry.as_object().unwrap().keys().next().unwrap().clone();
    let other: Value = serde_json::from_str(&raw_entry(&log, i2)).unwrap();
    let other_body = other.as_object().unwrap().values().next().unwrap()["body"].clone();

    type Tamper = fn(&mut Value, &Value);
    let cases: [(&str, Tamper, &str); 5] = [
        (
            "integrated time",
            |e, _| e["integratedTime"] = (e["integratedTime"].as_i64().unwrap() + 1).into(),
            "set",
        ),
        (
            "log index",
            |e, _| e["logIndex"] = (e["logIndex"].as_u64().unwrap() + 7).into(),
            "set",
        ),
        (
            "proof hash",
            |e, _| e["verification"]["inclusionProof"]["hashes"][0] = "11".repeat(32).into(),
            "inclusion-proof",
        ),
        ("body", |e, other| e["body"] = other.clone(), "log-entry"),
        (
            "checkpoint",
            |e, _| {
                let cp = e["verification"]["inclusionProof"]["checkpoint"]
                    .as_str()
                    .unwrap()
                    .replacen('\n', " \n", 1);
                e["verification"]["inclusionProof"]["checkpoint"] = cp.into();
            },
            "checkpoint",
        ),
    ];
    for (what, tamper, check) in cases {
        let mut doc = entry.clone();
        tamper(doc.get_mut(&uuid).unwrap(), &other_body);
        let (code, r) = verify_entry(&log, &doc, &v1);
        assert_eq!(
            (code, r["failed_check"].as_str()),
            (1, Some(check)),
            "{what}: {r}"
        );
    }

    // Without a SET the entry is still proven by its inclusion proof, but
    // what only the SET signs (integrated time, log index) is reported as
    // unverified, never as verified.
    let mut no_set = entry.clone();
    no_set[&uuid]["verification"]
        .as_object_mut()
        .unwrap()
        .remove("signedEntryTimestamp");
    let (code, r) = verify_entry(&log, &no_set, &v1);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["integrated_time_verified"], false, "{r}");
    assert_eq!(r["log_index_verified"], false, "{r}");

    // A bundle's TransparencyLogEntry: Rekor v1, and Rekor v2 (hashedrekord
    // 0.0.2, Ed25519 C2SP checkpoint, no SET).
    for (v2, trust) in [(false, v1.clone()), (true, log.tb.trust_config_v2_path())] {
        let name = if v2 { "v2.tar.gz" } else { "v1.tar.gz" };
        log.sign_as(GITLAB, PROJECT, &[name], v2);
        let bundle = read_json(&log.path(&format!("{name}.sigstore.json")));
        let tle = bundle["verificationMaterial"]["tlogEntries"][0].clone();
        let (code, r) = verify_entry(&log, &tle, &trust);
        assert_eq!(code, 0, "{r}");
        assert_eq!(r["version"], if v2 { "0.0.2" } else { "0.0.1" });
        assert_eq!(r["integrated_time_verified"], !v2);
        // Another log index: Rekor v1's SET signs it; Rekor v2's must be
        // the inclusion proof's.
        let mut tampered = tle.clone();
        tampered["logIndex"] = "5".into();
        let (code, r) = verify_entry(&log, &tampered, &trust);
        let check = if v2 { "inclusion-proof" } else { "set" };
        assert_eq!((code, r["failed_check"].as_str()), (1, Some(check)), "{r}");
        let mut relabelled = tle.clone();
        relabelled["kindVersion"]["version"] = if v2 { "0.0.1" } else { "0.0.2" }.into();
        let (code, r) = verify_entry(&log, &relabelled, &trust);
        assert_eq!(
            (code, r["failed_check"].as_str()),
            (1, Some("log-entry")),
            "{r}"
        );
    }

    // Not an entry at all: no verdict.
    let (code, r) = verify_entry(&log, &serde_json::json!({"mediaType": "x"}), &v1);
    assert_eq!((code, r["ok"].as_bool()), (2, Some(false)), "{r}");
}

/// An 80-byte UUID with a multi-byte character where the tree ID ends
/// fails at the log entry (it names no leaf hash), never a panic.
#[test]
fn a_hostile_uuid_is_refused_without_panic() {
    let log = start();
    log.sign(&["pkg-1.0.tar.gz"]);
    let raw: Value = serde_json::from_str(&raw_entry(&log, 0)).unwrap();
    let entry = raw.as_object().unwrap().values().next().unwrap().clone();
    let key = format!("{}é{}", "a".repeat(15), "a".repeat(63));
    assert_eq!(key.len(), 80);
    let file = log.write(
        "hostile.json",
        serde_json::json!({ key: entry }).to_string(),
    );
    let run = log.rekor(&strs(&["verify-entry", file.to_str().unwrap()]), true);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    // The UUID does not name the body's leaf hash: the entry is not the
    // one it is filed as.
    assert_eq!(
        (run.code, run.json["failed_check"].as_str()),
        (1, Some("log-entry")),
        "{}",
        run.stdout
    );
    assert!(
        run.json["reason"]
            .as_str()
            .unwrap()
            .contains("the entry is filed under UUID"),
        "{}",
        run.stdout
    );
}

/// A Rekor v2 entry is held to what `keyless verify` holds its bundle to:
/// the checkpoint's signature under the log's name (its origin), and the
/// proof's index, size and root equal to the entry's and the checkpoint's.
/// The real staging entry, offline.
#[test]
fn a_rekor_v2_entry_is_held_to_what_verify_holds_its_bundle_to() {
    let bundle = read_json(
        &crate::common::vectors("sigstore-python").join("staging-rekor-v2.txt.sigstore.json"),
    );
    let tle = bundle["verificationMaterial"]["tlogEntries"][0].clone();
    let dir = tempfile::tempdir().unwrap();
    let verify = |doc: &Value| {
        let path = dir.path().join("entry.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        let r = crate::common::run(
            crate::common::keyless()
                .args(["rekor", "verify-entry", "--staging", "--json"])
                .arg(&path),
        );
        (r.code, r.json())
    };
    let (code, r) = verify(&tle);
    assert_eq!(code, 0, "{r}");

    let envelope = tle["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap();
    let origin = envelope.lines().next().unwrap();
    let mut renamed = tle.clone();
    renamed["inclusionProof"]["checkpoint"]["envelope"] = envelope
        .replace(&format!("— {origin} "), "— evil.example ")
        .into();
    let (code, r) = verify(&renamed);
    assert_eq!(
        (code, r["failed_check"].as_str()),
        (1, Some("checkpoint")),
        "{r}"
    );
    assert!(
        r["reason"].as_str().unwrap().contains("evil.example"),
        "{r}"
    );

    // The proof's index must be the entry's (else it proves another leaf);
    // its size and root must be what the checkpoint signs.
    for (field, value, check, says) in [
        (
            "logIndex",
            Value::from("644"),
            "inclusion-proof",
            "the inclusion proof is for log index 644",
        ),
        (
            "treeSize",
            Value::from("645"),
            "checkpoint",
            "but the proof is for tree size 645",
        ),
        (
            "rootHash",
            Value::from("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            "checkpoint",
            &format!("and root {}", "00".repeat(32)),
        ),
    ] {
        let mut tampered = tle.clone();
        tampered["inclusionProof"][field] = value;
        let (code, r) = verify(&tampered);
        assert_eq!(
            (code, r["failed_check"].as_str()),
            (1, Some(check)),
            "{field}: {r}"
        );
        assert!(r["reason"].as_str().unwrap().contains(says), "{field}: {r}");
    }
}
