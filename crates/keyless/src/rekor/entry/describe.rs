//! What an entry's body says, read best-effort whatever its kind: kind and
//! version, the digest it names, the certificates and keys it holds.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use sigstore_types::{DerCertificate, DerPublicKey};

/// A digest an entry names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Digest {
    /// `artifact` (hashedrekord, rekord) or `payload` (dsse, intoto).
    pub what: &'static str,
    /// The algorithm, as Rekor spells it (`sha256`).
    pub algorithm: String,
    /// The digest, hex.
    pub hex: String,
}

/// What an entry's body says, read best-effort (any kind).
#[derive(Debug, Clone, Default)]
pub struct Description {
    /// The entry kind (`hashedrekord`, `dsse`, ...).
    pub kind: String,
    /// The kind's version (`0.0.1`, ...).
    pub version: String,
    /// The digest it names.
    pub digest: Option<Digest>,
    /// Every X.509 certificate in the body, in order.
    pub certificates: Vec<DerCertificate>,
    /// Every bare public key in the body, in order.
    pub public_keys: Vec<DerPublicKey>,
    /// Why the body could not be read whole for certificates (it is not a
    /// JSON object, is nested too deep or too large to walk, or holds a PEM
    /// certificate that does not decode): a certificate in it may have been
    /// missed. `None` when every part was read.
    pub unread: Option<String>,
}

pub(super) fn body_kind(body: &[u8]) -> (String, String) {
    let doc: Value = serde_json::from_slice(body).unwrap_or_default();
    let s = |k: &str| doc[k].as_str().unwrap_or("unknown").to_string();
    (s("kind"), s("apiVersion"))
}

/// Read what a body says. Kinds sigstore-rekor models are parsed by it; the
/// certificates and keys of any kind are found wherever the body holds them
/// (base64 PEM strings, `x509Certificate`/`publicKey` `rawBytes`).
pub fn describe(body: &[u8]) -> Description {
    use sigstore_rekor::body::RekorEntryBody as B;
    let (kind, version) = body_kind(body);
    let digest = |what, algorithm: &sigstore_types::HashAlgorithm, hex: String| {
        Some(Digest {
            what,
            algorithm: algorithm.as_rekor_str().to_string(),
            hex,
        })
    };
    let digest = match sigstore_rekor::RekorEntryBody::from_json(body, &kind, &version) {
        Ok(B::HashedRekordV001(b)) => {
            let h = &b.spec.data.hash;
            digest(
                "artifact",
                &h.algorithm,
                h.value.as_str().to_ascii_lowercase(),
            )
        }
        Ok(B::HashedRekordV002(b)) => {
            let d = &b.spec.hashed_rekord_v002.data;
            digest("artifact", &d.algorithm, d.digest.to_hex())
        }
        Ok(B::DsseV001(b)) => {
            let h = &b.spec.payload_hash;
            digest("payload", &h.algorithm, h.value.to_ascii_lowercase())
        }
        Ok(B::DsseV002(b)) => {
            let h = &b.spec.dsse_v002.payload_hash;
            digest("payload", &h.algorithm, h.digest.to_hex())
        }
        Ok(B::IntotoV002(b)) => {
            let h = &b.spec.content.payload_hash;
            digest(
                "payload",
                &h.algorithm,
                h.value.as_str().to_ascii_lowercase(),
            )
        }
        // rekord and other kinds name their artifact as hashedrekord 0.0.1 does.
        _ => {
            let doc: Value = serde_json::from_slice(body).unwrap_or_default();
            let h = &doc["spec"]["data"]["hash"];
            match (h["algorithm"].as_str(), h["value"].as_str()) {
                (Some(a), Some(v)) => Some(Digest {
                    what: "artifact",
                    algorithm: a.to_string(),
                    hex: v.to_ascii_lowercase(),
                }),
                _ => None,
            }
        }
    };
    let mut d = Description {
        kind,
        version,
        digest,
        ..Default::default()
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(doc @ Value::Object(_)) => {
            let mut budget = 10_000usize;
            collect_keys(&doc, 0, &mut budget, &mut d);
        }
        Ok(_) => d.unread = Some("the body is not a JSON object".into()),
        Err(e) => d.unread = Some(format!("the body is not JSON: {e}")),
    }
    d
}

