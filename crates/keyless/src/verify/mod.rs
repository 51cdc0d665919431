//! Offline verification of Sigstore bundles.
//!
//! The cryptographic core is `sigstore-verify`. This module puts the checks
//! it does not make in front of and behind it, and names the step of the
//! Sigstore client specification that a failure belongs to:
//!
//! | step | what is checked | by |
//! |---|---|---|
//! | 1 bundle | media type, per-version structure; at least one log entry, each with an inclusion proof and checkpoint; caps and duplicates (reported as `log entry` / `timestamp`) | keyless + sigstore-bundle |
//! | 2 signing time | RFC 3161 timestamps from trusted TSAs, SETs; at least one verified time, none in the future | sigstore-verify + keyless clock |
//! | 3 certificate | chain to a Fulcio CA valid at every verified time, code-signing EKU, validity window | sigstore-verify |
//! | 4 SCT | embedded SCT from a trusted CT log | sigstore-verify |
//! | 5 transparency log | inclusion proof, signed checkpoint (tree size agreeing with the proof), SET, integrated time inside the certificate's window | sigstore-verify + keyless |
//! | 6 signature | signature over the artifact, or DSSE envelope whose in-toto subject matches it | sigstore-verify |
//! | 7 log entry | log entry body describes this signature, key and artifact (CVE-2022-36056) | sigstore-verify |
//! | 8 identity | SAN and OIDC issuer satisfy the policy | keyless |
//!
//! The identity policy is applied last, to claims of a certificate whose
//! chain, SCT, log inclusion and signature have all been established.

pub mod gitlab;
pub mod legacy;
pub mod policy;

use crate::bundle::{self, EvidenceProblem};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, FileKind, Result};
pub use crate::failure::{Failure, Step};
use crate::trust::TrustMaterial;
use policy::Policy;
use sigstore_types::{Bundle, KindVersion, Sha256Hash};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a successful verification established.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The certificate's SAN (keyless bundles).
    pub identity: Option<String>,
    /// The certificate's OIDC issuer (keyless bundles).
    pub issuer: Option<String>,
    /// The verified certificate, with its Fulcio claims (keyless bundles).
    pub certificate: Option<sigstore_crypto::CertificateInfo>,
    /// Log index of the first transparency log entry.
    pub log_index: Option<u64>,
    /// Earliest SET-authenticated Rekor integrated time, if any.
    pub integrated_time: Option<jiff::Timestamp>,
    /// Every verified signing time (RFC 3161 timestamps and integrated times).
    pub verified_times: Vec<jiff::Timestamp>,
}

impl Verified {
    /// The earliest verified signing time.
    pub fn signing_time(&self) -> Option<jiff::Timestamp> {
        self.integrated_time
            .into_iter()
            .chain(self.verified_times.iter().copied())
            .min()
    }
}

/// What to verify: a file, or only its SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file on disk; it is read (streamed) and hashed.
    File(PathBuf),
    /// A SHA-256 digest given as `sha256:<64 hex>`.
    Digest(Sha256Hash),
}

impl Input {
    /// Interpret a command-line argument: a path when such a file exists,
    /// else `sha256:<64 hex>` as a digest, else a path (which will fail to
    /// open, with a message naming it).
    pub fn parse(arg: &str) -> Result<Self> {
        let path = PathBuf::from(arg);
        if path.exists() {
            return Ok(Input::File(path));
        }
        if let Some(hex) = arg.strip_prefix("sha256:") {
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::Usage(format!(
                    "{arg:?} is neither an existing file nor a digest of the form sha256:<64 hex digits>"
                )));
            }
            let digest = Sha256Hash::from_hex(&hex.to_ascii_lowercase())
                .map_err(|e| Error::Usage(format!("{arg:?}: {e}")))?;
            return Ok(Input::Digest(digest));
        }
        Ok(Input::File(path))
    }

    /// How the input is named in reports.
    pub fn display_name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Digest(d) => format!("sha256:{}", d.to_hex()),
        }
    }
}

