//! One file's way through a run: hash it, sign it, timestamp and log the
//! signature, verify the bundle with keyless's own verifier, and write its
//! outputs together or not at all.

use super::events::{Event, Progress};
use super::outputs::{Mode, Outputs};
use super::prehash::Hashed;
use super::report::FileReport;
use super::signer::{SignOptions, Signer};
use super::upload::ALREADY_LOGGED_V2;
use crate::net::HttpClient;
use crate::net::rekor::RekorV1;
use crate::verify::policy::Policy;
use sigstore_types::{Bundle, DerCertificate, Sha256Hash, SignatureBytes};
use std::path::Path;
use std::sync::Arc;
// Phases are timed on the monotonic clock; `Clock` is for the decisions
// about what time it is.
use std::time::Instant;

/// What every file of a run shares: the signer, the key and certificate,
/// the service clients, the policy its bundles must meet, and the options.
pub(super) struct FileContext<'a> {
    pub(super) signer: &'a Signer,
    /// The certificate's notAfter: files started later would be logged
    /// under an expired certificate and then refused by the verifier.
    pub(super) not_after: jiff::Timestamp,
    pub(super) key: &'a sigstore_crypto::KeyPair,
    pub(super) leaf: &'a DerCertificate,
    pub(super) tsa: Option<&'a crate::net::tsa::Tsa>,
    pub(super) http: &'a HttpClient,
    /// The Rekor v1 log, when the run logs there.
    pub(super) rekor_v1: Option<&'a RekorV1>,
    /// Shared with the verifying threads, which borrow nothing of a run.
    pub(super) policy: Arc<Policy>,
    pub(super) options: &'a SignOptions,
    pub(super) progress: &'a Progress,
}

