//! A logged signing certificate, summarized for an auditor: identity,
//! issuer, validity and Fulcio's CI extensions.

use crate::cert::ExtensionValue;
use sigstore_types::DerCertificate;

/// A signing certificate, as an auditor reads it. Nothing here is
/// validated against a Fulcio CA: it is what the log holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertificateSummary {
    /// The SAN (email or URI) that verifiers match: the first one.
    pub identity: Option<String>,
    /// Every other email, URI or DNS SAN, in order (a watched identity
    /// matches any SAN: cosign accepts a certificate when any one does).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_identities: Vec<String>,
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
        Self::read(cert).ok()
    }

    /// Read a certificate straight from its X.509 structure, whatever its
    /// key algorithm (see [`crate::cert::read`]): `Err` says why the DER
    /// does not parse as a certificate (or its SAN does not decode).
    pub fn read(cert: &DerCertificate) -> Result<Self, String> {
        use der::Decode;
        let cert = x509_cert::Certificate::from_der(cert.as_bytes()).map_err(|e| e.to_string())?;
        let subject = crate::cert::read(&cert)?;
        let validity = &cert.tbs_certificate.validity;
        let time = |t: &x509_cert::time::Time| {
            jiff::Timestamp::try_from(t.to_system_time()).map_err(|e| format!("its validity: {e}"))
        };
        let (issuer, extensions) = subject
            .extensions
            .into_iter()
            .partition::<Vec<_>, _>(|e| e.oid == crate::cert::ISSUER.oid);
        Ok(Self {
            identity: subject.identity,
            other_identities: subject.other_identities,
            issuer: issuer.into_iter().next().map(|e| e.value),
            not_before: time(&validity.not_before)?,
            not_after: time(&validity.not_after)?,
            extensions,
        })
    }

    /// Every SAN it names: the identity first.
    pub fn identities(&self) -> impl Iterator<Item = &str> {
        self.identity
            .iter()
            .chain(&self.other_identities)
            .map(String::as_str)
    }

    /// The value of the extension with this OID.
    pub fn extension(&self, oid: &str) -> Option<&str> {
        self.extensions
            .iter()
            .find(|e| e.oid == oid)
            .map(|e| e.value.as_str())
    }
}
