//! The testbed's own integration tests, as one binary (as the CLI crate
//! does): its HTTP services, fault injection, certificates, state and the
//! `keyless-testbed` command, seen from outside and checked with the
//! sigstore-rust stack only. Tests that sign or verify with `keyless` live in
//! the keyless-cli crate.

mod common;
mod fulcio;
mod generic_registry;
mod http;
mod pypi;
mod rekor;
mod state;
mod token;
mod validity;
