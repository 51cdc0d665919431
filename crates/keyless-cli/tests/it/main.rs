//! Integration tests: one binary (as ripgrep does), one module per concern.
//! Shared helpers are in `common`; the testbed's own tests are in
//! crates/keyless-testbed/tests.

mod bad_input;
mod batch;
mod checksum_lists;
mod ci_output;
mod cli;
mod common;
mod env;
mod errors;
mod forged;
mod gitlab;
mod identity;
mod inspect;
mod interop;
mod interop_statements;
mod intoto;
mod junit;
mod leniency;
mod man;
mod mutations;
mod pipeline;
mod pypi;
mod pypi_interop;
mod rekor;
mod runner_provenance;
mod schemes;
mod sign;
mod stdout;
mod tamper;
mod terminal;
mod testbed;
mod trust;
mod validity;
mod vectors;
mod verify_ux;
