//! One file's way through a run: hash it, sign it, timestamp and log the
//! signature, verify the bundle with keyless's own verifier, and write its
//! outputs together or not at all.

use super::outputs::{Mode, Outputs};
use super::report::FileReport;
use super::signer::{SignOptions, Signer};
use super::upload::ALREADY_LOGGED_V2;
use crate::net::HttpClient;
use crate::net::rekor::RekorV1;
use crate::verify::policy::Policy;
use sigstore_types::DerCertificate;
use std::path::Path;

/// What every file of a run shares: the signer, the key and certificate,
/// the service clients, the policy its bundles must meet, and the options.
pub(super) struct FileContext<'a> {
    pub(super) signer: &'a Signer,
    /// The certificate's notAfter: files started later would be logged
    /// under an expired certificate and then refused by the verifier.
    pub(super) not_after: jiff::Timestamp,
    pub(super) key: &'a sigstore_crypto::KeyPair,
    pub(super) leaf: &'a DerCertificate,
    pub(super) tsa: Option<&'a sigstore_tsa::TimestampClient>,
    pub(super) http: &'a HttpClient,
    /// The Rekor v1 log, when the run logs there.
    pub(super) rekor_v1: Option<&'a RekorV1>,
    pub(super) policy: &'a Policy,
    pub(super) options: &'a SignOptions,
    pub(super) progress: &'a (dyn Fn(&str) + Sync),
}

impl FileContext<'_> {
    pub(super) async fn sign_one(&self, file: &Path, outputs: &Outputs) -> FileReport {
        let mut report = FileReport::new(file);
        match self.sign_one_inner(file, outputs, &mut report).await {
            Ok(()) => {
                (self.progress)(&format!(
                    "signed {} -> {} (Rekor #{})",
                    file.display(),
                    outputs.bundle.display(),
                    report.log_index.unwrap_or_default()
                ));
                report.outputs = Some(outputs.clone());
            }
            Err(e) => {
                (self.progress)(&format!("FAILED {}: {e}", file.display()));
                report.error = Some(e);
            }
        }
        report
    }

    async fn sign_one_inner(
        &self,
        file: &Path,
        outputs: &Outputs,
        report: &mut FileReport,
    ) -> std::result::Result<(), String> {
        if self.signer.clock.now() + jiff::SignedDuration::from_secs(30) >= self.not_after {
            return Err(format!(
                "not signed: the run's certificate expires at {}; sign the remaining files again",
                self.not_after
            ));
        }
        let path = file.to_path_buf();
        let digest = tokio::task::spawn_blocking(move || crate::digest::sha256_file(&path))
            .await
            .map_err(|e| format!("hashing task failed: {e}"))?
            .map_err(|e| e.to_string())?;
        report.sha256 = Some(digest);
        let (bundle, signature) = match self.options.mode {
            Mode::Bundle => {
                // Rekor v2 has no way to fetch an entry that a lost answer
                // already logged; a fresh (randomized) ECDSA signature makes
                // a new entry instead, once.
                let mut attempt = 0;
                let (signature, timestamp, entry) = loop {
                    attempt += 1;
                    let signature = self
                        .key
                        .sign_digest(&digest)
                        .map_err(|e| format!("signing: {e}"))?;
                    let timestamp = self.timestamp(&signature).await?;
                    match self.log(&digest, &signature).await {
                        Ok(entry) => break (signature, timestamp, entry),
                        Err(e) if e == ALREADY_LOGGED_V2 && attempt < 2 => continue,
                        Err(e) => return Err(e),
                    }
                };
                let mut bundle = sigstore_bundle::BundleV03::with_certificate_and_signature(
                    self.leaf.clone(),
                    signature.clone(),
                    digest,
                )
                .with_tlog_entry(entry);
                if let Some(ts) = timestamp {
                    bundle = bundle.with_rfc3161_timestamp(ts);
                }
                (bundle.into_bundle(), signature)
            }
            Mode::Attestation => {
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .ok_or("the input has no file name")?;
                let statement = crate::attestation::publish_statement(&name, &digest.to_hex());
                let payload = serde_json::to_vec(&statement).map_err(|e| e.to_string())?;
                let pae = sigstore_types::pae(crate::attestation::IN_TOTO_PAYLOAD_TYPE, &payload);
                let signature = self.key.sign(&pae).map_err(|e| format!("signing: {e}"))?;
                let envelope = sigstore_types::DsseEnvelope::new(
                    crate::attestation::IN_TOTO_PAYLOAD_TYPE,
                    sigstore_types::PayloadBytes::from_bytes(&payload),
                    sigstore_types::DsseSignature::new(
                        signature.clone(),
                        sigstore_types::KeyId::default(),
                    ),
                );
                let timestamp = self.timestamp(&signature).await?;
                let entry = self.log_dsse(&envelope).await?;
                let mut bundle = sigstore_bundle::BundleV03::with_certificate_and_dsse(
                    self.leaf.clone(),
                    envelope,
                )
                .with_tlog_entry(entry);
                if let Some(ts) = timestamp {
                    bundle = bundle.with_rfc3161_timestamp(ts);
                }
                (bundle.into_bundle(), signature)
            }
        };

        // A bundle that keyless itself would not accept is never written.
        let verified = self
            .signer
            .verifier
            .verify_digest(digest, &bundle, self.policy)
            .map_err(|f| {
                report.rejected_by_verifier = true;
                format!("the new bundle does not verify ({f}); nothing written")
            })?;
        report.log_index = verified.log_index;
        report.integrated_time = verified.integrated_time;
        report.timestamps = verified.verified_times.clone();
        report.log_id = bundle
            .verification_material
            .tlog_entries
            .first()
            .map(|e| crate::digest::hex(e.log_id.key_id.as_bytes()));

        let json = match self.options.mode {
            Mode::Bundle => bundle
                .to_json_pretty()
                .map_err(|e| format!("encoding the bundle: {e}"))?,
            Mode::Attestation => {
                let att = crate::attestation::Attestation::from_bundle(&bundle)?;
                serde_json::to_string_pretty(&att)
                    .map_err(|e| format!("encoding the attestation: {e}"))?
            }
        };
        use base64::Engine;
        let sig_b64 = base64::engine::general_purpose::STANDARD.encode(signature.as_bytes());
        let crt_pem = self.leaf.to_pem();
        let mut writes: Vec<(&Path, &[u8])> = vec![(&outputs.bundle, json.as_bytes())];
        if let Some(p) = &outputs.signature {
            writes.push((p, sig_b64.as_bytes()));
        }
        if let Some(p) = &outputs.certificate {
            writes.push((p, crt_pem.as_bytes()));
        }
        // All of a file's outputs land together or not at all.
        crate::files::write_all_atomic(&writes).map_err(|e| {
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
}
