//! What an entry's body says, read best-effort whatever its kind: kind and
//! version, the digest it names, the certificates and keys it holds.

use super::walk;
use base64::Engine;
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
    /// JSON object, or holds what looks like a certificate yet does not
    /// decode): a certificate in it may have been missed. `None` when every
    /// part was read.
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
    let mut found = Found::default();
    if let Err(reason) = super::walk::strings(body, |place, s| found.string(place, s)) {
        found.unread(reason);
    }
    d.certificates = found.certificates;
    d.public_keys = found.public_keys;
    d.unread = found.unread;
    d
}

/// The certificates and keys found in a body so far, and why part of it
/// could not be read.
#[derive(Default)]
struct Found {
    certificates: Vec<DerCertificate>,
    public_keys: Vec<DerPublicKey>,
    unread: Option<String>,
}

impl Found {
    fn unread(&mut self, reason: impl Into<String>) {
        self.unread.get_or_insert_with(|| reason.into());
    }

    fn certificate(&mut self, der: Vec<u8>) {
        let cert = DerCertificate::new(der);
        if !self.certificates.contains(&cert) {
            self.certificates.push(cert);
        }
    }

    fn public_key(&mut self, der: Vec<u8>) {
        let key = DerPublicKey::new(der);
        if !self.public_keys.contains(&key) {
            self.public_keys.push(key);
        }
    }

    /// Read one string of the body. A compromised log could hide a
    /// certificate in any encoding Go verifiers (sigstore-go, cosign,
    /// Rekor's own DecodeEntry) accept for the same body, so each is read:
    /// base64 standard or URL-safe, padded or not, with line breaks; PEM
    /// with text before it, several blocks, any label; Rekor v2 protojson
    /// under either spelling of its field names. What looks like a
    /// certificate (PEM markers, a DER SEQUENCE of a SEQUENCE) and yields
    /// none marks the body unread, never a silent skip.
    fn string(&mut self, place: walk::Place, s: &str) {
        // Rekor v2 holds DER, base64, under x509Certificate.rawBytes and
        // publicKey.rawBytes (x509_certificate.raw_bytes, public_key.raw_bytes
        // in protojson's other spelling): what is there must be one.
        if matches!(place.key, Some("rawBytes" | "raw_bytes")) {
            let cert = matches!(place.parent, Some("x509Certificate" | "x509_certificate"));
            let key = matches!(place.parent, Some("publicKey" | "public_key"));
            if cert || key {
                match base64_lenient(s.as_bytes()) {
                    Some(der) if cert => self.certificate(der),
                    Some(der) => self.public_key(der),
                    None => self.unread(format!(
                        "{} in the body is not base64",
                        place.parent.unwrap_or_default()
                    )),
                }
                return;
            }
        }
        self.bytes(s.as_bytes(), 0);
    }

    /// Read what may be PEM, DER, or base64 of either (twice at most: Rekor's
    /// intoto 0.0.2 bodies encode their keys twice).
    fn bytes(&mut self, bytes: &[u8], decoded: u8) {
        if find(bytes, b"-----BEGIN").is_some() {
            self.pem(bytes);
        } else if sequence_of_sequence(bytes) {
            self.der(bytes.to_vec(), None);
        } else if decoded < 2
            && let Some(inner) = base64_lenient(bytes)
        {
            self.bytes(&inner, decoded + 1);
        }
    }

    /// Every PEM block in `text`, wherever it starts, as Go's `pem.Decode`
    /// finds them in turn.
    fn pem(&mut self, text: &[u8]) {
        let mut rest = text;
        while let Some(at) = find(rest, b"-----BEGIN ") {
            let after = &rest[at + 11..];
            let label_end = find(after, b"-----");
            let label = label_end.map(|n| &after[..n]);
            let is_cert = find(label.unwrap_or(after), b"CERTIFICATE").is_some();
            let block = label_end.and_then(|n| {
                let content = &after[n + 5..];
                let mut end = b"-----END ".to_vec();
                end.extend_from_slice(&after[..n]);
                end.extend_from_slice(b"-----");
                find(content, &end).map(|e| (&content[..e], &content[e + end.len()..]))
            });
            let Some((content, next)) = block else {
                if is_cert {
                    self.unread("a PEM certificate in the body has no END line");
                }
                rest = after;
                continue;
            };
            match base64_lenient(content) {
                Some(der) => self.der(der, label),
                None if is_cert => self.unread("a PEM certificate in the body does not decode"),
                None => {}
            }
            rest = next;
        }
    }

