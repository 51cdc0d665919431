//! PEP 740 attestations (`<file>.publish.attestation`), as PyPI and the
//! `pypi-attestations` package read and write them: a DSSE envelope over an
//! in-toto Statement v1 whose subject is the distribution's file name and
//! SHA-256, with the Sigstore verification material beside it.

use crate::error::{Error, FileKind, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::Path;

/// The predicate type of a PyPI publish attestation.
pub const PUBLISH_PREDICATE_TYPE: &str = "https://docs.pypi.org/attestations/publish/v1";
/// The in-toto Statement v1 type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The DSSE payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Attestations are small; larger files are refused before parsing.
pub const MAX_ATTESTATION_BYTES: u64 = 4 * 1024 * 1024;

/// A PEP 740 attestation object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attestation {
    /// Format version (1).
    pub version: u32,
    /// Certificate and log entries.
    pub verification_material: VerificationMaterial,
    /// The signed statement.
    pub envelope: Envelope,
}

/// The certificate and transparency log entries of an attestation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerificationMaterial {
    /// Base64 DER of the signing certificate.
    pub certificate: String,
    /// Sigstore `TransparencyLogEntry` objects.
    pub transparency_entries: Vec<Value>,
}

/// The DSSE envelope, PEP 740 style (payload type implied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Base64 of the statement JSON.
    pub statement: String,
    /// Base64 signature over the DSSE PAE.
    pub signature: String,
}

fn malformed(path: &Path, reason: impl Into<String>) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        what: FileKind::Attestation,
        reason: reason.into(),
    }
}

/// The attestation path of a distribution file: `<file>.publish.attestation`.
pub fn default_path(file: &Path) -> std::path::PathBuf {
    let mut s = file.as_os_str().to_os_string();
    s.push(".publish.attestation");
    s.into()
}

/// Whether a file name is a Python distribution (where attestations apply).
pub fn is_distribution(file: &Path) -> bool {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.ends_with(".whl") || name.ends_with(".tar.gz")
}

impl Attestation {
    /// Read and parse an attestation file.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            crate::files::read_text_limited(path, MAX_ATTESTATION_BYTES, FileKind::Attestation)?;
        Self::parse(path, &text)
    }

    /// [`Self::read`] for an attestation a checksum list leads to: a
    /// regular file only, refused unread otherwise.
    pub fn read_listed(path: &Path) -> Result<Self> {
        let text = crate::files::read_regular_text_limited(
            path,
            MAX_ATTESTATION_BYTES,
            FileKind::Attestation,
        )?;
        Self::parse(path, &text)
    }

    /// Parse attestation JSON read from `path` (used in messages only).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        let a: Self = serde_json::from_str(text).map_err(|e| malformed(path, e.to_string()))?;
        if a.version != 1 {
            return Err(malformed(
                path,
                format!("unsupported version {}", a.version),
            ));
        }
        Ok(a)
    }

    /// The statement, decoded.
    pub(crate) fn statement(&self) -> std::result::Result<Value, String> {
        let bytes = B64
            .decode(&self.envelope.statement)
            .map_err(|e| format!("statement is not base64: {e}"))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("statement is not JSON: {e}"))
    }

    /// The equivalent Sigstore bundle (v0.3, DSSE), as pypi-attestations
    /// converts it, for verification.
    pub fn to_bundle(&self, path: &Path) -> Result<sigstore_types::Bundle> {
        let doc = json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": {"rawBytes": self.verification_material.certificate},
                "tlogEntries": self.verification_material.transparency_entries,
            },
            "dsseEnvelope": {
                "payload": self.envelope.statement,
                "payloadType": IN_TOTO_PAYLOAD_TYPE,
                "signatures": [{"sig": self.envelope.signature, "keyid": ""}],
            },
        });
        crate::bundle::parse_bundle(path, &doc.to_string())
    }

    /// The attestation form of a DSSE bundle with a certificate.
    #[cfg(feature = "sign")]
    pub(crate) fn from_bundle(
        bundle: &sigstore_types::Bundle,
    ) -> std::result::Result<Self, String> {
        let doc: Value = serde_json::from_str(&bundle.to_json().map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let envelope = &doc["dsseEnvelope"];
        if envelope["payloadType"] != IN_TOTO_PAYLOAD_TYPE {
            return Err("the bundle does not sign an in-toto statement".into());
        }
        let sigs = envelope["signatures"].as_array().filter(|s| s.len() == 1);
        let sig = sigs
            .and_then(|s| s[0]["sig"].as_str())
            .ok_or("the envelope must carry exactly one signature")?;
        let cert = doc["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .ok_or("the bundle has no leaf certificate")?;
        Ok(Self {
            version: 1,
            verification_material: VerificationMaterial {
                certificate: cert.to_string(),
                transparency_entries: doc["verificationMaterial"]["tlogEntries"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            },
            envelope: Envelope {
                statement: envelope["payload"].as_str().unwrap_or_default().to_string(),
                signature: sig.to_string(),
            },
        })
    }
}

/// The publish statement for a distribution file.
pub fn publish_statement(file_name: &str, sha256_hex: &str) -> Value {
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": file_name, "digest": {"sha256": sha256_hex}}],
        "predicateType": PUBLISH_PREDICATE_TYPE,
        "predicate": null,
    })
}

/// PEP 740's binding of a statement to a file: it is a publish statement,
/// with exactly one subject, named after the file (as distributions are
/// named, PEP 625/427), whose SHA-256 is the file's.
pub(crate) fn check_subject(
    statement: &Value,
    file_name: &str,
    sha256_hex: &str,
) -> std::result::Result<(), String> {
    if statement["_type"] != STATEMENT_TYPE {
        return Err(format!(
            "statement type is {}, not {STATEMENT_TYPE}",
            statement["_type"]
        ));
    }
    if statement["predicateType"] != PUBLISH_PREDICATE_TYPE {
        return Err(format!(
            "predicate type is {}, not {PUBLISH_PREDICATE_TYPE}",
            statement["predicateType"]
        ));
    }
    let subjects = statement["subject"]
        .as_array()
        .ok_or("statement has no subject list")?;
    let [subject] = subjects.as_slice() else {
        return Err(format!(
            "a publish statement has one subject, this one has {}",
            subjects.len()
        ));
    };
    let name = subject["name"].as_str().unwrap_or_default();
    if name != file_name {
        return Err(format!(
            "the attestation is for {name:?}, not {file_name:?}"
        ));
    }
    let digest = subject["digest"]["sha256"].as_str().unwrap_or_default();
    if !digest.eq_ignore_ascii_case(sha256_hex) {
        return Err(format!(
            "the attestation's sha256 is {digest}, the file's is {sha256_hex}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_must_name_the_file_and_digest() {
        let st = publish_statement("pkg-1.0.tar.gz", &"ab".repeat(32));
        check_subject(&st, "pkg-1.0.tar.gz", &"AB".repeat(32)).unwrap();
        assert!(
            check_subject(&st, "pkg-1.1.tar.gz", &"ab".repeat(32))
                .unwrap_err()
                .contains("pkg-1.1")
        );
        assert!(check_subject(&st, "pkg-1.0.tar.gz", &"cd".repeat(32)).is_err());
        let mut other = st.clone();
        other["predicateType"] = json!("https://slsa.dev/provenance/v1");
        assert!(check_subject(&other, "pkg-1.0.tar.gz", &"ab".repeat(32)).is_err());
        let mut two = st;
        two["subject"] = json!([two["subject"][0], two["subject"][0]]);
        assert!(check_subject(&two, "pkg-1.0.tar.gz", &"ab".repeat(32)).is_err());
    }
}
