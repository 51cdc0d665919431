//! One file's provenance, verified.

use super::client::Fetched;
use super::publisher::Publisher;
use super::{FileOutcome, FileReport};
use crate::error::Error;
use crate::failure::{Failure, Step};
use crate::verify::Verifier;
use crate::verify::policy::{IdentityPolicy, Policy, RegexMatcher, ValueMatcher};

/// Verify a fetched file's provenance. Every attestation of every bundle
/// must verify (a Sigstore bundle whose statement is a publish statement
/// naming this file and its SHA-256), and for each the publisher read from
/// the verified certificate must be the one the index claims for its
/// bundle and one `fetched.expected` accepts. No provenance is a failure
/// unless `allow_missing`.
pub fn verify(verifier: &Verifier, mut fetched: Fetched, allow_missing: bool) -> FileReport {
    let provenance = std::mem::replace(&mut fetched.provenance, Ok(None));
    let outcome = match provenance {
        Err(Error::Failed(f)) => FileOutcome::Failed(f),
        Err(e) => FileOutcome::Error(e),
        Ok(None) if allow_missing => FileOutcome::Unattested,
        Ok(None) => FileOutcome::Failed(Failure::new(
            Step::Provenance,
            format!("the index serves no provenance for {}", fetched.filename),
        )),
        Ok(Some(provenance)) => {
            check(verifier, &fetched, &provenance).unwrap_or_else(|e| match e {
                Error::Failed(f) => FileOutcome::Failed(f),
                e => FileOutcome::Error(e),
            })
        }
    };
    FileReport {
        project: fetched.project,
        version: fetched.version,
        file: fetched.filename,
        sha256: Some(fetched.sha256),
        outcome,
    }
}

fn check(
    verifier: &Verifier,
    fetched: &Fetched,
    provenance: &super::integrity::Provenance,
) -> crate::Result<FileOutcome> {
    // Identity is not given to the verifier: the publisher is read from
    // the certificate it verified, below, by the kind's table.
    let anyone = Policy::Identity(IdentityPolicy::new(
        ValueMatcher::Regex(RegexMatcher::built(".*")?),
        ValueMatcher::Regex(RegexMatcher::built(".*")?),
    ));
    let instances = fetched.expected.instances();
    let hex = fetched.sha256.to_hex();
    let name = std::path::PathBuf::from(format!("{} (provenance)", fetched.filename));
    let mut publishers = Vec::new();
    let (mut count, mut first) = (0, None);
    for bundle in &provenance.attestation_bundles {
        // The index's claim, read first only to be compared with the
        // certificate: an index cannot name a publisher into a file.
        let claim = Publisher::from_value(&bundle.publisher).map_err(|e| {
            Failure::new(Step::Publisher, format!("the index's publisher claim: {e}"))
        })?;
        if bundle.attestations.is_empty() {
            return Err(Failure::new(
                Step::Provenance,
                format!(
                    "the index claims {claim} published {} with no attestation",
                    fetched.filename
                ),
            )
            .into());
        }
        for attestation in &bundle.attestations {
            let sigstore = attestation.to_bundle(&name)?;
            let verified = verifier.verify_digest(fetched.sha256, &sigstore, &anyone)?;
            // PEP 740: a publish statement for this file and digest
            // (another file's provenance, served for this one, fails).
            let statement = attestation.statement().map_err(|reason| Error::Malformed {
                path: name.clone(),
                what: crate::error::FileKind::Attestation,
                reason,
            })?;
            crate::attestation::check_subject(&statement, &fetched.filename, &hex)
                .map_err(|reason| Failure::new(Step::Artifact, reason))?;
            let cert = verified.certificate.as_ref().ok_or_else(|| {
                Failure::new(Step::Identity, "the attestation has no signing certificate")
            })?;
            let signer = Publisher::from_certificate(cert, &instances)
                .map_err(|reason| Failure::new(Step::Publisher, reason))?;
            // The index's claim must be what the certificate says.
            claim.accepts(&signer).map_err(|why| {
                Failure::new(
                    Step::Publisher,
                    format!(
                        "the index says {claim} published it, the certificate says {signer}: {why}"
                    ),
                )
            })?;
            fetched
                .expected
                .check(&signer)
                .map_err(|reason| Failure::new(Step::Identity, reason))?;
            if !publishers.contains(&signer) {
                publishers.push(signer);
            }
            count += 1;
            first.get_or_insert(verified);
        }
    }
    match first {
        Some(first) => Ok(FileOutcome::Verified {
            publishers,
            attestations: count,
            first: Box::new(first),
        }),
        None => Err(Failure::new(
            Step::Provenance,
            format!(
                "the index's provenance for {} holds no attestation",
                fetched.filename
            ),
        )
        .into()),
    }
}
