//! In-toto statements (beside [`crate::attestation`], which is PEP 740's
//! one-subject publish statement): the model, parsed with bounds, the
//! predicate-type table ([`predicate`]), the statements `keyless attest`
//! signs ([`subjects`]) and the GitLab runner's provenance held against the
//! certificate that signed it ([`provenance`]).
//!
//! A statement is signed as the payload of a DSSE envelope (payload type
//! `application/vnd.in-toto+json`) byte for byte: what a verifier reads is
//! exactly what the signer read, never a re-serialization of it.

pub mod predicate;
pub mod provenance;
pub mod subjects;

use crate::error::{Error, FileKind, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// in-toto Statement v0.1: what the GitLab runner still writes (and cosign
/// 2 did); its fields are those of v1.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = crate::attestation::IN_TOTO_PAYLOAD_TYPE;

/// The suffix of a statement's bundle: `keyless attest` writes
/// `<file>.intoto.sigstore.json` by default, named after the first file it
/// covers. Not `<file>.sigstore.json`, which is the file's own bundle (a
/// signature over its bytes), nor `.publish.attestation` (PEP 740).
pub const BUNDLE_SUFFIX: &str = ".intoto.sigstore.json";

/// `<file>.intoto.sigstore.json`.
pub fn default_bundle_path(file: &Path) -> std::path::PathBuf {
    let mut s = file.as_os_str().to_os_string();
    s.push(BUNDLE_SUFFIX);
    s.into()
}

/// Statements larger than this are refused before they are parsed: an SBOM
/// of a large project fits, a payload meant to exhaust a verifier's memory
/// does not (the bundle around it is capped at 32 MiB anyway).
pub const MAX_STATEMENT_BYTES: usize = 16 * 1024 * 1024;
/// At most this many subjects, as sigstore-go caps them: each subject is a
/// digest compared against the artifact, and a statement listing millions
/// would turn every verification into a scan (CPU exhaustion).
pub const MAX_SUBJECTS: usize = 1024;
/// At most this many digests per subject (sigstore-go's cap too).
pub const MAX_DIGESTS_PER_SUBJECT: usize = 32;

/// One subject: a name and its digests by algorithm (`sha256` → hex).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Subject {
    /// The subject's name (a file name or path), if it has one.
    pub name: Option<String>,
    /// Digests by algorithm name.
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// The SHA-256 digest, lowercase hex, if the subject has one.
    pub fn sha256(&self) -> Option<String> {
        self.digest.get("sha256").map(|d| d.to_ascii_lowercase())
    }
}

/// A parsed in-toto statement, with the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `_type`: [`STATEMENT_V1`] or [`STATEMENT_V01`].
    pub statement_type: String,
    /// The subjects (at least one, at most [`MAX_SUBJECTS`]).
    pub subjects: Vec<Subject>,
    /// `predicateType`, a URI.
    pub predicate_type: String,
    /// The predicate (`null` when absent).
    pub predicate: Value,
    /// The exact bytes: what a DSSE envelope signs and `--output-statement`
    /// writes.
    pub bytes: Vec<u8>,
}

/// Why bytes are not a statement keyless accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementProblem {
    /// Over [`MAX_STATEMENT_BYTES`].
    #[error("the statement is {size} bytes, more than the {MAX_STATEMENT_BYTES} accepted")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// Not a JSON object.
    #[error("the statement is not a JSON object: {0}")]
    NotJson(String),
    /// `_type` is missing or not an in-toto statement type.
    #[error("_type is {0}, not {STATEMENT_V1} (or {STATEMENT_V01})")]
    NotAStatement(String),
    /// A required field is missing or of the wrong type.
    #[error("{0}")]
    BadField(String),
    /// No subject.
    #[error("the statement has no subject")]
    NoSubject,
    /// Over [`MAX_SUBJECTS`].
    #[error("the statement has {0} subjects, more than the {MAX_SUBJECTS} accepted")]
    TooManySubjects(usize),
    /// A subject with more than [`MAX_DIGESTS_PER_SUBJECT`] digests.
    #[error(
        "subject {index} has {count} digests, more than the {MAX_DIGESTS_PER_SUBJECT} accepted"
    )]
    TooManyDigests {
        /// The subject's position (from 0).
        index: usize,
        /// How many digests it has.
        count: usize,
    },
}

