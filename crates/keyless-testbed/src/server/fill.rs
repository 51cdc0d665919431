//! Bulk fill (`POST /admin/fill`, [`super::Testbed::fill`]): append many
//! entries to a log at once, for benchmarks of auditors over large logs
//! (issue #19), without one HTTP upload per entry.
//!
//! The entries are what clients would have logged, not placeholders: each
//! is a hashedrekord over its own artifact, signed by an ephemeral key whose
//! certificate the testbed's Fulcio issued (SCT included) for a GitLab CI
//! identity, validated and canonicalized by the same code as an upload, and
//! appended to the same Merkle tree. A monitor reading them verifies them
//! as it would any other entry (SETs, checkpoints, inclusion proofs).
//!
//! Most entries are for other projects (`bench/project-<n>`), a batch of
//! files per certificate as a release pipeline signs them; every
//! `watched_every`-th entry is signed alone by the testbed's default GitLab
//! identity (`keyless-demo/hello-py` on `main`), so a monitor watching it
//! has a few matches to find.

use super::state::{Shared, State, lock};
use crate::ca::{LEAF_VALIDITY_SECONDS, identity_from_claims};
use crate::keys::{KeyKind, TestKey, pem_encode};
use crate::oidc::TokenSpec;
use crate::rekor::{LogVersion, canonicalize_v1, canonicalize_v2};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// At most this many entries per fill: one request's work stays bounded.
const MAX_FILL: u64 = 1_000_000;

/// What to append.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FillRequest {
    /// `v1` or `v2`.
    pub log: String,
    /// How many entries.
    pub count: u64,
    /// Every this-many-th entry (counted from the fill's first) is signed
    /// by the watched identity; 0 for none.
    #[serde(default)]
    pub watched_every: u64,
    /// Entries signed under one certificate of another identity (default 64).
    #[serde(default = "default_per_certificate")]
    pub per_certificate: u64,
}

fn default_per_certificate() -> u64 {
    64
}

/// What was appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillReport {
    /// The log index of the first entry appended.
    pub from: u64,
    /// One past the last: the log's size now.
    pub to: u64,
    /// The log indexes of the entries signed by the watched identity.
    pub watched: Vec<u64>,
    /// The watched identity (the certificates' SAN).
    pub watched_identity: String,
}

/// The project of the watched identity (the testbed's default token).
fn watched_spec() -> TokenSpec {
    TokenSpec::gitlab("https://gitlab.com")
}

/// A fresh key and its certificate for `spec`, issued at `now`.
fn signer(s: &State, spec: &TokenSpec, now: i64) -> Result<(TestKey, Vec<u8>, String), String> {
    let claims = spec.claims(now);
    let identity = identity_from_claims(claims.as_object().ok_or("claims are not an object")?)?;
    let san = match &identity.san {
        crate::ca::San::Uri(u) | crate::ca::San::Email(u) => u.clone(),
    };
    let key = TestKey::generate(KeyKind::EcdsaP256);
    let cert = s.keys.fulcio.issue(
        &identity,
        &key.public_key_spki_der(),
        now,
        LEAF_VALIDITY_SECONDS,
        None,
    )?;
    Ok((key, cert, san))
}

/// Append the entries `request` asks for to its log (in memory; the caller
/// stores them).
pub(super) fn fill(s: &mut State, request: &FillRequest) -> Result<FillReport, String> {
    let version = match request.log.as_str() {
        "v1" => LogVersion::V1,
        "v2" => LogVersion::V2,
        other => return Err(format!("log {other:?}: v1 or v2")),
    };
    if !(1..=MAX_FILL).contains(&request.count) {
        return Err(format!("count must be 1 to {MAX_FILL}"));
    }
    if request.per_certificate == 0 {
        return Err("per_certificate must be at least 1".into());
    }
    let now = s.now();
    let (watched_key, watched_cert, watched_identity) = signer(s, &watched_spec(), now)?;
    let mut other: Option<(TestKey, Vec<u8>)> = None;
    let mut other_signed = 0;
    let mut report = FillReport {
        from: s.keys.log(version).size(),
        to: 0,
        watched: Vec::new(),
        watched_identity,
    };
    for i in 0..request.count {
        let watched = request.watched_every > 0 && i % request.watched_every == 0;
        if !watched && (other.is_none() || other_signed == request.per_certificate) {
            let mut spec = watched_spec();
            spec.project = format!("bench/project-{}", report.from + i);
            let (key, cert, _) = signer(s, &spec, now)?;
            other = Some((key, cert));
            other_signed = 0;
        }
        let (key, cert) = match (&other, watched) {
            (_, true) => (&watched_key, &watched_cert),
            (Some((k, c)), false) => {
                other_signed += 1;
                (k, c)
            }
            (None, false) => unreachable!("a certificate was just issued"),
        };
        let artifact = format!("bench artifact {} of fill at {now}", report.from + i);
        let digest = sigstore_crypto::sha256(artifact.as_bytes());
        let sig = B64.encode(key.sign(artifact.as_bytes()));
        // Validated (the signature verified against the certificate's key)
        // and canonicalized exactly as an upload is.
        let c = match version {
            LogVersion::V1 => canonicalize_v1(&json!({
                "apiVersion": "0.0.1", "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": digest.to_hex()}},
                    "signature": {"content": sig,
                        "publicKey": {"content": B64.encode(pem_encode("CERTIFICATE", cert))}},
                },
            })),
            LogVersion::V2 => canonicalize_v2(&json!({"hashedRekordRequestV002": {
                "digest": B64.encode(digest.as_bytes()),
                "signature": {"content": sig, "verifier": {
                    "x509Certificate": {"rawBytes": B64.encode(cert)},
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                }},
            }})),
        }
        .map_err(|r| format!("entry {i}: {}", r.message))?;
        let (index, duplicate) = s.log_entry(version, c, &[]);
        if duplicate {
            return Err(format!("entry {i} was logged before (at {index})"));
        }
        if watched {
            report.watched.push(index as u64);
        }
    }
    report.to = s.keys.log(version).size();
    Ok(report)
}

/// [`fill`] on the shared state, then the entries stored as an upload's are.
pub(super) async fn fill_and_store(
    st: &Shared,
    request: &FillRequest,
) -> Result<FillReport, String> {
    let (report, version) = {
        let st = st.clone();
        let request = request.clone();
        // Minutes of signing for a million entries: off the async workers.
        tokio::task::spawn_blocking(move || {
            let mut s = lock(&st);
            let version = if request.log == "v2" {
                LogVersion::V2
            } else {
                LogVersion::V1
            };
            fill(&mut s, &request).map(|r| (r, version))
        })
        .await
        .map_err(|e| format!("fill failed: {e}"))??
    };
    super::state::stored(st, version).await?;
    Ok(report)
}
