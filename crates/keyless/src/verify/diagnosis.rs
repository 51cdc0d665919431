//! Why a verification failed, when the evidence says more than the failed
//! step: a bundle from a Sigstore instance whose keys the trust material
//! does not hold, or an identity regexp that keyless anchors. The
//! classification is typed, made from the bundle, the trust root and the
//! policy, never from the text of a failure; it chooses the hint a person
//! sees under the failure.

use super::policy::{AnchoredMiss, Claim, Policy};
use super::{Failure, Step};
use crate::digest::hex;
use crate::trust::TrustSource;
use der::{Decode, Encode};
use sigstore_trust_root::{SigstoreInstance, TrustedRoot};
use sigstore_types::Bundle;
use std::collections::HashSet;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};

/// What keyless can say about a failed verification beyond its step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Diagnosis {
    /// The trust material does not hold keys the bundle relies on: it was
    /// made with another Sigstore instance.
    UnknownKeys(TrustGap),
    /// An identity or issuer regexp did not match the whole value, but
    /// matches part of it.
    AnchoredRegexp(AnchoredMiss),
}

/// Keys a bundle relies on that the trust material does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustGap {
    /// Log IDs (hex) of the bundle's log entries that no trusted
    /// transparency log has.
    pub unknown_logs: Vec<String>,
    /// No trusted Fulcio CA issued the signing certificate.
    pub unknown_ca: bool,
    /// An RFC 3161 timestamp is signed by no trusted TSA.
    pub unknown_tsa: bool,
    /// The public-good instance ([`TrustSource::Production`] or
    /// [`TrustSource::Staging`], by their embedded trusted roots) whose
    /// transparency log has one of the bundle's log IDs.
    pub instance: Option<TrustSource>,
    /// The trust material verification used.
    pub trust: TrustSource,
    /// How that material is named: its file, or the embedded root.
    pub trust_name: String,
}

impl Diagnosis {
    /// The suggestion for a person, shown under the failure.
    pub fn hint(&self) -> String {
        match self {
            Diagnosis::UnknownKeys(gap) => gap.hint(),
            Diagnosis::AnchoredRegexp(miss) => {
                let (option, what) = match miss.claim {
                    Claim::Identity => ("--certificate-identity-regexp", "identity"),
                    Claim::Issuer => ("--certificate-oidc-issuer-regexp", "issuer"),
                };
                format!(
                    "keyless anchors {option} at both ends (cosign does not), and {:?} matches only part of the {what}; to accept it, use {:?}",
                    miss.pattern, miss.suggestion
                )
            }
        }
    }
}

impl TrustGap {
    fn hint(&self) -> String {
        let mut what = Vec::new();
        match self.unknown_logs.as_slice() {
            [] => {}
            [one] => what.push(format!("transparency log (log ID {one})")),
            many => what.push(format!("transparency logs (log IDs {})", many.join(", "))),
        }
        if self.unknown_ca {
            what.push("certificate authority".into());
        }
        if self.unknown_tsa {
            what.push("timestamp authority".into());
        }
        let what = match what.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "keys".into(),
        };
        let advice = match &self.instance {
            Some(instance) if *instance == self.trust => {
                let flag = if *instance == TrustSource::Staging {
                    " --staging"
                } else {
                    ""
                };
                format!(
                    "the bundle is from Sigstore's {} instance, whose current keys this copy lacks: refresh it with `keyless trust update{flag}`",
                    instance_name(instance)
                )
            }
            Some(TrustSource::Staging) => {
                "the bundle is from Sigstore's staging instance: verify with --staging".into()
            }
            Some(instance) => format!(
                "the bundle is from Sigstore's {} instance: verify without --staging, --trusted-root or --trust-config",
                instance_name(instance)
            ),
            None => format!(
                "the bundle is from another Sigstore instance: pass that instance's trust material with --trust-config FILE (a ClientTrustConfig) or --trusted-root FILE{}",
                if self.trust == TrustSource::Staging {
                    ""
                } else {
                    ", or --staging for Sigstore's staging instance"
                }
            ),
        };
        format!(
            "{} does not know this bundle's {what}; {advice}",
            self.trust_name
        )
    }
}

