//! What a DSSE bundle's in-toto statement must be, beyond its signature:
//! within bounds (before any cryptography), about this artifact's SHA-256,
//! of the predicate type asked for, and for the GitLab runner's provenance,
//! in agreement with the certificate that signed it.

use super::{Failure, Step, Verified};
use crate::error::Result;
use crate::statement::{PAYLOAD_TYPE, Statement, provenance};
use sigstore_types::{Bundle, Sha256Hash, SignatureContent};
use std::sync::Arc;

/// What the statement of a DSSE bundle must be (`--type`, `verify gitlab
/// --provenance`). The default asks only that the statement be within
/// bounds and name the artifact's SHA-256.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementPolicy {
    /// The predicate type the statement must have (a URI, as
    /// [`crate::statement::predicate::resolve`] gives it).
    pub predicate_type: Option<String>,
    /// The statement must be the GitLab runner's SLSA provenance, and its
    /// project, commit and job those the certificate names.
    pub gitlab_provenance: bool,
}

impl StatementPolicy {
    pub(super) fn asks_for_a_statement(&self) -> bool {
        self.predicate_type.is_some() || self.gitlab_provenance
    }
}

/// The statement `bundle`'s DSSE envelope carries, parsed within bounds;
/// `None` for a message signature. Checked before the signature: a
/// statement of a million subjects is refused unread, whoever signed it
/// (sigstore-go refuses it the same way).
pub(super) fn statement_of(bundle: &Bundle) -> std::result::Result<Option<Statement>, Failure> {
    let SignatureContent::DsseEnvelope(envelope) = &bundle.content else {
        return Ok(None);
    };
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(Failure::new(
            Step::Statement,
            format!(
                "the envelope's payload type is {:?}, not {PAYLOAD_TYPE}",
                envelope.payload_type
            ),
        ));
    }
    Statement::parse(envelope.payload.as_bytes())
        .map(Some)
        .map_err(|problem| Failure::new(Step::Statement, problem.to_string()))
}

/// The checks on a verified bundle's statement, in order: the artifact's
/// SHA-256 is a subject's (sigstore-verify also accepts a SHA-512 match;
/// keyless reports and writes SHA-256 and holds statements to it), the
/// predicate type, the runner's provenance.
pub(super) fn check(
    mut verified: Verified,
    statement: Option<Statement>,
    sha256: Option<Sha256Hash>,
    policy: &StatementPolicy,
) -> Result<Verified> {
    let Some(statement) = statement else {
        if policy.asks_for_a_statement() {
            let step = if policy.predicate_type.is_some() {
                Step::PredicateType
            } else {
                Step::Provenance
            };
            return Err(Failure::new(
                step,
                "the bundle signs the artifact itself, not an in-toto statement about it",
            )
            .into());
        }
        return Ok(verified);
    };
    let Some(sha256) = sha256 else {
        return Err(Failure::new(
            Step::Artifact,
            "the artifact's SHA-256 is unknown, so it cannot be held to the statement's subjects",
        )
        .into());
    };
    if !statement.has_sha256(&sha256.to_hex()) {
        return Err(Failure::new(
            Step::Artifact,
            format!(
                "the artifact's SHA-256 {} is none of the statement's {} subject digest(s)",
                sha256.to_hex(),
                statement.subjects.len()
            ),
        )
        .into());
    }
    if let Some(wanted) = &policy.predicate_type
        && statement.predicate_type != *wanted
    {
        return Err(Failure::new(
            Step::PredicateType,
            format!(
                "the statement's predicate type is {:?}, not {wanted:?} (--type)",
                statement.predicate_type
            ),
        )
        .into());
    }
    if policy.gitlab_provenance {
        let cert = verified.certificate.as_ref().ok_or_else(|| {
            Failure::new(
                Step::Provenance,
                "the bundle has no Fulcio certificate to hold the provenance to",
            )
        })?;
        let claims = provenance::check(&statement, cert)
            .map_err(|m| Failure::new(Step::Provenance, m.to_string()))?;
        verified.provenance = Some(claims);
    }
    verified.statement = Some(Arc::new(statement));
    Ok(verified)
}
