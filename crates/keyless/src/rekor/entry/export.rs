//! A bundle made from a logged signature (`keyless rekor get --bundle-out`).

use super::describe::body_kind;
use crate::error::{Error, Result};
use sigstore_types::{DerCertificate, KindVersion, Sha256Hash};

/// A v0.3 bundle for a Rekor v1 hashedrekord entry signed with a
/// certificate: the certificate, the logged signature over the logged
/// SHA-256 digest, and the entry. Also the digest and certificate.
pub(crate) fn bundle_for(
    raw: &sigstore_rekor::LogEntry,
) -> Result<(sigstore_types::Bundle, Sha256Hash, DerCertificate)> {
    use sigstore_rekor::body::RekorEntryBody as B;
    let (kind, version) = body_kind(raw.body.as_bytes());
    let body = match sigstore_rekor::RekorEntryBody::from_json(raw.body.as_bytes(), &kind, &version)
    {
        Ok(B::HashedRekordV001(b)) => b,
        Ok(_) => return Err(unusable(format!("it is a {kind} {version} entry"), None)),
        Err(e) => return Err(unusable(e.to_string(), Some(Box::new(e)))),
    };
    if body.spec.data.hash.algorithm != sigstore_types::HashAlgorithm::Sha2256 {
        return Err(unusable(
            format!(
                "it logs a {} digest",
                body.spec.data.hash.algorithm.as_rekor_str()
            ),
            None,
        ));
    }
    let digest = body
        .spec
        .data
        .hash
        .value
        .to_sha256()
        .map_err(|e| unusable(e.to_string(), Some(Box::new(e))))?;
    let cert = body
        .spec
        .signature
        .public_key
        .parse_certificate()
        .map_err(|e| {
            unusable(
                "it was signed with a public key, not a certificate".into(),
                Some(Box::new(e)),
            )
        })?;
    let tlog = raw
        .to_bundle_entry(KindVersion::HashedRekordV001)
        .map_err(|e| unusable(e.to_string(), Some(Box::new(e))))?;
    let bundle = sigstore_bundle::BundleV03::with_certificate_and_signature(
        cert.clone(),
        body.spec.signature.content.clone(),
        digest,
    )
    .with_tlog_entry(tlog)
    .into_bundle();
    Ok((bundle, digest, cert))
}

/// Why no bundle can be made from the entry, and the parser's error when
/// one said so.
fn unusable(why: String, source: Option<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::UnusableEntry {
        reason: format!(
            "no bundle can be made from this entry: {why}; --bundle-out needs a hashedrekord 0.0.1 entry signed with a certificate over a SHA-256 digest"
        ),
        source,
    }
}
