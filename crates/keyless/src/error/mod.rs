//! Errors: why keyless did not establish what it was asked to.
//!
//! One variant is a verdict: [`Error::Failed`], a *verification failure*
//! (the evidence is well formed but does not prove what it claims), carrying
//! the [`crate::failure::Failure`] that names the step; the CLI exits 1 for
//! it. Every other variant means keyless could not get as far as a verdict:
//! a file is missing or unreadable, a bundle is not a Sigstore bundle at all,
//! trust material is unusable, a service failed, or the command line asks for
//! something contradictory. The CLI exits 2 for these. Each variant keeps
//! its cause and chooses its own hint ([`Error::hint`]).

use std::path::PathBuf;

mod file_kind;
pub use file_kind::FileKind;

/// A service a signing run talks to: it names the service in messages and
/// chooses the hint (and the flag it names) when that service fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningService {
    /// The certificate authority (`--fulcio-url`).
    Fulcio,
    /// The transparency log (`--rekor-url`, `--rekor-version`).
    Rekor,
    /// The RFC 3161 timestamp authority (`--timestamp-server-url`).
    Tsa,
}

impl std::fmt::Display for SigningService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SigningService::Fulcio => "Fulcio",
            SigningService::Rekor => "Rekor",
            SigningService::Tsa => "TSA",
        })
    }
}

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

    /// A file named to be verified does not exist. Its bundle is looked for
    /// only after the file itself is found, so this is what a mistyped
    /// input reports.
    #[error("{}: cannot read: {source}", path.display())]
    MissingArtifact {
        /// The file to verify.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// `keyless trust update --offline` found no TUF metadata in the cache
    /// to work from: the repository was never fetched online.
    #[error("no local TUF cache yet for {repository} (in {})", dir.display())]
    NoTufCache {
        /// The TUF repository's URL.
        repository: String,
        /// The cache folder that holds no metadata.
        dir: PathBuf,
    },

    /// A path that must name a regular file names a directory or something else.
    #[error("{}: is a directory, not a file", path.display())]
    IsADirectory {
        /// The path.
        path: PathBuf,
    },

    /// A file a checksum list names does not exist (or is a symlink to
    /// nothing, which may resolve for another process).
    #[error("{}: {}", path.display(), if *dangling_link { "a symbolic link to nothing" } else { "no such file" })]
    ListedFileMissing {
        /// The listed file.
        path: PathBuf,
        /// Whether the name is a symlink whose target does not exist.
        dangling_link: bool,
    },

    /// A file a list names is a FIFO, a device or a socket: such files are
    /// refused unread (opening a FIFO with no writer would block for ever).
    #[error("{}: not a regular file (a FIFO, device or socket)", path.display())]
    NotARegularFile {
        /// The path.
        path: PathBuf,
    },

    /// A file could not be read to its end: the reading stopped early
    /// without the operating system reporting an error.
    #[error("{}: not read to the end", path.display())]
    Incomplete {
        /// The file.
        path: PathBuf,
    },

    /// A file is in use by another keyless process: another
    /// `keyless rekor monitor` holds the lock on its state file.
    #[error("another keyless rekor monitor is using {} (lock {})", path.display(), lock.display())]
    Busy {
        /// The file in use (the monitor's state file).
        path: PathBuf,
        /// The lock file held on it (`<state>.lock`).
        lock: PathBuf,
        /// Why the lock could not be taken.
        #[source]
        source: std::fs::TryLockError,
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
        /// What kind of file was expected.
        what: FileKind,
    },

    /// A file is not what it should be: not UTF-8, not JSON, not a bundle.
    #[error("{}: not a valid {what}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What kind of file was expected.
        what: FileKind,
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

    /// A transparency log that verification or auditing looks things up in
    /// could not be reached or refused the request (signing services report
    /// [`Error::SigningService`]).
    #[error("{service}: {reason}")]
    Network {
        /// Which service (`Rekor <url>`).
        service: String,
        /// What happened (never contains the identity token).
        reason: String,
    },

    /// A package index (`verify pypi --index-url`) could not be reached,
    /// answered what keyless does not follow (a redirect), more than its
    /// cap, or something that is not its API.
    #[error("{service}: {reason}")]
    Index {
        /// Which index (`package index <url>`).
        service: String,
        /// The HTTP status it answered with, when it answered.
        status: Option<u16>,
        /// What happened.
        reason: String,
    },

    /// A service of a signing run (Fulcio, Rekor, TSA) could not be reached,
    /// kept failing, or refused the request. Apart from [`Error::Network`]
    /// (the services verification and auditing look things up in) because
    /// its hint names the signing commands' flags, and because a refusal
    /// (a 4xx `status`) is not a network problem: Fulcio's 401/403 means it
    /// did not accept the token's identity.
    #[error("{service}: {reason}")]
    SigningService {
        /// Which service.
        service: SigningService,
        /// The HTTP status it answered with, when it answered.
        status: Option<u16>,
        /// What happened (never contains the identity token).
        reason: String,
    },

    /// A transparency log has no entry at the log index or with the UUID
    /// asked for: it answered HTTP 404.
    #[error("{service}: no entry {entry} (HTTP 404){}", log_entries_note(.log_entries.as_ref()))]
    NoSuchEntry {
        /// Which log (`Rekor <url>`).
        service: String,
        /// The entry asked for (`at log index 999`, `with UUID ...`).
        entry: String,
        /// The log indexes the log says it holds, when it said (its
        /// unverified log info): for a message, not a verdict.
        log_entries: Option<std::ops::Range<u64>>,
    },

    /// The signing config offers nothing keyless can sign with: no Fulcio,
    /// Rekor or TSA valid now in a version keyless speaks (or in the Rekor
    /// version asked for), a Rekor v2 without a TSA, a selector asking for
    /// more than one service of a kind, or no OIDC provider for a login.
    #[error("{reason}")]
    SigningConfig {
        /// What the signing config lacks.
        reason: String,
    },

    /// No usable identity token: it is not a JWT, is for another audience,
    /// has expired, or could not be obtained (standard input, GitHub
    /// Actions' provider, an interactive or device login).
    ///
    /// The cause is kept as (redacted) text only: the errors of token
    /// libraries may quote the token, which must never be carried.
    #[error("identity token from {origin}: {reason}")]
    IdentityToken {
        /// Where the token came from (`--identity-token`,
        /// `SIGSTORE_ID_TOKEN`, `GitHub Actions`, `interactive login`).
        origin: String,
        /// What is wrong with it, or why it could not be obtained.
        reason: String,
    },

    /// A transparency log entry is authentic but cannot serve what was
    /// asked: no bundle can be made from it (that needs a hashedrekord
    /// 0.0.1 entry signed with a Fulcio certificate over a SHA-256 digest),
    /// or the certificate it logs does not parse or names no identity.
    #[error("{reason}")]
    UnusableEntry {
        /// What about the entry is unusable.
        reason: String,
        /// The parser's error, when one said why.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The command line or API call is contradictory or incomplete.
    #[error("{0}")]
    Usage(String),

    /// A verification failed: a verdict, not the absence of one.
    #[error(transparent)]
    Failed(#[from] crate::failure::Failure),

    /// A service's answer is well formed but does not verify against the
    /// trust root (a Fulcio certificate whose CA or CT log is not trusted).
    #[error("{service}: {reason}")]
    Untrusted {
        /// Which service answered.
        service: String,
        /// What did not verify.
        reason: String,
    },

    /// sigstore-verify stopped without a verdict for a reason keyless does
    /// not know how to attribute to a step.
    #[error("the verifier stopped without a verdict: {source}")]
    Verifier {
        /// sigstore-verify's error.
        #[source]
        source: sigstore_verify::Error,
    },

    /// The machine could not provide what keyless needs to run at all (an
    /// async runtime, an HTTP client, randomness for a key), or a document
    /// keyless built could not be encoded.
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
            Error::Read { .. } | Error::Incomplete { .. } => None,
            Error::MissingArtifact { .. } => Some(
                "check the path: an INPUT is a file, a folder (verifying what `keyless sign` signed in it), or sha256:<64 hex> with --bundle",
            ),
            Error::NoTufCache { .. } => Some(
                "run the same `keyless trust update` without --offline once (it needs the network); later runs can use --offline",
            ),
            Error::Write { .. } => Some("check that the directory exists and is writable"),
            Error::IsADirectory { .. } => {
                Some("pass the bundle file itself, e.g. dist/pkg.whl.sigstore.json")
            }
            Error::ListedFileMissing {
                dangling_link: false,
                ..
            } => Some(
                "sha256sum -c fails a missing file too: download it, or pass --ignore-missing to verify such lines by their digests alone (--digest-only reads no file)",
            ),
            Error::ListedFileMissing { .. } => Some(
                "a link to nothing may point elsewhere for another process (/proc/self/...): replace it with the file",
            ),
            Error::NotARegularFile { .. } => Some(
                "a checksum list names regular files and their bundles; check what the list names",
            ),
            Error::Busy { .. } => {
                Some("wait for the other run to finish, or give this one another --state file")
            }
            Error::TooLarge {
                what: FileKind::Bundle,
                ..
            } => Some(
                "a Sigstore bundle is normally a few kilobytes; make sure this is the right file",
            ),
            Error::TooLarge { .. } => Some("make sure this is the right file"),
            Error::Malformed { what, .. } => Some(what.hint()),
            Error::UnsupportedMediaType { .. } => Some(
                "keyless reads bundle versions v0.1, v0.2 and v0.3; the signer may need to produce a current bundle",
            ),
            Error::TrustMaterial { .. } => Some(
                "pass a trusted_root.json with --trusted-root or a ClientTrustConfig with --trust-config",
            ),
            Error::Network { .. } => Some(
                "check --rekor-url (default: the first transparency log of the trust root) and the network; transient failures were retried within --timeout",
            ),
            Error::SigningService {
                service, status, ..
            } => Some(signing_service_hint(*service, *status)),
            Error::Index {
                status: Some(404), ..
            } => Some(
                "the index has no such project: check the name, and that --index-url (or KEYLESS_INDEX_URL) names the index pip installs from",
            ),
            Error::Index { .. } => Some(
                "check --index-url (default https://pypi.org/simple/, or KEYLESS_INDEX_URL): it must serve the PEP 691 JSON simple API in place (keyless follows no redirect); transient failures were retried within --timeout",
            ),
            Error::NoSuchEntry { .. } => Some(
                "check the log index or UUID, and that --rekor-url names the log that holds the entry; `keyless rekor log-info` shows how many entries the log holds",
            ),
            Error::SigningConfig { .. } => Some(
                "pass a signing config that lists the services this run needs, valid now: --trust-config, or --signing-config with --trusted-root",
            ),
            Error::IdentityToken { .. } => Some(
                "pass a current token whose audience is sigstore with --identity-token or SIGSTORE_ID_TOKEN; in GitLab CI, give the job an id_tokens entry SIGSTORE_ID_TOKEN with aud: sigstore",
            ),
            Error::UnusableEntry { .. } => {
                Some("run without --bundle-out to see and verify the entry itself")
            }
            Error::Untrusted { .. } => Some(
                "the service is not the instance the trust root describes: check --trust-config / --trusted-root (or --staging) against the services you sign with (--fulcio-url, --timestamp-server-url)",
            ),
            Error::Failed(_) | Error::Verifier { .. } | Error::Usage(_) | Error::Runtime { .. } => {
                None
            }
        }
    }
}