/// The verdict on one input.
#[derive(Debug)]
pub enum Outcome {
    /// Every step passed.
    Verified(Box<Verified>),
    /// A step failed: exit status 1.
    Failed(Failure),
    /// No verdict could be reached (I/O, malformed bundle, usage): exit status 2.
    Error(Error),
}

impl From<Result<Verified>> for Outcome {
    fn from(result: Result<Verified>) -> Self {
        match result {
            Ok(v) => Outcome::Verified(Box::new(v)),
            Err(Error::Failed(f)) => Outcome::Failed(f),
            Err(e) => Outcome::Error(e),
        }
    }
}

/// One input's report line.
#[derive(Debug)]
pub struct InputReport {
    /// The input as named on the command line.
    pub input: String,
    /// The bundle that was used, when one was found.
    pub bundle: Option<PathBuf>,
    /// The artifact's SHA-256, when it could be read.
    pub sha256: Option<Sha256Hash>,
    /// The verdict.
    pub outcome: Outcome,
}

/// A verifier bound to one set of trust material and one clock.
///
/// Building it parses and checks all trust material once; it then verifies
/// any number of bundles.
pub struct Verifier {
    inner: sigstore_verify::Verifier,
    tsa_authorities: Vec<sigstore_tsa::TsaAuthority>,
    clock: Arc<dyn Clock>,
    /// Where the trust material came from, for errors about it.
    trust_source: String,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for `trust`, using the system clock.
    pub fn new(trust: &TrustMaterial) -> Result<Self> {
        Self::with_clock(trust, Arc::new(SystemClock))
    }

