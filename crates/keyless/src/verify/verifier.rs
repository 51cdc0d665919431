//! The verifier: trust material parsed once, and the verification routine
//! that runs the steps of the Sigstore client specification in order.

use super::diagnosis::{self, Diagnosis, KnownKeys};
use super::policy::Policy;
use super::steps::{
    check_checkpoint_tree_size, check_log_key_windows, check_rekor_v2_proof, classify,
    signature_bytes,
};
use super::{Failure, Step};
use crate::bundle::{self, EvidenceProblem};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::trust::{TrustMaterial, TrustSource};
use sigstore_types::{Bundle, Sha256Hash};
use std::io::Read;
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
    /// The in-toto statement of a DSSE bundle, once it was held to the
    /// artifact (set by [`Verifier::verify_input_with`]).
    pub statement: Option<Arc<crate::statement::Statement>>,
    /// The GitLab runner's provenance claims, once they agreed with the
    /// certificate's (`verify gitlab --provenance`).
    pub provenance: Option<crate::statement::provenance::RunnerClaims>,
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
    /// Which trust material it is, and how to name it in a hint (its
    /// file, or the embedded root), for [`Verifier::diagnose`].
    source: TrustSource,
    trust_name: String,
    /// The trusted root, from which [`Verifier::diagnose`] takes the keys
    /// as bundles name them, the first time a bundle fails (a run that
    /// verifies everything never parses them).
    root: sigstore_trust_root::TrustedRoot,
    known: std::sync::OnceLock<KnownKeys>,
    /// Its transparency logs' keys by log ID, for the Rekor v2 checks.
    rekor_keys: sigstore_crypto::Keyring,
}