    /// DER from a PEM block (with its label) or a string: a certificate, a
    /// public key, or unread when it is shaped like a certificate. A block
    /// labeled CERTIFICATE (or PUBLIC KEY) is kept as one even when it does
    /// not parse: the scan then says so for it.
    fn der(&mut self, der: Vec<u8>, label: Option<&[u8]>) {
        use der::Decode;
        let says = |what: &[u8]| label.is_some_and(|l| find(l, what).is_some());
        if says(b"CERTIFICATE") || x509_cert::Certificate::from_der(&der).is_ok() {
            self.certificate(der);
        } else if says(b"PUBLIC KEY")
            || x509_cert::spki::SubjectPublicKeyInfoRef::from_der(&der).is_ok()
        {
            self.public_key(der);
        } else if sequence_of_sequence(&der) {
            self.unread("DER in the body that is shaped like a certificate does not parse");
        }
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One DER SEQUENCE, whole, whose content starts with a SEQUENCE: how a
/// certificate (and an SPKI) begins; an ECDSA signature (a SEQUENCE of
/// INTEGERs) does not.
fn sequence_of_sequence(bytes: &[u8]) -> bool {
    use der::{Decode, Tag, Tagged};
    der::asn1::AnyRef::from_der(bytes)
        .is_ok_and(|any| any.tag() == Tag::Sequence && any.value().first() == Some(&0x30))
}

/// Base64 as Go's decoders accept it between them: standard or URL-safe
/// alphabet, padded or not, with ASCII whitespace (line breaks) anywhere.
/// `None` when it is not base64 (or empty).
fn base64_lenient(text: &[u8]) -> Option<Vec<u8>> {
    use base64::alphabet::{STANDARD, URL_SAFE};
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let clean: Vec<u8> = text
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if clean.is_empty() {
        return None;
    }
    let url_safe = clean.iter().any(|c| matches!(c, b'-' | b'_'));
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let alphabet = if url_safe { &URL_SAFE } else { &STANDARD };
    GeneralPurpose::new(alphabet, config).decode(&clean).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};

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
    /// quietly: a body that is no JSON object, a PEM certificate that does
    /// not decode or does not end, DER shaped like a certificate that does
    /// not parse.
    #[test]
    fn bodies_that_cannot_be_read_whole_say_why() {
        let d = describe(b"[1, 2]");
        assert_eq!(d.unread.as_deref(), Some("the body is not a JSON object"));
        let in_body = |s: String| {
            let body = serde_json::json!({"kind": "x", "apiVersion": "1", "spec": {"c": s}});
            describe(body.to_string().as_bytes())
                .unread
                .unwrap_or_default()
        };
        let pem = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(in_body(B64.encode(pem)).contains("does not decode"));
        let open = "-----BEGIN CERTIFICATE-----\nMIIB\n";
        assert!(in_body(B64.encode(open)).contains("no END line"));
        // SEQUENCE { SEQUENCE { INTEGER 1 } }: neither a certificate nor a key.
        let shaped = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x01];
        assert!(in_body(B64.encode(shaped)).contains("shaped like a certificate"));
        // An ECDSA signature (SEQUENCE of INTEGERs) is no certificate.
        assert_eq!(in_body(B64.encode([0x30, 0x03, 0x02, 0x01, 0x01])), "");
    }

    /// A body nested 10,000 deep, or holding 100,000 values, is walked whole
    /// (iteratively: no stack overflow, no "unreadable"), and the
    /// certificate at its bottom is found.
    #[test]
    fn deep_and_large_bodies_are_walked_whole() {
        let (cert, _) = certificate();
        let pem = B64.encode(pem_of(&cert));
        let depth = 10_000;
        let body = format!(
            r#"{{"kind": "x", "apiVersion": "1", "spec": {}"{pem}"{}}}"#,
            "{\"a\": [".repeat(depth),
            "]}".repeat(depth)
        );
        let d = describe(body.as_bytes());
        assert!(d.unread.is_none(), "{:?}", d.unread);
        assert_eq!(d.certificates, [DerCertificate::new(cert.clone())]);
        let values = vec!["1"; 100_000].join(",");
        let body = format!(r#"{{"kind": "x", "spec": [{values}, "{pem}"]}}"#);
        let d = describe(body.as_bytes());
        assert!(d.unread.is_none(), "{:?}", d.unread);
        assert_eq!(d.certificates, [DerCertificate::new(cert)]);
    }

    /// Every encoding of a certificate Go verifiers accept in a body is read.
    #[test]
    fn certificates_are_found_in_every_encoding_go_accepts() {
        let (cert, spki) = certificate();
        let pem = pem_of(&cert);
        let b64 = B64.encode(&pem);
        let wrapped = |sep: &str| {
            b64.as_bytes()
                .chunks(64)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(sep)
        };
        let cases = [
            ("line breaks", wrapped("\n")),
            ("CRLF", wrapped("\r\n")),
            ("text before", B64.encode(format!("a chain:\n{pem}"))),
            (
                "second block",
                B64.encode(format!(
                    "{}{pem}",
                    pem_of(&spki).replace("CERTIFICATE", "PUBLIC KEY")
                )),
            ),
            (
                "another label",
                B64.encode(pem.replace("CERTIFICATE", "X509 THING")),
            ),
            ("URL-safe", URL_SAFE_NO_PAD.encode(&pem)),
            ("unpadded", b64.trim_end_matches('=').to_string()),
            ("raw DER", B64.encode(&cert)),
            ("twice", B64.encode(&b64)),
            ("not base64", pem.clone()),
        ];
        let mut missed = Vec::new();
        for (what, s) in cases {
            let body = serde_json::json!({"kind": "x", "apiVersion": "1", "spec": {"k": s}});
            let d = describe(body.to_string().as_bytes());
            if d.certificates != [DerCertificate::new(cert.clone())] || d.unread.is_some() {
                missed.push(what);
            }
        }
        for (outer, inner) in [
            ("x509Certificate", "rawBytes"),
            ("x509_certificate", "raw_bytes"),
        ] {
            let body = serde_json::json!({"kind": "hashedrekord", "apiVersion": "0.0.2", "spec": {
                "verifier": {outer: {inner: B64.encode(&cert)}}}});
            let d = describe(body.to_string().as_bytes());
            if d.certificates != [DerCertificate::new(cert.clone())] {
                missed.push(outer);
            }
        }
        assert!(missed.is_empty(), "certificates missed: {missed:?}");
    }

    /// A self-signed certificate and its SPKI, DER.
    fn certificate() -> (Vec<u8>, Vec<u8>) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let params = rcgen::CertificateParams::new(["hidden.example".to_string()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        (
            cert.der().to_vec(),
            rcgen::PublicKeyData::subject_public_key_info(&key),
        )
    }

    fn pem_of(der: &[u8]) -> String {
        let body = B64.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }
}