impl FileContext<'_> {
    /// Sign `file`, holding `permit` (a place among the run's `--jobs`
    /// concurrent uploads, if it has such a limit) until its uploads are
    /// done: it is given back before the bundle is verified and the outputs
    /// written, so the next file's uploads don't wait for this one's CPU
    /// and disk.
    pub(super) async fn sign_one(
        &self,
        file: &Path,
        outputs: &Outputs,
        hashed: tokio::sync::oneshot::Receiver<Hashed>,
        permit: Option<tokio::sync::SemaphorePermit<'_>>,
    ) -> FileReport {
        let mut report = FileReport::new(file);
        match self
            .sign_one_inner(file, outputs, hashed, permit, &mut report)
            .await
        {
            Ok(()) => report.outputs = Some(outputs.clone()),
            Err(e) => report.error = Some(super::events::told(&e, None)),
        }
        (self.progress)(&Event::FileDone(&report));
        report
    }

    async fn sign_one_inner(
        &self,
        file: &Path,
        outputs: &Outputs,
        hashed: tokio::sync::oneshot::Receiver<Hashed>,
        mut permit: Option<tokio::sync::SemaphorePermit<'_>>,
        report: &mut FileReport,
    ) -> std::result::Result<(), String> {
        // Hashed since the run began (see `prehash`); the sender goes only
        // with the runtime.
        let (digest, took) = hashed
            .await
            .map_err(|_| "hashing stopped before this file".to_string())?;
        report.timings.hash = took;
        let digest = digest?;
        report.sha256 = Some(digest);
        // Checked once the digest is here (waiting for it may take long),
        // just before the signature.
        if self.signer.clock.now() + jiff::SignedDuration::from_secs(30) >= self.not_after {
            return Err(format!(
                "not signed: the run's certificate expires at {}; sign the remaining files again",
                self.not_after
            ));
        }

        // Every document is made and verified before anything is written.
        let mut documents: Vec<(&Path, String)> = Vec::new();
        match &self.options.mode {
            Mode::Bundle => {
                let (bundle, signature) = self.message_bundle(&digest, report).await?;
                if outputs.attestation.is_none() {
                    // The uploads are done.
                    drop(permit.take());
                }
                let json = self.verified_bundle(digest, bundle, report).await?;
                documents.push((&outputs.bundle, json));
                if let Some(p) = &outputs.signature {
                    use base64::Engine;
                    let sig =
                        base64::engine::general_purpose::STANDARD.encode(signature.as_bytes());
                    documents.push((p, sig));
                }
                if let Some(p) = &outputs.certificate {
                    documents.push((p, self.leaf.to_pem()));
                }
                if let Some(p) = &outputs.attestation {
                    let bundle = self.attestation_bundle(file, &digest, report).await?;
                    drop(permit.take());
                    let (bundle, log_index) = self.verify(digest, bundle, report).await?;
                    report.attestation_log_index = log_index;
                    documents.push((p, encode_attestation(&bundle)?));
                }
            }
            Mode::Statement(statement) => {
                let bundle = self.dsse_bundle(&statement.bytes, report).await?;
                drop(permit.take());
                // The bundle is verified over a subject's digest: the
                // statement was checked against the files before the run.
                let subject = statement
                    .subjects
                    .iter()
                    .find_map(|s| s.sha256())
                    .and_then(|hex| Sha256Hash::from_hex(&hex).ok())
                    .ok_or("the statement has no subject with a sha256 digest to verify its bundle over")?;
                let json = self.verified_bundle(subject, bundle, report).await?;
                documents.push((&outputs.bundle, json));
            }
            Mode::Attestation => {
                let bundle = self.attestation_bundle(file, &digest, report).await?;
                drop(permit.take());
                let (bundle, log_index) = self.verify(digest, bundle, report).await?;
                report.log_index = log_index;
                report.log_id = bundle
                    .verification_material
                    .tlog_entries
                    .first()
                    .map(|e| crate::digest::hex(e.log_id.key_id.as_bytes()));
                documents.push((&outputs.bundle, encode_attestation(&bundle)?));
            }
        }

        // All of a file's outputs land together or not at all. The write
        // (with its fsyncs) blocks, so it runs off the task that drives
        // every file's requests: an inline one would hold up the others.
        let started = Instant::now();
        let overwrite = self.options.overwrite;
        let documents: Vec<(std::path::PathBuf, String)> = documents
            .into_iter()
            .map(|(p, text)| (p.to_path_buf(), text))
            .collect();
        let written = tokio::task::spawn_blocking(move || write_outputs(&documents, overwrite))
            .await
            .map_err(|e| format!("writing task failed: {e}"))
            .and_then(|written| written);
        report.timings.write = started.elapsed();
        written
    }

    /// A message-signature bundle over `digest`: signed, timestamped and
    /// logged as a hashedrekord.
    async fn message_bundle(
        &self,
        digest: &Sha256Hash,
        report: &mut FileReport,
    ) -> std::result::Result<(Bundle, SignatureBytes), String> {
        // Rekor v2 has no way to fetch an entry that a lost answer already
        // logged; a fresh (randomized) ECDSA signature makes a new entry
        // instead, once.
        let mut attempt = 0;
        let (signature, timestamp, entry) = loop {
            attempt += 1;
            let signature = self
                .key
                .sign_digest(digest)
                .map_err(|e| format!("signing: {e}"))?;
            // The timestamp and the log entry are both over the signature,
            // neither over the other: asked for at once, one round trip.
            let (timestamp, logged) = futures_util::future::join(
                timed(self.timestamp(&signature)),
                timed(self.log(digest, &signature)),
            )
            .await;
            report.timings.timestamp += timestamp.1;
            report.timings.log += logged.1;
            let timestamp = timestamp.0?;
            match logged.0 {
                Ok(entry) => break (signature, timestamp, entry),
                Err(e) if e == ALREADY_LOGGED_V2 && attempt < 2 => continue,
                Err(e) => return Err(e),
            }
        };
        let mut bundle = sigstore_bundle::BundleV03::with_certificate_and_signature(
            self.leaf.clone(),
            signature.clone(),
            *digest,
        )
        .with_tlog_entry(entry);
        if let Some(ts) = timestamp {
            bundle = bundle.with_rfc3161_timestamp(ts);
        }
        Ok((bundle.into_bundle(), signature))
    }

    /// A PEP 740 publish attestation bundle for `file`: a DSSE envelope over
    /// the in-toto statement naming it.
    async fn attestation_bundle(
        &self,
        file: &Path,
        digest: &Sha256Hash,
        report: &mut FileReport,
    ) -> std::result::Result<Bundle, String> {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or("the input has no file name")?;
        let statement = crate::attestation::publish_statement(&name, &digest.to_hex());
        let payload = serde_json::to_vec(&statement).map_err(|e| e.to_string())?;
        self.dsse_bundle(&payload, report).await
    }

    /// A DSSE bundle over the in-toto statement `payload` (its bytes as
    /// they are), timestamped and logged: a dsse entry in Rekor v1, a
    /// hashedrekord over the PAE in Rekor v2 (which has no dsse kind that
    /// sigstore-rust 0.15.1 verifies; sigstore-python and sigstore-go log
    /// DSSE there the same way).
    async fn dsse_bundle(
        &self,
        payload: &[u8],
        report: &mut FileReport,
    ) -> std::result::Result<Bundle, String> {
        let pae = sigstore_types::pae(crate::attestation::IN_TOTO_PAYLOAD_TYPE, payload);
        let pae_digest = sigstore_crypto::sha256(&pae);
        let mut attempt = 0;
        let (envelope, timestamp, entry) = loop {
            attempt += 1;
            let signature = self.key.sign(&pae).map_err(|e| format!("signing: {e}"))?;
            let envelope = sigstore_types::DsseEnvelope::new(
                crate::attestation::IN_TOTO_PAYLOAD_TYPE,
                sigstore_types::PayloadBytes::from_bytes(payload),
                sigstore_types::DsseSignature::new(
                    signature.clone(),
                    sigstore_types::KeyId::default(),
                ),
            );
            let logging = async {
                if self.rekor_v1.is_some() {
                    self.log_dsse(&envelope).await
                } else {
                    self.log(&pae_digest, &signature).await
                }
            };
            let (timestamp, entry) =
                futures_util::future::join(timed(self.timestamp(&signature)), timed(logging)).await;
            report.timings.timestamp += timestamp.1;
            report.timings.log += entry.1;
            let timestamp = timestamp.0?;
            match entry.0 {
                Ok(entry) => break (envelope, timestamp, entry),
                // A lost answer from Rekor v2: a fresh signature, once.
                Err(e) if e == ALREADY_LOGGED_V2 && attempt < 2 => continue,
                Err(e) => return Err(e),
            }
        };
        let mut bundle =
            sigstore_bundle::BundleV03::with_certificate_and_dsse(self.leaf.clone(), envelope)
                .with_tlog_entry(entry);
        if let Some(ts) = timestamp {
            bundle = bundle.with_rfc3161_timestamp(ts);
        }
        Ok(bundle.into_bundle())
    }

    /// [`Self::verify`] the bundle over `digest`, record its log index and
    /// log in `report`, and encode it for its output.
    async fn verified_bundle(
        &self,
        digest: Sha256Hash,
        bundle: Bundle,
        report: &mut FileReport,
    ) -> std::result::Result<String, String> {
        let (bundle, log_index) = self.verify(digest, bundle, report).await?;
        report.log_index = log_index;
        report.log_id = bundle
            .verification_material
            .tlog_entries
            .first()
            .map(|e| crate::digest::hex(e.log_id.key_id.as_bytes()));
        bundle
            .to_json_pretty()
            .map_err(|e| format!("encoding the bundle: {e}"))
    }

    /// Verify a new bundle with keyless's own verifier (a bundle keyless
    /// would not accept is never written); the bundle back and its log
    /// index. The checks are the bulk of a file's CPU work: they run off
    /// the task that drives every file's requests, so that files' checks
    /// run on all cores and the next files' uploads don't wait for them.
    async fn verify(
        &self,
        digest: Sha256Hash,
        bundle: Bundle,
        report: &mut FileReport,
    ) -> std::result::Result<(Bundle, Option<u64>), String> {
        let started = Instant::now();
        let verifier = Arc::clone(&self.signer.verifier);
        let policy = Arc::clone(&self.policy);
        let (bundle, verified) = tokio::task::spawn_blocking(move || {
            let verified = verifier.verify_digest(digest, &bundle, &policy);
            (bundle, verified)
        })
        .await
        .map_err(|e| format!("verifying task failed: {e}"))?;
        report.timings.verify += started.elapsed();
        let verified = verified.map_err(|f| {
            report.rejected_by_verifier = true;
            format!("the new bundle does not verify ({f}); nothing written")
        })?;
        report.integrated_time = report.integrated_time.or(verified.integrated_time);
        if report.timestamps.is_empty() {
            report.timestamps = verified.verified_times.clone();
        }
        Ok((bundle, verified.log_index))
    }
}

