//! Tools for auditors of a Rekor transparency log: Rekor v1, and Rekor v2
//! read through its C2SP tlog-tiles API ([`RekorApi`]).
//!
//! A transparency log is only as good as the people who check it. These are
//! the checks an auditor (or a project watching for signatures made in its
//! name) makes, each against the log keys of a trust root:
//!
//! | job | use |
//! |---|---|
//! | talk to a Rekor v1 or v2 log (timeouts, retries) | [`Rekor`], [`RekorApi`] |
//! | the log's keys from a trust root, and "now" | [`Auditor`] |
//! | fetch one entry and prove it | [`Auditor::get`], [`Auditor::get_from_tiles`] (v2) |
//! | prove an entry you hold, offline | [`Auditor::verify_entry_file`], [`entry::verify`] |
//! | write a bundle for a logged signature | [`Auditor::export_bundle`] |
//! | find entries by artifact or key | [`Auditor::search`] |
//! | the log's current checkpoint, verified | [`Auditor::log_info`] |
//! | watch the log: consistency and identities | [`monitor::run`] |
//! | build proofs from subtree hashes (tiles) | [`proofs`] |
//!
//! The protocol work is sigstore-rust's: Merkle proofs are checked by
//! `sigstore-merkle`, checkpoints parsed by `sigstore-types`, signatures
//! checked by `sigstore-crypto`, entries fetched by `sigstore-rekor`.
//!
//! Reports carry their verdict (`verdict: Result<_, Failure>`): a
//! [`Failure`] is a verdict against the log or the entry (the CLI exits 1).
//! A call that returns an [`Error`](crate::Error) reached no verdict
//! (network, I/O, malformed answers; the CLI exits 2), except
//! [`Error::Failed`](crate::Error::Failed), which carries one.

pub mod checkpoint;
pub mod entry;
pub mod monitor;
pub mod proofs;

mod auditor;
mod client;
mod keyring;
mod search;
mod tiles;

pub use auditor::{Auditor, EntryRef, LogInfoReport};
pub use client::{Rekor, RekorApi};
pub use keyring::{TrustedLog, TrustedLogs};
pub use search::{SearchQuery, SearchReport};

pub use crate::failure::{Failure, Step};

pub(crate) use crate::digest::hex;