    /// A verifier for `trust` that takes "now" from `clock`.
    pub fn with_clock(trust: &TrustMaterial, clock: Arc<dyn Clock>) -> Result<Self> {
        let inner = sigstore_verify::Verifier::new(&trust.trusted_root).map_err(|e| {
            Error::TrustMaterial {
                source_name: trust.source.to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            inner,
            tsa_authorities: trust.trusted_root.tsa_authorities(),
            clock,
            trust_source: trust.source.to_string(),
        })
    }

    /// Verify `bundle` over the artifact read from `artifact` (streamed, in
    /// constant memory) against `policy`.
    pub fn verify_reader(
        &self,
        artifact: impl Read,
        bundle: &Bundle,
        policy: &Policy,
    ) -> Result<Verified> {
        self.verify_with(bundle, policy, |inner, bundle, sigpolicy| {
            inner.verify_reader(artifact, bundle, sigpolicy)
        })
    }

    /// Verify `bundle` over an artifact known only by its SHA-256 digest.
    pub fn verify_digest(
        &self,
        digest: Sha256Hash,
        bundle: &Bundle,
        policy: &Policy,
    ) -> Result<Verified> {
        self.verify_with(bundle, policy, |inner, bundle, sigpolicy| {
            inner.verify(digest, bundle, sigpolicy)
        })
    }

    fn verify_with(
        &self,
        bundle: &Bundle,
        policy: &Policy,
        run: impl FnOnce(
            &sigstore_verify::Verifier,
            &Bundle,
            &dyn sigstore_verify::Policy,
        ) -> sigstore_verify::Result<sigstore_verify::VerificationResult>,
    ) -> Result<Verified> {
        // (1) Evidence caps and duplicates, before any cryptography.
        bundle::check_evidence(bundle).map_err(|problem| {
            let step = match problem {
                EvidenceProblem::MissingInclusionProof { .. } => Step::InclusionProof,
                EvidenceProblem::NoLogEntry
                | EvidenceProblem::TooManyLogEntries(_)
                | EvidenceProblem::DuplicateLogEntry { .. } => Step::LogEntry,
                EvidenceProblem::TooManyTimestamps(_)
                | EvidenceProblem::DuplicateTimestamp { .. } => Step::Timestamp,
            };
            Failure::new(step, problem.to_string())
        })?;
        // (5, part) A Rekor v1 checkpoint must describe the tree the proof is for.
        check_checkpoint_tree_size(bundle)?;
        // (2, part) Timestamps that do not verify are set aside, as the
        // Sigstore clients do; a verified time is still required below.
        let (bundle, set_aside) = self.without_unverifiable_timestamps(bundle);
        let bundle = bundle.as_ref();

        // (1)-(7): structure, signing times, certificate chain and SCT,
        // inclusion proof, checkpoint and SET, signature, entry consistency.
        let result = match policy {
            // Identity is checked below, after every cryptographic step, with
            // matchers (anchored regexps) sigstore-verify does not offer.
            Policy::Identity(_) => run(
                &self.inner,
                bundle,
                &sigstore_verify::VerificationPolicy::any_identity(),
            ),
            Policy::PublicKey(key) => run(
                &self.inner,
                bundle,
                &sigstore_verify::PublicKeyVerificationPolicy::new(key.clone()),
            ),
        }
        .map_err(|e| match classify(e, &self.trust_source) {
            Ok(mut failure) => {
                if let (Step::SigningTime, Some(first)) = (failure.step, set_aside.first()) {
                    failure.step = Step::Timestamp;
                    failure.reason += &format!(
                        " ({} RFC 3161 timestamp(s) did not verify; the first: {first})",
                        set_aside.len()
                    );
                }
                Error::Failed(failure)
            }
            Err(no_verdict) => no_verdict,
        })?;

        // (2, part) No verified time may lie after our clock's "now".
        let now = self.clock.now();
        let verified_times = result.verified_timestamps().to_vec();
        if let Some(future) = verified_times.iter().find(|t| **t > now) {
            return Err(Failure::new(
                Step::SigningTime,
                format!("verified signing time {future} is after the current time {now}"),
            )
            .into());
        }

        // (8) The identity policy, on verified claims only.
        if let Policy::Identity(identity) = policy {
            let cert = result
                .certificate()
                .ok_or_else(|| Failure::new(Step::Identity, "bundle has no signing certificate"))?;
            if !result.certificate_verified() || !result.tlog_verified() {
                return Err(Failure::new(
                    Step::Certificate,
                    "certificate or log inclusion was not verified",
                )
                .into());
            }
            identity
                .check(cert)
                .map_err(|reason| Failure::new(Step::Identity, reason))?;
        }

        Ok(Verified {
            identity: result.identity().map(|s| s.as_str().to_string()),
            issuer: result.issuer().map(str::to_string),
            certificate: result.certificate().cloned(),
            log_index: bundle
                .verification_material
                .tlog_entries
                .first()
                .map(|e| e.log_index.get()),
            integrated_time: result.integrated_time(),
            verified_times,
        })
    }

    /// `bundle` without the RFC 3161 timestamps that no trusted TSA
    /// authenticates (with the reasons), or `bundle` itself when all do.
    ///
    /// Works around sigstore-verify 0.15.1, which fails a bundle outright if
    /// any one timestamp does not verify. The client spec, sigstore-python and
    /// sigstore-go discard such a timestamp and require a threshold of
    /// verified times; an attacker gains nothing from an extra bad token, and
    /// a bundle with one stale TSA's token among good ones must still verify.
    /// Excess and duplicate tokens were already refused, before this runs.
    fn without_unverifiable_timestamps<'b>(
        &self,
        bundle: &'b Bundle,
    ) -> (std::borrow::Cow<'b, Bundle>, Vec<String>) {
        let timestamps = &bundle
            .verification_material
            .timestamp_verification_data
            .rfc3161_timestamps;
        let Ok(signature) = signature_bytes(bundle) else {
            return (std::borrow::Cow::Borrowed(bundle), Vec::new());
        };
        let mut reasons = Vec::new();
        let keep: Vec<bool> = timestamps
            .iter()
            .map(|ts| {
                let mut last = None;
                for authority in &self.tsa_authorities {
                    match sigstore_tsa::verify_timestamp_for_authority(
                        &ts.signed_timestamp,
                        &signature,
                        authority,
                    ) {
                        // Authentic but outside its TSA's validity window
                        // (TOB-SIGSTORE-11): a trusted TSA misbehaved, so the
                        // bundle must fail, not just lose this token.
                        Ok(_) | Err(sigstore_tsa::Error::TimestampOutsideValidity { .. }) => {
                            return true;
                        }
                        Err(e) => last = Some(e.to_string()),
                    }
                }
                reasons.push(last.unwrap_or_else(|| "the trust root has no TSA".into()));
                false
            })
            .collect();
        if reasons.is_empty() {
            return (std::borrow::Cow::Borrowed(bundle), reasons);
        }
        let mut trimmed = bundle.clone();
        let mut keep = keep.into_iter();
        trimmed
            .verification_material
            .timestamp_verification_data
            .rfc3161_timestamps
            .retain(|_| keep.next().unwrap_or(false));
        (std::borrow::Cow::Owned(trimmed), reasons)
    }

