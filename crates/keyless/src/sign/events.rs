//! What a signing run tells its caller while it runs: the certificate, each
//! retry as it is decided, each file as it finishes, with timings. The
//! library prints nothing; the caller chooses what to show.

use super::report::FileReport;
use std::sync::Arc;
use std::time::Duration;

pub use crate::net::RetryEvent;

/// Something that happened during a signing run.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Fulcio issued the run's certificate.
    Certificate {
        /// The certificate's identity (SAN).
        identity: &'a str,
        /// The certificate's OIDC issuer.
        issuer: &'a str,
        /// How long Fulcio took, retries included.
        elapsed: Duration,
    },
    /// The certificate verified against the trust root (chain and SCT),
    /// through a probe signature timestamped by the TSA.
    CertificateChecked {
        /// How long the check took, the TSA's answer included.
        elapsed: Duration,
    },
    /// A request failed transiently and will be tried again.
    Retry(&'a RetryEvent),
    /// A file is done: signed and its outputs written, or failed.
    FileDone(&'a FileReport),
}

/// Where a run's events go: any thread may call it.
pub(super) type Progress = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

/// What a service said, for people; the one place a signing run makes a
/// message fit to show: `secret` (the token, where the service was sent
/// it) replaced wherever it is quoted whole, then cut to a readable length.
pub(super) fn told(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) => crate::net::shorten(&super::token::redact(text, secret)),
        None => crate::net::shorten(text),
    }
}

/// Tell `progress` of `retry`, its reason [`told`].
pub(super) fn tell_retry(progress: &Progress, retry: &RetryEvent, secret: Option<&str>) {
    let retry = RetryEvent {
        reason: told(&retry.reason, secret),
        ..retry.clone()
    };
    progress(&Event::Retry(&retry));
}

/// Time one file spent in each phase (a file signed twice, as a bundle and
/// an attestation, adds both signatures' times).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Reading and hashing the file.
    pub hash: Duration,
    /// The TSA's timestamps.
    pub timestamp: Duration,
    /// Rekor's log entries.
    pub log: Duration,
    /// Verifying the new bundles.
    pub verify: Duration,
    /// Writing the outputs.
    pub write: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_redacted_before_the_message_is_cut() {
        let token = format!("eyJhbGciOiJSUzI1NiJ9.e30.{}", "s".repeat(200));
        // The token straddles the cut: cutting first would leave its start.
        let said = format!("{}{token} rest", "x".repeat(990));
        let told_with = told(&said, Some(&token));
        assert!(
            !told_with.contains("eyJ") && told_with.contains("<redacted"),
            "{told_with}"
        );
        let told_without = told(&said, None);
        assert!(told_without.ends_with("...") && told_without.len() < said.len());

        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let progress: Progress = {
            let seen = seen.clone();
            Arc::new(move |e: &Event<'_>| {
                if let Event::Retry(r) = e {
                    seen.lock().unwrap().push(r.reason.clone());
                }
            })
        };
        let retry = RetryEvent {
            what: "Fulcio".into(),
            attempt: 1,
            reason: said.clone(),
            delay: Duration::from_millis(200),
        };
        tell_retry(&progress, &retry, Some(&token));
        assert_eq!(*seen.lock().unwrap(), vec![told_with]);
    }
}
