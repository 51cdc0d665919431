//! Keyless signing: one ephemeral key and one Fulcio certificate per run,
//! every file hashed as a stream, signed, timestamped, logged in Rekor, and
//! verified by keyless's own verifier before its bundle is written.
//!
//! The protocol clients are sigstore-rust's (`sigstore-fulcio`,
//! `sigstore-rekor`, `sigstore-tsa`); `sigstore-sign`'s `Signer` is not used
//! because it requests a new key and certificate for every file and checks
//! neither the SCT nor the bundle it returns.

pub mod services;
pub mod token;

mod events;
mod inputs;
mod outputs;
mod pipeline;
mod prehash;
mod report;
mod signer;
mod upload;

pub use events::{Event, RetryEvent, Timings};
pub use inputs::select_inputs;
pub use outputs::{Mode, Outputs, default_outputs};
pub use report::{FileReport, SignReport};
pub use services::Overrides;
pub use signer::{SignOptions, Signer};
