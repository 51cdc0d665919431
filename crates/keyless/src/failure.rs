//! What failed when evidence does not prove what it claims: the step (named
//! as the Sigstore client specification orders them, or the auditor's check)
//! and the reason. A failure is a verdict (exit status 1); an
//! [`crate::Error`] is the absence of one (exit status 2).

/// A step of verification, in the order the Sigstore client spec lists them,
/// then the checks only an auditor of the log makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Step {
    /// The bundle's format, structure and the amount of evidence in it.
    Bundle,
    /// Establishing verified signing times (RFC 3161 timestamps, SETs).
    SigningTime,
    /// An RFC 3161 timestamp did not verify against a trusted TSA.
    Timestamp,
    /// The signing certificate's chain to a trusted Fulcio CA, and its validity.
    Certificate,
    /// The certificate's Signed Certificate Timestamp.
    Sct,
    /// Inclusion proof against the log's Merkle tree.
    InclusionProof,
    /// The signed checkpoint (tree head) the inclusion proof leads to.
    Checkpoint,
    /// The Signed Entry Timestamp (inclusion promise).
    Set,
    /// The log entry's integrated time against the certificate's validity.
    IntegratedTime,
    /// The log entry's body against this bundle and artifact.
    LogEntry,
    /// The signature over the artifact (or the DSSE envelope).
    Signature,
    /// The artifact against the digest or in-toto subject the bundle signs.
    Artifact,
    /// The identity policy: SAN and OIDC issuer.
    Identity,
    /// The in-toto statement a DSSE envelope carries: its form and bounds.
    Statement,
    /// The statement's predicate type against the one asked for (`--type`).
    PredicateType,
    /// Provenance that does not hold: a GitLab runner's provenance whose
    /// claims disagree with the certificate's (`verify gitlab
    /// --provenance`), or a package index serving no PEP 740 provenance for
    /// a file, or provenance keyless cannot hold to it (`verify pypi`).
    Provenance,
    /// A package index's publisher claim disagrees with the verified
    /// certificate, or the certificate is from no known Trusted Publisher.
    Publisher,
    /// A consistency proof between two checkpoints (auditing the log).
    ConsistencyProof,
    /// The tree is smaller than a checkpoint the log signed before.
    Rollback,
    /// The log signed two different roots for the same tree size.
    Fork,
    /// The checkpoint names another log (origin or signing key changed).
    LogIdentity,
    /// A search result that does not contain what was searched for.
    SearchResult,
    /// A monitor's state file claims a scan position no run could have
    /// stored (past its own checkpoint's tree, say).
    MonitorState,
}

impl Step {
    /// The step's name as printed.
    pub fn name(self) -> &'static str {
        match self {
            Step::Bundle => "bundle",
            Step::SigningTime => "signing time",
            Step::Timestamp => "timestamp",
            Step::Certificate => "certificate",
            Step::Sct => "SCT",
            Step::InclusionProof => "inclusion proof",
            Step::Checkpoint => "checkpoint",
            Step::Set => "SET",
            Step::IntegratedTime => "integrated time",
            Step::LogEntry => "log entry",
            Step::Signature => "signature",
            Step::Artifact => "artifact",
            Step::Identity => "identity",
            Step::Statement => "statement",
            Step::PredicateType => "predicate type",
            Step::Provenance => "provenance",
            Step::Publisher => "publisher",
            Step::ConsistencyProof => "consistency proof",
            Step::Rollback => "rollback",
            Step::Fork => "fork",
            Step::LogIdentity => "log identity",
            Step::SearchResult => "search result",
            Step::MonitorState => "monitor state",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A verification failure: the step that failed and why. Verification of a
/// bundle and the auditor's checks of entries and of the log report it alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The failed step.
    pub step: Step,
    /// What was wrong, for a person.
    pub reason: String,
}

impl Failure {
    pub(crate) fn new(step: Step, reason: impl Into<String>) -> Self {
        Self {
            step,
            reason: reason.into(),
        }
    }
}

impl std::error::Error for Failure {}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.step, self.reason)
    }
}
