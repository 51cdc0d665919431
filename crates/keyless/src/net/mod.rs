//! Talking to Sigstore services: the one place keyless builds HTTP clients,
//! retries, and reads answers.
//!
//! - [`http_client`]: every client keyless uses (Fulcio, Rekor, TSA, OIDC)
//!   is built here, on sigstore-rust's reqwest + rustls stack.
//! - [`retry_observed`]: transient failures (connection, timeout, 5xx, 429)
//!   are tried again with jittered exponential backoff, within one time
//!   budget; an observer is told of each retry as it happens.
//! - [`rekor::RekorV1`]: the one Rekor v1 client, used by signing (uploads
//!   and their 409 recovery), cosign-style verification (looking an entry
//!   up) and the auditor (entries, search, log info, consistency proofs).
//!   Answers it reads itself go through a size cap.

pub(crate) mod rekor;
mod retry;

// Re-exported by `sign`, whose progress events carry it.
#[cfg(feature = "sign")]
pub use retry::RetryEvent;
#[cfg(feature = "sign")]
pub(crate) use retry::shorten;
pub(crate) use retry::{SharedOnRetry, ignore_retries, retry_observed};

use crate::error::{Error, Result};
use std::time::Duration;

/// The HTTP client type of sigstore-rust's service clients.
pub(crate) type HttpClient = sigstore_rekor::reqwest::Client;

/// An HTTP client whose requests each end after `request_timeout` (the
/// retry loop bounds the whole interaction), connecting within at most 10 s.
///
/// It follows no redirect at all: most requests carry an identity token
/// (Fulcio, the OIDC token endpoint) or signed material (Rekor, TSA), and a
/// followed 307/308 re-sends the body, token included, to wherever
/// `Location` points. A Sigstore API answers in place; a redirect is
/// reported as the service's answer (see [`retry_observed`]), never obeyed.
/// Read-only lookups (Rekor entries, log info) use the same policy: no
/// public Rekor redirects its API, and one rule is easier to trust.
pub(crate) fn http_client(request_timeout: Duration) -> Result<HttpClient> {
    HttpClient::builder()
        .redirect(sigstore_rekor::reqwest::redirect::Policy::none())
        .connect_timeout(request_timeout.min(Duration::from_secs(10)))
        .timeout(request_timeout)
        .user_agent(concat!("keyless/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Runtime {
            what: "cannot build the HTTP client",
            source: Box::new(e),
        })
}

/// A single-threaded async runtime for a blocking caller.
pub(crate) fn current_thread_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Runtime {
            what: "cannot start the async runtime",
            source: Box::new(e),
        })
}