impl Statement {
    /// Parse `bytes` as an in-toto statement, bounds first.
    pub fn parse(bytes: &[u8]) -> std::result::Result<Self, StatementProblem> {
        if bytes.len() > MAX_STATEMENT_BYTES {
            return Err(StatementProblem::TooLarge { size: bytes.len() });
        }
        let doc: Value =
            serde_json::from_slice(bytes).map_err(|e| StatementProblem::NotJson(e.to_string()))?;
        let Value::Object(doc) = doc else {
            return Err(StatementProblem::NotJson("not an object".into()));
        };
        let statement_type = match doc.get("_type") {
            Some(Value::String(t)) if t == STATEMENT_V1 || t == STATEMENT_V01 => t.clone(),
            Some(other) => return Err(StatementProblem::NotAStatement(other.to_string())),
            None => return Err(StatementProblem::NotAStatement("missing".into())),
        };
        let predicate_type = match doc.get("predicateType") {
            Some(Value::String(t)) if !t.is_empty() => t.clone(),
            _ => {
                return Err(StatementProblem::BadField(
                    "predicateType must be a non-empty string".into(),
                ));
            }
        };
        let list = match doc.get("subject") {
            Some(Value::Array(list)) => list,
            _ => {
                return Err(StatementProblem::BadField("subject must be a list".into()));
            }
        };
        if list.is_empty() {
            return Err(StatementProblem::NoSubject);
        }
        // Counted before any subject is looked at.
        if list.len() > MAX_SUBJECTS {
            return Err(StatementProblem::TooManySubjects(list.len()));
        }
        let mut subjects = Vec::with_capacity(list.len());
        for (index, s) in list.iter().enumerate() {
            let bad = |what: &str| StatementProblem::BadField(format!("subject {index}: {what}"));
            let name = match s.get("name") {
                None | Some(Value::Null) => None,
                Some(Value::String(n)) => Some(n.clone()),
                Some(_) => return Err(bad("name must be a string")),
            };
            let Some(Value::Object(digests)) = s.get("digest") else {
                return Err(bad("digest must be an object"));
            };
            if digests.is_empty() {
                return Err(bad("no digest"));
            }
            if digests.len() > MAX_DIGESTS_PER_SUBJECT {
                return Err(StatementProblem::TooManyDigests {
                    index,
                    count: digests.len(),
                });
            }
            let mut digest = BTreeMap::new();
            for (alg, value) in digests {
                let Value::String(value) = value else {
                    return Err(bad(&format!("digest {alg} must be a string")));
                };
                digest.insert(alg.clone(), value.clone());
            }
            subjects.push(Subject { name, digest });
        }
        Ok(Self {
            statement_type,
            subjects,
            predicate_type,
            predicate: doc.get("predicate").cloned().unwrap_or(Value::Null),
            bytes: bytes.to_vec(),
        })
    }