/// Write a file's `documents` together or not at all: replacing existing
/// outputs with `overwrite`, else created exclusively: a run that wrote
/// them meanwhile (another `keyless sign` on the same files) keeps them,
/// and the file is reported as already signed.
fn write_outputs(
    documents: &[(std::path::PathBuf, String)],
    overwrite: bool,
) -> std::result::Result<(), String> {
    let writes: Vec<(&Path, &[u8])> = documents
        .iter()
        .map(|(p, text)| (p.as_path(), text.as_bytes()))
        .collect();
    let written = if overwrite {
        crate::files::write_all_atomic(&writes)
    } else {
        crate::files::create_all_atomic(&writes)
    };
    written.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            let existing = writes
                .iter()
                .find(|(p, _)| p.symlink_metadata().is_ok())
                .map_or_else(|| "an output".to_string(), |(p, _)| p.display().to_string());
            return format!(
                "already signed: {existing} already exists (written meanwhile by another run); left untouched, nothing written"
            );
        }
        format!(
            "cannot write {}: {e}",
            writes
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// `work`'s result and how long it took.
async fn timed<T>(work: impl std::future::Future<Output = T>) -> (T, std::time::Duration) {
    let started = Instant::now();
    let out = work.await;
    (out, started.elapsed())
}

/// A bundle in PyPI's attestation JSON.
fn encode_attestation(bundle: &Bundle) -> std::result::Result<String, String> {
    let att = crate::attestation::Attestation::from_bundle(bundle)?;
    serde_json::to_string_pretty(&att).map_err(|e| format!("encoding the attestation: {e}"))
}
