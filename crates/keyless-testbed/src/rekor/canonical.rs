//! Proposed Rekor entries: validation and canonicalization of v1
//! (hashedrekord and dsse 0.0.1) and v2 (hashedrekord 0.0.2) requests into
//! the bodies the logs store, as Rekor and rekor-tiles do.

use crate::keys::pem_encode;
use crate::util::hex_encode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

/// Why a proposed entry was refused: HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status code.
    pub status: u16,
    /// Message for the JSON error body.
    pub message: String,
}

fn bad(message: impl Into<String>) -> Rejection {
    Rejection {
        status: 400,
        message: message.into(),
    }
}

/// A validated entry ready to log.
#[derive(Debug)]
pub struct Canonical {
    /// Canonicalized body bytes.
    pub body: Vec<u8>,
    /// Kind.
    pub kind: &'static str,
    /// Version.
    pub version: &'static str,
    /// Artifact digest (hex sha256) for the search index.
    pub artifact_sha256: Option<String>,
    /// Verifier SPKI DER for the search index.
    pub verifier_spki: Option<Vec<u8>>,
}

/// The SPKI of a PEM certificate or PEM public key, and whether it was a cert.
/// The SPKI of a PEM certificate or public key, and the PEM re-encoded the
/// way Rekor stores it (Go's `pem.Encode`: LF line ends, 64 columns), so the
/// logged body does not depend on how the client wrapped its PEM.
fn spki_of_pem(pem_text: &str) -> Result<(Vec<u8>, String), Rejection> {
    if let Ok(cert) = sigstore_types::DerCertificate::from_pem(pem_text) {
        let canonical = pem_encode("CERTIFICATE", cert.as_bytes());
        return Ok((spki_of_cert(cert.as_bytes())?, canonical));
    }
    sigstore_types::DerPublicKey::from_pem(pem_text)
        .map(|k| {
            (
                k.as_bytes().to_vec(),
                pem_encode("PUBLIC KEY", k.as_bytes()),
            )
        })
        .map_err(|e| {
            bad(format!(
                "verifier is neither a PEM certificate nor a public key: {e}"
            ))
        })
}

pub(crate) fn spki_of_cert(der_bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    use der::{Decode, Encode};
    let cert = x509_cert::Certificate::from_der(der_bytes)
        .map_err(|e| bad(format!("certificate does not parse: {e}")))?;
    cert.tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| bad(format!("certificate key: {e}")))
}

