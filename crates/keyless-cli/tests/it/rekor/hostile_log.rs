//! A lying Rekor v1 log: a stand-in on 127.0.0.1 serving the testbed's
//! genuine answers reshuffled or doctored. `keyless rekor get`, `search`,
//! `verify-entry` and `log-info` must fail each lie at its check: a proof
//! into another tree under a genuine checkpoint (checkpoint), another
//! genuine entry than the one asked for (log entry), a search result
//! without what was searched for (search result), a checkpoint signed by
//! another log of the trust root (checkpoint), an entry without a SET where
//! `get` requires one (SET), a tree head signed by a retired key
//! (checkpoint).

use super::{Log, Reply, raw_entry, start, strs};
use crate::common::serve::{Served, serve};
use crate::common::{read_json, unb64};
use base64::Engine;
use keyless_testbed::keys::{StoredKey, TestKey};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A lying log: each request whose path and query is a key of `answers` is
/// answered 200 with that JSON, whatever the method; anything else is a
/// 404.
fn lying_log(answers: Vec<(String, Value)>) -> Served {
    let answers: Arc<HashMap<String, String>> = Arc::new(
        answers
            .into_iter()
            .map(|(path, v)| (path, v.to_string()))
            .collect(),
    );
    serve(axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let answer = uri
            .path_and_query()
            .and_then(|p| answers.get(p.as_str()).cloned());
        async move {
            let json = [(axum::http::header::CONTENT_TYPE, "application/json")];
            match answer {
                Some(body) => (axum::http::StatusCode::OK, json, body),
                None => (
                    axum::http::StatusCode::NOT_FOUND,
                    json,
                    r#"{"code":404,"message":"not here"}"#.to_string(),
                ),
            }
        }
    }))
}

/// The path that asks for the entry at `index`.
fn by_index(index: u64) -> String {
    format!("/api/v1/log/entries?logIndex={index}")
}

/// The testbed's answer for the entry at `index`, parsed.
fn entry_answer(log: &Log, index: u64) -> Value {
    serde_json::from_str(&raw_entry(log, index)).unwrap()
}

/// The one entry inside a Rekor v1 answer `{uuid: {...}}`, to doctor.
fn inner(answer: &mut Value) -> &mut Value {
    answer.as_object_mut().unwrap().values_mut().next().unwrap()
}

/// The UUID (entry ID) an answer files its entry under.
fn uuid_of(answer: &Value) -> String {
    answer.as_object().unwrap().keys().next().unwrap().clone()
}

/// `keyless rekor <args> --rekor-url <url> --timeout 10 --json`.
fn rekor_at(log: &Log, url: &str, args: &[&str]) -> Reply {
    let mut args = args.to_vec();
    args.extend(["--rekor-url", url, "--timeout", "10"]);
    log.rekor(&strs(&args), true)
}

/// `keyless rekor verify-entry --json` of `doc` under the testbed's trust.
fn verify_entry(log: &Log, doc: &Value) -> Reply {
    let path = log.write("entry.json", doc.to_string());
    log.rekor(&["verify-entry".as_ref(), path.as_os_str()], true)
}

