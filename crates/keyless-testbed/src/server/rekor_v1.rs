//! Rekor v1 endpoints (`/api/v1/log`, `/api/v1/index`): create, fetch by
//! index or UUID, retrieve and search, log info with its consistency
//! proofs, and the log's public key.

use super::http::{
    Answer, as_sent_or, canonical_proposed, log_stored, parse_json, serve, serve_with,
};
use super::state::{Shared, State};
use crate::faults::{Endpoint, Fault};
use crate::keys::pem_encode;
use crate::rekor::{
    LogVersion, LoggedEntry, TREE_ID, TransparencyLog, canonicalize_v1, spki_of_cert,
};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State as AxState};
use axum::http::{StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) async fn create(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    let answer = serve_with(
        &st,
        Endpoint::RekorV1,
        || Ok(canonical_proposed(canonicalize_v1, &body)),
        |s, f, c| {
            let c = match as_sent_or(f, &body, c) {
                Ok(c) => c,
                Err(a) => return a,
            };
            let (index, duplicate) = s.log_entry(LogVersion::V1, c, f);
            created(s, f, index, duplicate)
        },
    )
    .await;
    log_stored(&st, LogVersion::V1, answer).await
}

/// The answer to a create that logged (or found) the entry at `index`.
fn created(s: &State, faults: &[Fault], index: usize, duplicate: bool) -> Answer {
    let log = &s.keys.rekor_v1;
    // Rekor names entries by entry ID (tree ID and UUID), and its Location
    // is the request path with that ID appended.
    let entry_id = log.entry_id(index);
    let location = format!("/api/v1/log/entries/{entry_id}");
    if duplicate {
        // Rekor v1: a JSON error naming the existing entry, which the
        // Location header points to.
        return Answer::error(
            409,
            format!(
                "An equivalent entry already exists in the transparency log with UUID {entry_id}"
            ),
        )
        .with_header(header::LOCATION, location);
    }
    Answer::json(
        StatusCode::CREATED,
        &log.v1_entry_json(index, s.answer_faults(faults)),
    )
    .with_header(header::ETAG, entry_id)
    .with_header(header::LOCATION, location)
}

fn v1_entry(s: &State, faults: &[Fault], index: usize) -> Answer {
    let len = s.keys.rekor_v1.entries().len();
    if index >= len {
        return Answer::error(404, format!("no entry at log index {index}"));
    }
    // Another genuine entry than the one asked for.
    let index = match faults.contains(&Fault::OtherEntry) {
        true if index + 1 < len => index + 1,
        true => index.saturating_sub(1),
        false => index,
    };
    // The entry before, filed under the index asked for.
    if faults.contains(&Fault::MisnumberedEntry) && index > 0 {
        return Answer::json(
            StatusCode::OK,
            &s.keys
                .rekor_v1
                .v1_entry_json_claiming(index - 1, index, s.answer_faults(faults)),
        );
    }
    Answer::json(
        StatusCode::OK,
        &s.keys
            .rekor_v1
            .v1_entry_json(index, s.answer_faults(faults)),
    )
}

#[derive(Deserialize)]
pub(super) struct IndexQuery {
    #[serde(rename = "logIndex")]
    log_index: Option<String>,
}

pub(super) async fn by_index(AxState(st): AxState<Shared>, Query(q): Query<IndexQuery>) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        match q.log_index.as_deref().map(str::parse::<usize>) {
            Some(Ok(i)) => v1_entry(s, f, i),
            _ => Answer::error(400, "logIndex must be a non-negative integer"),
        }
    })
    .await
}

pub(super) async fn by_uuid(
    AxState(st): AxState<Shared>,
    UrlPath(uuid): UrlPath<String>,
) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        match s.keys.rekor_v1.index_of(&uuid) {
            Some(i) => v1_entry(s, f, i),
            None => Answer::error(404, format!("no entry with UUID {uuid}")),
        }
    })
    .await
}

pub(super) async fn retrieve(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        let req = match parse_json(&body) {
            Ok(v) => v,
            Err(a) => return a,
        };
        if req["entryUUIDs"].as_array().is_none() && req["logIndexes"].as_array().is_none() {
            return Answer::error(400, "expected an object with entryUUIDs and/or logIndexes");
        }
        // Rekor caps a retrieve at 10 items.
        let asked = req["entryUUIDs"].as_array().map_or(0, Vec::len)
            + req["logIndexes"].as_array().map_or(0, Vec::len);
        if asked > 10 {
            return Answer::error(422, format!("at most 10 entries per request, not {asked}"));
        }
        let mut indexes = Vec::new();
        for u in req["entryUUIDs"].as_array().into_iter().flatten() {
            if let Some(i) = u.as_str().and_then(|u| s.keys.rekor_v1.index_of(u)) {
                indexes.push(i);
            }
        }
        for i in req["logIndexes"].as_array().into_iter().flatten() {
            if let Some(i) = i.as_u64().and_then(|i| usize::try_from(i).ok())
                && i < s.keys.rekor_v1.entries().len()
            {
                indexes.push(i);
            }
        }
        let af = s.answer_faults(f);
        let out: Vec<Value> = indexes
            .into_iter()
            .map(|i| s.keys.rekor_v1.v1_entry_json(i, af))
            .collect();
        Answer::json(StatusCode::OK, &Value::Array(out))
    })
    .await
}

