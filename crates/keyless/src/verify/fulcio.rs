//! Fulcio's certificate extensions (OID arc 1.3.6.1.4.1.57264.1): names, and
//! their values in a certificate parsed by sigstore-crypto.

use sigstore_crypto::CertificateInfo;

/// One Fulcio extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FulcioExtension {
    /// The last OID arc: `1.3.6.1.4.1.57264.1.<arc>`.
    pub arc: u32,
    /// The command-line name (`source-repository-ref`).
    pub name: &'static str,
    /// The name Fulcio's documentation gives it.
    pub title: &'static str,
}

impl FulcioExtension {
    /// The dotted OID.
    pub fn oid(&self) -> String {
        format!("1.3.6.1.4.1.57264.1.{}", self.arc)
    }
}

macro_rules! ext {
    ($arc:expr, $name:expr, $title:expr) => {
        FulcioExtension {
            arc: $arc,
            name: $name,
            title: $title,
        }
    };
}

/// Every Fulcio extension (1.7 is a SAN type, not an extension).
pub const EXTENSIONS: &[FulcioExtension] = &[
    ext!(1, "issuer-v1", "Issuer (deprecated)"),
    ext!(
        2,
        "github-workflow-trigger",
        "GitHub Workflow Trigger (deprecated)"
    ),
    ext!(3, "github-workflow-sha", "GitHub Workflow SHA (deprecated)"),
    ext!(
        4,
        "github-workflow-name",
        "GitHub Workflow Name (deprecated)"
    ),
    ext!(
        5,
        "github-workflow-repository",
        "GitHub Workflow Repository (deprecated)"
    ),
    ext!(6, "github-workflow-ref", "GitHub Workflow Ref (deprecated)"),
    ext!(8, "issuer", "Issuer"),
    ext!(9, "build-signer-uri", "Build Signer URI"),
    ext!(10, "build-signer-digest", "Build Signer Digest"),
    ext!(11, "runner-environment", "Runner Environment"),
    ext!(12, "source-repository-uri", "Source Repository URI"),
    ext!(13, "source-repository-digest", "Source Repository Digest"),
    ext!(14, "source-repository-ref", "Source Repository Ref"),
    ext!(
        15,
        "source-repository-identifier",
        "Source Repository Identifier"
    ),
    ext!(
        16,
        "source-repository-owner-uri",
        "Source Repository Owner URI"
    ),
    ext!(
        17,
        "source-repository-owner-identifier",
        "Source Repository Owner Identifier"
    ),
    ext!(18, "build-config-uri", "Build Config URI"),
    ext!(19, "build-config-digest", "Build Config Digest"),
    ext!(20, "build-trigger", "Build Trigger"),
    ext!(21, "run-invocation-uri", "Run Invocation URI"),
    ext!(
        22,
        "source-repository-visibility-at-signing",
        "Source Repository Visibility At Signing"
    ),
    ext!(23, "deployment-environment", "Deployment Environment"),
    ext!(24, "token-subject", "Token Subject"),
];

/// The extension with this arc.
pub fn by_arc(arc: u32) -> Option<&'static FulcioExtension> {
    EXTENSIONS.iter().find(|e| e.arc == arc)
}

/// The extension named `key`: its command-line name, or its OID
/// (`1.3.6.1.4.1.57264.1.N`).
pub fn lookup(key: &str) -> Option<&'static FulcioExtension> {
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
pub fn present(info: &CertificateInfo) -> Vec<(&'static FulcioExtension, &str)> {
    EXTENSIONS
        .iter()
        .filter(|e| e.arc != 1)
        .filter_map(|e| value(info, e.arc).map(|v| (e, v)))
        .collect()
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
    }
}