fn verify_prehashed(spki: &[u8], digest: &[u8], sig: &[u8]) -> Result<(), Rejection> {
    let key = sigstore_types::DerPublicKey::new(spki.to_vec());
    let alg = sigstore_crypto::KeyAlgorithm::from_spki(&key)
        .map_err(|e| bad(format!("unsupported key: {e}")))?;
    sigstore_crypto::verify_signature_prehashed(
        &key,
        digest,
        &sigstore_types::SignatureBytes::new(sig.to_vec()),
        alg.default_signing_scheme(),
    )
    .map_err(|e| bad(format!("signature does not verify over the digest: {e}")))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, Rejection> {
    let mut cur = v;
    for p in path {
        cur = cur
            .get(*p)
            .ok_or_else(|| bad(format!("missing field {}", path.join("."))))?;
    }
    cur.as_str()
        .ok_or_else(|| bad(format!("field {} must be a string", path.join("."))))
}

fn b64(v: &str, what: &str) -> Result<Vec<u8>, Rejection> {
    B64.decode(v)
        .map_err(|e| bad(format!("{what} is not base64: {e}")))
}

/// Validate and canonicalize a Rekor v1 proposed entry (hashedrekord or dsse 0.0.1).
pub fn canonicalize_v1(proposed: &Value) -> Result<Canonical, Rejection> {
    let kind = str_at(proposed, &["kind"])?;
    let api = str_at(proposed, &["apiVersion"])?;
    match (kind, api) {
        ("hashedrekord", "0.0.1") => {
            let alg = str_at(proposed, &["spec", "data", "hash", "algorithm"])?;
            if alg != "sha256" {
                return Err(bad(format!("unsupported hash algorithm {alg:?}")));
            }
            let hex = str_at(proposed, &["spec", "data", "hash", "value"])?.to_ascii_lowercase();
            let digest = sigstore_types::Sha256Hash::from_hex(&hex)
                .map_err(|e| bad(format!("hash value: {e}")))?;
            let sig_b64 = str_at(proposed, &["spec", "signature", "content"])?;
            let sig = b64(sig_b64, "signature")?;
            let key_b64 = str_at(proposed, &["spec", "signature", "publicKey", "content"])?;
            let pem = String::from_utf8(b64(key_b64, "publicKey")?)
                .map_err(|_| bad("publicKey is not PEM text"))?;
            let (spki, canonical_pem) = spki_of_pem(&pem)?;
            verify_prehashed(&spki, digest.as_bytes(), &sig)?;
            let body = json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": hex}},
                    "signature": {"content": B64.encode(&sig), "publicKey": {"content": B64.encode(canonical_pem)}},
                },
            });
            Ok(Canonical {
                body: body.to_string().into_bytes(),
                kind: "hashedrekord",
                version: "0.0.1",
                artifact_sha256: Some(hex),
                verifier_spki: Some(spki),
            })
        }
        ("dsse", "0.0.1") => {
            let envelope_text = str_at(proposed, &["spec", "proposedContent", "envelope"])?;
            let envelope: Value = serde_json::from_str(envelope_text)
                .map_err(|e| bad(format!("envelope is not JSON: {e}")))?;
            let payload = b64(str_at(&envelope, &["payload"])?, "payload")?;
            let payload_type = str_at(&envelope, &["payloadType"])?;
            let verifiers = proposed["spec"]["proposedContent"]["verifiers"]
                .as_array()
                .ok_or_else(|| bad("missing spec.proposedContent.verifiers"))?;
            let sigs = envelope["signatures"]
                .as_array()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad("envelope has no signatures"))?;
            let pae = sigstore_types::pae(payload_type, &payload);
            let mut signatures = Vec::new();
            let mut first_spki = None;
            for s in sigs {
                let sig = b64(str_at(s, &["sig"])?, "signature")?;
                // Each signature must verify with one of the verifiers.
                let mut matched = None;
                for v in verifiers {
                    let v = v.as_str().ok_or_else(|| bad("verifiers must be strings"))?;
                    let pem = String::from_utf8(b64(v, "verifier")?)
                        .map_err(|_| bad("verifier is not PEM text"))?;
                    let (spki, canonical_pem) = spki_of_pem(&pem)?;
                    let key = sigstore_types::DerPublicKey::new(spki.clone());
                    let Ok(alg) = sigstore_crypto::KeyAlgorithm::from_spki(&key) else {
                        continue;
                    };
                    if sigstore_crypto::verify_signature(
                        &key,
                        &pae,
                        &sigstore_types::SignatureBytes::new(sig.clone()),
                        alg.default_signing_scheme(),
                    )
                    .is_ok()
                    {
                        matched = Some((B64.encode(canonical_pem), spki));
                        break;
                    }
                }
                let (verifier, spki) =
                    matched.ok_or_else(|| bad("a DSSE signature verifies with no verifier"))?;
                first_spki.get_or_insert(spki);
                signatures.push(json!({"signature": B64.encode(&sig), "verifier": verifier}));
            }
            let payload_hex = sigstore_crypto::sha256(&payload).to_hex();
            let body = json!({
                "apiVersion": "0.0.1",
                "kind": "dsse",
                "spec": {
                    "envelopeHash": {"algorithm": "sha256", "value": sigstore_crypto::sha256(envelope_text.as_bytes()).to_hex()},
                    "payloadHash": {"algorithm": "sha256", "value": payload_hex},
                    "signatures": signatures,
                },
            });
            Ok(Canonical {
                body: body.to_string().into_bytes(),
                kind: "dsse",
                version: "0.0.1",
                artifact_sha256: Some(payload_hex),
                verifier_spki: first_spki,
            })
        }
        _ => Err(bad(format!(
            "unsupported entry kind {kind:?} version {api:?} (hashedrekord and dsse 0.0.1 are)"
        ))),
    }
}

