//! A logged signing certificate, summarized for an auditor: identity,
//! issuer, validity and Fulcio's CI extensions.

use crate::cert::ExtensionValue;
use sigstore_crypto::CertificateInfo;
use sigstore_types::DerCertificate;

/// A signing certificate, as an auditor reads it. Nothing here is
/// validated against a Fulcio CA: it is what the log holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertificateSummary {
    /// The SAN (email or URI) that verifiers match: the first one.
    pub identity: Option<String>,
    /// The OIDC issuer (Fulcio OID .1.8, or legacy .1.1).
    pub issuer: Option<String>,
    /// Not valid before.
    pub not_before: jiff::Timestamp,
    /// Not valid after.
    pub not_after: jiff::Timestamp,
    /// Fulcio's CI extensions that are present.
    pub extensions: Vec<ExtensionValue>,
}

impl CertificateSummary {
    /// Read a certificate; `None` when it does not parse.
    pub fn of(cert: &DerCertificate) -> Option<Self> {
        let info = sigstore_crypto::parse_certificate_info(cert).ok()?;
        Some(Self::from_info(&info))
    }

    /// From parsed certificate information.
    pub fn from_info(info: &CertificateInfo) -> Self {
        Self {
            identity: info.identity.as_ref().map(|s| s.as_str().to_string()),
            issuer: info.issuer.clone(),
            not_before: info.not_before,
            not_after: info.not_after,
            extensions: fulcio_extensions(info),
        }
    }

    /// The value of the extension with this OID.
    pub fn extension(&self, oid: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|e| e.oid == oid)
            .map(|e| e.value.as_str())
    }
}

/// Fulcio's CI extensions present, the issuer left out (it has its own field).
fn fulcio_extensions(info: &CertificateInfo) -> Vec<ExtensionValue> {
    let mut present = crate::cert::present(info);
    present.retain(|e| e.oid != crate::cert::ISSUER.oid);
    present
}
