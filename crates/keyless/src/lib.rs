//! # keyless
//!
//! Sigstore keyless signing and verification, built first for GitLab CI/CD.
//!
//! Which type for which job:
//!
//! - Verify artifacts offline: load [`trust::TrustMaterial`], build a
//!   [`verify::Verifier`] once, then call [`verify::Verifier::verify_input`]
//!   (file or digest plus bundle, with a report) or
//!   [`verify::Verifier::verify_reader`] (a bundle you parsed yourself; parse
//!   it with [`bundle::parse_bundle`], which refuses a missing media type that
//!   `Bundle::from_json` would silently read as v0.1).
//! - Verify many bundles of one release quickly: install
//!   [`memo::MemoProvider`] first (the certificate checks they share are
//!   made once); read a `sha256sum` list as inputs with
//!   [`verify::checksums::open_checksum_list`].
//! - Turn command-line inputs into what to verify (a folder as `keyless
//!   sign` takes it, bundles among the files): [`verify::select_inputs`]; say
//!   more about a failure than its step (keys the trust root lacks, an
//!   anchored regexp): [`verify::Verifier::diagnose`].
//! - Say who must have signed: [`verify::policy::Policy`], built from an
//!   [`verify::policy::IdentityPolicy`] (SAN and issuer, exact or anchored
//!   regexp) or a managed public key.
//! - Read bundles from disk safely: [`bundle::read_bundle`]; PEP 740
//!   attestations: [`attestation::Attestation`]; in-toto statements (any
//!   predicate, the GitLab runner's provenance): [`statement::Statement`].
//! - Pin a GitLab CI signer: [`verify::gitlab::GitLabSigner`].
//! - Verify what pip installs from a package index (PEP 740 provenance,
//!   requirements pins, `pylock.toml`): [`index::IndexClient`], then
//!   [`index::verify`] per file.
//! - Sign files keylessly (one certificate per run; feature `sign`):
//!   `sign::Signer`, with a token from `sign::token::resolve`.
//! - Describe a bundle, certificate or attestation without verifying it:
//!   [`inspect::inspect`].
//! - Refresh trust material through TUF: [`trust::update_from_tuf`].
//! - Run a local Sigstore for tests and demos: the separate
//!   `keyless-testbed` crate.
//! - Audit a Rekor transparency log (fetch and prove entries, search,
//!   verify checkpoints, monitor consistency and watch identities):
//!   [`rekor::Auditor`] with a [`rekor::Rekor`] client, and
//!   [`rekor::monitor::run`].
//! - Pin "now" in tests: [`clock::FixedClock`].
//! - Read what a certificate's Fulcio extensions say: [`cert`] (the one
//!   table of OIDs and names); hash an artifact as a stream:
//!   [`digest::sha256_file`]; write outputs atomically: [`files`].
//! - Tell a verdict from its absence: a [`failure::Failure`] (in
//!   [`Error::Failed`], or in a report's outcome) names the step that failed
//!   (exit 1 in the CLI); every other [`Error`] means no verdict was reached
//!   (exit 2), and [`Error::hint`] says what to do about it.
//!
//! ```
//! use keyless::trust::{TrustMaterial, TrustSource};
//! use keyless::verify::{Input, Outcome, Verifier};
//! use keyless::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
//!
//! let trust = TrustMaterial::load(&TrustSource::Production)?;
//! let verifier = Verifier::new(&trust)?;
//! let policy = Policy::Identity(IdentityPolicy::new(
//!     ValueMatcher::Exact("https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main".into()),
//!     ValueMatcher::Exact("https://gitlab.com".into()),
//! ));
//! let report = verifier.verify_input(&Input::File("no-such.whl".into()), None, &policy);
//! // The file does not exist, so no verdict could be reached.
//! assert!(matches!(report.outcome, Outcome::Error(_)));
//! # Ok::<(), keyless::Error>(())
//! ```
//!
//! Verification needs no network: the production and staging trusted roots
//! are embedded, and `--trusted-root` / `--trust-config` name others.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod attestation;
pub mod bundle;
pub mod cert;
pub mod clock;
pub mod digest;
pub mod error;
pub mod failure;
pub mod files;
pub mod index;
mod inputs;
pub mod inspect;
pub mod memo;
mod net;
pub mod rekor;
#[cfg(feature = "sign")]
pub mod sign;
pub mod statement;
pub mod trust;
pub mod verify;

pub use error::{Error, Result};
pub use net::check_url;