/// The SPKI of a Rekor v2 verifier (`{x509Certificate|publicKey: {rawBytes}, keyDetails}`)
/// and its canonical JSON.
fn v2_verifier(verifier: &Value) -> Result<(Vec<u8>, Value), Rejection> {
    let (spki, json) = v2_verifier_unchecked(verifier)?;
    // rekor-tiles refuses a keyDetails that does not describe the key.
    let key_details = str_at(verifier, &["keyDetails"])?;
    let alg =
        sigstore_crypto::KeyAlgorithm::from_spki(&sigstore_types::DerPublicKey::new(spki.clone()))
            .map_err(|e| bad(format!("verifier key: {e}")))?;
    let expected = match alg {
        sigstore_crypto::KeyAlgorithm::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        sigstore_crypto::KeyAlgorithm::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
        sigstore_crypto::KeyAlgorithm::Ed25519 => "PKIX_ED25519",
        _ => return Err(bad("unsupported verifier key type")),
    };
    if key_details != expected {
        return Err(bad(format!(
            "keyDetails {key_details} does not match the key ({expected})"
        )));
    }
    Ok((spki, json))
}

fn v2_verifier_unchecked(verifier: &Value) -> Result<(Vec<u8>, Value), Rejection> {
    let key_details = str_at(verifier, &["keyDetails"])?;
    if let Ok(raw) = str_at(verifier, &["x509Certificate", "rawBytes"]) {
        let der_bytes = b64(raw, "x509Certificate.rawBytes")?;
        Ok((
            spki_of_cert(&der_bytes)?,
            json!({"keyDetails": key_details, "x509Certificate": {"rawBytes": B64.encode(&der_bytes)}}),
        ))
    } else {
        let raw = str_at(verifier, &["publicKey", "rawBytes"])?;
        let der_bytes = b64(raw, "publicKey.rawBytes")?;
        Ok((
            der_bytes.clone(),
            json!({"keyDetails": key_details, "publicKey": {"rawBytes": B64.encode(&der_bytes)}}),
        ))
    }
}

/// Validate and canonicalize a Rekor v2 request, as rekor-tiles does: only
/// `hashedRekordRequestV002` (hashedrekord 0.0.2). rekor-tiles dropped its
/// `dsse` kind (sigstore/rekor-tiles#744): clients log a DSSE envelope as a
/// hashedrekord over its PAE, as sigstore-go and sigstore-python do.
pub fn canonicalize_v2(request: &Value) -> Result<Canonical, Rejection> {
    let Some(req) = request.get("hashedRekordRequestV002") else {
        return Err(bad("invalid type, must be hashedrekord"));
    };
    let digest = b64(str_at(req, &["digest"])?, "digest")?;
    if digest.len() != 32 {
        return Err(bad("digest must be a SHA-256 digest (32 bytes)"));
    }
    let sig = b64(str_at(req, &["signature", "content"])?, "signature")?;
    let (spki, verifier_json) = v2_verifier(&req["signature"]["verifier"])?;
    verify_prehashed(&spki, &digest, &sig)?;
    let body = json!({
        "apiVersion": "0.0.2",
        "kind": "hashedrekord",
        "spec": {"hashedRekordV002": {
            "data": {"algorithm": "SHA2_256", "digest": B64.encode(&digest)},
            "signature": {"content": B64.encode(&sig), "verifier": verifier_json},
        }},
    });
    Ok(Canonical {
        body: body.to_string().into_bytes(),
        kind: "hashedrekord",
        version: "0.0.2",
        artifact_sha256: Some(hex_encode(&digest)),
        verifier_spki: Some(spki),
    })
}
