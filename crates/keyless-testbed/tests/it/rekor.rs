//! Rekor v2 refuses `dsse` entries as rekor-tiles does (a DSSE envelope is
//! logged as a hashedrekord over its PAE), and the sigstore-types defect
//! that keeps older `dsse` 0.0.2 entries out of `keyless verify` is pinned;
//! Rekor v1 creates answer with Rekor's entry IDs.

use crate::common::{b64, http_with_head, post_json, start, unb64};
use base64::Engine;

/// rekor-tiles dropped DSSE (sigstore/rekor-tiles#744): a `dsseRequestV002`
/// is a 400, and sigstore-go and sigstore-python log a DSSE envelope as a
/// hashedrekord 0.0.2 over its PAE, which keyless verifies. Logs kept
/// `dsse` 0.0.2 entries from before; sigstore-types 0.15.1 has no such
/// kind, so no bundle carrying one parses. This pins the defect: when the
/// crate learns the kind, this test fails and such entries should be taken
/// through `keyless verify`.
#[test]
fn rekor_v2_refuses_dsse_and_sigstore_types_cannot_parse_dsse_0_0_2() {
    let bed = start();
    let key = sigstore_crypto::KeyPair::generate_ecdsa_p256().unwrap();
    let payload = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"x"}"#;
    let pae = sigstore_types::pae("application/vnd.in-toto+json", payload);
    let sig = key.sign(&pae).unwrap();
    let verifier = serde_json::json!({"keyDetails": "PKIX_ECDSA_P256_SHA_256",
        "publicKey": {"rawBytes": b64().encode(key.public_key_der().unwrap().as_bytes())}});
    let dsse = serde_json::json!({"dsseRequestV002": {
        "envelope": {"payload": b64().encode(payload), "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": b64().encode(sig.as_bytes()), "keyid": ""}]},
        "verifiers": [verifier],
    }});
    let (status, body) = post_json(&bed.tb, "/api/v2/log/entries", &dsse);
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));

    // The same envelope as clients log it: a hashedrekord over the PAE.
    let req = serde_json::json!({"hashedRekordRequestV002": {
        "digest": b64().encode(sigstore_crypto::sha256(&pae).as_bytes()),
        "signature": {"content": b64().encode(sig.as_bytes()), "verifier": verifier},
    }});
    let (status, body) = post_json(&bed.tb, "/api/v2/log/entries", &req);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let entry: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        entry["kindVersion"],
        serde_json::json!({"kind": "hashedrekord", "version": "0.0.2"})
    );
    // The entry is sound: its inclusion proof verifies.
    let leaf = sigstore_merkle::hash_leaf(&unb64(entry["canonicalizedBody"].as_str().unwrap()));
    let cp = sigstore_types::Checkpoint::from_text(
        entry["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let index: u64 = entry["logIndex"].as_str().unwrap().parse().unwrap();
    assert_eq!(index, 1, "the log's first entry is its genesis");
    let hashes: Vec<_> = entry["inclusionProof"]["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| sigstore_types::Sha256Hash::from_base64(h.as_str().unwrap()).unwrap())
        .collect();
    sigstore_merkle::verify_inclusion_proof(&leaf, index, cp.tree_size(), &hashes, cp.root_hash())
        .unwrap();
    assert!(
        serde_json::from_value::<sigstore_types::bundle::TransparencyLogEntry>(entry.clone())
            .is_ok()
    );

    // The defect: the same entry labelled dsse 0.0.2 (as older Rekor v2
    // logs hold them) does not parse, for its kind alone.
    let mut relabelled = entry.clone();
    relabelled["kindVersion"] = serde_json::json!({"kind": "dsse", "version": "0.0.2"});
    serde_json::from_value::<sigstore_types::bundle::TransparencyLogEntry>(relabelled)
        .expect_err("sigstore-types now parses dsse 0.0.2: take it through keyless verify");
}

/// A Rekor v1 create answers as Rekor does: 201, the entry keyed by its
/// entry ID (tree ID then UUID), which the ETag repeats and the Location
/// path names; the log's first user entry follows its genesis entry.
#[test]
fn rekor_v1_creates_answer_with_the_entry_id_as_rekor_does() {
    let bed = start();
    let key = sigstore_crypto::KeyPair::generate_ecdsa_p256().unwrap();
    let data = b"artifact";
    let sig = key.sign(data).unwrap();
    let pem = key.public_key_der().unwrap().to_pem();
    let proposal = serde_json::json!({"apiVersion": "0.0.1", "kind": "hashedrekord", "spec": {
        "data": {"hash": {"algorithm": "sha256", "value": sigstore_crypto::sha256(data).to_hex()}},
        "signature": {"content": b64().encode(sig.as_bytes()),
            "publicKey": {"content": b64().encode(pem)}},
    }});
    let (status, head, body) = http_with_head(
        bed.tb.url(),
        "POST",
        "/api/v1/log/entries",
        "application/json",
        proposal.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (n, v) = l.split_once(": ")?;
                n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no {name} in {head}"))
    };
    let entry: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (id, e) = entry.as_object().unwrap().iter().next().unwrap();
    assert_eq!(id.len(), 80);
    assert_eq!(
        &id[..16],
        format!("{:016x}", keyless_testbed::rekor::TREE_ID)
    );
    let leaf = sigstore_merkle::hash_leaf(&unb64(e["body"].as_str().unwrap()));
    assert_eq!(&id[16..], leaf.to_hex());
    assert_eq!(header("etag"), *id);
    assert_eq!(header("location"), format!("/api/v1/log/entries/{id}"));
    assert!(header("content-type").starts_with("application/json"));
    assert_eq!(e["logIndex"], 1, "index 0 is the genesis entry");
}
