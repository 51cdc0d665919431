//! Retrying transient failures with jittered exponential backoff, within a
//! time budget; each retry is told to an observer as it is decided, so a
//! caller can show it while the run waits.

use std::time::Duration;

/// A retry about to happen: an attempt failed transiently and the next one
/// starts after `delay`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryEvent {
    /// What is retried ("Fulcio", "Rekor", "TSA", ...).
    pub what: String,
    /// The attempt that failed, from 1.
    pub attempt: u32,
    /// Why it failed (the service's words, made printable; never a token).
    pub reason: String,
    /// How long until the next attempt.
    pub delay: Duration,
}

/// Told of every retry as it is decided. Callers without one pass
/// [`ignore_retries`]; there is no global observer.
pub(crate) type OnRetry<'a> = &'a (dyn Fn(&RetryEvent) + Send + Sync);

/// An observer a client keeps for all its calls.
pub(crate) type SharedOnRetry = std::sync::Arc<dyn Fn(&RetryEvent) + Send + Sync>;

/// The observer that shows nothing.
pub(crate) fn ignore_retries(_: &RetryEvent) {}

/// The longest service message `shorten` keeps.
const MAX_MESSAGE_CHARS: usize = 1000;

/// A service's words made safe to print: control characters (terminal
/// escapes, line breaks that could forge output lines) are escaped. Nothing
/// is cut here: a caller that redacts a secret must see it whole first.
pub(crate) fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A message cut at [`MAX_MESSAGE_CHARS`], for people (after any redaction).
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// How a service error is retried: whether it is transient, and its HTTP status.
pub(crate) trait Classify {
    /// Whether trying again may succeed.
    fn is_transient(&self) -> bool;
    /// The HTTP status, when the service answered with one.
    fn status(&self) -> Option<u16>;
}

/// Whether a service's HTTP status says "try again": a server error, a
/// request timeout (408) or too many requests (429). Any other 4xx is a
/// refusal that no retry changes.
pub(crate) fn transient_status(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

impl Classify for super::answer::AnswerError {
    fn is_transient(&self) -> bool {
        use super::answer::AnswerError;
        // An oversized answer is not retried: a service that sends one is
        // broken or hostile, and retrying only buys it more of our time.
        match self {
            AnswerError::Http(e) => !certificate_refused(e),
            AnswerError::Status { status, .. } => transient_status(*status),
            AnswerError::TooLarge(_) | AnswerError::Invalid(_) => false,
        }
    }
    fn status(&self) -> Option<u16> {
        match self {
            super::answer::AnswerError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Whether `error` is the TLS handshake refusing the service's
/// certificate (unknown issuer, expired, another name): trying again
/// meets the same certificate, so it is not retried. rustls's error
/// travels inside `io::Error`s, whose `source()` skips the error they
/// wrap, so the chain is walked into each one.
fn certificate_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(rustls::Error::InvalidCertificate(_)) = e.downcast_ref::<rustls::Error>() {
            return true;
        }
        cause = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(wrapped) => Some(wrapped as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// What a status adds to a message: for a redirect, that keyless follows
/// none and why; nothing for any other status.
pub(crate) fn redirect_hint(status: u16) -> String {
    match status {
        300..=399 => format!(
            " (HTTP {status} is a redirect: keyless follows none, since the request \
             may carry a token or signed material; give the service's final URL)"
        ),
        _ => String::new(),
    }
}

/// Run `op` until it succeeds, fails permanently, or `timeout` passes,
/// sleeping with jittered exponential backoff between tries, and telling
/// `on_retry` of each retry before sleeping. The error is the message
/// (prefixed with `what`, made [`printable`] but whole) and the HTTP
/// status, if any.
pub(crate) async fn retry_observed<T, E: Classify + std::fmt::Display, F, Fut>(
    what: &str,
    timeout: Duration,
    on_retry: OnRetry<'_>,
    mut op: F,
) -> std::result::Result<T, (String, Option<u16>)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1u32;
    loop {
        let result = match tokio::time::timeout_at(deadline, op()).await {
            Ok(r) => r,
            Err(_) => {
                return Err((
                    format!("{what}: no answer within {} s", timeout.as_secs()),
                    None,
                ));
            }
        };
        match result {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() => {
                let mut jitter = [0u8; 2];
                let _ = aws_lc_rs::rand::fill(&mut jitter);
                let sleep = delay
                    + Duration::from_millis(
                        u64::from(u16::from_le_bytes(jitter)) % (delay.as_millis() as u64 / 2 + 1),
                    );
                if tokio::time::Instant::now() + sleep >= deadline {
                    return Err((
                        format!(
                            "{what}: still failing after {attempt} attempts within {} s: {}",
                            timeout.as_secs(),
                            printable(&e.to_string())
                        ),
                        e.status(),
                    ));
                }
                on_retry(&RetryEvent {
                    what: what.to_string(),
                    attempt,
                    reason: printable(&e.to_string()),
                    delay: sleep,
                });
                tokio::time::sleep(sleep).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            Err(e) => {
                let redirect = e.status().map(redirect_hint).unwrap_or_default();
                return Err((
                    format!("{what}: {}{redirect}", printable(&e.to_string())),
                    e.status(),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_words_are_made_printable() {
        assert_eq!(
            printable("bad\u{1b}[31m\nOK   forged"),
            "bad\\u{1b}[31m\\nOK   forged"
        );
        let long = "é".repeat(5000);
        assert_eq!(printable(&long), long, "nothing is cut before redaction");
    }

    #[test]
    fn long_messages_are_shortened_on_a_char_boundary() {
        let long = "é".repeat(5000);
        assert_eq!(shorten(&long).chars().count(), MAX_MESSAGE_CHARS + 3);
        assert_eq!(shorten("short"), "short");
    }

    /// A transient error that says which attempt it was.
    #[derive(Debug)]
    struct Flaky(u32);

    impl std::fmt::Display for Flaky {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "503 on attempt {}", self.0)
        }
    }

    impl Classify for Flaky {
        fn is_transient(&self) -> bool {
            true
        }
        fn status(&self) -> Option<u16> {
            Some(503)
        }
    }

    #[test]
    fn each_retry_is_told_before_its_sleep() {
        let seen = std::sync::Mutex::new(Vec::new());
        let calls = std::sync::atomic::AtomicU32::new(0);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = runtime.block_on(retry_observed(
            "Rekor",
            Duration::from_secs(30),
            &|e: &RetryEvent| seen.lock().unwrap().push(e.clone()),
            || {
                let n = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                async move { if n < 3 { Err(Flaky(n)) } else { Ok(n) } }
            },
        ));
        assert_eq!(result, Ok(3));
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!((seen[0].what.as_str(), seen[0].attempt), ("Rekor", 1));
        assert_eq!(seen[1].reason, "503 on attempt 2");
        assert!(
            seen[0].delay >= Duration::from_millis(200)
                && seen[1].delay >= Duration::from_millis(400)
        );
    }
}
