//! The signer: one instance's services, one ephemeral key and one
//! certificate per run (checked before anything is logged under it), and
//! the files signed concurrently.

use super::events::{Event, Progress, tell_retry, told};
use super::outputs::{Mode, Outputs};
use super::pipeline::FileContext;
use super::report::{FileReport, SignReport};
use super::services::{self, Overrides, Services};
use super::token::Token;
use crate::clock::Clock;
use crate::error::{Error, Result, SigningService};
use crate::net::rekor::RekorV1;
use crate::net::{RetryEvent, retry_observed};
use crate::trust::TrustMaterial;
use crate::verify::Verifier;
use crate::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
use sigstore_types::DerCertificate;
use std::path::PathBuf;
use std::sync::Arc;
// Durations are measured on the monotonic clock; `Clock` is for the
// decisions about what time it is.
use std::time::{Duration, Instant};

/// How to sign.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Bundles or attestations.
    pub mode: Mode,
    /// The files to sign and their outputs.
    pub files: Vec<(PathBuf, Outputs)>,
    /// Replace existing outputs.
    pub overwrite: bool,
    /// Concurrent log uploads (and at most as many files hashed at once).
    pub jobs: usize,
    /// Budget for each service interaction, retries included.
    pub timeout: Duration,
}

/// Signs against one Sigstore instance.
pub struct Signer {
    pub(super) services: Services,
    pub(super) verifier: Arc<Verifier>,
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
        Self::with_overrides(trust, rekor_version, &Overrides::default(), clock)
    }

    /// A signer for `trust` at the services `overrides` names, the others
    /// as its signing config selects. Verification (of the certificate and
    /// of every bundle) stays against `trust`'s root, so a service that is
    /// not of that instance fails it rather than being believed.
    pub fn with_overrides(
        trust: &TrustMaterial,
        rekor_version: Option<u32>,
        overrides: &Overrides,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let config = trust.signing_config.as_ref();
        if config.is_none() && (overrides.fulcio.is_none() || overrides.rekor.is_none()) {
            return Err(Error::Usage(format!(
                "{} has no signing config; pass --trust-config, or --signing-config with --trusted-root, or name the services with --fulcio-url and --rekor-url",
                trust.source
            )));
        }
        let services = services::choose(config, overrides, rekor_version, clock.now())?;
        let raw_verifier = sigstore_verify::Verifier::new(&trust.trusted_root).map_err(|e| {
            Error::TrustMaterial {
                source_name: trust.source.to_string(),
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            services,
            verifier: Arc::new(Verifier::with_clock(trust, clock.clone())?),
            raw_verifier,
            clock,
        })
    }

    /// The chosen services.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Sign every file in `options`. `progress` is told of each [`Event`]
    /// as it happens (retries included), from any thread.
    ///
    /// `Err` means nothing was signed (exit 2); a report with failed files
    /// means some were (exit 1).
    pub fn sign(
        &self,
        token: &Token,
        options: &SignOptions,
        progress: impl Fn(&Event<'_>) + Send + Sync + 'static,
    ) -> Result<SignReport> {
        token.preflight(self.clock.now())?;
        // A PEP 740 attestation has no place for an RFC 3161 timestamp
        // (its verification material is a certificate and log entries), and
        // a Rekor v2 entry has no integrated time: it could never be
        // verified. Statements are bundles, which keep their timestamps.
        let pep_740 = options.mode == Mode::Attestation
            || options.files.iter().any(|(_, o)| o.attestation.is_some());
        if pep_740 && self.services.rekor_version != 1 {
            return Err(Error::Usage(
                "PEP 740 attestations need Rekor v1: their format carries no RFC 3161 timestamp, and a Rekor v2 entry cannot be verified without one (use --rekor-version 1)".into(),
            ));
        }
        if let Mode::Statement(statement) = &options.mode {
            if options.files.len() != 1 {
                return Err(Error::Usage(
                    "a statement is signed once: one input names its bundle".into(),
                ));
            }
            // Its bundle is verified before it is written, over a subject's
            // SHA-256, which verifiers of keyless's bundles hold it to.
            if !statement.subjects.iter().any(|s| s.sha256().is_some()) {
                return Err(Error::Usage(
                    "the statement has no subject with a sha256 digest: keyless signs and verifies statements by SHA-256".into(),
                ));
            }
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
        // An input that is also an output of the run would be replaced
        // after it was hashed: the bundle written for it could not match it.
        let outputs_now: std::collections::HashSet<PathBuf> = outputs_seen
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .collect();
        for (file, _) in &options.files {
            if std::fs::canonicalize(file).is_ok_and(|f| outputs_now.contains(&f)) {
                return Err(Error::Usage(format!(
                    "{} is both a file to sign and an output of this run; leave it out",
                    file.display()
                )));
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
        // A run killed mid-write left its temporary files next to these
        // outputs, hidden and never cleaned by anyone else: removed now,
        // only keyless's own for these outputs, and only old ones (a run
        // writing the same outputs right now keeps its own).
        crate::files::remove_stale_temps(
            outputs_seen.iter().map(PathBuf::as_path),
            std::time::SystemTime::now(),
            crate::files::STALE_TEMP_AGE,
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime {
                what: "cannot start the async runtime",
                source: Box::new(e),
            })?;
        let signed = runtime.block_on(self.sign_async(token, options, Arc::new(progress)));
        // Every file's work has ended; a file still being hashed for a run
        // cut short is not waited for.
        runtime.shutdown_background();
        signed
    }

    async fn sign_async(
        &self,
        token: &Token,
        options: &SignOptions,
        progress: Progress,
    ) -> Result<SignReport> {
        // Hashing starts first, so that it overlaps setting up the client and
        // the certificate's round trips (for a large file, they cost nothing
        // then).
        // As many at once as there are cores, and no more than `--jobs`.
        let parallel = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(options.jobs.max(1));
        let (mut hashed, _hashing) = super::prehash::start(
            options.files.iter().map(|(f, _)| f.clone()).collect(),
            parallel,
        );
        // A hung request is cut within a minute and retried while the
        // budget lasts.
        let http = crate::net::http_client(
            options
                .timeout
                .min(Duration::from_secs(60))
                .max(Duration::from_secs(20)),
        )?;
        // Fulcio is sent the token, so what a service says might quote it:
        // it is redacted (before the message is cut) wherever it is told.
        let secret = Some(token.identity_token().expose_secret());
        let told = |text: &str| told(text, secret);
        let failed = |service: SigningService, (reason, status): (String, Option<u16>)| {
            // The retry loop starts its messages with the service's name,
            // which the error already shows.
            let prefix = format!("{service}: ");
            let reason = reason.strip_prefix(&prefix).unwrap_or(&reason);
            Error::SigningService {
                service,
                status,
                reason: told(reason),
            }
        };
        let on_retry = |r: &RetryEvent| tell_retry(&progress, r, secret);

        // One ephemeral key and one certificate for the whole run; the
        // private key never leaves this process's memory.
        let key = sigstore_crypto::KeyPair::generate_ecdsa_p256().map_err(|e| Error::Runtime {
            what: "cannot generate a key",
            source: Box::new(e),
        })?;
        let fulcio = crate::net::fulcio::Fulcio::new(&self.services.fulcio, http.clone());
        let started = Instant::now();
        let what = SigningService::Fulcio.to_string();
        let cert = retry_observed(&what, options.timeout, &on_retry, || {
            fulcio.signing_certificate(token.identity_token(), &key)
        })
        .await
        .map_err(|e| failed(SigningService::Fulcio, e))?;
        let leaf = cert.leaf_certificate().clone();
        let info = sigstore_crypto::parse_certificate_info(&leaf).map_err(|e| {
            failed(
                SigningService::Fulcio,
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
        progress(&Event::Certificate {
            identity: &identity,
            issuer: &issuer,
            elapsed: started.elapsed(),
        });

        let tsa = self
            .services
            .tsa
            .as_ref()
            .map(|url| crate::net::tsa::Tsa::new(url, http.clone()));
        // Check the certificate (chain to a trusted Fulcio CA, SCT from a
        // trusted CT log) before anything is logged under it.
        if let Some(tsa) = &tsa {
            let started = Instant::now();
            self.precheck_certificate(&key, &leaf, tsa, options.timeout, &on_retry)
                .await
                .map_err(|e| match e {
                    Precheck::Tsa((reason, status)) => {
                        let prefix = format!("{}: ", SigningService::Tsa);
                        let reason = reason.strip_prefix(&prefix).unwrap_or(&reason);
                        failed(
                            SigningService::Tsa,
                            (
                                format!("timestamping the certificate check: {reason}"),
                                status,
                            ),
                        )
                    }
                    Precheck::Timestamp(reason) => Error::Untrusted {
                        service: "TSA".into(),
                        reason: format!(
                            "the timestamp it issued does not verify against the trust root: {reason}"
                        ),
                    },
                    Precheck::Certificate(reason) => Error::Untrusted {
                        service: "Fulcio".into(),
                        reason: format!(
                            "the certificate it issued does not verify against the trust root: {reason}"
                        ),
                    },
                })?;
            progress(&Event::CertificateChecked {
                elapsed: started.elapsed(),
            });
        }

        let rekor_v1 = if self.services.rekor_version == 1 {
            let progress = progress.clone();
            Some(
                RekorV1::new(&self.services.rekor, http.clone(), options.timeout)
                    // Rekor is not sent the token: only cut.
                    .with_retry_observer(Arc::new(move |r: &RetryEvent| {
                        tell_retry(&progress, r, None)
                    })),
            )
        } else {
            None
        };
        let policy = Arc::new(Policy::Identity(IdentityPolicy::new(
            ValueMatcher::Exact(identity.clone()),
            ValueMatcher::Exact(issuer.clone()),
        )));
        let ctx = FileContext {
            signer: self,
            not_after: info.not_after,
            key: &key,
            leaf: &leaf,
            tsa: tsa.as_ref(),
            http: &http,
            rekor_v1: rekor_v1.as_ref(),
            policy,
            options,
            progress: &progress,
        };
        // Without a TSA the certificate could not be checked up front: sign
        // the first file alone, and if its bundle does not verify, log
        // nothing else under this certificate.
        let mut rest = options.files.as_slice();
        let mut files = Vec::with_capacity(rest.len());
        if tsa.is_none()
            && let Some(((file, outputs), tail)) = rest.split_first()
        {
            let first = ctx.sign_one(file, outputs, hashed.remove(0), None).await;
            let bad_certificate = first.rejected_by_verifier;
            files.push(first);
            rest = tail;
            if bad_certificate {
                for (file, _) in rest {
                    let skipped = FileReport {
                        error: Some(
                            "not signed: the first bundle under this certificate did not verify"
                                .into(),
                        ),
                        ..FileReport::new(file)
                    };
                    progress(&Event::FileDone(&skipped));
                    files.push(skipped);
                }
                rest = &[];
            }
        }
        let semaphore = tokio::sync::Semaphore::new(options.jobs.max(1));
        // `hashed` holds one digest to come for each file of `rest`.
        let tasks = rest.iter().zip(hashed).map(|((file, outputs), hashed)| {
            let ctx = &ctx;
            let semaphore = &semaphore;
            async move {
                // Never closed, so a permit is always granted.
                let permit = semaphore.acquire().await.ok();
                ctx.sign_one(file, outputs, hashed, permit).await
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
        tsa: &crate::net::tsa::Tsa,
        timeout: Duration,
        on_retry: &(dyn Fn(&RetryEvent) + Send + Sync),
    ) -> std::result::Result<(), Precheck> {
        let probe = sigstore_crypto::sha256(b"keyless certificate check");
        let sig = key
            .sign_digest(&probe)
            .map_err(|e| Precheck::Certificate(e.to_string()))?;
        let what = SigningService::Tsa.to_string();
        let ts = retry_observed(&what, timeout, on_retry, || tsa.timestamp_signature(&sig))
            .await
            .map_err(Precheck::Tsa)?;
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
            .map_err(|e| match e {
                // The probe's only timestamp is the TSA's: a TSA the trust
                // root does not name (--timestamp-server-url) fails here,
                // and that is not the certificate's fault.
                sigstore_verify::Error::Timestamp(_) => Precheck::Timestamp(e.to_string()),
                _ => Precheck::Certificate(e.to_string()),
            })
    }
}

/// Why the certificate check before signing failed.
enum Precheck {
    /// The TSA could not timestamp the probe (message, HTTP status).
    Tsa((String, Option<u16>)),
    /// The TSA's timestamp does not verify against the trust root.
    Timestamp(String),
    /// The certificate does not verify.
    Certificate(String),
}
