//! PEP 740 provenance as a package index serves it: PyPI's Integrity API
//! (`GET /integrity/<project>/<version>/<filename>/provenance`,
//! `Accept: application/vnd.pypi.integrity.v1+json`), or the URL a PEP 691
//! page gives.

use crate::attestation::Attestation;
use serde::Deserialize;
use serde_json::Value;

/// The Integrity API's media type, version 1.
pub const INTEGRITY_JSON: &str = "application/vnd.pypi.integrity.v1+json";

/// A file has at most this many attestation bundles (publishers), and each
/// at most this many attestations: PyPI serves one of each today; more is
/// an index making keyless verify without end.
pub const MAX_BUNDLES: usize = 8;
/// See [`MAX_BUNDLES`].
pub const MAX_ATTESTATIONS: usize = 8;

/// A provenance object.
#[derive(Debug, Clone, Deserialize)]
pub struct Provenance {
    /// Always 1.
    pub version: u32,
    /// The attestations, grouped by the publisher the index says made them.
    pub attestation_bundles: Vec<AttestationBundle>,
}

/// The attestations of one publisher.
#[derive(Debug, Clone, Deserialize)]
pub struct AttestationBundle {
    /// The index's claim of who published (a PEP 740 publisher object):
    /// compared with the verified certificate, never trusted on its own.
    pub publisher: Value,
    /// The attestations.
    pub attestations: Vec<Attestation>,
}

impl Provenance {
    /// Parse an answer: version 1, within the caps, each attestation
    /// version 1.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        let p: Self =
            serde_json::from_slice(body).map_err(|e| format!("not provenance JSON: {e}"))?;
        if p.version != 1 {
            return Err(format!(
                "provenance version {} (keyless reads 1)",
                p.version
            ));
        }
        if p.attestation_bundles.len() > MAX_BUNDLES
            || p.attestation_bundles
                .iter()
                .any(|b| b.attestations.len() > MAX_ATTESTATIONS)
        {
            return Err(format!(
                "more than {MAX_BUNDLES} publishers or {MAX_ATTESTATIONS} attestations per publisher"
            ));
        }
        if let Some(a) = p
            .attestation_bundles
            .iter()
            .flat_map(|b| &b.attestations)
            .find(|a| a.version != 1)
        {
            return Err(format!(
                "attestation version {} (keyless reads 1)",
                a.version
            ));
        }
        Ok(p)
    }
}
