//! Talking to Sigstore services: the one place keyless builds HTTP clients,
//! retries, and reads answers.
//!
//! - [`http_client`]: every client keyless uses (Fulcio, Rekor, TSA, OIDC)
//!   is built here, on sigstore-rust's reqwest + rustls stack.
//! - [`retry_observed`]: transient failures (connection, timeout, 5xx, 408, 429;
//!   not a refused TLS certificate) are tried again with jittered
//!   exponential backoff, within one time budget; an observer is told of
//!   each retry as it happens.
//! - [`answer::exchange`]: every answer is read through the one capped
//!   reader, with a size cap per endpoint (the table is in [`answer`]).
//! - [`rekor::RekorV1`]: the one Rekor v1 client, used by signing (uploads
//!   and their 409 recovery), cosign-style verification (looking an entry
//!   up) and the auditor (entries, search, log info, consistency proofs).
//! - [`fulcio::Fulcio`], [`tsa::Tsa`], [`rekor_v2::RekorV2`]: the signing
//!   calls (sigstore-rust's own clients read whole bodies without a limit,
//!   so keyless sends these requests itself and parses the answers with
//!   sigstore-rust's types).

pub(crate) mod answer;
#[cfg(feature = "sign")]
pub(crate) mod fulcio;
pub(crate) mod rekor;
#[cfg(feature = "sign")]
pub(crate) mod rekor_v2;
mod retry;
#[cfg(feature = "sign")]
pub(crate) mod tsa;

// Re-exported by `sign`, whose progress events carry it.
#[cfg(feature = "sign")]
pub use retry::RetryEvent;
#[cfg(feature = "sign")]
pub(crate) use retry::redirect_hint;
pub(crate) use retry::shorten;
pub(crate) use retry::transient_status;
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
///
/// It asks for no compression and decodes none: the size caps
/// ([`answer`]) count the bytes on the wire, the same in every build
/// (reqwest's gzip and deflate features are on only in the `sign` build,
/// through sigstore-oidc's ambient-id), and a small compressed answer
/// cannot expand past them.
pub(crate) fn http_client(request_timeout: Duration) -> Result<HttpClient> {
    HttpClient::builder()
        .redirect(sigstore_rekor::reqwest::redirect::Policy::none())
        .no_gzip()
        .no_deflate()
        .no_brotli()
        .no_zstd()
        .connect_timeout(request_timeout.min(Duration::from_secs(10)))
        .timeout(request_timeout)
        .user_agent(concat!("keyless/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Runtime {
            what: "cannot build the HTTP client",
            source: Box::new(e),
        })
}

/// The client for TUF refreshes (`keyless trust update`), handed to
/// sigstore-trust-root (whose own default client follows up to 10
/// redirects, to any origin). TUF requests carry no secret and everything
/// fetched is checked against signed metadata and length bounds, so a
/// redirect may be followed, but only within the repository's origin
/// (scheme, host and port), at most 5 times. Timeouts are sigstore-tuf's
/// own (the slow-retrieval defence): 10 s to connect, 60 s per read,
/// 120 s per request.
pub(crate) fn tuf_http_client() -> Result<HttpClient> {
    use sigstore_rekor::reqwest::redirect::Policy;
    HttpClient::builder()
        .redirect(Policy::custom(|attempt| {
            let same_origin = attempt
                .previous()
                .first()
                .is_some_and(|first| first.origin() == attempt.url().origin());
            if attempt.previous().len() > 5 {
                attempt.error("more than 5 redirects")
            } else if same_origin {
                attempt.follow()
            } else {
                attempt.error("a redirect to another origin, which keyless does not follow")
            }
        }))
        .connect_timeout(Duration::from_secs(10))
        .read_timeout(Duration::from_secs(60))
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("keyless/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Runtime {
            what: "cannot build the HTTP client",
            source: Box::new(e),
        })
}

/// A service URL given by the user (`flag` names where it came from), the
/// one check every client constructor applies: http(s) only (`ftp:`,
/// `file:` and the rest are refused at once, not retried), with a host,
/// no credentials, query or fragment; plain `http` only to this machine
/// (a token, signatures or log queries would otherwise cross the network
/// in clear), unless `allow_insecure_http` (`--allow-insecure-http`).
/// Returned without a trailing slash. Refusals are [`Error::Usage`] (exit 2).
pub fn check_url(flag: &str, url: &str, allow_insecure_http: bool) -> Result<String> {
    use sigstore_rekor::reqwest::Url;
    let bad = |why: &str| Error::Usage(format!("{flag} {url:?}: {why}"));
    if url.is_empty() {
        return Err(Error::Usage(format!(
            "{flag} is empty: give a URL (an empty KEYLESS_* variable counts as set)"
        )));
    }
    let parsed = Url::parse(url).map_err(|e| bad(&format!("not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(bad(&format!(
            "not an http(s) URL: keyless speaks only https (and http to this machine), not {}:",
            parsed.scheme()
        )));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("credentials do not belong in a service URL"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("a service URL has no query or fragment"));
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("it has no host"))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if parsed.scheme() == "http" && !loopback && !allow_insecure_http {
        return Err(bad(
            "plain http is accepted only for this machine (localhost, 127.0.0.1, ::1); \
             use https (or --allow-insecure-http, which lets a token or signature cross \
             the network in clear)",
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_urls_must_be_https_except_on_this_machine() {
        assert_eq!(
            check_url("--rekor-url", "https://rekor.example/", false).unwrap(),
            "https://rekor.example"
        );
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(check_url("--fulcio-url", ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "http://fulcio.example",
            "ftp://fulcio.example",
            "file:///etc/passwd",
            "fulcio.example",
            "https://user:pw@fulcio.example",
            "https://fulcio.example/?x=1",
        ] {
            let e = check_url("--fulcio-url", bad, false).unwrap_err();
            assert!(
                matches!(e, Error::Usage(_)) && e.to_string().contains("--fulcio-url"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn insecure_http_is_allowed_only_when_asked_and_only_http() {
        let e = check_url("--rekor-url", "http://rekor.example", false).unwrap_err();
        assert!(e.to_string().contains("--allow-insecure-http"), "{e}");
        assert_eq!(
            check_url("--rekor-url", "http://rekor.example/", true).unwrap(),
            "http://rekor.example"
        );
        for still_bad in [
            "ftp://rekor.example",
            "file:///tmp/x",
            "gopher://rekor.example",
        ] {
            let e = check_url("--rekor-url", still_bad, true).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{still_bad}: {e}");
        }
    }
}
