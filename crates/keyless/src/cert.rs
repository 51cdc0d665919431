//! Fulcio's certificate extensions (OID arc 1.3.6.1.4.1.57264.1): the one
//! table of their OIDs and names, and their values in a certificate parsed by
//! sigstore-crypto, or read straight from its X.509 structure whatever its
//! key ([`read`]). Verification policies, `inspect`, the GitLab policy and
//! the Rekor auditor all read extensions through this module.

use sigstore_crypto::CertificateInfo;

/// One Fulcio extension: where it is, what it is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension {
    /// The last OID arc: `1.3.6.1.4.1.57264.1.<arc>`.
    pub arc: u32,
    /// The dotted OID.
    pub oid: &'static str,
    /// The command-line name (`source-repository-ref`).
    pub name: &'static str,
    /// The name Fulcio's documentation gives it.
    pub title: &'static str,
}

macro_rules! extensions {
    ($($konst:ident = $arc:literal, $name:literal, $title:literal;)*) => {
        $(
            #[doc = concat!("`1.3.6.1.4.1.57264.1.", $arc, "`: ", $title, ".")]
            pub const $konst: Extension = Extension {
                arc: $arc,
                oid: concat!("1.3.6.1.4.1.57264.1.", $arc),
                name: $name,
                title: $title,
            };
        )*
        /// Every Fulcio extension, in OID order (1.7 is a SAN type, not an
        /// extension).
        pub const EXTENSIONS: &[Extension] = &[$($konst),*];
    };
}

// What Fulcio writes for a GitLab CI token (its ci-provider template), by
// arc: 8 `iss`; 9 and 18 `https://` + ci_config_ref_uri; 10 and 19
// ci_config_sha; 11 runner_environment; 12 `https://gitlab.com/` +
// project_path; 13 sha; 14 `refs/heads/` or `refs/tags/` + ref; 15
// project_id; 16 `https://gitlab.com/` + namespace_path; 17 namespace_id; 20
// pipeline_source; 21 `https://gitlab.com/<project_path>/-/jobs/<job_id>`; 22
// project_visibility; 23 environment; 24 the raw `sub`. On self-managed
// instances 12, 16 and 21 still say https://gitlab.com; the SAN, 9 and 18
// carry the real host.
extensions! {
    ISSUER_V1 = 1, "issuer-v1", "Issuer (deprecated)";
    GITHUB_WORKFLOW_TRIGGER = 2, "github-workflow-trigger", "GitHub Workflow Trigger (deprecated)";
    GITHUB_WORKFLOW_SHA = 3, "github-workflow-sha", "GitHub Workflow SHA (deprecated)";
    GITHUB_WORKFLOW_NAME = 4, "github-workflow-name", "GitHub Workflow Name (deprecated)";
    GITHUB_WORKFLOW_REPOSITORY = 5, "github-workflow-repository", "GitHub Workflow Repository (deprecated)";
    GITHUB_WORKFLOW_REF = 6, "github-workflow-ref", "GitHub Workflow Ref (deprecated)";
    ISSUER = 8, "issuer", "Issuer";
    BUILD_SIGNER_URI = 9, "build-signer-uri", "Build Signer URI";
    BUILD_SIGNER_DIGEST = 10, "build-signer-digest", "Build Signer Digest";
    RUNNER_ENVIRONMENT = 11, "runner-environment", "Runner Environment";
    SOURCE_REPOSITORY_URI = 12, "source-repository-uri", "Source Repository URI";
    SOURCE_REPOSITORY_DIGEST = 13, "source-repository-digest", "Source Repository Digest";
    SOURCE_REPOSITORY_REF = 14, "source-repository-ref", "Source Repository Ref";
    SOURCE_REPOSITORY_IDENTIFIER = 15, "source-repository-identifier", "Source Repository Identifier";
    SOURCE_REPOSITORY_OWNER_URI = 16, "source-repository-owner-uri", "Source Repository Owner URI";
    SOURCE_REPOSITORY_OWNER_IDENTIFIER = 17, "source-repository-owner-identifier", "Source Repository Owner Identifier";
    BUILD_CONFIG_URI = 18, "build-config-uri", "Build Config URI";
    BUILD_CONFIG_DIGEST = 19, "build-config-digest", "Build Config Digest";
    BUILD_TRIGGER = 20, "build-trigger", "Build Trigger";
    RUN_INVOCATION_URI = 21, "run-invocation-uri", "Run Invocation URI";
    SOURCE_REPOSITORY_VISIBILITY_AT_SIGNING = 22, "source-repository-visibility-at-signing", "Source Repository Visibility At Signing";
    DEPLOYMENT_ENVIRONMENT = 23, "deployment-environment", "Deployment Environment";
    TOKEN_SUBJECT = 24, "token-subject", "Token Subject";
}

