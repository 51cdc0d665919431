//! The publisher object PyPI writes beside attestations, derived as PyPI
//! derives it for a Trusted Publisher, and the Integrity API answer built
//! from it.
//!
//! PyPI knows the publisher from the OIDC token that authenticated the
//! upload and checks each attestation's certificate against it. The
//! stand-in has no Trusted Publisher configuration, so it reads the same
//! facts from the certificate (Fulcio extensions): GitLab: `repository`
//! (the project path of Source Repository URI, .12), `workflow_filepath`
//! (the path of Build Config URI, .18, between `//` and `@`) and
//! `environment` (.23, or null); GitHub: `repository`, `workflow` (the
//! workflow file's name) and `environment` null (GitHub puts none in the
//! certificate). All attestations of one upload must name one publisher,
//! as PyPI's do (one token).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The publisher of one attestation, from its certificate.
pub(crate) fn from_attestation(attestation: &Value) -> Result<Value, String> {
    let cert = attestation["verification_material"]["certificate"]
        .as_str()
        .ok_or("the attestation has no certificate")?;
    let der = B64
        .decode(cert)
        .map_err(|e| format!("the certificate is not base64: {e}"))?;
    let info = sigstore_crypto::parse_certificate_info(&sigstore_types::DerCertificate::new(der))
        .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
    let ext = |arc| keyless::cert::value(&info, arc).map(str::to_string);
    let issuer = ext(8).ok_or("the certificate names no issuer")?;
    let source = ext(12).ok_or("the certificate names no source repository (.12)")?;
    let config = ext(18).ok_or("the certificate names no build config (.18)")?;
    let repository = path_of(&source).ok_or("the source repository is not an https URL")?;
    if issuer == GITHUB_ISSUER {
        // https://github.com/OWNER/REPO/.github/workflows/NAME.yml@REF
        let workflow = config
            .split_once('@')
            .map(|(p, _)| p)
            .and_then(|p| p.rsplit_once('/'))
            .map(|(_, name)| name.to_string())
            .ok_or("the build config names no workflow file")?;
        return Ok(json!({
            "kind": "GitHub",
            "repository": repository,
            "workflow": workflow,
            "environment": null,
        }));
    }
    // GitLab: https://HOST/GROUP/PROJECT//PATH@REF
    let (project, rest) = config
        .strip_prefix("https://")
        .and_then(|c| c.split_once("//"))
        .ok_or("the build config is not a GitLab ci_config_ref_uri")?;
    let workflow_filepath = rest
        .rsplit_once('@')
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty())
        .ok_or("the build config names no file")?;
    if project.split_once('/').map(|(_, p)| p) != Some(repository.as_str()) {
        return Err(format!(
            "the build config's project ({project}) is not the source repository ({repository})"
        ));
    }
    Ok(json!({
        "kind": "GitLab",
        "repository": repository,
        "workflow_filepath": workflow_filepath,
        "environment": ext(23),
    }))
}

/// `GROUP/PROJECT` of `https://HOST/GROUP/PROJECT`.
fn path_of(uri: &str) -> Option<String> {
    let (_, path) = uri.strip_prefix("https://")?.split_once('/')?;
    (!path.is_empty()).then(|| path.trim_end_matches('/').to_string())
}

/// The Integrity API answer for one file's attestations, as PyPI writes it:
/// one bundle, the publisher derived from the certificates (which must
/// agree).
pub fn provenance(attestations: &[Value]) -> Result<Value, String> {
    let first = attestations.first().ok_or("no attestations")?;
    let publisher = from_attestation(first)?;
    for a in &attestations[1..] {
        if from_attestation(a)? != publisher {
            return Err("the attestations name different publishers".into());
        }
    }
    Ok(json!({
        "version": 1,
        "attestation_bundles": [{"publisher": publisher, "attestations": attestations}],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/vectors/pypi-attestations")
            .join(name);
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// The real GitLab-published attestation gives PyPI's GitLab publisher.
    #[test]
    fn the_publisher_of_real_attestations() {
        let gitlab = vector("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation");
        assert_eq!(
            from_attestation(&gitlab).unwrap(),
            json!({"kind": "GitLab", "repository": "facutuesca/gitlab-oidc-project",
                   "workflow_filepath": ".gitlab-ci.yml", "environment": null})
        );
        let github = vector("pypi_attestations-0.0.19.tar.gz.publish.attestation");
        assert_eq!(
            from_attestation(&github).unwrap(),
            json!({"kind": "GitHub", "repository": "trailofbits/pypi-attestations",
                   "workflow": "release.yml", "environment": null})
        );
        // Two publishers for one file: refused.
        let err = provenance(&[gitlab.clone(), github]).unwrap_err();
        assert!(err.contains("different publishers"), "{err}");
        let p = provenance(&[gitlab]).unwrap();
        assert_eq!(p["attestation_bundles"][0]["publisher"]["kind"], "GitLab");
    }
}