/// What a bundle is verified over.
enum Artifact<R> {
    /// Only the artifact's SHA-256.
    Digest(Sha256Hash),
    /// The artifact's bytes, streamed (read once).
    Reader(R),
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
        let rekor_keys = trust
            .trusted_root
            .rekor_keys()
            .map_err(|e| Error::TrustMaterial {
                source_name: trust.source.to_string(),
                reason: e.to_string(),
            })?;
        let trust_name = match &trust.path {
            Some(path) => path.display().to_string(),
            None => format!("the {}", trust.source),
        };
        Ok(Self {
            inner,
            tsa_authorities: trust.trusted_root.tsa_authorities(),
            clock,
            trust_source: trust.source.to_string(),
            source: trust.source.clone(),
            trust_name,
            root: trust.trusted_root.clone(),
            known: std::sync::OnceLock::new(),
            rekor_keys,
        })
    }

    /// What can be said about `failure`, a verification failure of `bundle`
    /// under `policy` by this verifier, beyond its step: keys the trust
    /// material lacks (the bundle is from another instance), or an
    /// identity regexp that would match unanchored. Chooses the hint.
    pub fn diagnose(
        &self,
        bundle: &Bundle,
        policy: &Policy,
        failure: &Failure,
    ) -> Option<Diagnosis> {
        diagnosis::diagnose(
            self.known.get_or_init(|| KnownKeys::of(&self.root)),
            (&self.source, &self.trust_name),
            bundle,
            policy,
            failure,
        )
    }

    /// Verify `bundle` over the artifact read from `artifact` (streamed, in
    /// constant memory) against `policy`.
    pub fn verify_reader(
        &self,
        artifact: impl Read,
        bundle: &Bundle,
        policy: &Policy,
    ) -> Result<Verified> {
        self.verify_with(bundle, policy, Artifact::Reader(artifact))
    }

    /// Verify `bundle` over an artifact known only by its SHA-256 digest.
    pub fn verify_digest(
        &self,
        digest: Sha256Hash,
        bundle: &Bundle,
        policy: &Policy,
    ) -> Result<Verified> {
        self.verify_with(bundle, policy, Artifact::<std::io::Empty>::Digest(digest))
    }

    fn verify_with<R: Read>(
        &self,
        bundle: &Bundle,
        policy: &Policy,
        artifact: Artifact<R>,
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

        // (1)-(7): structure, signing times, certificate chain and SCT,
        // inclusion proof, checkpoint and SET, signature, entry consistency.
        // (2, part) Timestamps that do not verify are set aside, as the
        // Sigstore clients do; a verified time is still required below.
        let (bundle, set_aside, result) = match artifact {
            // A digest can be checked twice: first the bundle as it is,
            // which is all a bundle whose timestamps all verify needs
            // (sigstore-verify fails a bundle with any timestamp that does
            // not, so success means none was to be set aside); only after a
            // failure are its timestamps checked one by one, and it is
            // checked again without those that do not verify. Each token is
            // thus verified once, not twice, on the way to an OK.
            Artifact::Digest(digest) => {
                let run = |inner: &sigstore_verify::Verifier,
                           b: &Bundle,
                           p: &dyn sigstore_verify::Policy| {
                    inner.verify(digest, b, p)
                };
                // sigstore-tsa passes a token whose embedded certificates
                // are not its TSA's, which keyless sets aside: such a bundle
                // takes the one-by-one path at once.
                let whole = self
                    .embeds_only_trusted_certificates(bundle)
                    .then(|| self.run_sigstore(bundle, policy, run));
                match whole {
                    Some(Ok(result)) => {
                        (std::borrow::Cow::Borrowed(bundle), Vec::new(), Ok(result))
                    }
                    Some(Err(first)) => {
                        let (trimmed, set_aside) = self.without_unverifiable_timestamps(bundle);
                        let result = if set_aside.is_empty() {
                            Err(first)
                        } else {
                            self.run_sigstore(trimmed.as_ref(), policy, run)
                        };
                        (trimmed, set_aside, result)
                    }
                    None => {
                        let (trimmed, set_aside) = self.without_unverifiable_timestamps(bundle);
                        let result = self.run_sigstore(trimmed.as_ref(), policy, run);
                        (trimmed, set_aside, result)
                    }
                }
            }
            // A stream is read once: its timestamps are checked first.
            Artifact::Reader(reader) => {
                let (trimmed, set_aside) = self.without_unverifiable_timestamps(bundle);
                let result = self.run_sigstore(trimmed.as_ref(), policy, |inner, b, p| {
                    inner.verify_reader(reader, b, p)
                });
                (trimmed, set_aside, result)
            }
        };
        let bundle = bundle.as_ref();
        let result = result.map_err(|e| match classify(e, &self.trust_source) {
            Ok(mut failure) => {
                if let (Step::SigningTime, Some(first)) = (failure.step, set_aside.first()) {
                    failure.step = Step::Timestamp;
                    failure.reason += &format!(
                        " ({} RFC 3161 timestamp(s) did not verify; the first: {first})",
                        set_aside.len()
                    );
                }
                failure.reason = diagnosis::log_ids_in_hex(failure.reason, bundle);
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

        // (4, 5, part) Rekor v2: the proof's index, root and tree size and
        // the entry's log ID agree with the signed checkpoint and the
        // trusted logs. After sigstore-verify and the signing-time check,
        // so that a bundle failing an earlier step is reported at that step.
        check_rekor_v2_proof(bundle, &self.rekor_keys)?;
        // (5, part) No log key retired before the signing time vouches.
        if let Some(signing_time) = result
            .integrated_time()
            .into_iter()
            .chain(verified_times.iter().copied())
            .min()
        {
            check_log_key_windows(bundle, &self.root, signing_time)?;
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
            statement: None,
            provenance: None,
        })
    }

    /// sigstore-verify's checks of `bundle` by `run`, under the policy
    /// that leaves identity to keyless (or under the managed key).
    fn run_sigstore(
        &self,
        bundle: &Bundle,
        policy: &Policy,
        run: impl FnOnce(
            &sigstore_verify::Verifier,
            &Bundle,
            &dyn sigstore_verify::Policy,
        ) -> sigstore_verify::Result<sigstore_verify::VerificationResult>,
    ) -> sigstore_verify::Result<sigstore_verify::VerificationResult> {
        match policy {
            // Identity is checked after every cryptographic step, with
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
    }

    /// Whether no RFC 3161 timestamp of `bundle` embeds a certificate
    /// foreign to any trusted TSA (the one thing about a token that
    /// sigstore-verify's own verdict does not cover). With one trusted TSA
    /// that is "only its certificates, or none"; with several, a token that
    /// embeds certificates takes the slower path, which checks them against
    /// the TSA that signed it.
    fn embeds_only_trusted_certificates(&self, bundle: &Bundle) -> bool {
        bundle
            .verification_material
            .timestamp_verification_data
            .rfc3161_timestamps
            .iter()
            .all(|ts| {
                !super::timestamp::foreign_to_some_authority(
                    ts.signed_timestamp.as_bytes(),
                    &self.tsa_authorities,
                )
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
                // The reason of the authority that signed it, if one did,
                // else the last authority's.
                let (mut last, mut foreign) = (None, None);
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
                            // sigstore-tsa ignores the certificates a token
                            // embeds; the peers refuse a token whose
                            // embedded certificate is not the TSA's.
                            match super::timestamp::foreign_embedded_certificate(
                                ts.signed_timestamp.as_bytes(),
                                authority,
                            ) {
                                None => return true,
                                Some(reason) => foreign = Some(reason),
                            }
                        }
                        Err(e) => last = Some(e.to_string()),
                    }
                }
                reasons.push(
                    foreign
                        .or(last)
                        .unwrap_or_else(|| "the trust root has no TSA".into()),
                );
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
}
