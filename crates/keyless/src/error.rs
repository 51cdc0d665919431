//! Errors that stop keyless before a verdict can be reached.
//!
//! A *verification failure* (the bundle is well formed but does not prove what
//! it claims) is not an [`Error`]: it is a [`crate::verify::Failure`] naming the
//! step that failed, and the CLI exits 1 for it. An [`Error`] means keyless
//! could not get as far as a verdict: a file is missing or unreadable, a bundle
//! is not a Sigstore bundle at all, trust material is unusable, or the
//! command line asks for something contradictory. The CLI exits 2 for these.

use std::path::PathBuf;

/// Why keyless could not reach a verdict.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A file could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A path that must name a regular file names a directory or something else.
    #[error("{}: is a directory, not a file", path.display())]
    IsADirectory {
        /// The path.
        path: PathBuf,
    },

    /// A file is larger than keyless accepts for its kind; it was not parsed.
    #[error("{}: {size} bytes is larger than the {limit}-byte limit for a {what}", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size (or a lower bound, for a stream).
        size: u64,
        /// The limit that applies.
        limit: u64,
        /// What kind of file was expected ("Sigstore bundle", "trusted root", ...).
        what: &'static str,
    },

    /// A file is not what it should be: not UTF-8, not JSON, not a bundle.
    #[error("{}: not a valid {what}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What kind of file was expected.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },

    /// A bundle declares a media type (format version) keyless does not know.
    #[error("{}: unsupported bundle media type {media_type:?}", path.display())]
    UnsupportedMediaType {
        /// The bundle file.
        path: PathBuf,
        /// The media type it declares (empty when it declares none).
        media_type: String,
    },

    /// Trust material (trusted root or client trust config) is unusable.
    #[error("{source_name}: unusable trust material: {reason}")]
    TrustMaterial {
        /// Where the material came from (a path, or "embedded production root").
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A Sigstore service could not be reached or refused the request.
    #[error("{service}: {reason}")]
    Network {
        /// Which service (Fulcio, Rekor, TSA, TUF).
        service: String,
        /// What happened (never contains the identity token).
        reason: String,
    },

    /// The command line or API call is contradictory or incomplete.
    #[error("{0}")]
    Usage(String),

    /// The machine could not provide what keyless needs to run at all: an
    /// async runtime, an HTTP client, randomness for a key.
    #[error("{what}: {source}")]
    Runtime {
        /// What could not be done.
        what: &'static str,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// A suggestion for the user, shown under the error by the CLI.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::Read { source, path } if source.kind() == std::io::ErrorKind::NotFound => {
                let name = path.to_string_lossy();
                if name.ends_with(".sigstore.json") || name.ends_with(".sigstore") {
                    Some(
                        "a bundle is looked up as <file>.sigstore.json, then <file>.sigstore, unless --bundle names it",
                    )
                } else {
                    Some("check the path")
                }
            }
            Error::Read { .. } => None,
            Error::Write { .. } => Some("check that the directory exists and is writable"),
            Error::IsADirectory { .. } => {
                Some("pass the bundle file itself, e.g. dist/pkg.whl.sigstore.json")
            }
            Error::TooLarge { what, .. } if *what != "Sigstore bundle" => {
                Some("make sure this is the right file")
            }
            Error::TooLarge { .. } => Some(
                "a Sigstore bundle is normally a few kilobytes; make sure this is the right file",
            ),
            Error::Malformed {
                what: "transparency log entry",
                ..
            } => Some(
                "pass Rekor's answer for one entry ({\"<uuid>\": {...}}, e.g. from GET /api/v1/log/entries?logIndex=N) or one element of a bundle's verificationMaterial.tlogEntries",
            ),
            Error::Malformed {
                what: "monitor state file",
                ..
            } => Some(
                "the file is written by `keyless rekor monitor`; pass another --state path to start monitoring afresh",
            ),
            Error::Malformed {
                what: "PEM public key or certificate",
                ..
            } => {
                Some("pass a PEM file (-----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----)")
            }
            Error::Malformed { .. } => Some(
                "a Sigstore bundle is a JSON document with a mediaType such as application/vnd.dev.sigstore.bundle.v0.3+json",
            ),
            Error::UnsupportedMediaType { .. } => Some(
                "keyless reads bundle versions v0.1, v0.2 and v0.3; the signer may need to produce a current bundle",
            ),
            Error::TrustMaterial { .. } => Some(
                "pass a trusted_root.json with --trusted-root or a ClientTrustConfig with --trust-config",
            ),
            Error::Network { .. } => Some(
                "check the service URL (--rekor-url, or the instance URLs in the signing config) and the network; transient failures were retried within --timeout",
            ),
            Error::Usage(_) | Error::Runtime { .. } => None,
        }
    }
}

/// Result type of keyless operations that can stop before a verdict.
pub type Result<T> = std::result::Result<T, Error>;
