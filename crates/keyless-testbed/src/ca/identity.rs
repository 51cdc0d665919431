//! How Fulcio maps a verified identity token to a certificate identity: the
//! SAN and the 1.3.6.1.4.1.57264.1.N extensions, for GitLab CI, GitHub
//! Actions and email identities.

use serde_json::{Map, Value};

/// Who a certificate is for, derived from a verified identity token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertIdentity {
    /// The SAN.
    pub san: San,
    /// Fulcio extensions by their last OID arc (1 = legacy issuer, raw
    /// bytes; 8 and above, DER UTF8String), in ascending order.
    pub extensions: Vec<(u64, String)>,
}

/// A certificate SAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    /// A URI (CI workloads).
    Uri(String),
    /// An email address (people).
    Email(String),
}

fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, String> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(format!("claim {name:?} must be a non-empty string")),
        None => Err(format!("token lacks the {name:?} claim")),
    }
}

/// A claim that GitLab sends as a string but that may arrive as a number.
fn claim_text(claims: &Map<String, Value>, name: &str) -> Result<String, String> {
    match claims.get(name) {
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => claim(claims, name).map(str::to_string),
    }
}

/// Map a verified token's claims to a certificate identity the way Fulcio's
/// providers do: GitLab CI (ci-provider templates), GitHub Actions, or an
/// email identity.
pub fn identity_from_claims(claims: &Map<String, Value>) -> Result<CertIdentity, String> {
    let iss = claim(claims, "iss")?.to_string();
    let mut ext = vec![(1, iss.clone()), (8, iss.clone())];
    if claims.contains_key("project_path") {
        // GitLab. .12, .16 and .21 say gitlab.com whatever the instance, as
        // Fulcio's GitLab template does (fulcio issue 1325).
        let config_uri = format!("https://{}", claim(claims, "ci_config_ref_uri")?);
        let project = claim(claims, "project_path")?;
        let ref_prefix = match claim(claims, "ref_type")? {
            "branch" => "refs/heads/",
            "tag" => "refs/tags/",
            other => return Err(format!("unsupported ref_type {other:?}")),
        };
        ext.extend([
            (9, config_uri.clone()),
            (10, claim(claims, "ci_config_sha")?.to_string()),
            (11, claim(claims, "runner_environment")?.to_string()),
            (12, format!("https://gitlab.com/{project}")),
            (13, claim(claims, "sha")?.to_string()),
            (14, format!("{ref_prefix}{}", claim(claims, "ref")?)),
            (15, claim_text(claims, "project_id")?),
            (
                16,
                format!("https://gitlab.com/{}", claim(claims, "namespace_path")?),
            ),
            (17, claim_text(claims, "namespace_id")?),
            (18, config_uri.clone()),
            (19, claim(claims, "ci_config_sha")?.to_string()),
            (20, claim(claims, "pipeline_source")?.to_string()),
            (
                21,
                format!(
                    "https://gitlab.com/{project}/-/jobs/{}",
                    claim_text(claims, "job_id")?
                ),
            ),
            (22, claim(claims, "project_visibility")?.to_string()),
        ]);
        if let Ok(env) = claim(claims, "environment") {
            ext.push((23, env.to_string()));
        }
        return Ok(CertIdentity {
            san: San::Uri(config_uri),
            extensions: ext,
        });
    }
    if claims.contains_key("job_workflow_ref") {
        let server = "https://github.com";
        let repo = claim(claims, "repository")?;
        let workflow = format!("{server}/{}", claim(claims, "job_workflow_ref")?);
        ext.extend([
            (9, workflow.clone()),
            (10, claim(claims, "job_workflow_sha")?.to_string()),
            (11, claim(claims, "runner_environment")?.to_string()),
            (12, format!("{server}/{repo}")),
            (13, claim(claims, "sha")?.to_string()),
            (14, claim(claims, "ref")?.to_string()),
            (15, claim_text(claims, "repository_id")?),
            (
                16,
                format!("{server}/{}", claim(claims, "repository_owner")?),
            ),
            (17, claim_text(claims, "repository_owner_id")?),
            (18, format!("{server}/{}", claim(claims, "workflow_ref")?)),
            (19, claim(claims, "workflow_sha")?.to_string()),
            (20, claim(claims, "event_name")?.to_string()),
            (
                21,
                format!(
                    "{server}/{repo}/actions/runs/{}/attempts/{}",
                    claim_text(claims, "run_id")?,
                    claim_text(claims, "run_attempt")?
                ),
            ),
            (22, claim(claims, "repository_visibility")?.to_string()),
        ]);
        return Ok(CertIdentity {
            san: San::Uri(workflow),
            extensions: ext,
        });
    }
    let email = claim(claims, "email")?;
    if claims.get("email_verified") != Some(&Value::Bool(true)) {
        return Err("email is not verified (email_verified must be true)".into());
    }
    ext.truncate(2);
    Ok(CertIdentity {
        san: San::Email(email.to_string()),
        extensions: ext,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::TokenSpec;

    /// The value of extension `.n`.
    fn ext(id: &CertIdentity, n: u64) -> &str {
        &id.extensions.iter().find(|(k, _)| *k == n).unwrap().1
    }

    #[test]
    fn gitlab_claims_map_like_fulcio() {
        let claims = TokenSpec::gitlab("https://gitlab.com").claims(1_700_000_000);
        let id = identity_from_claims(claims.as_object().unwrap()).unwrap();
        assert_eq!(
            id.san,
            San::Uri(
                "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/heads/main".into()
            )
        );
        let arcs: Vec<u64> = id.extensions.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            arcs,
            [1, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]
        );
        assert_eq!(ext(&id, 12), "https://gitlab.com/keyless-demo/hello-py");
        assert_eq!(ext(&id, 14), "refs/heads/main");
        assert_eq!(ext(&id, 20), "push");
    }

    #[test]
    fn self_managed_gitlab_keeps_gitlab_com_in_12_16_21() {
        let claims = TokenSpec::gitlab("https://gitlab.example.com").claims(0);
        let id = identity_from_claims(claims.as_object().unwrap()).unwrap();
        assert!(ext(&id, 9).starts_with("https://gitlab.example.com/"));
        assert!(ext(&id, 12).starts_with("https://gitlab.com/"));
        assert!(ext(&id, 16).starts_with("https://gitlab.com/"));
        assert!(ext(&id, 21).starts_with("https://gitlab.com/"));
        assert_eq!(ext(&id, 8), "https://gitlab.example.com");
    }

    #[test]
    fn unverified_email_is_refused() {
        let mut claims = Map::new();
        claims.insert("iss".into(), "https://issuer".into());
        claims.insert("email".into(), "a@b.c".into());
        assert!(identity_from_claims(&claims).is_err());
        claims.insert("email_verified".into(), true.into());
        assert_eq!(
            identity_from_claims(&claims).unwrap().san,
            San::Email("a@b.c".into())
        );
    }
}
