//! Tests of the testbed's Rekor log model.

use super::*;

fn hashedrekord(key: &TestKey, data: &[u8]) -> Value {
    let digest = sigstore_crypto::sha256(data);
    let sig = key.sign(data);
    json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": digest.to_hex()}},
        "signature": {"content": B64.encode(sig), "publicKey": {"content": B64.encode(key.public_key_pem())}},
    }})
}

fn logged(c: &Canonical, now: i64) -> LoggedEntry {
    LoggedEntry {
        body: B64.encode(&c.body),
        integrated_time: now,
        kind: c.kind.into(),
        version: c.version.into(),
        artifact_sha256: c.artifact_sha256.clone(),
        verifier_spki: None,
    }
}

#[test]
fn v1_entries_prove_inclusion_and_checkpoints_and_sets_verify() {
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let mut log = TransparencyLog::generate(LogVersion::V1, "rekor.testbed");
    let proposals: Vec<Value> = (0..5u8).map(|i| hashedrekord(&key, &[i])).collect();
    for p in &proposals {
        let c = canonicalize_v1(p).unwrap();
        log.append(c.body.clone(), logged(&c, 1_700_000_000))
            .unwrap();
    }
    // ECDSA signatures are randomized: only the same proposal is a duplicate.
    let c = canonicalize_v1(&proposals[2]).unwrap();
    assert_eq!(
        log.append(c.body.clone(), logged(&c, 0)),
        Err(2),
        "duplicate is refused"
    );

    let answer = log.v1_entry_json(3, AnswerFaults::default());
    let (uuid, e) = answer.as_object().unwrap().iter().next().unwrap();
    assert_eq!(log.index_of(uuid), Some(3));
    let proof = &e["verification"]["inclusionProof"];
    let hashes: Vec<_> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| sigstore_types::Sha256Hash::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    let body = B64.decode(e["body"].as_str().unwrap()).unwrap();
    let root = sigstore_types::Sha256Hash::from_hex(proof["rootHash"].as_str().unwrap()).unwrap();
    sigstore_merkle::verify_inclusion_proof(
        &sigstore_merkle::hash_leaf(&body),
        3,
        5,
        &hashes,
        &root,
    )
    .unwrap();
    // The checkpoint parses and carries the same root and size.
    let cp = sigstore_types::Checkpoint::from_text(proof["checkpoint"].as_str().unwrap()).unwrap();
    assert_eq!(cp.tree_size(), 5);
    assert_eq!(cp.root_hash(), &root);
}

#[test]
fn bad_proposals_are_400s() {
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let mut p = hashedrekord(&key, b"data");
    p["spec"]["data"]["hash"]["value"] = json!(sigstore_crypto::sha256(b"other").to_hex());
    assert_eq!(canonicalize_v1(&p).unwrap_err().status, 400);
    for v in [
        json!({}),
        json!([]),
        json!({"kind": "rekord", "apiVersion": "0.0.1"}),
        json!("x"),
    ] {
        assert_eq!(canonicalize_v1(&v).unwrap_err().status, 400);
        assert_eq!(canonicalize_v2(&v).unwrap_err().status, 400);
    }
}

/// rekor-tiles dropped DSSE (sigstore/rekor-tiles#744): a DSSE envelope
/// is logged as a hashedrekord over its PAE, and a `dsseRequestV002` is
/// refused.
#[test]
fn dsse_v2_requests_are_refused_as_rekor_tiles_does() {
    let req = json!({"dsseRequestV002": {"envelope": {}, "verifiers": []}});
    let r = canonicalize_v2(&req).unwrap_err();
    assert_eq!(r.status, 400);
    assert!(r.message.contains("must be hashedrekord"), "{}", r.message);
}

/// The signature line of a checkpoint: key name, key hash, signature.
fn signature_line(checkpoint: &str) -> (String, Vec<u8>) {
    let line = checkpoint.lines().last().unwrap();
    let rest = line.strip_prefix("\u{2014} ").unwrap();
    let (name, sig) = rest.split_once(' ').unwrap();
    (name.to_string(), B64.decode(sig).unwrap())
}

/// C2SP signed-note for Ed25519, as tessera and rekor-tiles write it: the
/// origin is the host, the key name is the origin, the key hash is
/// SHA-256(name || "\n" || 0x01 || key)[:4], the log ID its full digest.
#[test]
fn v2_checkpoints_are_signed_notes_named_for_the_host() {
    let log = TransparencyLog::generate(LogVersion::V2, "log2026.rekor.testbed").named("127.0.0.1");
    let cp = log.checkpoint(0, None);
    assert!(cp.starts_with("127.0.0.1\n0\n"), "{cp}");
    let (name, sig) = signature_line(&cp);
    assert_eq!(name, "127.0.0.1");
    let mut m = b"127.0.0.1\n\x01".to_vec();
    m.extend(log.key.public_key_raw());
    let id = sigstore_crypto::sha256(&m);
    assert_eq!(log.log_id(), *id.as_bytes());
    assert_eq!(&sig[..4], &id.as_bytes()[..4]);
    assert_eq!(sig.len(), 4 + 64, "an Ed25519 signature after the key hash");
    // A Rekor v1 log keeps its name.
    let v1 = TransparencyLog::generate(LogVersion::V1, "rekor.testbed").named("127.0.0.1");
    assert_eq!(v1.origin(), format!("rekor.testbed - {TREE_ID}"));
}

/// An ECDSA Rekor v2 log (rekor-tiles' `ecdsaKeyHash`): the key hash is
/// SHA-256 of the DER SPKI, whatever the name.
#[test]
fn ecdsa_checkpoints_hash_the_spki() {
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let spki_hash = sigstore_crypto::sha256(&key.public_key_spki_der());
    let log = TransparencyLog::with_key(LogVersion::V2, key, "127.0.0.1");
    assert_eq!(log.log_id(), *spki_hash.as_bytes());
    let (name, sig) = signature_line(&log.checkpoint(0, None));
    assert_eq!(name, "127.0.0.1");
    assert_eq!(&sig[..4], &spki_hash.as_bytes()[..4]);
}

#[test]
fn a_log_starts_with_one_genesis_entry() {
    for version in [LogVersion::V1, LogVersion::V2] {
        let mut log = TransparencyLog::generate(version, "127.0.0.1");
        assert_eq!(log.ensure_genesis(1_700_000_000), Ok(true));
        assert_eq!(log.ensure_genesis(1_700_000_000), Ok(false));
        assert_eq!(log.size(), 1);
        assert_eq!(log.entries()[0].kind, "hashedrekord");
    }
}
