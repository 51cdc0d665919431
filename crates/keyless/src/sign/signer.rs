//! The signer: one instance's services, one ephemeral key and one
//! certificate per run (checked before anything is logged under it), and
//! the files signed concurrently.

use super::outputs::{Mode, Outputs};
use super::pipeline::FileContext;
use super::report::{FileReport, SignReport};
use super::services::{self, Services};
use super::token::{self, Token};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::net::rekor::RekorV1;
use crate::net::retry;
use crate::trust::TrustMaterial;
use crate::verify::Verifier;
use crate::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
use sigstore_types::DerCertificate;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How to sign.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Bundles or attestations.
    pub mode: Mode,
    /// The files to sign and their outputs.
    pub files: Vec<(PathBuf, Outputs)>,
    /// Replace existing outputs.
    pub overwrite: bool,
    /// Concurrent log uploads.
    pub jobs: usize,
    /// Budget for each service interaction, retries included.
    pub timeout: Duration,
}

/// Signs against one Sigstore instance.
pub struct Signer {
    pub(super) services: Services,
    pub(super) verifier: Verifier,
    raw_verifier: sigstore_verify::Verifier,
    pub(super) clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for `trust` (which must carry a signing config) at the
    /// services the config selects.
    pub fn new(
        trust: &TrustMaterial,
        rekor_version: Option<u32>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let config = trust.signing_config.as_ref().ok_or_else(|| {
            Error::Usage(format!(
                "{} has no signing config; pass --trust-config, or --signing-config with --trusted-root",
                trust.source
            ))
        })?;
        let services = services::select(config, rekor_version, clock.now())?;
        let raw_verifier = sigstore_verify::Verifier::new(&trust.trusted_root).map_err(|e| {
            Error::TrustMaterial {
                source_name: trust.source.to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            services,
            verifier: Verifier::with_clock(trust, clock.clone())?,
            raw_verifier,
            clock,
        })
    }

    /// The chosen services.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Sign every file in `options`. `progress` gets one line per event.
    ///
    /// `Err` means nothing was signed (exit 2); a report with failed files
    /// means some were (exit 1).
    pub fn sign(
        &self,
        token: &Token,
        options: &SignOptions,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<SignReport> {
        token.preflight(self.clock.now())?;
        if options.mode == Mode::Attestation && self.services.rekor_version != 1 {
            return Err(Error::Usage(
                "attestations are logged as dsse entries, which need Rekor v1: sigstore-rust 0.15.1 cannot verify Rekor v2's dsse 0.0.2 (use --rekor-version 1)".into(),
            ));
        }
        // Outputs and inputs are checked before any network call.
        let mut outputs_seen = std::collections::HashSet::new();
        for (_, outputs) in &options.files {
            for p in outputs.paths() {
                if !outputs_seen.insert(p.clone()) {
                    return Err(Error::Usage(format!(
                        "{} would be written for two inputs",
                        p.display()
                    )));
                }
            }
        }
        for (file, outputs) in &options.files {
            std::fs::File::open(file).map_err(|source| Error::Read {
                path: file.clone(),
                source,
            })?;
            if !options.overwrite
                && let Some(existing) = outputs.paths().find(|p| p.exists())
            {
                return Err(Error::Usage(format!(
                    "{} already exists; pass --overwrite to replace it",
                    existing.display()
                )));
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime {
                what: "cannot start the async runtime",
                source: Box::new(e),
            })?;
        runtime.block_on(self.sign_async(token, options, progress))
    }

    async fn sign_async(
        &self,
        token: &Token,
        options: &SignOptions,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<SignReport> {
        // A hung request is cut within a minute and retried while the
        // budget lasts.
        let http = crate::net::http_client(
            options
                .timeout
                .min(Duration::from_secs(60))
                .max(Duration::from_secs(20)),
        )?;
        let network = |what: &str, e: (String, Option<u16>)| Error::Network {
            service: what.to_string(),
            reason: token::redact(&e.0, token.identity_token().expose_secret()),
        };

        // One ephemeral key and one certificate for the whole run; the
        // private key never leaves this process's memory.
        let key = sigstore_crypto::KeyPair::generate_ecdsa_p256().map_err(|e| Error::Runtime {
            what: "cannot generate a key",
            source: Box::new(e),
        })?;
        let fulcio = sigstore_fulcio::FulcioClient::builder(&self.services.fulcio)
            .with_http_client(http.clone())
            .build()
            .map_err(|e| network("Fulcio", (e.to_string(), None)))?;
        let cert = retry("Fulcio", options.timeout, || {
            fulcio.create_signing_certificate(token.identity_token(), &key)
        })
        .await
        .map_err(|e| network("Fulcio", e))?;
        let leaf = cert.leaf_certificate().clone();
        let info = sigstore_crypto::parse_certificate_info(&leaf).map_err(|e| {
            network(
                "Fulcio",
                (
                    format!("returned a certificate that does not parse: {e}"),
                    None,
                ),
            )
        })?;
        let identity = info
            .identity
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        let issuer = info.issuer.clone().unwrap_or_default();
        progress(&format!(
            "certificate for {identity} ({issuer}) from {}",
            self.services.fulcio
        ));

        let tsa = match &self.services.tsa {
            Some(url) => Some(
                sigstore_tsa::TimestampClient::builder(url)
                    .with_http_client(http.clone())
                    .build()
                    .map_err(|e| network("TSA", (e.to_string(), None)))?,
            ),
            None => None,
        };
        // Check the certificate (chain to a trusted Fulcio CA, SCT from a
        // trusted CT log) before anything is logged under it.
        if let Some(tsa) = &tsa {
            self.precheck_certificate(&key, &leaf, tsa, options.timeout)
                .await
                .map_err(|e| match e {
                    Precheck::Tsa(reason) => Error::Network {
                        service: "TSA".into(),
                        reason: format!("timestamping the certificate check: {reason}"),
                    },
                    Precheck::Certificate(reason) => Error::Untrusted {
                        service: "Fulcio".into(),
                        reason: format!(
                            "the certificate it issued does not verify against the trust root: {reason}"
                        ),
                    },
                })?;
        }

        let rekor_v1 = if self.services.rekor_version == 1 {
            Some(
                RekorV1::new(&self.services.rekor, http.clone(), options.timeout)
                    .map_err(|e| network("Rekor", (e, None)))?,
            )
        } else {
            None
        };
        let policy = Policy::Identity(IdentityPolicy::new(
            ValueMatcher::Exact(identity.clone()),
            ValueMatcher::Exact(issuer.clone()),
        ));
        let ctx = FileContext {
            signer: self,
            not_after: info.not_after,
            key: &key,
            leaf: &leaf,
            tsa: tsa.as_ref(),
            http: &http,
            rekor_v1: rekor_v1.as_ref(),
            policy: &policy,
            options,
            progress,
        };
        // Without a TSA the certificate could not be checked up front: sign
        // the first file alone, and if its bundle does not verify, log
        // nothing else under this certificate.
        let mut rest = options.files.as_slice();
        let mut files = Vec::with_capacity(rest.len());
        if tsa.is_none()
            && let Some(((file, outputs), tail)) = rest.split_first()
        {
            let first = ctx.sign_one(file, outputs).await;
            let bad_certificate = first.rejected_by_verifier;
            files.push(first);
            rest = tail;
            if bad_certificate {
                files.extend(rest.iter().map(|(file, _)| FileReport {
                    error: Some(
                        "not signed: the first bundle under this certificate did not verify".into(),
                    ),
                    ..FileReport::new(file)
                }));
                rest = &[];
            }
        }
        let semaphore = tokio::sync::Semaphore::new(options.jobs.max(1));
        let tasks = rest.iter().map(|(file, outputs)| {
            let ctx = &ctx;
            let semaphore = &semaphore;
            async move {
                let _permit = semaphore.acquire().await;
                ctx.sign_one(file, outputs).await
            }
        });
        files.extend(futures_util::future::join_all(tasks).await);
        Ok(SignReport {
            identity,
            issuer,
            services: self.services.clone(),
            files,
        })
    }

    /// Verify the certificate through a provisional bundle: a signature over
    /// a probe message, timestamped by the TSA, without a log entry. This
    /// runs sigstore-verify's chain, SCT and signature checks before the
    /// certificate is used for anything that is logged.
    async fn precheck_certificate(
        &self,
        key: &sigstore_crypto::KeyPair,
        leaf: &DerCertificate,
        tsa: &sigstore_tsa::TimestampClient,
        timeout: Duration,
    ) -> std::result::Result<(), Precheck> {
        let probe = sigstore_crypto::sha256(b"keyless certificate check");
        let sig = key
            .sign_digest(&probe)
            .map_err(|e| Precheck::Certificate(e.to_string()))?;
        let ts = retry("TSA", timeout, || tsa.timestamp_signature(&sig))
            .await
            .map_err(|e| Precheck::Tsa(e.0))?;
        let bundle =
            sigstore_bundle::BundleV03::with_certificate_and_signature(leaf.clone(), sig, probe)
                .with_rfc3161_timestamp(ts)
                .into_bundle();
        self.raw_verifier
            .verify(
                probe,
                &bundle,
                &sigstore_verify::VerificationPolicy::any_identity().skip_tlog_unsafe(),
            )
            .map(|_| ())
            .map_err(|e| Precheck::Certificate(e.to_string()))
    }
}

/// Why the certificate check before signing failed.
enum Precheck {
    /// The TSA could not timestamp the probe.
    Tsa(String),
    /// The certificate does not verify.
    Certificate(String),
}