/// Assert a verdict: exit 1, the failed check, a reason saying `says`.
fn assert_fails(r: &Reply, check: &str, says: &str, what: &str) {
    assert_eq!(
        (r.code, r.json["failed_check"].as_str()),
        (1, Some(check)),
        "{what}: {}",
        r.stdout
    );
    let reason = r.json["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(says), "{what}: {reason}");
}

/// Assert `get` (or `verify-entry`) proved the entry: the control that
/// shows the stand-in log serves what the testbed would.
fn assert_proven(r: &Reply, what: &str) {
    assert_eq!(
        (r.code, r.json["ok"].as_bool()),
        (0, Some(true)),
        "{what}: {}",
        r.stdout
    );
}

#[test]
fn a_proof_into_another_tree_under_a_genuine_checkpoint_fails_at_checkpoint() {
    let log = start();
    let signed = log.sign_one("pkg-1.0.tar.gz");
    let index = signed.index;
    // The answer while the tree held our entry last (size 2), then after
    // it grew (size 3).
    let then = entry_answer(&log, index);
    log.sign(&["pkg-1.1.tar.gz"]);
    let now = entry_answer(&log, index);
    let proof = |a: &Value| a[uuid_of(a)]["verification"]["inclusionProof"].clone();
    assert_eq!(
        (
            proof(&then)["treeSize"].as_u64(),
            proof(&now)["treeSize"].as_u64()
        ),
        (Some(2), Some(3))
    );

    // A proof into the grown tree, under the genuine checkpoint of the
    // smaller one: each is genuine, they do not describe the same tree.
    let mut grown = now.clone();
    inner(&mut grown)["verification"]["inclusionProof"]["checkpoint"] =
        proof(&then)["checkpoint"].clone();

    // A proof into a forked tree of the same size (the other leaves changed:
    // the proof verifies to the fork's root), under the genuine checkpoint
    // of that size.
    let size = proof(&now)["treeSize"].as_u64().unwrap();
    let mut fork = keyless_testbed::merkle::MerkleTree::new();
    for k in 0..size {
        let a = entry_answer(&log, k);
        let body = unb64(a[uuid_of(&a)]["body"].as_str().unwrap());
        fork.append(if k == index { &body } else { b"a forked leaf" });
    }
    let hex = |h: &sigstore_types::Sha256Hash| Value::from(h.to_hex());
    let mut forked = now.clone();
    let p = &mut inner(&mut forked)["verification"]["inclusionProof"];
    p["rootHash"] = hex(&fork.root_at(size).unwrap());
    p["hashes"] = fork
        .inclusion_proof(index, size)
        .unwrap()
        .iter()
        .map(hex)
        .collect();
    assert_ne!(p["rootHash"], proof(&now)["rootHash"]);

    // The control: the genuine answers are proven, offline and from the
    // stand-in log.
    for genuine in [&then, &now] {
        assert_proven(&verify_entry(&log, genuine), "verify-entry");
        let fake = lying_log(vec![(by_index(index), genuine.clone())]);
        let r = rekor_at(&log, &fake.url, &["get", "--log-index", &index.to_string()]);
        assert_proven(&r, "get");
    }
    for (what, lie) in [("grown", grown), ("forked", forked)] {
        assert_fails(
            &verify_entry(&log, &lie),
            "checkpoint",
            "but the proof is for tree size",
            what,
        );
        let fake = lying_log(vec![(by_index(index), lie)]);
        let r = rekor_at(&log, &fake.url, &["get", "--log-index", &index.to_string()]);
        assert_fails(&r, "checkpoint", "but the proof is for tree size", what);
    }
}

#[test]
fn a_log_answering_with_another_genuine_entry_fails_at_log_entry() {
    let log = start();
    let asked = log.sign_one("pkg-1.0.tar.gz");
    let other = log.sign_one("pkg-1.1.tar.gz");
    let answer = entry_answer(&log, other.index);
    let uuid_path = |id: &str| format!("/api/v1/log/entries/{id}");

    // The control: asked for the entry it serves, the stand-in is believed.
    let fake = lying_log(vec![
        (by_index(other.index), answer.clone()),
        (uuid_path(&other.uuid), answer.clone()),
    ]);
    let r = rekor_at(
        &log,
        &fake.url,
        &["get", "--log-index", &other.index.to_string()],
    );
    assert_proven(&r, "by index");
    assert_proven(
        &rekor_at(&log, &fake.url, &["get", "--uuid", &other.uuid]),
        "by UUID",
    );

    // Asked for one entry (by index, entry ID or bare UUID), it answers with
    // another, genuine and proven in the same log.
    let fake = lying_log(vec![
        (by_index(asked.index), answer.clone()),
        (uuid_path(&asked.uuid), answer.clone()),
        (uuid_path(&asked.uuid[16..]), answer.clone()),
    ]);
    let r = rekor_at(
        &log,
        &fake.url,
        &["get", "--log-index", &asked.index.to_string()],
    );
    assert_fails(
        &r,
        "log-entry",
        &format!("asked for log index {}", asked.index),
        "by index",
    );
    for id in [asked.uuid.as_str(), &asked.uuid[16..]] {
        let r = rekor_at(&log, &fake.url, &["get", "--uuid", id]);
        assert_fails(&r, "log-entry", &format!("asked for UUID {id}"), id);
    }
}

#[test]
fn search_results_without_what_was_searched_for_fail_at_search_result() {
    let log = start();
    let wanted = log.sign_one("pkg-1.0.tar.gz");
    // Another `keyless sign` run: another artifact, another certificate.
    let other = log.sign_one("pkg-1.1.tar.gz");
    let cert = log.write(
        "signer.crt",
        sigstore_types::DerCertificate::new(crate::common::bundle_certificate_der(&wanted.bundle))
            .to_pem(),
    );
    let queries: [[&str; 3]; 2] = [
        ["search", "--sha256", &wanted.digest],
        ["search", "--public-key", cert.to_str().unwrap()],
    ];
    // A log whose index lists `listed`, and which serves it genuinely.
    let index_listing = |listed: &super::Signed| {
        lying_log(vec![
            (
                "/api/v1/index/retrieve".into(),
                Value::from(vec![listed.uuid.clone()]),
            ),
            (
                format!("/api/v1/log/entries/{}", listed.uuid),
                entry_answer(&log, listed.index),
            ),
        ])
    };

    let honest = index_listing(&wanted);
    for query in &queries {
        let r = rekor_at(&log, &honest.url, query);
        assert_eq!(
            (r.code, r.json["ok"].as_bool()),
            (0, Some(true)),
            "{}",
            r.stdout
        );
        assert_eq!(r.json["entries"][0]["log_index"], wanted.index);
    }
    let lying = index_listing(&other);
    for (query, says) in queries.iter().zip([
        format!("not sha256:{}", wanted.digest),
        "no key or certificate in the entry is the one searched for".into(),
    ]) {
        let r = rekor_at(&log, &lying.url, query);
        assert_eq!(
            (r.code, r.json["ok"].as_bool()),
            (1, Some(false)),
            "{}",
            r.stdout
        );
        let e = &r.json["entries"][0];
        assert_eq!(
            (e["log_index"].as_u64(), e["failed_check"].as_str()),
            (Some(other.index), Some("search-result")),
            "{query:?}: {e}"
        );
        let reason = e["reason"].as_str().unwrap();
        assert!(reason.contains(&says), "{query:?}: {reason}");
    }
}

/// The testbed's other transparency log than `log_id_hex` (its Rekor v2 log
/// for an entry of its Rekor v1 log, and the other way round): its signing
/// key, from the testbed's state, and its log ID, from the trust root.
fn other_trusted_log(log: &Log, log_id_hex: &str) -> (TestKey, Vec<u8>) {
    let keys = read_json(&log.tb.state_dir().join("keys.json"));
    let root = read_json(&log.trust())["trustedRoot"].clone();
    let b64 = base64::engine::general_purpose::STANDARD;
    for name in ["rekor_v1", "rekor_v2"] {
        let stored: StoredKey = serde_json::from_value(keys[name]["key"].clone()).unwrap();
        let key = TestKey::from_stored(&stored).unwrap();
        let tlog = root["tlogs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| {
                b64.decode(t["publicKey"]["rawBytes"].as_str().unwrap())
                    .unwrap()
                    == key.public_key_spki_der()
            })
            .expect("each testbed log is in its trust root");
        let log_id = b64
            .decode(tlog["logId"]["keyId"].as_str().unwrap())
            .unwrap();
        if hex(&log_id) != log_id_hex.to_ascii_lowercase() {
            return (key, log_id);
        }
    }
    panic!("the trust root has no other log than {log_id_hex}")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `checkpoint` (a signed note) with its signature replaced by `key`'s,
/// under the key hint of `log_id` and the same key name: the tree it
/// describes unchanged.
fn resigned(checkpoint: &str, key: &TestKey, log_id: &[u8]) -> String {
    let (note, signatures) = checkpoint.split_once("\n\n").unwrap();
    let note = format!("{note}\n");
    let name = signatures
        .trim_start_matches('\u{2014}')
        .split_whitespace()
        .next()
        .unwrap();
    let mut signature = log_id[..4].to_vec();
    signature.extend(key.sign(note.as_bytes()));
    let signature = base64::engine::general_purpose::STANDARD.encode(signature);
    format!("{note}\n\u{2014} {name} {signature}\n")
}

#[test]
fn a_checkpoint_signed_by_another_trusted_log_fails_at_checkpoint() {
    let log = start();
    let signed = log.sign_one("pkg-1.0.tar.gz");
    let genuine = entry_answer(&log, signed.index);
    let log_id = genuine[&signed.uuid]["logID"].as_str().unwrap().to_string();
    let (key, other_id) = other_trusted_log(&log, &log_id);

    // The same tree head, signed by the testbed's Rekor v2 log: a key of
    // the trust root, but not the key of the log that holds the entry.
    let mut lie = genuine.clone();
    let p = &mut inner(&mut lie)["verification"]["inclusionProof"];
    p["checkpoint"] = resigned(p["checkpoint"].as_str().unwrap(), &key, &other_id).into();
    let says = "the checkpoint is signed by another log of the trust root";
    assert_fails(
        &verify_entry(&log, &lie),
        "checkpoint",
        says,
        "verify-entry",
    );
    let fake = lying_log(vec![(by_index(signed.index), lie)]);
    let r = rekor_at(
        &log,
        &fake.url,
        &["get", "--log-index", &signed.index.to_string()],
    );
    assert_fails(&r, "checkpoint", says, "get");

    // A Rekor v2 entry's checkpoint signed by the Rekor v1 log, under the
    // v2 log's name.
    log.sign_as(super::GITLAB, super::PROJECT, &["v2.tar.gz"], true);
    let bundle = read_json(&log.path("v2.tar.gz.sigstore.json"));
    let mut tle = bundle["verificationMaterial"]["tlogEntries"][0].clone();
    let v2_id = hex(&unb64(tle["logId"]["keyId"].as_str().unwrap()));
    let (key, other_id) = other_trusted_log(&log, &v2_id);
    let v2 = log.tb.trust_config_v2_path();
    let verify_v2 = |doc: &Value| {
        let path = log.write("v2-entry.json", doc.to_string());
        log.rekor_with(&v2, &["verify-entry".as_ref(), path.as_os_str()], true)
    };
    assert_proven(&verify_v2(&tle), "v2 control");
    let c = &mut tle["inclusionProof"]["checkpoint"]["envelope"];
    *c = resigned(c.as_str().unwrap(), &key, &other_id).into();
    assert_fails(&verify_v2(&tle), "checkpoint", says, "v2");
}

#[test]
fn get_requires_a_set_where_verify_entry_does_not() {
    let log = start();
    let signed = log.sign_one("pkg-1.0.tar.gz");
    let mut lie = entry_answer(&log, signed.index);
    inner(&mut lie)["verification"]
        .as_object_mut()
        .unwrap()
        .remove("signedEntryTimestamp");
    // An entry in a file is proven by its inclusion proof alone (and its
    // log index and time reported as unverified) ...
    let r = verify_entry(&log, &lie);
    assert_proven(&r, "verify-entry");
    assert_eq!(r.json["integrated_time_verified"], false, "{}", r.stdout);
    // ... but the log itself must promise what it serves: `get` and the
    // entries `search` fetches need the SET.
    let fake = lying_log(vec![
        (by_index(signed.index), lie.clone()),
        (
            "/api/v1/index/retrieve".into(),
            Value::from(vec![signed.uuid.clone()]),
        ),
        (format!("/api/v1/log/entries/{}", signed.uuid), lie),
    ]);
    let r = rekor_at(
        &log,
        &fake.url,
        &["get", "--log-index", &signed.index.to_string()],
    );
    assert_fails(&r, "set", "the entry carries no SET", "get");
    let r = rekor_at(&log, &fake.url, &["search", "--sha256", &signed.digest]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(r.json["entries"][0]["failed_check"], "set", "{}", r.stdout);
}

/// A copy of `trust` whose log with `key_details` has a key that was valid
/// only in 2020: retired (as a trust root marks a rotated or compromised
/// log key) before the testbed began.
fn with_retired_log(log: &Log, trust: &Path, key_details: &str) -> PathBuf {
    let mut config = read_json(trust);
    let tlogs = config["trustedRoot"]["tlogs"].as_array_mut().unwrap();
    let tlog = tlogs
        .iter_mut()
        .find(|t| t["publicKey"]["keyDetails"] == key_details)
        .unwrap();
    tlog["publicKey"]["validFor"] =
        serde_json::json!({"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"});
    log.write(&format!("retired-{key_details}.json"), config.to_string())
}

#[test]
fn a_retired_log_key_cannot_sign_the_current_tree_head() {
    let log = start();
    log.sign(&["a.tar.gz"]);
    log.sign_as(super::GITLAB, super::PROJECT, &["b.tar.gz"], true);
    for (trust, key_details, args) in [
        (log.trust(), "PKIX_ECDSA_P256_SHA_256", vec!["log-info"]),
        (
            log.tb.trust_config_v2_path(),
            "PKIX_ED25519",
            vec!["log-info", "--rekor-version", "2"],
        ),
        // A Rekor v2 entry is proven up to the current tree head.
        (
            log.tb.trust_config_v2_path(),
            "PKIX_ED25519",
            vec!["get", "--log-index", "1", "--rekor-version", "2"],
        ),
    ] {
        let r = log.rekor_with(&trust, &strs(&args), true);
        assert_proven(&r, key_details);
        let retired = with_retired_log(&log, &trust, key_details);
        let r = log.rekor_with(&retired, &strs(&args), true);
        assert_fails(
            &r,
            "checkpoint",
            "whose key is no longer valid",
            key_details,
        );
    }
}
