//! Keyless signing: one ephemeral key and one Fulcio certificate per run,
//! every file hashed as a stream, signed, timestamped, logged in Rekor, and
//! verified by keyless's own verifier before its bundle is written.
//!
//! The protocol clients are sigstore-rust's (`sigstore-fulcio`,
//! `sigstore-rekor`, `sigstore-tsa`); `sigstore-sign`'s `Signer` is not used
//! because it requests a new key and certificate for every file and checks
//! neither the SCT nor the bundle it returns.

pub mod services;
pub mod token;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::net::rekor::RekorV1;
use crate::net::{HttpClient, retry};
use crate::trust::TrustMaterial;
use crate::verify::Verifier;
use crate::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
use services::Services;
use sigstore_types::{DerCertificate, Sha256Hash, SignatureBytes, TransparencyLogEntry};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use token::Token;

/// Expand command-line paths: a directory gives its `*.whl` and `*.tar.gz`
/// files (sorted, not recursive); a file is taken whatever its name.
pub fn select_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let rd = std::fs::read_dir(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default();
                    p.is_file() && (name.ends_with(".whl") || name.ends_with(".tar.gz"))
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    // The same file named twice (dist/ and dist/x.whl, or ./x and x) is
    // signed once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    if out.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to sign: no *.whl or *.tar.gz files in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(out)
}

/// Where one input's outputs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    /// The bundle.
    pub bundle: PathBuf,
    /// The base64 signature (cosign `.sig`), if requested.
    pub signature: Option<PathBuf>,
    /// The PEM certificate (cosign `.crt`), if requested.
    pub certificate: Option<PathBuf>,
}

impl Outputs {
    fn paths(&self) -> impl Iterator<Item = &PathBuf> {
        std::iter::once(&self.bundle)
            .chain(self.signature.as_ref())
            .chain(self.certificate.as_ref())
    }
}

/// What each file gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A Sigstore bundle over the file (message signature, hashedrekord).
    #[default]
    Bundle,
    /// A PEP 740 publish attestation (DSSE over an in-toto statement naming
    /// the file, logged as a dsse entry).
    Attestation,
}

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

/// Default outputs for `file`: `<file>.sigstore.json`, plus `<file>.sig` and
/// `<file>.crt` with `legacy`.
pub fn default_outputs(file: &Path, legacy: bool) -> Outputs {
    let with = |suffix: &str| {
        let mut s = file.as_os_str().to_os_string();
        s.push(suffix);
        PathBuf::from(s)
    };
    Outputs {
        bundle: with(".sigstore.json"),
        signature: legacy.then(|| with(".sig")),
        certificate: legacy.then(|| with(".crt")),
    }
}

/// What happened to one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The input.
    pub path: PathBuf,
    /// Its SHA-256, once read.
    pub sha256: Option<Sha256Hash>,
    /// The outputs written (none when it failed).
    pub outputs: Option<Outputs>,
    /// Rekor log index.
    pub log_index: Option<u64>,
    /// Rekor log ID (hex).
    pub log_id: Option<String>,
    /// Rekor v1 integrated time.
    pub integrated_time: Option<jiff::Timestamp>,
    /// Verified signing times (TSA and SET).
    pub timestamps: Vec<jiff::Timestamp>,
    /// Why it failed.
    pub error: Option<String>,
    /// Whether keyless's verifier rejected the new bundle (as opposed to a
    /// service or I/O failure).
    pub rejected_by_verifier: bool,
}

impl FileReport {
    fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            sha256: None,
            outputs: None,
            log_index: None,
            log_id: None,
            integrated_time: None,
            timestamps: Vec::new(),
            error: None,
            rejected_by_verifier: false,
        }
    }
}

/// The result of a signing run that got as far as signing.
#[derive(Debug, Clone)]
pub struct SignReport {
    /// The certificate's identity (SAN).
    pub identity: String,
    /// The certificate's OIDC issuer.
    pub issuer: String,
    /// The services used.
    pub services: Services,
    /// Per file, in input order.
    pub files: Vec<FileReport>,
}

