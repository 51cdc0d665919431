//! Reading a service's answer: one size cap per endpoint, one reader.
//!
//! A hostile or broken service can send an endless body; sigstore-rust's
//! clients read whole bodies into memory, so every endpoint keyless calls
//! goes through [`exchange`], which stops at the endpoint's [`Cap`] (the
//! retry loop's deadline, `--timeout`, bounds a slow body in time). The caps
//! are listed here and nowhere else in code; SECURITY.md mirrors the table.

use sigstore_rekor::reqwest::{self, RequestBuilder};

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

/// A package index's PEP 691 project page (`verify pypi`): one entry per
/// file of every release (a few hundred bytes each); the largest projects
/// on PyPI list some tens of thousands of files.
pub(crate) const INDEX_PROJECT: Cap = Cap {
    endpoint: "package index project page",
    bytes: 32 * MIB,
};

/// A file's PEP 740 provenance from a package index (Integrity API): a few
/// attestations of about 10 KiB each; as large as an attestation file may
/// be ([`crate::attestation::MAX_ATTESTATION_BYTES`]).
pub(crate) const INDEX_PROVENANCE: Cap = Cap {
    endpoint: "package index provenance",
    bytes: 4 * MIB,
};

/// The OIDC device flow (`sign --oauth-device`): discovery, grant and
/// token answers, small JSON documents.
#[cfg(feature = "sign")]
pub(crate) const OIDC: Cap = Cap {
    endpoint: "OIDC",
    bytes: 256 * KIB,
};

/// The time each OIDC request may take (device flow and browser login;
/// SECURITY.md states it): a person may be slow, a provider should not be.
#[cfg(feature = "sign")]
pub(crate) const OIDC_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Why an exchange with a service failed. Its `Debug` leaves the body of
/// an error answer out (a Fulcio error may quote the token): only its
/// length is shown.
pub(crate) enum AnswerError {
    /// The request could not be sent or the answer not read (connection
    /// refused, timed out, a TLS failure); the message shows the whole
    /// cause chain. Retried unless the service's certificate was refused
    /// (see [`super::retry`]).
    Http(reqwest::Error),
    /// The service answered a status keyless does not take as success;
    /// `body` is what it said (at most the cap; never cut here, so that a
    /// token it quotes can still be redacted whole).
    Status { status: u16, body: String },
    /// The answer is longer than the endpoint's cap (the rest is not read).
    TooLarge(Cap),
    /// The answer does not have the expected shape.
    Invalid(String),
}

impl std::fmt::Debug for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(e) => f.debug_tuple("Http").field(e).finish(),
            Self::Status { status, body } => f
                .debug_struct("Status")
                .field("status", status)
                .field("body", &format_args!("<{} bytes, not shown>", body.len()))
                .finish(),
            Self::TooLarge(cap) => f.debug_tuple("TooLarge").field(cap).finish(),
            // A parser's message may quote the answer (a token it echoed).
            Self::Invalid(e) => f
                .debug_tuple("Invalid")
                .field(&format_args!("<{} bytes, not shown>", e.len()))
                .finish(),
        }
    }
}

impl std::fmt::Display for AnswerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(e) => write!(f, "HTTP error: {}", with_causes(e)),
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

impl std::error::Error for AnswerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http(e) => Some(e),
            _ => None,
        }
    }
}