    /// Verify a file against cosign-style detached outputs: the base64
    /// signature at `signature` and the certificate at `certificate`, with
    /// the log entry looked up in the Rekor v1 log at `rekor_url` (online).
    pub fn verify_legacy(
        &self,
        input: &Input,
        signature: &Path,
        certificate: &Path,
        rekor_url: &str,
        policy: &Policy,
    ) -> InputReport {
        let mut report = InputReport {
            input: input.display_name(),
            bundle: None,
            sha256: None,
            outcome: Outcome::Error(Error::Usage(String::new())),
        };
        report.outcome = (|| -> Result<Verified> {
            let digest = match input {
                Input::Digest(d) => *d,
                Input::File(path) => crate::digest::sha256_file(path)?,
            };
            report.sha256 = Some(digest);
            let sig = legacy::read_signature(signature)?;
            let cert = legacy::read_certificate(certificate)?;
            let bundle = legacy::bundle_from_rekor(
                rekor_url,
                digest,
                &sig,
                &cert,
                std::time::Duration::from_secs(60),
            )?;
            self.verify_digest(digest, &bundle, policy)
        })()
        .into();
        report
    }

    /// Verify one command-line input against its bundle: read the bundle,
    /// stream and hash the artifact, verify, and report.
    ///
    /// `bundle_path` overrides the default `<file>.sigstore.json` /
    /// `<file>.sigstore` lookup; a digest input needs it.
    pub fn verify_input(
        &self,
        input: &Input,
        source: Option<&BundleSource>,
        policy: &Policy,
    ) -> InputReport {
        let mut report = InputReport {
            input: input.display_name(),
            bundle: None,
            sha256: None,
            outcome: Outcome::Error(Error::Usage(String::new())),
        };
        report.outcome = self.verify_input_inner(input, source, policy, &mut report);
        report
    }

    fn verify_input_inner(
        &self,
        input: &Input,
        source: Option<&BundleSource>,
        policy: &Policy,
        report: &mut InputReport,
    ) -> Outcome {
        let source = match (source, input) {
            (Some(s), _) => s.clone(),
            (None, Input::File(path)) => BundleSource::find_for(path),
            (None, Input::Digest(_)) => {
                return Outcome::Error(Error::Usage(
                    "a digest input needs --bundle (or --attestation) to name its evidence".into(),
                ));
            }
        };
        report.bundle = Some(source.path().to_path_buf());
        let (bundle, statement) = match &source {
            BundleSource::Bundle(p) => match bundle::read_bundle(p) {
                Ok(b) => (b, None),
                Err(e) => return Outcome::Error(e),
            },
            BundleSource::Attestation(p) => {
                match crate::attestation::Attestation::read(p).and_then(|a| {
                    let statement = a.statement().map_err(|reason| Error::Malformed {
                        path: p.clone(),
                        what: FileKind::Attestation,
                        reason,
                    })?;
                    Ok((a.to_bundle(p)?, Some(statement)))
                }) {
                    Ok(x) => x,
                    Err(e) => return Outcome::Error(e),
                }
            }
        };
        let verdict = match input {
            Input::Digest(digest) => {
                report.sha256 = Some(*digest);
                if let Some(e) = digest_input_unusable(&bundle) {
                    return Outcome::Error(e);
                }
                self.verify_digest(*digest, &bundle, policy)
            }
            // A SHA-256 message signature needs only the file's SHA-256:
            // hash it once here instead of twice (ours for the report, the
            // verifier's for the signature).
            Input::File(path) if sha256_suffices(&bundle, policy) => {
                match crate::digest::sha256_file(path) {
                    Ok(digest) => {
                        report.sha256 = Some(digest);
                        self.verify_digest(digest, &bundle, policy)
                    }
                    Err(e) => return Outcome::Error(e),
                }
            }
            Input::File(path) => {
                let file = match crate::digest::open_artifact(path) {
                    Ok(f) => f,
                    Err(e) => return Outcome::Error(e),
                };
                let mut reader = crate::digest::HashingReader::new(file);
                let verdict = self.verify_reader(&mut reader, &bundle, policy);
                if let Some(err) = reader.error.take() {
                    return Outcome::Error(Error::Read {
                        path: path.clone(),
                        source: err,
                    });
                }
                // None when verification stopped before reading the file:
                // the verdict is known, and re-reading (a FIFO, say) could
                // block, so the report leaves the digest out.
                report.sha256 = reader.finish();
                verdict
            }
        };
        // PEP 740: the statement names the file and its digest.
        let verdict = verdict.and_then(|v| match (&statement, report.sha256) {
            (Some(st), Some(digest)) => {
                let name = match input {
                    Input::File(path) => path.file_name().map(|n| n.to_string_lossy().into_owned()),
                    Input::Digest(_) => None,
                };
                let subject_name = st["subject"][0]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                crate::attestation::check_subject(
                    st,
                    name.as_deref().unwrap_or(&subject_name),
                    &digest.to_hex(),
                )
                .map(|()| v)
                .map_err(|reason| Failure::new(Step::Artifact, reason).into())
            }
            _ => Ok(v),
        });
        verdict.into()
    }
}