pub(super) async fn index_retrieve(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, _| {
        let req = match parse_json(&body) {
            Ok(v) => v,
            Err(a) => return a,
        };
        let log = &s.keys.rekor_v1;
        // The UUIDs of the entries whose indexed `field` is `wanted`.
        let uuids_where = |field: fn(&LoggedEntry) -> Option<&str>, wanted: &str| {
            (0..log.entries().len())
                .filter(|i| field(&log.entries()[*i]) == Some(wanted))
                .map(|i| Value::String(log.entry_id(i)))
                .collect::<Vec<_>>()
        };
        let matches = if let Some(h) = req["hash"].as_str() {
            let h = h.strip_prefix("sha256:").unwrap_or(h).to_ascii_lowercase();
            uuids_where(|e| e.artifact_sha256.as_deref(), &h)
        } else if let Some(content) = req["publicKey"]["content"].as_str() {
            let Some(spki) = public_key_query(content) else {
                return Answer::error(
                    400,
                    "publicKey.content must be a base64 PEM or DER key or certificate",
                );
            };
            uuids_where(|e| e.verifier_spki.as_deref(), &B64.encode(spki))
        } else {
            return Answer::error(400, "search by hash or publicKey");
        };
        Answer::json(StatusCode::OK, &Value::Array(matches))
    })
    .await
}

/// The SPKI DER a search's `publicKey.content` names: a base64 PEM
/// certificate or key, a base64 DER certificate, or else the decoded bytes.
fn public_key_query(content: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(content).ok()?;
    if let Ok(text) = std::str::from_utf8(&bytes) {
        if let Ok(c) = sigstore_types::DerCertificate::from_pem(text) {
            return spki_of_cert(c.as_bytes()).ok();
        }
        if let Ok(k) = sigstore_types::DerPublicKey::from_pem(text) {
            return Some(k.as_bytes().to_vec());
        }
    }
    spki_of_cert(&bytes).ok().or(Some(bytes))
}

/// The tree head `log` admits to after rollback/fork faults: its size,
/// root and signed checkpoint. A forked root is signed with the log's own
/// key (the log itself equivocates); a wrong-checkpoint-key fault signs
/// with a rogue key.
pub(super) fn advertised_tree(
    s: &State,
    log: &TransparencyLog,
    faults: &[Fault],
) -> (u64, sigstore_types::Sha256Hash, String) {
    let mut size = log.size();
    if faults.contains(&Fault::RolledBack) {
        size = size.saturating_sub(1);
    }
    if faults.contains(&Fault::ForkedRoot) {
        let root = sigstore_crypto::sha256(format!("fork {size}").as_bytes());
        return (size, root, log.checkpoint_for_root(size, &root));
    }
    let root = log
        .root_at(size)
        .unwrap_or_else(|| sigstore_crypto::sha256(b""));
    let checkpoint = log.checkpoint(size, s.answer_faults(faults).checkpoint_forger);
    (size, root, checkpoint)
}

pub(super) async fn log_info(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        let (size, root, checkpoint) = advertised_tree(s, &s.keys.rekor_v1, f);
        Answer::json(
            StatusCode::OK,
            &json!({
                "rootHash": root.to_hex(),
                "treeSize": size,
                "signedTreeHead": checkpoint,
                "treeID": TREE_ID.to_string(),
                // Rekor marshals a log without inactive shards as `null`.
                "inactiveShards": null,
            }),
        )
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct ProofQuery {
    #[serde(rename = "firstSize")]
    first_size: Option<String>,
    #[serde(rename = "lastSize")]
    last_size: Option<String>,
}

pub(super) async fn proof(AxState(st): AxState<Shared>, Query(q): Query<ProofQuery>) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        let log = &s.keys.rekor_v1;
        let first = q.first_size.as_deref().map(str::parse::<u64>);
        let last = q
            .last_size
            .as_deref()
            .map(str::parse::<u64>)
            .unwrap_or(Ok(log.size()));
        let (Some(Ok(first)), Ok(last)) = (first, last) else {
            return Answer::error(400, "firstSize and lastSize must be integers");
        };
        let Some(mut hashes) = log.consistency(first, last) else {
            return Answer::error(
                400,
                format!(
                    "no consistency proof from {first} to {last} (tree size {})",
                    log.size()
                ),
            );
        };
        if f.contains(&Fault::WrongProof) {
            match hashes.first_mut() {
                Some(h) => *h = sigstore_crypto::sha256(b"forged"),
                None => hashes.push(sigstore_crypto::sha256(b"forged")),
            }
        }
        let root = log.root_at(last).map(|r| r.to_hex()).unwrap_or_default();
        Answer::json(
            StatusCode::OK,
            &json!({"rootHash": root, "hashes": hashes.iter().map(|h| h.to_hex()).collect::<Vec<_>>()}),
        )
    })
    .await
}

pub(super) async fn public_key(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, _| {
        Answer::bytes(
            StatusCode::OK,
            "application/x-pem-file",
            pem_encode("PUBLIC KEY", &s.keys.rekor_v1.public_key_spki()).into_bytes(),
        )
    })
    .await
}