impl SignReport {
    /// Whether every file was signed.
    pub fn all_ok(&self) -> bool {
        self.files.iter().all(|f| f.error.is_none())
    }
}

/// Signs against one Sigstore instance.
pub struct Signer {
    services: Services,
    verifier: Verifier,
    raw_verifier: sigstore_verify::Verifier,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

/// What a Rekor v2 409 is reported as.
const ALREADY_LOGGED_V2: &str = "Rekor v2 answered 409: this signature is already logged";

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

struct FileContext<'a> {
    signer: &'a Signer,
    /// The certificate's notAfter: files started later would be logged
    /// under an expired certificate and then refused by the verifier.
    not_after: jiff::Timestamp,
    key: &'a sigstore_crypto::KeyPair,
    leaf: &'a DerCertificate,
    tsa: Option<&'a sigstore_tsa::TimestampClient>,
    http: &'a HttpClient,
    /// The Rekor v1 log, when the run logs there.
    rekor_v1: Option<&'a RekorV1>,
    policy: &'a Policy,
    options: &'a SignOptions,
    progress: &'a (dyn Fn(&str) + Sync),
}

impl FileContext<'_> {
    async fn sign_one(&self, file: &Path, outputs: &Outputs) -> FileReport {
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

    /// An RFC 3161 timestamp over `signature`, when a TSA is configured.
    async fn timestamp(
        &self,
        signature: &SignatureBytes,
    ) -> std::result::Result<Option<sigstore_types::TimestampToken>, String> {
        match self.tsa {
            Some(tsa) => retry("TSA", self.options.timeout, || {
                tsa.timestamp_signature(signature)
            })
            .await
            .map(Some)
            .map_err(|e| e.0),
            None => Ok(None),
        }
    }

    /// Log a DSSE envelope in Rekor v1 (a `dsse` 0.0.1 entry).
    async fn log_dsse(
        &self,
        envelope: &sigstore_types::DsseEnvelope,
    ) -> std::result::Result<TransparencyLogEntry, String> {
        let rekor = self.rekor_v1()?;
        let request =
            sigstore_rekor::DsseEntry::new(envelope, self.leaf).map_err(|e| e.to_string())?;
        rekor
            .create_dsse(&request)
            .await?
            .to_bundle_entry(sigstore_types::KindVersion::DsseV001)
            .map_err(|e| format!("Rekor answered with an unusable entry: {e}"))
    }

    fn rekor_v1(&self) -> std::result::Result<&RekorV1, String> {
        self.rekor_v1
            .ok_or_else(|| "this run logs to Rekor v2, which takes no such entry".to_string())
    }

    /// Log the signature in Rekor; a 409 from Rekor v1 (already logged, e.g.
    /// a retried upload) fetches the existing entry instead.
    async fn log(
        &self,
        digest: &Sha256Hash,
        signature: &SignatureBytes,
    ) -> std::result::Result<TransparencyLogEntry, String> {
        let services = &self.signer.services;
        let timeout = self.options.timeout;
        if services.rekor_version == 2 {
            let client = sigstore_rekor::RekorV2Client::builder(&services.rekor)
                .with_http_client(self.http.clone())
                .build()
                .map_err(|e| e.to_string())?;
            let request = sigstore_rekor::HashedRekordV2::new_with_certificate(
                digest,
                signature,
                self.leaf,
                sigstore_rekor::RekorV2KeyDetails::PkixEcdsaP256Sha256,
            );
            return retry("Rekor", timeout, || client.create_entry(request.clone()))
                .await
                .map_err(|e| match e.1 {
                    Some(409) => ALREADY_LOGGED_V2.to_string(),
                    _ => e.0,
                });
        }
        let request = sigstore_rekor::HashedRekord::new(digest, signature, self.leaf);
        let entry = self
            .rekor_v1()?
            .create_hashedrekord(&request, digest, signature, self.leaf)
            .await?;
        entry
            .to_bundle_entry(sigstore_types::KindVersion::HashedRekordV001)
            .map_err(|e| format!("Rekor answered with an unusable entry: {e}"))
    }
}