fn instance_name(source: &TrustSource) -> &'static str {
    match source {
        TrustSource::Staging => "staging",
        _ => "public-good production",
    }
}

/// The keys of one trust root, in the forms bundles name them by.
#[derive(Debug, Default)]
pub(super) struct KnownKeys {
    /// Transparency log key IDs (the bundle's `logId.keyId`).
    logs: HashSet<Vec<u8>>,
    /// Subject key identifiers of the Fulcio CA certificates.
    ca_key_ids: HashSet<Vec<u8>>,
    /// Subjects (DER) of Fulcio CA certificates without a key identifier,
    /// and of all of them (for a certificate that names no issuer key).
    ca_subjects_without_key_id: HashSet<Vec<u8>>,
    ca_subjects: HashSet<Vec<u8>>,
    /// The TSA certificates.
    tsa_certificates: Vec<Certificate>,
}

impl KnownKeys {
    /// Only the log IDs of `root` (all that naming an instance needs).
    fn logs_of(root: &TrustedRoot) -> Self {
        KnownKeys {
            logs: root
                .tlogs
                .iter()
                .map(|t| t.log_id.key_id.as_bytes().to_vec())
                .collect(),
            ..Default::default()
        }
    }

    pub(super) fn of(root: &TrustedRoot) -> Self {
        let mut known = KnownKeys::logs_of(root);
        let parse = |der: &[u8]| Certificate::from_der(der).ok();
        for ca in &root.certificate_authorities {
            for cert in ca.cert_chain.certificates.iter() {
                let Some(cert) = parse(cert.raw_bytes.as_bytes()) else {
                    continue;
                };
                let subject = cert.tbs_certificate.subject.to_der().unwrap_or_default();
                match subject_key_id(&cert) {
                    Some(id) => {
                        known.ca_key_ids.insert(id);
                    }
                    None => {
                        known.ca_subjects_without_key_id.insert(subject.clone());
                    }
                }
                known.ca_subjects.insert(subject);
            }
        }
        known.tsa_certificates = root
            .timestamp_authorities
            .iter()
            .flat_map(|tsa| tsa.cert_chain.certificates.iter())
            .filter_map(|c| parse(c.raw_bytes.as_bytes()))
            .collect();
        known
    }

    /// The bundle's log IDs (hex) that no trusted log has.
    fn unknown_logs(&self, bundle: &Bundle) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for entry in &bundle.verification_material.tlog_entries {
            let id = entry.log_id.key_id.as_bytes();
            if !self.logs.contains(id) && !out.contains(&hex(id)) {
                out.push(hex(id));
            }
        }
        out
    }

    /// Whether the bundle's signing certificate names an issuer that is no
    /// trusted Fulcio CA: by the issuer's key identifier when the
    /// certificate carries one (names alone do not tell production's
    /// intermediate from staging's), else by the issuer's name. A
    /// certificate that does not parse is not judged here.
    fn unknown_ca(&self, bundle: &Bundle) -> bool {
        let Some(leaf) = bundle
            .signing_certificate()
            .and_then(|c| Certificate::from_der(c.as_bytes()).ok())
        else {
            return false;
        };
        let issuer = leaf.tbs_certificate.issuer.to_der().unwrap_or_default();
        let authority_key_id = leaf
            .tbs_certificate
            .get::<AuthorityKeyIdentifier>()
            .ok()
            .flatten()
            .and_then(|(_, aki)| aki.key_identifier)
            .map(|id| id.as_bytes().to_vec());
        match authority_key_id {
            Some(id) => {
                !self.ca_key_ids.contains(&id) && !self.ca_subjects_without_key_id.contains(&issuer)
            }
            None => !self.ca_subjects.contains(&issuer),
        }
    }

    /// Whether an RFC 3161 timestamp names a signer that is no trusted TSA
    /// certificate (as the TSA verifier resolves it: issuer and serial
    /// number, or subject key identifier). A token that does not parse is
    /// not judged here.
    fn unknown_tsa(&self, bundle: &Bundle) -> bool {
        use cms::signed_data::SignerIdentifier;
        let timestamps = &bundle
            .verification_material
            .timestamp_verification_data
            .rfc3161_timestamps;
        timestamps.iter().any(|ts| {
            let Some(signers) = signer_ids(ts.signed_timestamp.as_bytes()) else {
                return false;
            };
            !signers.iter().any(|sid| {
                self.tsa_certificates.iter().any(|cert| match sid {
                    SignerIdentifier::IssuerAndSerialNumber(is) => {
                        cert.tbs_certificate.issuer == is.issuer
                            && cert.tbs_certificate.serial_number == is.serial_number
                    }
                    SignerIdentifier::SubjectKeyIdentifier(ski) => {
                        subject_key_id(cert).as_deref() == Some(ski.0.as_bytes())
                    }
                })
            })
        })
    }
}

