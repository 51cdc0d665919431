//! Sigstore bundles on disk: finding, reading and sanity-checking them.
//!
//! Parsing and per-version structure checks come from `sigstore-types` and
//! `sigstore-bundle`. This module adds what a command-line verifier facing
//! arbitrary files needs in front of them: a size limit enforced before
//! parsing, a media type that must be present and known, and caps on repeated
//! evidence; [`strict`] refuses what the JSON mapping and the strictest
//! clients refuse (unknown members, misspelled enums, the verification
//! material of another version).

mod strict;

use crate::error::{Error, FileKind, Result};
use crate::files::read_text_limited;
use sigstore_types::Bundle;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The largest bundle keyless parses. Message-signature bundles are a few
/// KiB; DSSE bundles carrying large provenance payloads stay well below this.
pub const MAX_BUNDLE_BYTES: u64 = 32 * 1024 * 1024;

/// At most this many transparency log entries, and at most this many RFC 3161
/// timestamps, are accepted in one bundle. Each one costs signature checks,
/// so an unbounded list is a denial-of-service vector (sigstore-python caps
/// timestamps at 32 too; sigstore-go caps both).
pub const MAX_EVIDENCE_ITEMS: usize = 32;

/// Bundle media types keyless reads (v0.3 in both spellings).
pub const KNOWN_MEDIA_TYPES: &[&str] = &[
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// The bundle paths tried for an artifact when none is given, in order.
pub fn default_bundle_paths(artifact: &Path) -> [PathBuf; 2] {
    let with = |suffix: &str| {
        let mut name = artifact.as_os_str().to_os_string();
        name.push(suffix);
        PathBuf::from(name)
    };
    [with(".sigstore.json"), with(".sigstore")]
}

/// The first default bundle path that exists, or the first candidate (so the
/// error names the modern spelling) when none does.
pub fn find_bundle_for(artifact: &Path) -> PathBuf {
    let [json, legacy] = default_bundle_paths(artifact);
    if !json.exists() && legacy.exists() {
        legacy
    } else {
        json
    }
}

/// Read and parse the bundle at `path`.
///
/// Refuses, before parsing: directories, files over [`MAX_BUNDLE_BYTES`],
/// non-UTF-8 content, a missing or unknown `mediaType` (the parser
/// underneath would silently treat a missing one as v0.1), and JSON the
/// bundle schema does not allow (see `strict`).
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let text = read_text_limited(path, MAX_BUNDLE_BYTES, FileKind::Bundle)?;
    parse_bundle(path, &text)
}

/// [`read_bundle`] for a bundle a checksum list leads to: a regular file
/// only, refused unread otherwise (never blocking on a FIFO).
pub fn read_listed_bundle(path: &Path) -> Result<Bundle> {
    let text = crate::files::read_regular_text_limited(path, MAX_BUNDLE_BYTES, FileKind::Bundle)?;
    parse_bundle(path, &text)
}

/// Parse bundle JSON read from `path` (used in messages only).
pub fn parse_bundle(path: &Path, text: &str) -> Result<Bundle> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<serde_json::Value>,
    }
    let malformed = |reason: String| Error::Malformed {
        path: path.to_path_buf(),
        what: FileKind::Bundle,
        reason,
    };
    // serde would read a one-element array into the probe struct; a bundle
    // is always an object, so say so plainly.
    let first = text.trim_start().chars().next();
    if first != Some('{') && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return Err(malformed(
            "not a bundle object (the JSON is not an object)".into(),
        ));
    }
    let probe: Probe = serde_json::from_str(text).map_err(|e| malformed(json_reason(&e)))?;
    let media_type = match probe.media_type {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => {
            return Err(malformed(format!(
                "mediaType must be a string, found {other}"
            )));
        }
        None => String::new(),
    };
    if !KNOWN_MEDIA_TYPES.contains(&media_type.as_str()) {
        return Err(Error::UnsupportedMediaType {
            path: path.to_path_buf(),
            media_type,
        });
    }
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| malformed(json_reason(&e)))?;
    strict::check(&doc, &media_type).map_err(malformed)?;
    Bundle::from_json(text).map_err(|e| malformed(e.to_string()))
}

fn json_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => format!("truncated JSON ({e})"),
        Category::Syntax => format!("not JSON ({e})"),
        Category::Data => format!("not a bundle object ({e})"),
        Category::Io => e.to_string(),
    }
}

/// Why the evidence in a bundle is rejected before any cryptography runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceProblem {
    /// No transparency log entry at all: nothing shows the signature was
    /// published, which is the point of keyless signing.
    NoLogEntry,
    /// A log entry without an inclusion proof up to a checkpoint.
    MissingInclusionProof {
        /// Log index of the entry.
        log_index: u64,
    },
    /// More than [`MAX_EVIDENCE_ITEMS`] log entries.
    TooManyLogEntries(usize),
    /// The same log entry twice (same log and index, or same body and log).
    DuplicateLogEntry {
        /// Log index of the repeated entry.
        log_index: u64,
    },
    /// More than [`MAX_EVIDENCE_ITEMS`] RFC 3161 timestamps.
    TooManyTimestamps(usize),
    /// The same RFC 3161 timestamp token twice.
    DuplicateTimestamp {
        /// Position (0-based) of the repeated token.
        position: usize,
    },
}