/// Where an input's evidence is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleSource {
    /// A Sigstore bundle.
    Bundle(PathBuf),
    /// A PEP 740 attestation.
    Attestation(PathBuf),
}

impl BundleSource {
    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            BundleSource::Bundle(p) | BundleSource::Attestation(p) => p,
        }
    }

    /// The default evidence of `file`: `<file>.sigstore.json`, else
    /// `<file>.sigstore`, else, for a wheel or sdist,
    /// `<file>.publish.attestation`; the first name when none exists.
    pub fn find_for(file: &Path) -> Self {
        let bundle = bundle::find_bundle_for(file);
        if !bundle.exists() && crate::attestation::is_distribution(file) {
            let att = crate::attestation::default_path(file);
            if att.exists() {
                return BundleSource::Attestation(att);
            }
        }
        BundleSource::Bundle(bundle)
    }
}

/// A SHA-256 digest cannot stand in for an artifact whose signature is over
/// another digest; that is a usage problem (pass the file), not a verdict.
fn digest_input_unusable(bundle: &Bundle) -> Option<Error> {
    match &bundle.content {
        sigstore_types::SignatureContent::MessageSignature(m) => {
            let alg = m.message_digest.as_ref()?.algorithm;
            (alg != sigstore_types::HashAlgorithm::Sha2256).then(|| {
                Error::Usage(format!(
                    "this bundle signs a {alg} digest, so a sha256: input cannot be checked; pass the file itself"
                ))
            })
        }
        _ => None,
    }
}

/// The signature bytes an RFC 3161 timestamp in this bundle must cover.
fn signature_bytes(bundle: &Bundle) -> std::result::Result<sigstore_types::SignatureBytes, ()> {
    match &bundle.content {
        sigstore_types::SignatureContent::MessageSignature(m) => Ok(m.signature.clone()),
        sigstore_types::SignatureContent::DsseEnvelope(e) => Ok(e.signature.sig.clone()),
        _ => Err(()),
    }
}