/// The hint for a failed signing service, by the service and its answer: a
/// refusal (a 4xx that is not retried, see `net::retry::transient_status`) is about the request or
/// the identity, anything else about reaching the service.
fn signing_service_hint(service: SigningService, status: Option<u16>) -> &'static str {
    use SigningService::{Fulcio, Rekor, Tsa};
    let refused = status.filter(|s| (400..500).contains(s) && !crate::net::transient_status(*s));
    match (service, refused) {
        (Fulcio, Some(401 | 403)) => {
            "Fulcio did not accept the identity token: the instance must trust the token's issuer (iss) and the token's audience must be sigstore; a token is accepted only by an instance that trusts its provider (check --trust-config, --staging or --fulcio-url)"
        }
        (Fulcio, Some(_)) => {
            "Fulcio refused the certificate request: check that --fulcio-url (or the signing config) names a Fulcio speaking API v1"
        }
        (Rekor, Some(_)) => {
            "Rekor refused the request: check that --rekor-url (or the signing config) names a Rekor of the --rekor-version you sign with"
        }
        (Tsa, Some(_)) => {
            "the TSA refused the request: --timestamp-server-url takes the full URL of an RFC 3161 endpoint (e.g. https://timestamp.example/api/v1/timestamp)"
        }
        (Fulcio, None) => {
            "check --fulcio-url (or the Fulcio the signing config names) and the network; transient failures were retried within --timeout"
        }
        (Rekor, None) => {
            "check --rekor-url (or the Rekor the signing config names) and the network; transient failures were retried within --timeout"
        }
        (Tsa, None) => {
            "check --timestamp-server-url (or the TSA the signing config names) and the network; transient failures were retried within --timeout"
        }
    }
}

