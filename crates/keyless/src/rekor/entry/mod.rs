//! One log entry: its evidence (inclusion proof, checkpoint, SET), proven
//! offline against the trust root's log keys, and what it says (kind,
//! digest, signing certificate).
//!
//! | concept | module |
//! |---|---|
//! | the evidence, parsed from an API answer or a bundle | `evidence` |
//! | proving it: inclusion proof, checkpoint, SET | `proof` ([`verify`]) |
//! | what its body says | `describe` ([`describe()`]) |
//! | every string in a body, walked without recursion | `walk` |
//! | its signing certificate, summarized | `certificate` |
//! | a bundle made from it | `export` |

mod certificate;
mod describe;
mod evidence;
mod export;
mod proof;
mod walk;

pub use certificate::CertificateSummary;
pub use describe::{Description, Digest, describe};
pub use evidence::{Evidence, LogApi, Proof};
pub(crate) use export::bundle_for;
pub use proof::{VerifiedEntry, verify};

use super::{Failure, TrustedLogs, hex};

/// One entry: what it says and whether it was proven.
#[derive(Debug, Clone)]
pub struct EntryReport {
    /// Its UUID: as the log filed it, else its leaf hash.
    pub uuid: String,
    /// Its log index.
    pub log_index: u64,
    /// Its log ID, hex.
    pub log_id: String,
    /// The integrated time it carries (authenticated only when the SET
    /// verified; see the verdict).
    pub integrated_time: Option<jiff::Timestamp>,
    /// What its body says.
    pub description: Description,
    /// Its first certificate, read.
    pub certificate: Option<CertificateSummary>,
    /// Proven, or the check that failed.
    pub verdict: std::result::Result<VerifiedEntry, Failure>,
}

impl EntryReport {
    /// Describe `ev` and prove it (see [`verify`]).
    pub fn new(ev: &Evidence, logs: &TrustedLogs, now: jiff::Timestamp, require_set: bool) -> Self {
        let description = describe(&ev.body);
        Self {
            uuid: ev.uuid.clone().unwrap_or_else(|| ev.leaf_hash().to_hex()),
            log_index: ev.log_index,
            log_id: hex(ev.log_id.as_bytes()),
            integrated_time: ev.integrated_time,
            certificate: description
                .certificates
                .first()
                .and_then(CertificateSummary::of),
            description,
            verdict: verify(ev, logs, now, require_set),
        }
    }
}
