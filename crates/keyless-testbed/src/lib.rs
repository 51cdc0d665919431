//! keyless-testbed: a complete, faithful Sigstore instance on 127.0.0.1.
//!
//! Signing cannot be tested against public Sigstore without the internet,
//! and users want to try a signing pipeline without touching the public log.
//! The testbed plays every role (OIDC issuer, Fulcio, CT log, Rekor v1 and
//! v2, TSA, TUF repository) with real cryptography, so a bundle it helps
//! produce goes through the same verification as a public-good one, against
//! the testbed's own trusted root. sigstore-python and the sigstore-rust
//! signer sign against it in the tests.
//!
//! Known differences from the real services: entry UUIDs have no tree-ID
//! prefix; Rekor v2's read API (checkpoint and tiles) is not served; RSA
//! subject keys are refused; GitHub certificates lack the deprecated
//! extensions .2 to .6.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod ca;
pub mod faults;
pub mod keys;
pub mod material;
pub mod merkle;
pub mod oidc;
pub mod rekor;
pub mod server;
pub mod tsa;
pub mod tuf;
mod util;

pub use material::{KeyEnd, TrustedKey};
pub use oidc::{JwsAlg, TokenKind, TokenSpec};
pub use server::{FillReport, FillRequest, ObjectStorageRequests, Testbed, TestbedOptions};
