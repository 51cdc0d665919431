//! Tampering with a valid production bundle: each mutation must fail, at the
//! step that owns the mutated evidence.

use crate::common::{WHEEL_IDENTITY, WHEEL_ISSUER, read_json, verify_identity, wheel};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use std::ffi::OsStr;
use std::path::Path;

fn flip_b64(v: &mut Value, byte: isize) {
    let mut raw = B64.decode(v.as_str().unwrap()).unwrap();
    let i = if byte < 0 {
        raw.len() - (-byte) as usize
    } else {
        byte as usize
    };
    raw[i] ^= 0x01;
    *v = Value::String(B64.encode(raw));
}

fn entry(doc: &mut Value) -> &mut Value {
    &mut doc["verificationMaterial"]["tlogEntries"][0]
}

/// Verify `artifact` with `bundle` for the wheel's identity: (exit code,
/// the result).
fn run(artifact: &Path, bundle: &Path) -> (i32, Value) {
    let args: [&OsStr; 3] = [
        artifact.as_os_str(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
    ];
    let (code, report) = verify_identity(&args, None, WHEEL_IDENTITY, WHEEL_ISSUER);
    (code, report["results"][0].clone())
}

/// The wheel's bundle with `mutate` applied, verified for the wheel.
fn run_mutated(mutate: impl FnOnce(&mut Value)) -> (i32, Value) {
    let w = wheel();
    let mut doc = read_json(&w.bundle);
    mutate(&mut doc);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mutated.sigstore.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    run(&w.artifact, &path)
}

type Mutation = fn(&mut Value);

#[test]
fn every_mutation_fails_at_its_step() {
    let w = wheel();
    let original = read_json(&w.bundle);
    let tmp = tempfile::tempdir().unwrap();

    // The unmodified bundle verifies: otherwise every failure below is moot.
    let (code, result) = run(&w.artifact, &w.bundle);
    assert_eq!(code, 0, "{result:#}");

    let cases: &[(&str, Mutation, &str)] = &[
        (
            "signature",
            |d| flip_b64(&mut d["messageSignature"]["signature"], -8),
            "signature",
        ),
        (
            "certificate",
            |d| {
                flip_b64(
                    &mut d["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"],
                    -8,
                )
            },
            "certificate",
        ),
        (
            "log index",
            |d| {
                let i: u64 = entry(d)["logIndex"].as_str().unwrap().parse().unwrap();
                entry(d)["logIndex"] = Value::String((i + 1).to_string());
            },
            "SET",
        ),
        (
            "integrated time",
            |d| {
                let t: i64 = entry(d)["integratedTime"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                entry(d)["integratedTime"] = Value::String((t - 60).to_string());
            },
            "SET",
        ),
        (
            "root hash",
            |d| flip_b64(&mut entry(d)["inclusionProof"]["rootHash"], 0),
            "checkpoint",
        ),
        (
            "proof hash",
            |d| flip_b64(&mut entry(d)["inclusionProof"]["hashes"][3], 0),
            "inclusion proof",
        ),
        (
            "proof tree size",
            |d| {
                let n: u64 = entry(d)["inclusionProof"]["treeSize"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                entry(d)["inclusionProof"]["treeSize"] = Value::String((n + 1).to_string());
            },
            "checkpoint",
        ),
        (
            "checkpoint origin",
            |d| {
                let env = entry(d)["inclusionProof"]["checkpoint"]["envelope"]
                    .as_str()
                    .unwrap()
                    .replacen("rekor.sigstore.dev - ", "rekor.sigstore.dev - 1", 1);
                entry(d)["inclusionProof"]["checkpoint"]["envelope"] = Value::String(env);
            },
            "checkpoint",
        ),
        (
            "checkpoint signature",
            |d| {
                let env = entry(d)["inclusionProof"]["checkpoint"]["envelope"]
                    .as_str()
                    .unwrap()
                    .to_string();
                // The signature line is "— <name> <base64(keyhint || sig)>".
                let (head, sig) = env.trim_end().rsplit_once(' ').unwrap();
                let mut raw = B64.decode(sig).unwrap();
                let last = raw.len() - 5;
                raw[last] ^= 0x01;
                let env = format!("{head} {}\n", B64.encode(raw));
                entry(d)["inclusionProof"]["checkpoint"]["envelope"] = Value::String(env);
            },
            "checkpoint",
        ),
        (
            "SET",
            |d| {
                flip_b64(
                    &mut entry(d)["inclusionPromise"]["signedEntryTimestamp"],
                    -8,
                )
            },
            "SET",
        ),
        (
            "canonicalized body",
            |d| flip_b64(&mut entry(d)["canonicalizedBody"], -20),
            "SET",
        ),
    ];

    for (name, mutate, step) in cases {
        let mut doc = original.clone();
        mutate(&mut doc);
        assert_ne!(doc, original, "{name}: the mutation changed nothing");
        let path = tmp
            .path()
            .join(format!("{}.sigstore.json", name.replace(' ', "-")));
        std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        let (code, result) = run(&w.artifact, &path);
        assert_eq!(code, 1, "{name}: {result:#}");
        assert_eq!(result["ok"], false, "{name}");
        assert_eq!(result["failed_step"], *step, "{name}: {result:#}");
    }
}

#[test]
fn artifact_with_one_flipped_byte_fails() {
    let w = wheel();
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(&w.artifact).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    let artifact = tmp.path().join("flipped.whl");
    std::fs::write(&artifact, &bytes).unwrap();
    let (code, result) = run(&artifact, &w.bundle);
    assert_eq!(code, 1, "{result:#}");
    assert_eq!(result["failed_step"], "artifact", "{result:#}");
    // The report names the digest of what was actually checked.
    let expected = sigstore_crypto::sha256(&bytes).to_hex();
    assert_eq!(result["sha256"], expected.as_str());
}

#[test]
fn a_duplicated_log_entry_is_refused() {
    let (code, result) = run_mutated(|doc| {
        let e = entry(doc).clone();
        doc["verificationMaterial"]["tlogEntries"]
            .as_array_mut()
            .unwrap()
            .push(e);
    });
    assert_eq!(code, 1);
    assert_eq!(result["failed_step"], "log entry");
    assert!(
        result["reason"]
            .as_str()
            .unwrap()
            .contains("more than once"),
        "{result}"
    );
}

/// The media type is not signed. Relabelling a bundle as v0.1 (whose schema
/// needs only a SET) and dropping its inclusion proof must not pass.
#[test]
fn relabelling_as_v0_1_does_not_shed_the_inclusion_proof() {
    let (code, result) = run_mutated(|doc| {
        doc["mediaType"] =
            Value::String("application/vnd.dev.sigstore.bundle+json;version=0.1".into());
        entry(doc).as_object_mut().unwrap().remove("inclusionProof");
    });
    assert_eq!(code, 1, "{result:#}");
    assert_eq!(result["failed_step"], "inclusion proof");
}

/// A copy of an entry under another (unsigned) log ID is still a duplicate.
#[test]
fn a_duplicate_under_another_log_id_is_refused() {
    let (code, result) = run_mutated(|doc| {
        let mut e = entry(doc).clone();
        e["logId"]["keyId"] = Value::String(B64.encode([7u8; 32]));
        doc["verificationMaterial"]["tlogEntries"]
            .as_array_mut()
            .unwrap()
            .push(e);
    });
    assert_eq!(code, 1, "{result:#}");
    assert_eq!(result["failed_step"], "log entry");
}

/// The Rekor v2 proof fields sigstore-verify 0.15.1 does not look at, each
/// set to something else: zero, the largest index, a neighbour, flipped
/// bits. (name, mutation, the step that must fail).
type NamedMutation = (String, Box<dyn Fn(&mut Value)>, &'static str);

fn rekor_v2_mutations() -> Vec<NamedMutation> {
    let mut cases: Vec<NamedMutation> = Vec::new();
    for (field, step) in [("treeSize", "checkpoint"), ("logIndex", "inclusion proof")] {
        for value in ["0", "9223372036854775807", "+1"] {
            cases.push((
                format!("inclusionProof.{field} = {value}"),
                Box::new(move |d: &mut Value| {
                    let proof = &mut entry(d)["inclusionProof"];
                    let new = if value == "+1" {
                        let n: u64 = proof[field].as_str().unwrap().parse().unwrap();
                        (n + 1).to_string()
                    } else {
                        value.to_string()
                    };
                    proof[field] = Value::String(new);
                }),
                step,
            ));
        }
    }
    cases.push((
        "inclusionProof.rootHash flipped".into(),
        Box::new(|d: &mut Value| flip_b64(&mut entry(d)["inclusionProof"]["rootHash"], 0)),
        "checkpoint",
    ));
    cases.push((
        "inclusionProof.rootHash zero".into(),
        Box::new(|d: &mut Value| {
            entry(d)["inclusionProof"]["rootHash"] = Value::String(B64.encode([0u8; 32]))
        }),
        "checkpoint",
    ));
    cases.push((
        "logId.keyId flipped".into(),
        Box::new(|d: &mut Value| flip_b64(&mut entry(d)["logId"]["keyId"], 0)),
        "checkpoint",
    ));
    cases.push((
        "logId.keyId last byte flipped (same checkpoint key hint)".into(),
        Box::new(|d: &mut Value| flip_b64(&mut entry(d)["logId"]["keyId"], -1)),
        "checkpoint",
    ));
    cases.push((
        "logId.keyId zero".into(),
        Box::new(|d: &mut Value| entry(d)["logId"]["keyId"] = Value::String(B64.encode([0u8; 32]))),
        "checkpoint",
    ));
    cases
}

/// Verify each Rekor v2 mutation of `bundle` with `verify` (the result of
/// verifying a bundle file), after the unmodified bundle.
fn rekor_v2_mutations_fail(bundle: &Path, verify: &impl Fn(&Path) -> (i32, Value)) {
    let original = read_json(bundle);
    assert_eq!(
        entry(&mut original.clone())["kindVersion"]["version"],
        "0.0.2",
        "not a Rekor v2 bundle"
    );
    let (code, result) = verify(bundle);
    assert_eq!(code, 0, "the unmodified bundle: {result:#}");
    let tmp = tempfile::tempdir().unwrap();
    for (i, (name, mutate, step)) in rekor_v2_mutations().into_iter().enumerate() {
        let mut doc = original.clone();
        mutate(&mut doc);
        assert!(doc != original, "{name}: the mutation changed nothing");
        let path = tmp.path().join(format!("{i}.sigstore.json"));
        std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        let (code, result) = verify(&path);
        assert_eq!(code, 1, "{name}: {result:#}");
        assert_eq!(result["ok"], false, "{name}");
        assert_eq!(result["failed_step"], step, "{name}: {result:#}");
    }
}

#[test]
fn rekor_v2_proof_fields_of_a_staging_bundle_are_checked() {
    let dir = crate::common::vectors("sigstore-python");
    let artifact = dir.join("staging-rekor-v2.txt");
    rekor_v2_mutations_fail(&dir.join("staging-rekor-v2.txt.sigstore.json"), &|bundle| {
        let args: [&OsStr; 4] = [
            artifact.as_os_str(),
            "--bundle".as_ref(),
            bundle.as_os_str(),
            "--staging".as_ref(),
        ];
        let (code, report) =
            verify_identity(&args, None, "jku@goto.fi", "https://github.com/login/oauth");
        (code, report["results"][0].clone())
    });
}

#[test]
fn rekor_v2_proof_fields_of_a_testbed_bundle_are_checked() {
    use crate::common::bed::{Bed, GITLAB, TAG_SAN, tag_v1_0};
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), keyless_testbed::JwsAlg::RS256);
    let trust = bed.state_file("trust_config_v2.json");
    // Two entries first (one run each, so in this order): the bundle's
    // entry is not the first, and its proof has hashes.
    for name in ["a.txt", "b.txt", "pkg-1.0.tar.gz"] {
        let artifact = bed.write(name, name);
        bed.keyless_sign(
            &token,
            &trust,
            &[
                artifact.as_os_str(),
                "--rekor-version".as_ref(),
                "2".as_ref(),
            ],
        )
        .assert_code(0);
    }
    let artifact = bed.path("pkg-1.0.tar.gz");
    let signed = bed.path("pkg-1.0.tar.gz.sigstore.json");
    // After the log's genesis entry (#0) and the two others.
    assert_eq!(
        read_json(&signed)["verificationMaterial"]["tlogEntries"][0]["logIndex"],
        "3"
    );
    let verify = |bundle: &Path| {
        let args: [&OsStr; 3] = [
            artifact.as_os_str(),
            "--bundle".as_ref(),
            bundle.as_os_str(),
        ];
        let (code, report) = verify_identity(&args, Some(&trust), TAG_SAN, GITLAB);
        (code, report["results"][0].clone())
    };
    rekor_v2_mutations_fail(&signed, &verify);

    // The log ID of another trusted log (the testbed's Rekor v1), whose key
    // did not sign the checkpoint.
    let mut doc = read_json(&signed);
    let own = entry(&mut doc)["logId"]["keyId"].clone();
    let other = read_json(&trust)["trustedRoot"]["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["logId"]["keyId"].clone())
        .find(|id| *id != own)
        .expect("the trust config names a second log");
    entry(&mut doc)["logId"]["keyId"] = other;
    let path = bed.path("other-log.sigstore.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let (code, result) = verify(&path);
    assert_eq!(code, 1, "{result:#}");
    assert_eq!(result["failed_step"], "checkpoint", "{result:#}");
    assert!(
        result["reason"]
            .as_str()
            .unwrap()
            .contains("not signed by the log the entry names"),
        "{result:#}"
    );
}

/// More than 32 log entries is refused before any cryptography (a bundle
/// must not make the verifier do unbounded work), at the log entry step.
#[test]
fn more_than_32_log_entries_are_refused() {
    let (code, r) = run_mutated(|doc| {
        let first = entry(doc).clone();
        let entries: Vec<Value> = (0..33u64)
            .map(|i| {
                let mut e = first.clone();
                e["logIndex"] = Value::String((1000 + i).to_string());
                e
            })
            .collect();
        doc["verificationMaterial"]["tlogEntries"] = Value::Array(entries);
    });
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["failed_step"], "log entry", "{r:#}");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.contains("33 transparency log entries, more than the 32 allowed"),
        "{r:#}"
    );
}
