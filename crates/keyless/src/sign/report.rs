//! What a signing run reports, per file and as a whole.

use super::events::Timings;
use super::outputs::Outputs;
use super::services::Services;
use sigstore_types::Sha256Hash;
use std::path::{Path, PathBuf};

/// What happened to one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The input.
    pub path: PathBuf,
    /// Its SHA-256, once read.
    pub sha256: Option<Sha256Hash>,
    /// The outputs written (none when it failed).
    pub outputs: Option<Outputs>,
    /// Rekor log index (of the attestation, for `attest`).
    pub log_index: Option<u64>,
    /// Rekor log index of the attestation written beside the bundle
    /// ([`Outputs::attestation`]).
    pub attestation_log_index: Option<u64>,
    /// Rekor log ID (hex).
    pub log_id: Option<String>,
    /// Rekor v1 integrated time.
    pub integrated_time: Option<jiff::Timestamp>,
    /// Verified signing times (TSA and SET).
    pub timestamps: Vec<jiff::Timestamp>,
    /// Why it failed.
    pub error: Option<String>,
    /// Whether keyless's verifier rejected the new bundle (as opposed to a
    /// service or I/O failure).
    pub rejected_by_verifier: bool,
    /// Time spent per phase.
    pub timings: Timings,
}

impl FileReport {
    pub(super) fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            sha256: None,
            outputs: None,
            log_index: None,
            attestation_log_index: None,
            log_id: None,
            integrated_time: None,
            timestamps: Vec::new(),
            error: None,
            rejected_by_verifier: false,
            timings: Timings::default(),
        }
    }
}

/// The result of a signing run that got as far as signing.
#[derive(Debug, Clone)]
pub struct SignReport {
    /// The certificate's identity (SAN).
    pub identity: String,
    /// The certificate's OIDC issuer.
    pub issuer: String,
    /// The services used.
    pub services: Services,
    /// Per file, in input order.
    pub files: Vec<FileReport>,
}

impl SignReport {
    /// Whether every file was signed.
    pub fn all_ok(&self) -> bool {
        self.files.iter().all(|f| f.error.is_none())
    }
}
