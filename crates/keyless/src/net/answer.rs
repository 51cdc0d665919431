//! Reading a service's answer: one size cap per endpoint, one reader.
//!
//! A hostile or broken service can send an endless body; sigstore-rust's
//! clients read whole bodies into memory, so every endpoint keyless calls
//! goes through [`exchange`], which stops at the endpoint's [`Cap`] (the
//! retry loop's deadline, `--timeout`, bounds a slow body in time). The caps
//! are listed here and nowhere else in code; SECURITY.md mirrors the table.

use sigstore_rekor::reqwest::RequestBuilder;

/// The largest answer read from one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cap {
    /// The endpoint, for messages ("Fulcio signingCert").
    pub(crate) endpoint: &'static str,
    /// At most this many bytes.
    pub(crate) bytes: usize,
}

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Fulcio `POST /api/v2/signingCert`: a chain of a few PEM certificates
/// (real answers are about 5 KiB).
#[cfg(feature = "sign")]
pub(crate) const FULCIO_SIGNING_CERT: Cap = Cap {
    endpoint: "Fulcio signingCert",
    bytes: MIB,
};

/// A TSA's RFC 3161 TimeStampResp, DER with its certificate chain (real
/// answers are 1 to 5 KiB).
#[cfg(feature = "sign")]
pub(crate) const TSA_TIMESTAMP: Cap = Cap {
    endpoint: "TSA timestamp",
    bytes: MIB,
};

/// Rekor v2 `POST /api/v2/log/entries`: one TransparencyLogEntry with its
/// inclusion proof and checkpoint (a few KiB).
#[cfg(feature = "sign")]
pub(crate) const REKOR_V2_ENTRY: Cap = Cap {
    endpoint: "Rekor v2 entry upload",
    bytes: MIB,
};

/// Every Rekor v1 answer: entries (a DSSE or intoto entry carries its
/// envelope), uploads, search answers (UUIDs), log info and consistency
/// proofs. Real ones are a few KiB; a search for a popular artifact can
/// list thousands of UUIDs.
pub(crate) const REKOR_V1: Cap = Cap {
    endpoint: "Rekor v1",
    bytes: 4 * MIB,
};

/// A Rekor v2 log's `GET /checkpoint`: a signed note of a few hundred
/// bytes.
pub(crate) const REKOR_V2_CHECKPOINT: Cap = Cap {
    endpoint: "Rekor v2 checkpoint",
    bytes: 64 * KIB,
};

/// A Rekor v2 hash tile, `GET /tile/<L>/<N>`: at most 256 hashes of 32
/// bytes.
pub(crate) const REKOR_V2_TILE: Cap = Cap {
    endpoint: "Rekor v2 tile",
    bytes: 8 * KIB,
};

/// A Rekor v2 entry bundle, `GET /tile/entries/<N>`: at most 256 entries,
/// each behind a 16-bit length (64 KiB each at most).
pub(crate) const REKOR_V2_ENTRY_BUNDLE: Cap = Cap {
    endpoint: "Rekor v2 entry bundle",
    bytes: 256 * (2 + u16::MAX as usize),
};

/// The OIDC device flow (`sign --oauth-device`): discovery, grant and
/// token answers, small JSON documents.
#[cfg(feature = "sign")]
pub(crate) const OIDC: Cap = Cap {
    endpoint: "OIDC",
    bytes: 256 * KIB,
};

/// Why an exchange with a service failed.
#[derive(Debug)]
pub(crate) enum AnswerError {
    /// The request could not be sent or the answer not read (connection,
    /// request timeout): transient.
    Http(String),
    /// The service answered a status keyless does not take as success;
    /// `body` is what it said (at most the cap; never cut here, so that a
    /// token it quotes can still be redacted whole).
    Status { status: u16, body: String },
    /// The answer is longer than the endpoint's cap (the rest is not read).
    TooLarge(Cap),
    /// The answer does not have the expected shape.
    Invalid(String),
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(e) => write!(f, "HTTP error: {e}"),
            Self::Status { status, body } if body.is_empty() => write!(f, "HTTP {status}"),
            Self::Status { status, body } => write!(f, "HTTP {status}: {body}"),
            Self::TooLarge(cap) => write!(
                f,
                "the answer is larger than the {} cap for {} ({} bytes); \
                 keyless stopped reading (no real service sends that much)",
                human(cap.bytes),
                cap.endpoint,
                cap.bytes
            ),
            Self::Invalid(e) => write!(f, "unusable answer: {e}"),
        }
    }
}

impl std::error::Error for AnswerError {}

impl super::retry::Classify for AnswerError {
    fn is_transient(&self) -> bool {
        // An oversized answer is not retried: a service that sends one is
        // broken or hostile, and retrying only buys it more of our time.
        match self {
            Self::Http(_) => true,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            Self::TooLarge(_) | Self::Invalid(_) => false,
        }
    }
    fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `1 MiB`, `256 KiB`.
fn human(bytes: usize) -> String {
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{} KiB", bytes / KIB)
    }
}

/// Send `request` and read its answer through `cap`, whatever its status:
/// the status and the body. Reading stops at the cap; the caller's retry
/// loop (or deadline) bounds the time, a slow drip included.
pub(crate) async fn send_and_read(
    request: RequestBuilder,
    cap: Cap,
) -> Result<(u16, Vec<u8>), AnswerError> {
    let mut response = request
        .send()
        .await
        .map_err(|e| AnswerError::Http(e.to_string()))?;
    let status = response.status().as_u16();
    if response
        .content_length()
        .is_some_and(|declared| declared > cap.bytes as u64)
    {
        return Err(AnswerError::TooLarge(cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| AnswerError::Http(e.to_string()))?
    {
        if body.len() + chunk.len() > cap.bytes {
            return Err(AnswerError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

/// [`send_and_read`] for an API call: a status outside 2xx is
/// [`AnswerError::Status`] (its body read through the same cap).
pub(crate) async fn exchange(request: RequestBuilder, cap: Cap) -> Result<Vec<u8>, AnswerError> {
    let (status, body) = send_and_read(request, cap).await?;
    if !(200..300).contains(&status) {
        return Err(AnswerError::Status {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    Ok(body)
}

/// [`exchange`], the body read as JSON of type `T`.
pub(crate) async fn exchange_json<T: serde::de::DeserializeOwned>(
    request: RequestBuilder,
    cap: Cap,
) -> Result<T, AnswerError> {
    let body = exchange(request, cap).await?;
    serde_json::from_slice(&body)
        .map_err(|e| AnswerError::Invalid(format!("not the expected JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_named_in_the_message() {
        let e = AnswerError::TooLarge(REKOR_V1);
        assert!(e.to_string().contains("4 MiB cap for Rekor v1"), "{e}");
        use super::super::retry::Classify;
        assert!(!e.is_transient());
        let status = |status| AnswerError::Status {
            status,
            body: String::new(),
        };
        assert!(status(503).is_transient() && status(429).is_transient());
        assert!(!status(404).is_transient() && !status(409).is_transient());
        assert!(AnswerError::Http("connection refused".into()).is_transient());
    }
}