fn subject_key_id(cert: &Certificate) -> Option<Vec<u8>> {
    let (_, ski) = cert.tbs_certificate.get::<SubjectKeyIdentifier>().ok()??;
    Some(ski.0.as_bytes().to_vec())
}

/// The signer identifiers of a timestamp token.
fn signer_ids(token: &[u8]) -> Option<Vec<cms::signed_data::SignerIdentifier>> {
    let signed = super::timestamp::signed_data(token)?;
    Some(
        signed
            .signer_infos
            .0
            .iter()
            .map(|s| s.sid.clone())
            .collect(),
    )
}

/// What keyless can say about `failure` of `bundle` under `policy`, given
/// the keys of the trust material in use.
pub(super) fn diagnose(
    known: &KnownKeys,
    trust: (&TrustSource, &str),
    bundle: &Bundle,
    policy: &Policy,
    failure: &Failure,
) -> Option<Diagnosis> {
    // The identity is checked last, on verified claims: every key was known.
    if failure.step == Step::Identity {
        let Policy::Identity(identity) = policy else {
            return None;
        };
        let cert = sigstore_crypto::parse_certificate_info(bundle.signing_certificate()?).ok()?;
        return identity.anchored_miss(&cert).map(Diagnosis::AnchoredRegexp);
    }
    let unknown_logs = known.unknown_logs(bundle);
    let unknown_ca = matches!(policy, Policy::Identity(_)) && known.unknown_ca(bundle);
    let unknown_tsa = known.unknown_tsa(bundle);
    if unknown_logs.is_empty() && !unknown_ca && !unknown_tsa {
        return None;
    }
    Some(Diagnosis::UnknownKeys(TrustGap {
        instance: public_instance_of(bundle),
        unknown_logs,
        unknown_ca,
        unknown_tsa,
        trust: trust.0.clone(),
        trust_name: trust.1.to_string(),
    }))
}

/// The public-good instance whose embedded trusted root has a transparency
/// log with one of the bundle's log IDs.
fn public_instance_of(bundle: &Bundle) -> Option<TrustSource> {
    [
        (SigstoreInstance::PublicGood, TrustSource::Production),
        (SigstoreInstance::Staging, TrustSource::Staging),
    ]
    .into_iter()
    .find_map(|(instance, source)| {
        let root = instance.embedded_trusted_root().ok()?;
        let known = KnownKeys::logs_of(&root);
        let ids = bundle.verification_material.tlog_entries.len();
        (known.unknown_logs(bundle).len() < ids).then_some(source)
    })
}