/// What a log said of its entries, for [`Error::NoSuchEntry`]'s message.
fn log_entries_note(entries: Option<&std::ops::Range<u64>>) -> String {
    match entries {
        None => String::new(),
        Some(r) if r.is_empty() => "; the log says it holds no entries".into(),
        Some(r) => format!(
            "; the log says it holds entries at log indexes {} to {}",
            r.start,
            r.end - 1
        ),
    }
}

/// Result type of keyless operations that can stop before a verdict.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors_keep_their_messages_and_choose_their_hints() {
        let busy = Error::Busy {
            path: "state.json".into(),
            lock: "state.json.lock".into(),
            source: std::fs::TryLockError::WouldBlock,
        };
        assert_eq!(
            busy.to_string(),
            "another keyless rekor monitor is using state.json (lock state.json.lock)"
        );
        assert!(busy.hint().unwrap().contains("--state"));
        assert!(std::error::Error::source(&busy).is_some());

        let encoding = serde_json::from_str::<u8>("x").unwrap_err();
        let reason = encoding.to_string();
        let runtime = Error::Runtime {
            what: "cannot encode the bundle",
            source: Box::new(encoding),
        };
        assert_eq!(
            runtime.to_string(),
            format!("cannot encode the bundle: {reason}")
        );
        assert!(std::error::Error::source(&runtime).is_some());

        let incomplete = Error::Incomplete {
            path: "dist/a.whl".into(),
        };
        assert_eq!(incomplete.to_string(), "dist/a.whl: not read to the end");

        let token = Error::IdentityToken {
            origin: "SIGSTORE_ID_TOKEN".into(),
            reason: "it has no iss claim".into(),
        };
        assert_eq!(
            token.to_string(),
            "identity token from SIGSTORE_ID_TOKEN: it has no iss claim"
        );
        assert!(token.hint().unwrap().contains("aud"));

        let config = Error::SigningConfig {
            reason: "the signing config lists no Rekor valid now".into(),
        };
        assert_eq!(
            config.to_string(),
            "the signing config lists no Rekor valid now"
        );
        assert!(config.hint().unwrap().contains("--signing-config"));

        let entry = Error::UnusableEntry {
            reason: "the logged certificate has no identity or issuer".into(),
            source: None,
        };
        assert_eq!(
            entry.to_string(),
            "the logged certificate has no identity or issuer"
        );
        assert!(entry.hint().unwrap().contains("--bundle-out"));

        assert!(Error::Usage("bad".into()).hint().is_none());

        let missing = |log_entries| Error::NoSuchEntry {
            service: "Rekor http://127.0.0.1:1".into(),
            entry: "at log index 9".into(),
            log_entries,
        };
        assert_eq!(
            missing(None).to_string(),
            "Rekor http://127.0.0.1:1: no entry at log index 9 (HTTP 404)"
        );
        assert!(
            missing(Some(5..5))
                .to_string()
                .ends_with("; the log says it holds no entries")
        );
        assert!(
            missing(Some(5..8))
                .to_string()
                .ends_with("; the log says it holds entries at log indexes 5 to 7")
        );
        assert!(!missing(None).hint().unwrap().contains("network"));
    }

    #[test]
    fn signing_service_hints_follow_the_status_not_the_text() {
        let hint = |service, status| {
            Error::SigningService {
                service,
                status,
                // The same words every time: only the typed data differs.
                reason: "network unreachable, token refused".into(),
            }
            .hint()
            .unwrap()
        };
        for status in [Some(401), Some(403)] {
            let h = hint(SigningService::Fulcio, status);
            assert!(h.contains("issuer") && !h.contains("network"), "{h}");
        }
        let refused = hint(SigningService::Fulcio, Some(400));
        assert!(refused.contains("refused") && !refused.contains("network"));
        for status in [None, Some(503), Some(429), Some(408)] {
            let h = hint(SigningService::Fulcio, status);
            assert!(
                h.contains("--fulcio-url") && h.contains("network"),
                "{status:?}: {h}"
            );
        }
        assert!(hint(SigningService::Rekor, None).contains("--rekor-url"));
        assert!(hint(SigningService::Tsa, None).contains("--timestamp-server-url"));
        assert!(hint(SigningService::Tsa, Some(404)).contains("full URL"));
        let e = Error::SigningService {
            service: SigningService::Tsa,
            status: None,
            reason: "no answer within 5 s".into(),
        };
        assert_eq!(e.to_string(), "TSA: no answer within 5 s");
    }
}