/// A Fulcio extension found in a certificate, with its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExtensionValue {
    /// The dotted OID.
    pub oid: &'static str,
    /// Its name in Fulcio's OID list.
    pub name: &'static str,
    /// The value.
    pub value: String,
}

/// The extension with this arc.
pub fn by_arc(arc: u32) -> Option<&'static Extension> {
    EXTENSIONS.iter().find(|e| e.arc == arc)
}

/// The extension named `key`: its command-line name, or its OID
/// (`1.3.6.1.4.1.57264.1.N`).
pub fn lookup(key: &str) -> Option<&'static Extension> {
    if let Some(arc) = key.strip_prefix("1.3.6.1.4.1.57264.1.") {
        return arc.parse().ok().and_then(by_arc);
    }
    EXTENSIONS.iter().find(|e| e.name.eq_ignore_ascii_case(key))
}

/// The value of extension `arc` in a parsed certificate. The issuer is read
/// from .1.8, falling back to the legacy .1.1 (sigstore-crypto merges them),
/// so arcs 1 and 8 give the same value.
pub fn value(info: &CertificateInfo, arc: u32) -> Option<&str> {
    let c = &info.ci_claims;
    let g = &c.deprecated_github;
    let v = match arc {
        1 | 8 => &info.issuer,
        2 => &g.workflow_trigger,
        3 => &g.workflow_sha,
        4 => &g.workflow_name,
        5 => &g.workflow_repository,
        6 => &g.workflow_ref,
        9 => &c.build_signer_uri,
        10 => &c.build_signer_digest,
        11 => &c.runner_environment,
        12 => &c.source_repository_uri,
        13 => &c.source_repository_digest,
        14 => &c.source_repository_ref,
        15 => &c.source_repository_identifier,
        16 => &c.source_repository_owner_uri,
        17 => &c.source_repository_owner_identifier,
        18 => &c.build_config_uri,
        19 => &c.build_config_digest,
        20 => &c.build_trigger,
        21 => &c.run_invocation_uri,
        22 => &c.source_repository_visibility_at_signing,
        23 => &c.deployment_environment,
        24 => &c.token_subject,
        _ => return None,
    };
    v.as_deref()
}

/// Every extension present in the certificate, in OID order (the issuer once,
/// as .1.8).
pub fn present(info: &CertificateInfo) -> Vec<ExtensionValue> {
    EXTENSIONS
        .iter()
        .filter(|e| e.arc != ISSUER_V1.arc)
        .filter_map(|e| {
            value(info, e.arc).map(|v| ExtensionValue {
                oid: e.oid,
                name: e.title,
                value: v.to_string(),
            })
        })
        .collect()
}

/// What a certificate says about its subject, read straight from its X.509
/// structure: the SAN and Fulcio's extensions, whatever the key algorithm.
///
/// The Rekor auditor reads logged certificates this way: sigstore-crypto's
/// parser refuses a certificate whose key it cannot use (P-521, which Fulcio
/// issues on request), and a monitor that could not read such a certificate
/// would miss a signature in a watched name that Go verifiers accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The first email or URI SAN (what Fulcio writes, and verifiers match).
    pub identity: Option<String>,
    /// Every other email, URI or DNS SAN, in order: cosign's
    /// `--certificate-identity` accepts a certificate when any SAN matches,
    /// and sigstore-go reads the first URI before any email.
    pub other_identities: Vec<String>,
    /// Every Fulcio extension present, in OID order; the issuer once, as
    /// .1.8 (its value read from .1.8, or the legacy .1.1 without one).
    pub extensions: Vec<ExtensionValue>,
}