/// `reason` with the bundle's log IDs written in hex, as `keyless inspect`,
/// `sign --json` and the hints write them, instead of the base64 that
/// sigstore-verify's messages carry.
pub(super) fn log_ids_in_hex(reason: String, bundle: &Bundle) -> String {
    bundle
        .verification_material
        .tlog_entries
        .iter()
        .fold(reason, |reason, entry| {
            let base64 = entry.log_id.key_id.to_string();
            if base64.is_empty() {
                reason
            } else {
                reason.replace(&base64, &hex(entry.log_id.key_id.as_bytes()))
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(instance: Option<TrustSource>, trust: TrustSource) -> TrustGap {
        TrustGap {
            unknown_logs: vec!["ab".repeat(32)],
            unknown_ca: true,
            unknown_tsa: false,
            instance,
            trust_name: format!("the {trust}"),
            trust,
        }
    }

    #[test]
    fn the_hint_names_what_is_unknown_and_where_the_bundle_is_from() {
        let hint = gap(Some(TrustSource::Staging), TrustSource::Production).hint();
        assert!(
            hint.starts_with(&format!(
                "the embedded production trusted root does not know this bundle's transparency log (log ID {}) and certificate authority;",
                "ab".repeat(32)
            )),
            "{hint}"
        );
        assert!(hint.ends_with("verify with --staging"), "{hint}");

        let hint = gap(Some(TrustSource::Production), TrustSource::Staging).hint();
        assert!(hint.contains("public-good production"), "{hint}");
        assert!(hint.contains("without --staging"), "{hint}");

        let hint = gap(Some(TrustSource::Production), TrustSource::Production).hint();
        assert!(hint.contains("`keyless trust update`"), "{hint}");

        let hint = gap(None, TrustSource::Production).hint();
        assert!(
            hint.contains("--trust-config") && hint.contains("--trusted-root"),
            "{hint}"
        );
        assert!(hint.contains("--staging"), "{hint}");
        let hint = gap(None, TrustSource::Staging).hint();
        assert!(!hint.contains("--staging"), "{hint}");
    }

    fn vector(name: &str) -> Bundle {
        let path = format!(
            "{}/../../testdata/vectors/sigstore-python/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        Bundle::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// (unknown logs, unknown CA, unknown TSA) of `bundle` under `root`.
    fn unknown(root: &TrustedRoot, bundle: &Bundle) -> (usize, bool, bool) {
        let known = KnownKeys::of(root);
        (
            known.unknown_logs(bundle).len(),
            known.unknown_ca(bundle),
            known.unknown_tsa(bundle),
        )
    }

    /// No false alarms: real bundles are known to their own instance's root
    /// (a Rekor v1 bundle, and a Rekor v2 bundle with a TSA timestamp), and
    /// unknown, in every part, to the other's.
    #[test]
    fn real_bundles_are_known_to_their_instance_and_unknown_to_the_other() {
        let production = SigstoreInstance::PublicGood
            .embedded_trusted_root()
            .unwrap();
        let staging = SigstoreInstance::Staging.embedded_trusted_root().unwrap();
        let v1 = vector("bundle_v3_github.whl.sigstore");
        let v2 = vector("staging-rekor-v2.txt.sigstore.json");
        assert_eq!(unknown(&production, &v1), (0, false, false));
        assert_eq!(unknown(&staging, &v1), (1, true, false));
        assert_eq!(unknown(&staging, &v2), (0, false, false));
        assert_eq!(unknown(&production, &v2), (1, true, true));
        assert_eq!(public_instance_of(&v1), Some(TrustSource::Production));
        assert_eq!(public_instance_of(&v2), Some(TrustSource::Staging));
    }

    #[test]
    fn the_embedded_roots_know_their_own_logs_and_not_each_other() {
        let production = SigstoreInstance::PublicGood
            .embedded_trusted_root()
            .unwrap();
        let staging = SigstoreInstance::Staging.embedded_trusted_root().unwrap();
        let staging_keys = KnownKeys::of(&staging);
        for log in &production.tlogs {
            assert!(!staging_keys.logs.contains(log.log_id.key_id.as_bytes()));
        }
        assert!(!KnownKeys::of(&production).ca_key_ids.is_empty());
    }
}