impl std::fmt::Display for EvidenceProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoLogEntry => f.write_str(
                "bundle has no transparency log entry, so nothing shows the signature was logged",
            ),
            Self::MissingInclusionProof { log_index } => write!(
                f,
                "log entry #{log_index} has no inclusion proof; keyless requires one, with a checkpoint, for every entry, whatever the bundle version"
            ),
            Self::TooManyLogEntries(n) => write!(
                f,
                "{n} transparency log entries, more than the {MAX_EVIDENCE_ITEMS} allowed"
            ),
            Self::DuplicateLogEntry { log_index } => {
                write!(f, "log entry #{log_index} appears more than once")
            }
            Self::TooManyTimestamps(n) => write!(
                f,
                "{n} RFC 3161 timestamps, more than the {MAX_EVIDENCE_ITEMS} allowed"
            ),
            Self::DuplicateTimestamp { position } => write!(
                f,
                "RFC 3161 timestamp {} duplicates an earlier one",
                position + 1
            ),
        }
    }
}

/// Reject excess or repeated evidence. A repeated timestamp or entry adds no
/// assurance but would count twice towards any "N independent sources"
/// threshold, so it is an attack signal, not noise.
pub fn check_evidence(bundle: &Bundle) -> std::result::Result<(), EvidenceProblem> {
    let entries = &bundle.verification_material.tlog_entries;
    if entries.is_empty() {
        return Err(EvidenceProblem::NoLogEntry);
    }
    if entries.len() > MAX_EVIDENCE_ITEMS {
        return Err(EvidenceProblem::TooManyLogEntries(entries.len()));
    }
    let mut seen_index = HashSet::new();
    let mut seen_body = HashSet::new();
    for entry in entries {
        let log = entry.log_id.key_id.as_bytes().to_vec();
        let index = entry.log_index.get();
        let body = entry.canonicalized_body.as_bytes().to_vec();
        // The body alone identifies an entry: the log ID of a Rekor v2 entry
        // (or of a v1 entry without a SET) is not signed, so a copy with
        // another log ID is still the same evidence.
        if !seen_index.insert((log, index)) || !seen_body.insert(body) {
            return Err(EvidenceProblem::DuplicateLogEntry { log_index: index });
        }
        // The media type is not signed: relabelling a bundle as v0.1 (which
        // only needs a SET) must not let it shed its inclusion proof.
        // (A proof without a checkpoint is refused by sigstore-bundle.)
        if entry.inclusion_proof.is_none() {
            return Err(EvidenceProblem::MissingInclusionProof { log_index: index });
        }
    }
    let timestamps = &bundle
        .verification_material
        .timestamp_verification_data
        .rfc3161_timestamps;
    if timestamps.len() > MAX_EVIDENCE_ITEMS {
        return Err(EvidenceProblem::TooManyTimestamps(timestamps.len()));
    }
    let mut seen = HashSet::new();
    for (position, ts) in timestamps.iter().enumerate() {
        if !seen.insert(ts.signed_timestamp.as_bytes()) {
            return Err(EvidenceProblem::DuplicateTimestamp { position });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_paths_prefer_sigstore_json() {
        let [a, b] = default_bundle_paths(Path::new("dist/pkg-1.0.tar.gz"));
        assert_eq!(a, PathBuf::from("dist/pkg-1.0.tar.gz.sigstore.json"));
        assert_eq!(b, PathBuf::from("dist/pkg-1.0.tar.gz.sigstore"));
    }

    #[test]
    fn missing_media_type_is_refused_not_defaulted() {
        let err = parse_bundle(Path::new("b.json"), r#"{"verificationMaterial":{}}"#).unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedMediaType { ref media_type, .. } if media_type.is_empty()),
            "{err}"
        );
    }

    #[test]
    fn unknown_media_type_is_refused() {
        let text = r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.4+json"}"#;
        let err = parse_bundle(Path::new("b.json"), text).unwrap_err();
        assert!(matches!(err, Error::UnsupportedMediaType { .. }), "{err}");
    }

    #[test]
    fn truncated_and_garbage_json_are_named() {
        let err = parse_bundle(Path::new("b.json"), r#"{"mediaType": "app"#).unwrap_err();
        assert!(err.to_string().contains("truncated JSON"), "{err}");
        let err = parse_bundle(Path::new("b.json"), "PK\u{3}\u{4}garbage").unwrap_err();
        assert!(err.to_string().contains("not JSON"), "{err}");
        let err = parse_bundle(Path::new("b.json"), "[1,2]").unwrap_err();
        assert!(err.to_string().contains("not a bundle object"), "{err}");
    }
}