/// Read a certificate's [`Subject`]. `Err` when its SAN extension does not
/// decode (an identity could hide in it). A Fulcio extension whose value is
/// not a string is left out, as sigstore-crypto does; a value in any ASN.1
/// string type Go's `encoding/asn1` reads as a string (UTF8String,
/// PrintableString, IA5String, ...) is read, not only the UTF8String Fulcio
/// writes: Go verifiers read the others too.
pub fn read(cert: &x509_cert::Certificate) -> Result<Subject, String> {
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let san: Option<(bool, SubjectAltName)> = cert
        .tbs_certificate
        .get()
        .map_err(|e| format!("its SAN extension does not decode: {e}"))?;
    let names: Vec<(bool, String)> = san
        .map(|(_, san)| {
            san.0
                .iter()
                .filter_map(|name| match name {
                    GeneralName::Rfc822Name(email) => Some((true, email.to_string())),
                    GeneralName::UniformResourceIdentifier(uri) => Some((true, uri.to_string())),
                    GeneralName::DnsName(dns) => Some((false, dns.to_string())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let first = names.iter().position(|(email_or_uri, _)| *email_or_uri);
    let identity = first.map(|i| names[i].1.clone());
    let other_identities = names
        .into_iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != first)
        .map(|(_, (_, name))| name)
        .collect();
    let raw = |arc: u32| -> Option<&[u8]> {
        let oid = by_arc(arc)?.oid;
        cert.tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id.to_string() == oid)
            .map(|e| e.extn_value.as_bytes())
    };
    // .1.1 to .1.6 hold a bare string (a DER one is read too, as
    // sigstore-crypto does); .1.8 on a DER string.
    let bare = |bytes: &[u8]| {
        der_string(bytes).or_else(|| std::str::from_utf8(bytes).ok().map(str::to_owned))
    };
    let value = |arc: u32| -> Option<String> {
        let bytes = raw(arc)?;
        match arc {
            1..=6 => bare(bytes),
            _ => der_string(bytes),
        }
    };
    let extensions = EXTENSIONS
        .iter()
        .filter(|e| e.arc != ISSUER_V1.arc)
        .filter_map(|e| {
            let v = if e.arc == ISSUER.arc {
                // The legacy issuer only when .1.8 is absent (a malformed
                // .1.8 is no issuer, as in sigstore-crypto).
                match raw(ISSUER.arc) {
                    Some(bytes) => der_string(bytes),
                    None => value(ISSUER_V1.arc),
                }
            } else {
                value(e.arc)
            };
            v.map(|value| ExtensionValue {
                oid: e.oid,
                name: e.title,
                value,
            })
        })
        .collect();
    Ok(Subject {
        identity,
        other_identities,
        extensions,
    })
}

/// A DER string of a type Go's `encoding/asn1` reads into a Go string.
fn der_string(bytes: &[u8]) -> Option<String> {
    use der::{Decode, Tag, Tagged};
    let any = der::asn1::AnyRef::from_der(bytes).ok()?;
    let value = any.value();
    match any.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::TeletexString => std::str::from_utf8(value).ok().map(str::to_owned),
        Tag::BmpString => {
            if !value.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = value
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_name_and_oid() {
        assert_eq!(lookup("source-repository-ref").unwrap().arc, 14);
        assert_eq!(
            lookup("1.3.6.1.4.1.57264.1.14").unwrap().name,
            "source-repository-ref"
        );
        assert!(
            lookup("1.3.6.1.4.1.57264.1.7").is_none(),
            "1.7 is a SAN type"
        );
        assert!(lookup("nope").is_none());
        let mut arcs: Vec<u32> = EXTENSIONS.iter().map(|e| e.arc).collect();
        arcs.dedup();
        assert_eq!(arcs.len(), 23);
        for e in EXTENSIONS {
            assert_eq!(e.oid, format!("1.3.6.1.4.1.57264.1.{}", e.arc));
            assert_eq!(by_arc(e.arc), Some(e));
        }
    }
}
