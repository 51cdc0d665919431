//! What a signing run tells its caller while it runs: the certificate, each
//! retry as it is decided, each file as it finishes, with timings. The
//! library prints nothing; the caller chooses what to show.

use super::report::FileReport;
use std::sync::Arc;
use std::time::Duration;

pub use crate::net::RetryEvent;

/// Something that happened during a signing run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Fulcio issued the run's certificate.
    Certificate {
        /// The certificate's identity (SAN).
        identity: &'a str,
        /// The certificate's OIDC issuer.
        issuer: &'a str,
        /// How long Fulcio took, retries included.
        elapsed: Duration,
    },
    /// The certificate verified against the trust root (chain and SCT),
    /// through a probe signature timestamped by the TSA.
    CertificateChecked {
        /// How long the check took, the TSA's answer included.
        elapsed: Duration,
    },
    /// A request failed transiently and will be tried again.
    Retry(&'a RetryEvent),
    /// A file is done: signed and its outputs written, or failed.
    FileDone(&'a FileReport),
}

/// Where a run's events go: any thread may call it.
pub(super) type Progress = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// Time one file spent in each phase (a file signed twice, as a bundle and
/// an attestation, adds both signatures' times).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Reading and hashing the file.
    pub hash: Duration,
    /// The TSA's timestamps.
    pub timestamp: Duration,
    /// Rekor's log entries.
    pub log: Duration,
    /// Verifying the new bundles.
    pub verify: Duration,
    /// Writing the outputs.
    pub write: Duration,
}
