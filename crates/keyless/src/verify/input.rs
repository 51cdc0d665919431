//! What to verify and what was found: command-line inputs (a file or a
//! digest), where their evidence is, and the report for each.

use super::checksums::ListedFile;
use super::policy::Policy;
use super::{Diagnosis, Failure, StatementPolicy, Step, Verified, Verifier, legacy};
use crate::bundle;
use crate::error::{Error, FileKind, Result};
use sigstore_types::{Bundle, Sha256Hash};
use std::path::{Path, PathBuf};

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
    /// For a failure, what keyless can say about it beyond its step
    /// ([`Verifier::diagnose`]).
    pub diagnosis: Option<Diagnosis>,
    /// For a checksum list's line, what became of the file it names.
    pub listed: Option<ListedCheck>,
}

impl InputReport {
    /// The suggestion for a person: the diagnosis's, or the error's.
    pub fn hint(&self) -> Option<String> {
        match (&self.outcome, &self.diagnosis) {
            (Outcome::Failed(_), Some(d)) => Some(d.hint()),
            (Outcome::Error(e), _) => e.hint().map(str::to_string),
            _ => None,
        }
    }
}

impl Verifier {
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
        let (mut sha256, mut diagnosis) = (None, None);
        let outcome = (|| -> Result<Verified> {
            let digest = match input {
                Input::Digest(d) => *d,
                Input::File(path) => crate::digest::sha256_file(path)?,
            };
            sha256 = Some(digest);
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
                .inspect_err(|e| diagnosis = self.diagnosis_of(e, &bundle, policy))
        })()
        .into();
        InputReport {
            input: input.display_name(),
            bundle: None,
            sha256,
            outcome,
            diagnosis,
            listed: None,
        }
    }

    /// Verify one command-line input against its bundle: read the bundle,
    /// stream and hash the artifact, verify, and report.
    ///
    /// `source` overrides the default `<file>.sigstore.json` /
    /// `<file>.sigstore` lookup; a digest input needs it.
    pub fn verify_input(
        &self,
        input: &Input,
        source: Option<&BundleSource>,
        policy: &Policy,
    ) -> InputReport {
        self.verify_input_with(input, source, policy, &StatementPolicy::default())
    }

    /// [`Self::verify_input`], a DSSE bundle's statement held to
    /// `statement` too (`--type`, `--provenance`).
    pub fn verify_input_with(
        &self,
        input: &Input,
        source: Option<&BundleSource>,
        policy: &Policy,
        statement: &StatementPolicy,
    ) -> InputReport {
        self.verify_input_named(input, None, source, policy, statement)
    }

    /// Verify one line of a checksum list: unless [`ReadListed::DigestOnly`],
    /// the file the line names is hashed (a FIFO, device or folder is
    /// refused unread) and must have the line's digest, as `sha256sum -c`
    /// requires; a missing file is an error, as it is to `sha256sum -c`,
    /// unless [`ReadListed::IgnoreMissing`]. Then the line's digest is
    /// verified against the evidence beside the name (read only if it is a
    /// regular file). A PEP 740 attestation's statement must name the listed
    /// file.
    pub fn verify_listed(
        &self,
        listed: &ListedFile,
        read: ReadListed,
        policy: &Policy,
    ) -> InputReport {
        self.verify_listed_with(listed, read, policy, &StatementPolicy::default())
    }

    /// [`Self::verify_listed`], a DSSE bundle's statement held to
    /// `statement` too.
    pub fn verify_listed_with(
        &self,
        listed: &ListedFile,
        read: ReadListed,
        policy: &Policy,
        statement: &StatementPolicy,
    ) -> InputReport {
        let mut found = Found::default();
        let outcome = self.verify_listed_inner(listed, read, policy, statement, &mut found);
        InputReport {
            input: listed.arg.clone(),
            bundle: found.bundle,
            sha256: found.sha256,
            outcome,
            diagnosis: found.diagnosis,
            listed: found.listed,
        }
    }

    fn verify_listed_inner(
        &self,
        listed: &ListedFile,
        read: ReadListed,
        policy: &Policy,
        statement_policy: &StatementPolicy,
        found: &mut Found,
    ) -> Outcome {
        // The list's claim about the file first: a list that names one file
        // while another holds the signed bytes must not pass.
        let check = match read {
            ReadListed::DigestOnly => ListedCheck::NotRead,
            ReadListed::Hash | ReadListed::IgnoreMissing => {
                match crate::files::open_regular(&listed.path) {
                    Ok(file) => match crate::digest::sha256_open(file, &listed.path) {
                        Ok(digest) if digest == listed.digest => ListedCheck::Hashed,
                        Ok(_) => {
                            // The file's own digest is not reported: a list
                            // naming /etc/passwd must not learn it.
                            found.listed = Some(ListedCheck::Hashed);
                            return Outcome::Failed(Failure::new(
                                Step::Artifact,
                                format!(
                                    "the file's SHA-256 is not the {} the list gives it",
                                    listed.digest.to_hex()
                                ),
                            ));
                        }
                        Err(e) => return Outcome::Error(e),
                    },
                    Err(Error::Read { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        // A name with nothing behind it. A symlink to
                        // nothing is not "absent": it may resolve for the
                        // installer (`/proc/self/cwd/...`) as it did not here.
                        let dangling_link = std::fs::symlink_metadata(&listed.path).is_ok();
                        if read == ReadListed::Hash || dangling_link {
                            return Outcome::Error(Error::ListedFileMissing {
                                path: listed.path.clone(),
                                dangling_link,
                            });
                        }
                        ListedCheck::Absent
                    }
                    Err(e) => return Outcome::Error(e),
                }
            }
        };
        found.listed = Some(check);
        let name = listed
            .path
            .file_name()
            .map_or_else(|| listed.arg.clone(), |f| f.to_string_lossy().into_owned());
        self.verify_input_inner(
            &Input::Digest(listed.digest),
            Some(&name),
            Some(&listed.evidence),
            Opening::Listed,
            (policy, statement_policy),
            found,
        )
    }

    fn verify_input_named(
        &self,
        input: &Input,
        listed_name: Option<&str>,
        source: Option<&BundleSource>,
        policy: &Policy,
        statement_policy: &StatementPolicy,
    ) -> InputReport {
        let mut found = Found::default();
        let outcome = self.verify_input_inner(
            input,
            listed_name,
            source,
            Opening::Named,
            (policy, statement_policy),
            &mut found,
        );
        InputReport {
            input: input.display_name(),
            bundle: found.bundle,
            sha256: found.sha256,
            outcome,
            diagnosis: found.diagnosis,
            listed: None,
        }
    }

    fn diagnosis_of(&self, err: &Error, bundle: &Bundle, policy: &Policy) -> Option<Diagnosis> {
        match err {
            Error::Failed(failure) => self.diagnose(bundle, policy, failure),
            _ => None,
        }
    }

    fn verify_input_inner(
        &self,
        input: &Input,
        listed_name: Option<&str>,
        source: Option<&BundleSource>,
        opening: Opening,
        (policy, statement_policy): (&Policy, &StatementPolicy),
        found: &mut Found,
    ) -> Outcome {
        // The file first: a mistyped name is a missing file, not a missing
        // bundle.
        if let Input::File(path) = input
            && let Err(source) = std::fs::metadata(path)
            && source.kind() == std::io::ErrorKind::NotFound
        {
            return Outcome::Error(Error::MissingArtifact {
                path: path.clone(),
                source,
            });
        }
        let source = match (source, input) {
            (Some(s), _) => s.clone(),
            // Asked about a statement: the statement's bundle beside the
            // file, when there is one, rather than the file's own.
            (None, Input::File(path))
                if statement_policy.asks_for_a_statement()
                    && crate::statement::default_bundle_path(path).is_file() =>
            {
                BundleSource::Bundle(crate::statement::default_bundle_path(path))
            }
            (None, Input::File(path)) => BundleSource::find_for(path),
            (None, Input::Digest(_)) => {
                return Outcome::Error(Error::Usage(
                    "a digest input needs --bundle (or --attestation) to name its evidence".into(),
                ));
            }
        };
        found.bundle = Some(source.path().to_path_buf());
        // PEP 740 binds a file name, which a bare digest does not give:
        // nothing to compare the statement's subject with, so no verdict.
        if let (BundleSource::Attestation(_), Input::Digest(_), None) =
            (&source, input, listed_name)
        {
            return Outcome::Error(Error::Usage(
                "a PEP 740 attestation names its file, and a sha256: input names none: pass the file itself (or a checksum list naming it with --from)".into(),
            ));
        }
        let (bundle, statement) = match &source {
            BundleSource::Bundle(p) => match opening.read_bundle(p) {
                Ok(b) => (b, None),
                Err(e) => return Outcome::Error(e),
            },
            BundleSource::Attestation(p) => {
                match opening.read_attestation(p).and_then(|a| {
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
        // A DSSE envelope's statement, within bounds before any
        // cryptography.
        let intoto = match super::statements::statement_of(&bundle) {
            Ok(s) => s,
            Err(failure) => return Outcome::Failed(failure),
        };
        let verdict = match input {
            Input::Digest(digest) => {
                found.sha256 = Some(*digest);
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
                        found.sha256 = Some(digest);
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
                found.sha256 = reader.finish();
                verdict
            }
        };
        // PEP 740: the statement names the file and its digest. Fail
        // closed: without both there is nothing to hold the statement to.
        let verdict = verdict.and_then(|v| {
            let Some(st) = &statement else { return Ok(v) };
            let name = match input {
                Input::File(path) => path.file_name().map(|n| n.to_string_lossy().into_owned()),
                // A listed name counts by its file name, as a path does.
                Input::Digest(_) => listed_name.map(|n| {
                    Path::new(n)
                        .file_name()
                        .map_or_else(|| n.to_string(), |f| f.to_string_lossy().into_owned())
                }),
            };
            let (Some(name), Some(digest)) = (name, found.sha256) else {
                return Err(Failure::new(
                    Step::Artifact,
                    "the attestation names a file and its digest, and this input's name or digest is unknown",
                )
                .into());
            };
            crate::attestation::check_subject(st, &name, &digest.to_hex())
                .map(|()| v)
                .map_err(|reason| Failure::new(Step::Artifact, reason).into())
        });
        let verdict = verdict
            .and_then(|v| super::statements::check(v, intoto, found.sha256, statement_policy));
        if let Err(e) = &verdict {
            found.diagnosis = self.diagnosis_of(e, &bundle, policy);
        }
        verdict.into()
    }
}

/// What verifying an input found out besides its verdict, for its report:
/// the evidence read, the artifact's digest, a failure's diagnosis.
#[derive(Default)]
struct Found {
    bundle: Option<PathBuf>,
    sha256: Option<Sha256Hash>,
    diagnosis: Option<Diagnosis>,
    listed: Option<ListedCheck>,
}

/// How evidence is opened: as named on the command line (anything that
/// reads, process substitution included), or as a checksum list leads to
/// it (a regular file only, never blocking).
#[derive(Debug, Clone, Copy)]
enum Opening {
    Named,
    Listed,
}

impl Opening {
    fn read_bundle(self, path: &Path) -> Result<Bundle> {
        match self {
            Opening::Named => bundle::read_bundle(path),
            Opening::Listed => bundle::read_listed_bundle(path),
        }
    }

    fn read_attestation(self, path: &Path) -> Result<crate::attestation::Attestation> {
        match self {
            Opening::Named => crate::attestation::Attestation::read(path),
            Opening::Listed => crate::attestation::Attestation::read_listed(path),
        }
    }
}

/// Whether a checksum list's files are read (`keyless verify --from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadListed {
    /// Hash each listed file and compare it with the list; a missing file
    /// is an error, as it is to `sha256sum -c`.
    Hash,
    /// [`Self::Hash`], but a name with no file at all (not even a symlink)
    /// is verified by its digest alone (`--ignore-missing`).
    IgnoreMissing,
    /// Verify each line by its digest alone (`--digest-only`).
    DigestOnly,
}

/// What became of the file a checksum list's line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListedCheck {
    /// Hashed: it has the digest the list gives it.
    Hashed,
    /// There is no such file (`--ignore-missing`): the line was verified by
    /// its digest alone.
    Absent,
    /// Not read, as asked (`--digest-only`).
    NotRead,
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
