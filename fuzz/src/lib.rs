//! Fuzzing keyless on the stable toolchain.
//!
//! | concept | module |
//! |---|---|
//! | mutations of JSON leaves and bytes (shared with the mutation test) | [`mutate`] |
//! | the targets: bundle, attestation, token, checkpoint, trust, rekor-entry, rekor-answer, checksums | [`targets`] |
//! | the loop: budget, panics caught, crashing inputs saved | [`engine`] |
//!
//! `fuzz/run [SECONDS]` runs every target; a crash found becomes a file in
//! `fuzz/regressions/<target>/`, which `tests/regressions.rs` replays.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod engine;
pub mod mutate;
pub mod targets;
