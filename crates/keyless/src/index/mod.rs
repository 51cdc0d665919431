//! Verifying what pip installs: PEP 740 provenance straight from a package
//! index (PyPI, or any PEP 691 index that serves provenance).
//!
//! 1. [`inputs`]: what to verify (`NAME==VERSION`, a requirements file's
//!    `--hash` pins, a `pylock.toml`'s files and `attestation-identities`).
//! 2. [`IndexClient::resolve`]: each project's PEP 691 page ([`simple`]),
//!    the files the request selects (a pin must name a file of the
//!    release), and each file's provenance ([`integrity`]), fetched
//!    concurrently, same-origin only, on the one capped, non-redirecting
//!    HTTP client.
//! 3. [`verify`]: every attestation verified as a PEP 740 attestation is
//!    (the Sigstore bundle it converts to, its statement naming this file
//!    and digest), then the publisher read from the verified certificate
//!    ([`publisher`]) held to the index's claim and to who was expected.

mod check;
mod client;
pub mod inputs;
pub mod integrity;
pub mod publisher;
pub mod simple;

pub use check::verify;
pub use client::{Fetched, IndexClient, PYPI_SIMPLE, Resolved};
pub use inputs::{Selection, Wanted};
pub use publisher::{Expected, Publisher};

use crate::error::Error;
use crate::failure::Failure;
use crate::verify::Verified;
use sigstore_types::Sha256Hash;

/// The verdict on one file (or on a request that named no file).
#[derive(Debug)]
pub struct FileReport {
    /// The project (normalized).
    pub project: String,
    /// The release.
    pub version: String,
    /// The file's name, or what the request named when no file matched
    /// (`sha256:<hex>`, `NAME==VERSION`).
    pub file: String,
    /// The file's SHA-256, when known.
    pub sha256: Option<Sha256Hash>,
    /// The verdict.
    pub outcome: FileOutcome,
}

/// What became of one file.
#[derive(Debug)]
pub enum FileOutcome {
    /// Every attestation verified and names this file; its publisher, read
    /// from the certificate, is the one the index claims and one expected.
    Verified {
        /// The publisher of each attestation bundle (from the verified
        /// certificates).
        publishers: Vec<Publisher>,
        /// How many attestations were verified.
        attestations: usize,
        /// What the first attestation's verification established.
        first: Box<Verified>,
    },
    /// The index has no provenance for the file, and that was allowed
    /// (`--allow-missing`).
    Unattested,
    /// A verdict: a step failed (exit 1).
    Failed(Failure),
    /// No verdict (exit 2).
    Error(Error),
}
