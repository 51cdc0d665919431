//! What a signing run writes for each file, and where.

use std::path::{Path, PathBuf};

/// What each file gets.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Mode {
    /// A Sigstore bundle over the file (message signature, hashedrekord).
    #[default]
    Bundle,
    /// A PEP 740 publish attestation (DSSE over an in-toto statement naming
    /// the file, logged as a dsse entry).
    Attestation,
    /// One DSSE envelope over this in-toto statement, its bytes as they
    /// are (`keyless attest --statement` / `--predicate`): the run has one
    /// input (the statement's file, or the first subject's), whose bundle
    /// is [`Outputs::bundle`]. Logged as a dsse entry in Rekor v1, as a
    /// hashedrekord over the DSSE PAE in Rekor v2 (as sigstore-python and
    /// sigstore-go log it there).
    Statement(std::sync::Arc<crate::statement::Statement>),
}

/// Where one input's outputs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    /// The bundle.
    pub bundle: PathBuf,
    /// The base64 signature (cosign `.sig`), if requested.
    pub signature: Option<PathBuf>,
    /// The PEM certificate (cosign `.crt`), if requested.
    pub certificate: Option<PathBuf>,
    /// In [`Mode::Bundle`], also a PEP 740 publish attestation here, under
    /// the same certificate (`keyless sign --attestations`).
    pub attestation: Option<PathBuf>,
}

impl Outputs {
    pub(super) fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        std::iter::once(&self.bundle)
            .chain(self.signature.as_ref())
            .chain(self.certificate.as_ref())
            .chain(self.attestation.as_ref())
    }
}

/// Default outputs for `file`: `<file>.sigstore.json`, plus `<file>.sig` and
/// `<file>.crt` with `legacy`.
pub fn default_outputs(file: &Path, legacy: bool) -> Outputs {
    let with = |suffix: &str| {
        let mut s = file.as_os_str().to_os_string();
        s.push(suffix);
        PathBuf::from(s)
    };
    Outputs {
        bundle: with(".sigstore.json"),
        signature: legacy.then(|| with(".sig")),
        certificate: legacy.then(|| with(".crt")),
        attestation: None,
    }
}