/// Walk a body for certificates and keys, bounded in depth and size.
fn collect_keys(v: &Value, depth: usize, budget: &mut usize, out: &mut Description) {
    if depth > 32 || *budget == 0 {
        out.unread
            .get_or_insert_with(|| "the body is nested too deep or too large to read whole".into());
        return;
    }
    *budget -= 1;
    match v {
        Value::String(s) => {
            let Ok(bytes) = B64.decode(s) else { return };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                return;
            };
            let text = text.trim_start();
            if !text.starts_with("-----BEGIN") {
                return;
            }
            if let Ok(cert) = DerCertificate::from_pem(text) {
                if !out.certificates.contains(&cert) {
                    out.certificates.push(cert);
                }
            } else if let Ok(key) = DerPublicKey::from_pem(text) {
                if !out.public_keys.contains(&key) {
                    out.public_keys.push(key);
                }
            } else if text.starts_with("-----BEGIN CERTIFICATE") {
                out.unread
                    .get_or_insert_with(|| "a PEM certificate in the body does not decode".into());
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_keys(item, depth + 1, budget, out);
            }
        }
        Value::Object(map) => {
            // Rekor v2 bodies hold DER, base64, under rawBytes.
            let raw = |k: &str| {
                map.get(k)
                    .and_then(|o| o["rawBytes"].as_str())
                    .and_then(|b| B64.decode(b).ok())
            };
            if let Some(der) = raw("x509Certificate") {
                let cert = DerCertificate::new(der);
                if !out.certificates.contains(&cert) {
                    out.certificates.push(cert);
                }
            }
            if let Some(der) = raw("publicKey") {
                let key = DerPublicKey::new(der);
                if !out.public_keys.contains(&key) {
                    out.public_keys.push(key);
                }
            }
            for item in map.values() {
                collect_keys(item, depth + 1, budget, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_of_unknown_kinds_are_described_best_effort() {
        let body = serde_json::json!({"kind": "rekord", "apiVersion": "0.0.1", "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": "AB"}},
            "signature": {"publicKey": {"content": B64.encode("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")}}}});
        let d = describe(body.to_string().as_bytes());
        assert_eq!((d.kind.as_str(), d.version.as_str()), ("rekord", "0.0.1"));
        assert_eq!(d.digest.unwrap().hex, "ab");
        assert_eq!(d.public_keys.len(), 1);
        assert!(d.unread.is_none(), "{:?}", d.unread);
        let d = describe(b"\xff not json");
        assert_eq!(d.kind, "unknown");
        assert!(d.digest.is_none() && d.certificates.is_empty());
        assert!(d.unread.unwrap().contains("not JSON"));
    }

    /// What could hide a certificate from a reader is said, never skipped
    /// quietly: a body that is no JSON object, one too deep to walk, a PEM
    /// certificate that does not decode.
    #[test]
    fn bodies_that_cannot_be_read_whole_say_why() {
        let d = describe(b"[1, 2]");
        assert_eq!(d.unread.as_deref(), Some("the body is not a JSON object"));
        let mut deep = serde_json::json!("x");
        for _ in 0..40 {
            deep = serde_json::json!({ "a": deep });
        }
        let d = describe(deep.to_string().as_bytes());
        assert!(d.unread.unwrap().contains("too deep"));
        let pem = B64.encode("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
        let body = serde_json::json!({"kind": "x", "apiVersion": "1", "spec": {"c": pem}});
        let d = describe(body.to_string().as_bytes());
        assert!(d.unread.unwrap().contains("does not decode"));
    }
}
