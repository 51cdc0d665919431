//! `keyless inspect`: what a bundle, certificate or PEP 740 attestation
//! claims. Nothing here is verified.

use crate::error::{Error, FileKind, Result};
use serde::Serialize;
use sigstore_types::{Bundle, DerCertificate};
use std::path::Path;

/// The kinds of file `inspect` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A Sigstore bundle.
    Bundle,
    /// A PEP 740 attestation.
    Attestation,
    /// An X.509 certificate (PEM or DER).
    Certificate,
}

/// A certificate's claims.
#[derive(Debug, Clone, Serialize)]
pub struct CertificateClaims {
    /// The SAN.
    pub identity: Option<String>,
    /// The OIDC issuer.
    pub issuer: Option<String>,
    /// Not valid before.
    pub not_before: String,
    /// Not valid after.
    pub not_after: String,
    /// Fulcio extensions present: (OID, name, value).
    pub extensions: Vec<crate::cert::ExtensionValue>,
}

/// A transparency log entry's claims.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntryClaims {
    /// Log index.
    pub log_index: u64,
    /// Entry kind and version.
    pub kind: String,
    /// Integrated time (Rekor v1), unverified.
    pub integrated_time: Option<String>,
    /// The log's URL from the trust root, when the log is known there.
    pub log: Option<String>,
    /// Whether it carries an inclusion proof / a SET.
    pub inclusion_proof: bool,
    /// Whether it carries a SET.
    pub inclusion_promise: bool,
}

/// Everything `inspect` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// Always false: a reminder in the JSON too.
    pub verified: bool,
    /// What the file is.
    pub kind: Kind,
    /// Bundle media type.
    pub media_type: Option<String>,
    /// The signing certificate's claims.
    pub certificate: Option<CertificateClaims>,
    /// Log entries.
    pub log_entries: Vec<LogEntryClaims>,
    /// Number of RFC 3161 timestamps.
    pub rfc3161_timestamps: usize,
    /// Signature content: `message-signature` or `dsse`.
    pub content: Option<String>,
    /// DSSE payload type and in-toto statement subjects (name, digests).
    pub dsse_subjects: Vec<serde_json::Value>,
    /// In-toto predicate type.
    pub predicate_type: Option<String>,
}

fn claims(cert: &DerCertificate) -> std::result::Result<CertificateClaims, String> {
    let info = sigstore_crypto::parse_certificate_info(cert).map_err(|e| e.to_string())?;
    Ok(CertificateClaims {
        identity: info.identity.as_ref().map(|s| s.as_str().to_string()),
        issuer: info.issuer.clone(),
        not_before: info.not_before.to_string(),
        not_after: info.not_after.to_string(),
        extensions: crate::cert::present(&info),
    })
}

fn log_name(roots: &[sigstore_trust_root::TrustedRoot], key_id: &[u8]) -> Option<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(key_id);
    roots
        .iter()
        .flat_map(|r| r.tlogs.iter())
        .find(|t| t.log_id.key_id.as_bytes() == key_id || t.log_id.key_id.to_string() == b64)
        .map(|t| t.base_url.clone())
}

fn from_bundle(
    bundle: &Bundle,
    kind: Kind,
    roots: &[sigstore_trust_root::TrustedRoot],
) -> Inspection {
    let vm = &bundle.verification_material;
    let (content, subjects, predicate) = match &bundle.content {
        sigstore_types::SignatureContent::MessageSignature(_) => {
            ("message-signature", Vec::new(), None)
        }
        sigstore_types::SignatureContent::DsseEnvelope(env) => {
            let statement: serde_json::Value =
                serde_json::from_slice(env.payload.as_bytes()).unwrap_or_default();
            (
                "dsse",
                statement["subject"].as_array().cloned().unwrap_or_default(),
                statement["predicateType"].as_str().map(str::to_string),
            )
        }
        _ => ("unknown", Vec::new(), None),
    };
    Inspection {
        verified: false,
        kind,
        media_type: (kind == Kind::Bundle).then(|| bundle.media_type().to_string()),
        certificate: bundle.signing_certificate().and_then(|c| claims(c).ok()),
        log_entries: vm
            .tlog_entries
            .iter()
            .map(|e| LogEntryClaims {
                log_index: e.log_index.get(),
                kind: format!("{} {}", e.kind_version.kind(), e.kind_version.version()),
                integrated_time: e.integrated_time.map(|t| t.to_string()),
                log: log_name(roots, e.log_id.key_id.as_bytes()),
                inclusion_proof: e.inclusion_proof.is_some(),
                inclusion_promise: e.inclusion_promise.is_some(),
            })
            .collect(),
        rfc3161_timestamps: vm.timestamp_verification_data.rfc3161_timestamps.len(),
        content: Some(content.into()),
        dsse_subjects: subjects,
        predicate_type: predicate,
    }
}

/// Read `path` (bundle, attestation, or certificate) and describe it.
/// `roots` name the logs.
pub fn inspect(path: &Path, roots: &[sigstore_trust_root::TrustedRoot]) -> Result<Inspection> {
    // The same cap as a bundle, for every input: a FIFO or /dev/zero is
    // refused after MAX_BUNDLE_BYTES + 1 bytes, never read to the end.
    let bytes = crate::files::read_bytes_limited(
        path,
        crate::bundle::MAX_BUNDLE_BYTES,
        FileKind::Inspectable,
    )?;
    let text = std::str::from_utf8(&bytes).ok();
    let json: Option<serde_json::Value> = text.and_then(|t| serde_json::from_str(t).ok());
    if let Some(doc) = &json {
        if doc.get("verification_material").is_some() && doc.get("envelope").is_some() {
            let limit = crate::attestation::MAX_ATTESTATION_BYTES;
            if bytes.len() as u64 > limit {
                return Err(Error::TooLarge {
                    path: path.to_path_buf(),
                    size: bytes.len() as u64,
                    limit,
                    what: FileKind::Attestation,
                });
            }
            let att = crate::attestation::Attestation::parse(path, text.unwrap_or_default())?;
            return Ok(from_bundle(&att.to_bundle(path)?, Kind::Attestation, roots));
        }
        if doc.get("mediaType").is_some() {
            let bundle = crate::bundle::parse_bundle(path, text.unwrap_or_default())?;
            return Ok(from_bundle(&bundle, Kind::Bundle, roots));
        }
    }
    let cert = match text.filter(|t| t.contains("-----BEGIN CERTIFICATE")) {
        Some(pem) => DerCertificate::from_pem(pem).map_err(|e| e.to_string()),
        None => Ok(DerCertificate::new(bytes.clone())),
    };
    let claims = cert
        .and_then(|c| claims(&c))
        .map_err(|reason| Error::Malformed {
            path: path.to_path_buf(),
            what: FileKind::Inspectable,
            reason,
        })?;
    Ok(Inspection {
        verified: false,
        kind: Kind::Certificate,
        media_type: None,
        certificate: Some(claims),
        log_entries: Vec::new(),
        rfc3161_timestamps: 0,
        content: None,
        dsse_subjects: Vec::new(),
        predicate_type: None,
    })
}
