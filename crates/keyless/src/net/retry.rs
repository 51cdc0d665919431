//! Retrying transient failures with jittered exponential backoff, within a
//! time budget.

use std::time::Duration;

/// A failure that may go away if tried again (connection, timeout, 5xx, 429).
fn transient(status: Option<u16>, http: bool) -> bool {
    http || status.is_some_and(|s| s >= 500 || s == 429)
}

/// How a service error is retried: whether it is transient, and its HTTP status.
pub(crate) trait Classify {
    /// Whether trying again may succeed.
    fn is_transient(&self) -> bool;
    /// The HTTP status, when the service answered with one.
    fn status(&self) -> Option<u16>;
}

/// Fulcio's and Rekor's clients report failures the same way.
macro_rules! classify_http_status {
    ($error:ty) => {
        impl Classify for $error {
            fn is_transient(&self) -> bool {
                match self {
                    Self::Http(_) => true,
                    Self::Status { status, .. } => transient(Some(*status), false),
                    _ => false,
                }
            }
            fn status(&self) -> Option<u16> {
                match self {
                    Self::Status { status, .. } => Some(*status),
                    _ => None,
                }
            }
        }
    };
}

#[cfg(feature = "sign")]
classify_http_status!(sigstore_fulcio::Error);
classify_http_status!(sigstore_rekor::Error);

impl Classify for sigstore_tsa::Error {
    fn is_transient(&self) -> bool {
        // The TSA client reports statuses as text: "TSA returned status 503 ...".
        match self {
            Self::Http(m) => match tsa_status(m) {
                Some(status) => transient(Some(status), false),
                None => true,
            },
            _ => false,
        }
    }
    fn status(&self) -> Option<u16> {
        None
    }
}

/// The HTTP status in a TSA client error ("TSA returned status 503 ..."),
/// if there is one.
fn tsa_status(message: &str) -> Option<u16> {
    let rest = &message[message.find("status ")? + "status ".len()..];
    rest.get(..3)?.parse().ok()
}

/// Run `op` until it succeeds, fails permanently, or `timeout` passes,
/// sleeping with jittered exponential backoff between tries. The error is
/// the message (prefixed with `what`) and the HTTP status, if any.
pub(crate) async fn retry<T, E: Classify + std::fmt::Display, F, Fut>(
    what: &str,
    timeout: Duration,
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
                            "{what}: still failing after {attempt} attempts within {} s: {e}",
                            timeout.as_secs()
                        ),
                        e.status(),
                    ));
                }
                tokio::time::sleep(sleep).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
            Err(e) => return Err((format!("{what}: {e}"), e.status())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_in_tsa_messages() {
        assert_eq!(
            tsa_status("TSA returned status 503 Service Unavailable"),
            Some(503)
        );
        assert_eq!(tsa_status("connection refused"), None);
        assert!(transient(Some(503), false));
        assert!(transient(Some(429), false));
        assert!(!transient(Some(404), false));
        assert!(transient(None, true));
    }
}
