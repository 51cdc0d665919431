//! cosign-style detached outputs (`<file>.sig` + `<file>.crt`) carry no log
//! evidence: the Rekor entry is looked up online by the artifact's digest and
//! turned into a bundle, which is then verified like any other.

use super::{Failure, Step};
use crate::error::{Error, FileKind, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sigstore_types::{Bundle, DerCertificate, Sha256Hash, SignatureBytes};
use std::path::Path;
use std::time::Duration;

/// Read a base64 signature file (cosign `--output-signature`).
pub fn read_signature(path: &Path) -> Result<SignatureBytes> {
    let text = crate::files::read_text_limited(path, 64 * 1024, FileKind::Signature)?;
    let bytes = B64.decode(text.trim()).map_err(|e| Error::Malformed {
        path: path.to_path_buf(),
        what: FileKind::Signature,
        reason: e.to_string(),
    })?;
    Ok(SignatureBytes::new(bytes))
}

/// Read a certificate file: PEM, or base64 of PEM as older cosign wrote.
pub fn read_certificate(path: &Path) -> Result<DerCertificate> {
    let text = crate::files::read_text_limited(path, 256 * 1024, FileKind::Certificate)?;
    let malformed = |reason: String| Error::Malformed {
        path: path.to_path_buf(),
        what: FileKind::Certificate,
        reason,
    };
    if text.contains("-----BEGIN") {
        return DerCertificate::from_pem(&text).map_err(|e| malformed(e.to_string()));
    }
    let decoded = B64
        .decode(text.trim())
        .map_err(|e| malformed(format!("neither PEM nor base64-wrapped PEM: {e}")))?;
    let pem = String::from_utf8(decoded)
        .map_err(|_| malformed("base64 does not wrap PEM text".into()))?;
    DerCertificate::from_pem(&pem).map_err(|e| malformed(e.to_string()))
}

/// Find the Rekor v1 entry for `signature` by `cert` over `digest` and
/// assemble a v0.3 bundle from it. [`Error::Failed`] when the log has no
/// such entry; another error when Rekor could not be asked.
pub(crate) fn bundle_from_rekor(
    rekor_url: &str,
    digest: Sha256Hash,
    signature: &SignatureBytes,
    cert: &DerCertificate,
    timeout: Duration,
) -> Result<Bundle> {
    let network = |reason: String| Error::Network {
        service: format!("Rekor {rekor_url}"),
        reason,
    };
    let rekor =
        crate::net::rekor::RekorV1::new(rekor_url, crate::net::http_client(timeout)?, timeout);
    let found = crate::net::current_thread_runtime()?
        .block_on(rekor.find_hashedrekord(&digest, signature, Some(cert)))
        .map_err(|(reason, _)| network(reason))?;
    let Some(entry) = found else {
        return Err(Failure::new(
            Step::LogEntry,
            format!(
                "{rekor_url} has no log entry for this signature and certificate over this artifact"
            ),
        )
        .into());
    };
    let tlog = entry
        .to_bundle_entry(sigstore_types::KindVersion::HashedRekordV001)
        .map_err(|e| network(format!("unusable entry: {e}")))?;
    Ok(sigstore_bundle::BundleV03::with_certificate_and_signature(
        cert.clone(),
        signature.clone(),
        digest,
    )
    .with_tlog_entry(tlog)
    .into_bundle())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_read_as_pem_or_base64_wrapped_pem() {
        let dir = tempfile::tempdir().unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["x".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let pem = cert.pem();
        let plain = dir.path().join("a.crt");
        std::fs::write(&plain, &pem).unwrap();
        let wrapped = dir.path().join("b.crt");
        std::fs::write(&wrapped, B64.encode(&pem)).unwrap();
        let a = read_certificate(&plain).unwrap();
        assert_eq!(a, read_certificate(&wrapped).unwrap());
        assert_eq!(a.as_bytes(), cert.der().as_ref());
        let junk = dir.path().join("c.crt");
        std::fs::write(&junk, "not a certificate").unwrap();
        assert!(read_certificate(&junk).is_err());
    }
}
