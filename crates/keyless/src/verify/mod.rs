//! Offline verification of Sigstore bundles.
//!
//! The cryptographic core is `sigstore-verify`. This module puts the checks
//! it does not make in front of and behind it, and names the step of the
//! Sigstore client specification that a failure belongs to:
//!
//! | step | what is checked | by |
//! |---|---|---|
//! | 1 bundle | media type, per-version structure; at least one log entry, each with an inclusion proof and checkpoint; caps and duplicates (reported as `log entry` / `timestamp`) | keyless + sigstore-bundle |
//! | 2 signing time | RFC 3161 timestamps from trusted TSAs, SETs; at least one verified time, none in the future | sigstore-verify + keyless clock |
//! | 3 certificate | chain to a Fulcio CA valid at every verified time, code-signing EKU, validity window | sigstore-verify |
//! | 4 SCT | embedded SCT from a trusted CT log | sigstore-verify |
//! | 5 transparency log | inclusion proof, signed checkpoint (tree size agreeing with the proof), SET, integrated time inside the certificate's window | sigstore-verify + keyless |
//! | 6 signature | signature over the artifact, or DSSE envelope whose in-toto subject matches it | sigstore-verify |
//! | 7 log entry | log entry body describes this signature, key and artifact (CVE-2022-36056) | sigstore-verify |
//! | 8 identity | SAN and OIDC issuer satisfy the policy | keyless |
//! | statement | a DSSE envelope's in-toto statement: within bounds (checked before step 1), names the artifact's SHA-256, has the predicate type asked for, and (GitLab runner provenance) agrees with the certificate | keyless |
//!
//! The identity policy is applied last, to claims of a certificate whose
//! chain, SCT, log inclusion and signature have all been established.

pub mod checksums;
pub mod gitlab;
pub mod legacy;
pub mod policy;

mod diagnosis;
mod input;
mod select;
mod statements;
mod steps;
mod timestamp;
mod verifier;

pub use crate::failure::{Failure, Step};
pub use diagnosis::{Diagnosis, TrustGap};
pub use input::{BundleSource, Input, InputReport, ListedCheck, Outcome, ReadListed};
pub use select::{EVIDENCE_SUFFIXES, Selected, select_inputs};
pub use statements::StatementPolicy;
pub use verifier::{Verified, Verifier};