/// Whether a SHA-256 digest of the artifact is all verification needs: a
/// message signature over a SHA-256 digest by a key whose signing scheme
/// hashes with SHA-256 (so the signature verifies prehashed). DSSE bundles
/// (whose statement may name other digests) and other keys read the file.
fn sha256_suffices(bundle: &Bundle, policy: &Policy) -> bool {
    use sigstore_types::{HashAlgorithm, SignatureContent};
    let SignatureContent::MessageSignature(m) = &bundle.content else {
        return false;
    };
    if m.message_digest.as_ref().map(|d| d.algorithm) != Some(HashAlgorithm::Sha2256) {
        return false;
    }
    let key_algorithm = match policy {
        Policy::PublicKey(key) => sigstore_crypto::KeyAlgorithm::from_spki(key).ok(),
        Policy::Identity(_) => bundle
            .signing_certificate()
            .and_then(|c| sigstore_crypto::parse_certificate_info(c).ok())
            .map(|i| i.key_algorithm),
    };
    key_algorithm
        .and_then(|a| a.resolve_signing_scheme(HashAlgorithm::Sha2256).ok())
        .and_then(|scheme| scheme.hash_algorithm())
        == Some(HashAlgorithm::Sha2256)
}

/// For Rekor v1 entries the inclusion proof repeats the tree size the
/// checkpoint signs. sigstore-verify compares the root hashes but not the
/// sizes; a proof for another tree size must not borrow a checkpoint.
fn check_checkpoint_tree_size(bundle: &Bundle) -> std::result::Result<(), Failure> {
    for entry in &bundle.verification_material.tlog_entries {
        if entry.kind_version == KindVersion::HashedRekordV002 {
            continue;
        }
        let Some(proof) = &entry.inclusion_proof else {
            continue;
        };
        if let Some(checkpoint) = proof.checkpoint.checkpoint()
            && checkpoint.tree_size() != proof.tree_size
        {
            return Err(Failure::new(
                Step::Checkpoint,
                format!(
                    "checkpoint is for tree size {} but the inclusion proof is for tree size {}",
                    checkpoint.tree_size(),
                    proof.tree_size
                ),
            ));
        }
    }
    Ok(())
}

/// Name the step a sigstore-verify error belongs to. Errors that say nothing
/// about the bundle (unusable trust material, or a kind this version of
/// keyless does not know) are no verdict at all: `Err`, exit status 2.
fn classify(
    err: sigstore_verify::Error,
    trust_source: &str,
) -> std::result::Result<Failure, Error> {
    use sigstore_bundle::Error as B;
    use sigstore_verify::{
        CertificateError as C, Error as E, TimestampError as T, TransparencyLogError as L,
    };
    let step = match &err {
        E::IdentityMismatch { .. } | E::IssuerMismatch { .. } => Step::Identity,
        E::SignatureInvalid(_) => Step::Signature,
        E::ArtifactMismatch(_) | E::UnsupportedArtifact(_) => Step::Artifact,
        E::Certificate(C::Sct(_)) => Step::Sct,
        E::Certificate(_) => Step::Certificate,
        E::TransparencyLog(L::InclusionProof(_)) => Step::InclusionProof,
        E::TransparencyLog(L::Checkpoint(_)) => Step::Checkpoint,
        E::TransparencyLog(L::InclusionPromise(_)) => Step::Set,
        E::TransparencyLog(L::IntegratedTime(_)) => Step::IntegratedTime,
        E::TransparencyLog(_) => Step::LogEntry,
        E::Timestamp(T::NoVerifiedTimestamp(_)) => Step::SigningTime,
        E::Timestamp(_) => Step::Timestamp,
        // Structural problems that belong to one piece of log evidence are
        // named after it, so "checkpoint: ..." reads as what is missing.
        E::Bundle(B::MissingCheckpoint | B::CheckpointRootMismatch) => Step::Checkpoint,
        E::Bundle(B::MissingInclusionProof(_) | B::LogIndexOutOfRange { .. }) => {
            Step::InclusionProof
        }
        E::Bundle(B::MissingInclusionPromise(_)) => Step::Set,
        E::InvalidBundle(_) | E::UnsupportedBundle(_) | E::Bundle(_) | E::Types(_) => Step::Bundle,
        E::Crypto(_) => Step::Signature,
        E::InvalidTrustRoot(_) | E::TrustRoot(_) | E::TrustedCertificate(_) => {
            return Err(Error::TrustMaterial {
                source_name: trust_source.to_string(),
                reason: err.to_string(),
            });
        }
        E::ArtifactRead(_) => Step::Artifact,
        _ => return Err(Error::Verifier { source: err }),
    };
    Ok(Failure::new(step, err.to_string()))
}