    /// Read and parse a statement file (`keyless attest --statement`).
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            crate::files::read_text_limited(path, MAX_STATEMENT_BYTES as u64, FileKind::Statement)?;
        Self::parse(text.as_bytes()).map_err(|problem| Error::Malformed {
            path: path.to_path_buf(),
            what: FileKind::Statement,
            reason: problem.to_string(),
        })
    }

    /// Read a predicate file (`keyless attest --predicate`): JSON, within
    /// the statement's size cap.
    pub fn read_predicate(path: &Path) -> Result<Value> {
        let text =
            crate::files::read_text_limited(path, MAX_STATEMENT_BYTES as u64, FileKind::Predicate)?;
        serde_json::from_str(&text).map_err(|e| Error::Malformed {
            path: path.to_path_buf(),
            what: FileKind::Predicate,
            reason: format!("not JSON: {e}"),
        })
    }

    /// A statement v1 over `subjects` with `predicate` (`keyless attest
    /// --predicate`), serialized once: these bytes are what is signed.
    pub fn build(
        subjects: &[(String, String)],
        predicate_type: &str,
        predicate: Value,
    ) -> std::result::Result<Self, StatementProblem> {
        let doc = serde_json::json!({
            "_type": STATEMENT_V1,
            "subject": subjects
                .iter()
                .map(|(name, sha256)| serde_json::json!({"name": name, "digest": {"sha256": sha256}}))
                .collect::<Vec<_>>(),
            "predicateType": predicate_type,
            "predicate": predicate,
        });
        let bytes =
            serde_json::to_vec(&doc).map_err(|e| StatementProblem::NotJson(e.to_string()))?;
        Self::parse(&bytes)
    }

    /// Whether some subject's SHA-256 is `sha256_hex` (case-insensitive).
    /// Names are not compared, as sigstore-go, sigstore-python and cosign
    /// do not: a statement over `dist/x.whl` holds for `x.whl` downloaded
    /// anywhere.
    pub fn has_sha256(&self, sha256_hex: &str) -> bool {
        self.subjects.iter().any(|s| {
            s.sha256()
                .is_some_and(|d| d.eq_ignore_ascii_case(sha256_hex))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statement(subjects: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "_type": STATEMENT_V1,
            "subject": subjects,
            "predicateType": "https://example.com/p",
            "predicate": {},
        }))
        .unwrap()
    }

    fn subject(i: usize) -> Value {
        json!({"name": format!("f{i}"), "digest": {"sha256": format!("{i:064x}")}})
    }

    #[test]
    fn the_bounds_are_sigstore_gos() {
        let at_cap: Vec<Value> = (0..MAX_SUBJECTS).map(subject).collect();
        assert_eq!(
            Statement::parse(&statement(json!(at_cap)))
                .unwrap()
                .subjects
                .len(),
            MAX_SUBJECTS
        );
        let over: Vec<Value> = (0..=MAX_SUBJECTS).map(subject).collect();
        assert_eq!(
            Statement::parse(&statement(json!(over))).unwrap_err(),
            StatementProblem::TooManySubjects(MAX_SUBJECTS + 1)
        );
        let digests = |n: usize| -> Value {
            (0..n)
                .map(|i| (format!("alg{i}"), json!("00")))
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let ok = json!([{"name": "a", "digest": digests(MAX_DIGESTS_PER_SUBJECT)}]);
        Statement::parse(&statement(ok)).unwrap();
        let many =
            json!([subject(0), {"name": "a", "digest": digests(MAX_DIGESTS_PER_SUBJECT + 1)}]);
        assert_eq!(
            Statement::parse(&statement(many)).unwrap_err(),
            StatementProblem::TooManyDigests {
                index: 1,
                count: MAX_DIGESTS_PER_SUBJECT + 1
            }
        );
        let mut big = statement(json!([subject(0)]));
        big.resize(MAX_STATEMENT_BYTES + 1, b' ');
        assert!(matches!(
            Statement::parse(&big).unwrap_err(),
            StatementProblem::TooLarge { .. }
        ));
    }

    #[test]
    fn only_statements_are_statements() {
        for (doc, want) in [
            (
                json!({"subject": [subject(0)], "predicateType": "p"}),
                "_type",
            ),
            (
                json!({"_type": "https://in-toto.io/Statement/v2", "subject": [subject(0)], "predicateType": "p"}),
                "_type",
            ),
            (
                json!({"_type": STATEMENT_V1, "subject": [], "predicateType": "p"}),
                "no subject",
            ),
            (
                json!({"_type": STATEMENT_V1, "subject": [subject(0)]}),
                "predicateType",
            ),
            (
                json!({"_type": STATEMENT_V1, "subject": [{"name": "a"}], "predicateType": "p"}),
                "digest",
            ),
            (
                json!({"_type": STATEMENT_V1, "subject": [{"name": "a", "digest": {}}], "predicateType": "p"}),
                "no digest",
            ),
            (json!([1]), "object"),
        ] {
            let err = Statement::parse(&serde_json::to_vec(&doc).unwrap()).unwrap_err();
            assert!(err.to_string().contains(want), "{doc}: {err}");
        }
        let v01 = json!({"_type": STATEMENT_V01, "subject": [subject(1)], "predicateType": "p"});
        let st = Statement::parse(&serde_json::to_vec(&v01).unwrap()).unwrap();
        assert_eq!(st.predicate, Value::Null);
        assert!(st.has_sha256(&format!("{:064X}", 1)));
        assert!(!st.has_sha256(&format!("{:064x}", 2)));
    }
}