/// `error: cause: cause ...`: reqwest's own message names only the URL;
/// why (connection refused, timed out, an unknown certificate issuer) is
/// in its sources. A cause whose words its parent already shows (an
/// `io::Error` repeats its inner error's) is not repeated.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !message.ends_with(&text) {
            message = format!("{message}: {text}");
        }
        cause = e.source();
    }
    message
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
    let mut response = request.send().await.map_err(AnswerError::Http)?;
    let status = response.status().as_u16();
    if response
        .content_length()
        .is_some_and(|declared| declared > cap.bytes as u64)
    {
        return Err(AnswerError::TooLarge(cap));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(AnswerError::Http)? {
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
pub(crate) mod tests {
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
        assert!(
            status(408).is_transient(),
            "a request timeout is tried again"
        );
        assert!(!status(404).is_transient() && !status(409).is_transient());
    }

    #[test]
    fn debug_leaves_an_error_body_out() {
        let e = AnswerError::Status {
            status: 400,
            body: "bad token eyJhbGciOiJSUzI1NiJ9.claims.signature".into(),
        };
        let debug = format!("{e:?}");
        assert_eq!(debug, "Status { status: 400, body: <47 bytes, not shown> }");
        assert!(
            e.to_string().contains("eyJ"),
            "Display keeps it, for redaction"
        );
        // A parser's message can quote the answer, a token it echoed too.
        let e = AnswerError::Invalid("invalid type: string \"eyJhbGciOi.x.y\"".into());
        assert!(!format!("{e:?}").contains("eyJ"), "{e:?}");
    }

    /// SECURITY.md states the OIDC limits as they are: the device flow's
    /// cap and request timeout, and sigstore-oidc's 1 MiB cap on the
    /// browser login's token answer.
    #[cfg(feature = "sign")]
    #[test]
    fn security_md_states_the_oidc_limits() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../SECURITY.md"))
                .unwrap();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let device = format!(
            "{} each, {} s per request",
            human(OIDC.bytes),
            OIDC_REQUEST_TIMEOUT.as_secs()
        );
        assert!(text.contains(&device), "{device}");
        let browser = format!(
            "same {} s request timeout; sigstore-oidc 0.15.1 caps the answer at 1 MiB",
            OIDC_REQUEST_TIMEOUT.as_secs()
        );
        assert!(text.contains(&browser), "{browser}");
    }

    /// What `url` answers a GET, on keyless's HTTP client.
    fn get(url: &str) -> Result<(u16, Vec<u8>), AnswerError> {
        let http = super::super::http_client(std::time::Duration::from_secs(10)).unwrap();
        super::super::current_thread_runtime()
            .unwrap()
            .block_on(send_and_read(http.get(url), REKOR_V1))
    }

    /// A one-connection HTTP server on 127.0.0.1 that reads a request's
    /// head, writes `answer`, then holds the connection until the client
    /// hangs up; the thread returns the request's head.
    pub(crate) fn serve_once(answer: &'static [u8]) -> (String, std::thread::JoinHandle<String>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            socket.write_all(answer).unwrap();
            // Until the client closes (it reads nothing more).
            let _ = socket.read_to_end(&mut Vec::new());
            String::from_utf8_lossy(&head).into_owned()
        });
        (url, server)
    }

    #[test]
    fn a_declared_length_above_the_cap_is_refused_before_reading() {
        // No body follows: reading any of it would wait for the timeout.
        let (url, server) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 4194305\r\n\r\n");
        let e = get(&url).unwrap_err();
        assert!(matches!(e, AnswerError::TooLarge(REKOR_V1)), "{e:?}");
        server.join().unwrap();
    }

    #[test]
    fn no_compression_is_asked_for_or_decoded() {
        // A body that says it is gzip stays as sent: the cap counted it.
        let (url, server) = serve_once(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnot!",
        );
        assert_eq!(get(&url).unwrap(), (200, b"not!".to_vec()));
        let head = server.join().unwrap().to_ascii_lowercase();
        assert!(!head.contains("accept-encoding"), "{head}");
    }

    #[test]
    fn a_refused_connection_says_so_and_is_retried() {
        use super::super::retry::Classify;
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let e = get(&format!("http://127.0.0.1:{port}/")).unwrap_err();
        assert!(matches!(e, AnswerError::Http(_)), "{e:?}");
        assert!(e.to_string().contains("Connection refused"), "{e}");
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.is_transient());
    }

    #[test]
    fn a_refused_server_certificate_says_so_and_is_not_retried() {
        use super::super::retry::Classify;
        use std::sync::Arc;
        // A TLS server whose self-signed certificate no root trusts.
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let key =
            rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::aws_lc_rs::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key.into())
            .unwrap(),
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut socket, _)) = listener.accept() {
                let mut tls = rustls::ServerConnection::new(config).unwrap();
                // Ends when the client refuses the certificate and hangs up.
                let _ = tls.complete_io(&mut socket);
                let _ = tls.complete_io(&mut socket);
            }
        });
        let e = get(&format!("https://127.0.0.1:{port}/")).unwrap_err();
        assert!(matches!(e, AnswerError::Http(_)), "{e:?}");
        assert!(e.to_string().contains("certificate"), "{e}");
        assert!(!e.is_transient(), "{e}");
    }
}
