//! Trusted Publishers (PEP 740's signing identities): who a package index
//! says published a file, who the lock or the command line expects, and
//! who the verified certificate says it was.
//!
//! One table per publisher kind, as pypi-attestations gives each kind its
//! own policy: the OIDC issuer, the Source Repository URI (.12) and the
//! Build Config URI (.18) a certificate of that kind must carry. A
//! publisher is always read from a certificate whose chain, SCT, log
//! inclusion and signature were verified; the index's `publisher` object is
//! a claim, compared with it, never a source of identity.

use crate::cert;
use serde::{Deserialize, Serialize};
use sigstore_crypto::CertificateInfo;

/// GitHub Actions' OIDC issuer.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// GitLab.com's OIDC issuer (PyPI's GitLab Trusted Publishers are there).
pub const GITLAB_ISSUER: &str = "https://gitlab.com";
/// Google's OIDC issuer (Google Cloud service accounts).
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// A Trusted Publisher, in the shape of PEP 740's publisher objects and
/// PEP 751's `attestation-identities` (`kind` and the publisher's keys).
///
/// As an expectation, a key left out (`None`) accepts any value: a lock
/// that records `{kind = "GitLab", repository = "g/p"}` accepts every CI
/// configuration file of that project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
#[non_exhaustive]
pub enum Publisher {
    /// A GitHub Actions workflow.
    GitHub {
        /// `owner/repo`.
        repository: String,
        /// The workflow's file name (`release.yml`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workflow: Option<String>,
        /// The deployment environment, when one was required.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        environment: Option<String>,
    },
    /// A GitLab CI/CD pipeline.
    GitLab {
        /// `namespace/[subgroup/]project`.
        repository: String,
        /// The CI configuration file (`.gitlab-ci.yml`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        workflow_filepath: Option<String>,
        /// The deployment environment, when one was required.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        environment: Option<String>,
        /// The instance, when not gitlab.com (keyless's own key: PyPI
        /// knows gitlab.com only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instance: Option<String>,
    },
    /// A Google Cloud service account.
    Google {
        /// The service account's email.
        email: String,
    },
}

/// What a certificate of one publisher kind carries: the kind's table.
struct KindTable {
    issuer: String,
    /// The Source Repository URI (.12) is one of these followed by the
    /// repository.
    repository_uris: Vec<String>,
    /// The Build Config URI (.18) is this, the repository, the separator,
    /// the workflow, then `@<ref or commit>`.
    config_base: String,
    config_separator: &'static str,
}

fn github_table() -> KindTable {
    KindTable {
        issuer: GITHUB_ISSUER.into(),
        repository_uris: vec!["https://github.com/".into()],
        config_base: "https://github.com/".into(),
        config_separator: "/.github/workflows/",
    }
}

/// GitLab's table, for gitlab.com or a self-managed instance. Fulcio
/// writes https://gitlab.com into .12 whatever the instance (fulcio issue
/// 1325), so there either host is accepted; .18 carries the real host.
fn gitlab_table(instance: &str) -> KindTable {
    let issuer = instance.trim_end_matches('/');
    let mut repository_uris = vec![format!("{issuer}/")];
    if issuer != GITLAB_ISSUER {
        repository_uris.push(format!("{GITLAB_ISSUER}/"));
    }
    KindTable {
        issuer: issuer.into(),
        repository_uris,
        config_base: format!("{issuer}/"),
        config_separator: "//",
    }
}

/// Empty strings count as absent: the index writes `"environment": ""` or
/// `null` for a publisher that requires none.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl KindTable {
    /// The repository and workflow this verified certificate names, held
    /// to the table: issuer, Source Repository URI, and a Build Config URI
    /// of the same repository ending in `@` + the certificate's own Source
    /// Repository Ref (.14) or Digest (.13), as pypi-attestations checks
    /// (a configuration borrowed from another ref or project fails).
    fn read(&self, cert: &CertificateInfo) -> Result<(String, String), String> {
        let issuer = cert.issuer.as_deref().unwrap_or_default();
        if issuer != self.issuer {
            return Err(format!(
                "OIDC issuer is {issuer:?}, expected {:?}",
                self.issuer
            ));
        }
        let source = cert::value(cert, cert::SOURCE_REPOSITORY_URI.arc)
            .ok_or("the certificate has no Source Repository URI (.12)")?;
        let repository = self
            .repository_uris
            .iter()
            .find_map(|base| source.strip_prefix(base.as_str()))
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                format!(
                    "Source Repository URI {source:?} is not under {:?}",
                    self.repository_uris[0]
                )
            })?;
        let config = cert::value(cert, cert::BUILD_CONFIG_URI.arc)
            .ok_or("the certificate has no Build Config URI (.18)")?;
        let prefix = format!("{}{repository}{}", self.config_base, self.config_separator);
        let (workflow, at) = config
            .strip_prefix(&prefix)
            .and_then(|rest| rest.rsplit_once('@'))
            .filter(|(w, _)| !w.is_empty())
            .ok_or_else(|| {
                format!("Build Config URI {config:?} is not a configuration of {repository:?}")
            })?;
        let bound = [
            cert::value(cert, cert::SOURCE_REPOSITORY_REF.arc),
            cert::value(cert, cert::SOURCE_REPOSITORY_DIGEST.arc),
        ];
        if !bound.iter().flatten().any(|v| *v == at) {
            return Err(format!(
                "Build Config URI {config:?} names {at:?}, neither the certificate's Source Repository Ref nor its Digest"
            ));
        }
        Ok((repository.to_string(), workflow.to_string()))
    }
}

impl Publisher {
    /// The kind as PEP 740 names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Publisher::GitHub { .. } => "GitHub",
            Publisher::GitLab { .. } => "GitLab",
            Publisher::Google { .. } => "Google",
        }
    }

    /// The publisher a verified certificate names. `instances` are
    /// self-managed GitLab instances the caller expects (their issuer is
    /// read as GitLab's); any other issuer is no known publisher.
    pub fn from_certificate(cert: &CertificateInfo, instances: &[String]) -> Result<Self, String> {
        let issuer = cert.issuer.as_deref().unwrap_or_default();
        let environment = cert::value(cert, cert::DEPLOYMENT_ENVIRONMENT.arc)
            .filter(|e| !e.is_empty())
            .map(str::to_string);
        if issuer == GITHUB_ISSUER {
            let (repository, workflow) = github_table().read(cert)?;
            return Ok(Publisher::GitHub {
                repository,
                workflow: Some(workflow),
                environment,
            });
        }
        let instance = instances
            .iter()
            .map(|i| i.trim_end_matches('/'))
            .find(|i| *i == issuer);
        if issuer == GITLAB_ISSUER || instance.is_some() {
            let (repository, workflow) = gitlab_table(issuer).read(cert)?;
            return Ok(Publisher::GitLab {
                repository,
                workflow_filepath: Some(workflow),
                environment,
                instance: (issuer != GITLAB_ISSUER).then(|| issuer.to_string()),
            });
        }
        if issuer == GOOGLE_ISSUER {
            let email = cert
                .identity
                .as_ref()
                .map(|s| s.as_str().to_string())
                .filter(|e| !e.is_empty())
                .ok_or("the certificate names no service account")?;
            return Ok(Publisher::Google { email });
        }
        Err(format!(
            "the certificate's OIDC issuer {issuer:?} is no Trusted Publisher keyless knows (GitHub, GitLab, Google)"
        ))
    }

    /// Whether `verified` (read from a verified certificate) is a
    /// publisher this expectation accepts: same kind, repository and
    /// instance; workflow and environment where the expectation names them.
    pub fn accepts(&self, verified: &Publisher) -> Result<(), String> {
        let differ = |what: &str, expected: &str, found: Option<&str>| {
            Err(format!(
                "{what} is {}, expected {expected:?}",
                found.map_or_else(|| "absent".to_string(), |f| format!("{f:?}"))
            ))
        };
        let check =
            |what: &str, expected: &Option<String>, found: &Option<String>| match given(expected) {
                Some(e) if given(found) != Some(e) => differ(what, e, given(found)),
                _ => Ok(()),
            };
        match (self, verified) {
            (
                Publisher::GitHub {
                    repository,
                    workflow,
                    environment,
                },
                Publisher::GitHub {
                    repository: r,
                    workflow: w,
                    environment: e,
                },
            ) => {
                if repository != r {
                    return differ("the repository", repository, Some(r));
                }
                check("the workflow", workflow, w)?;
                check("the environment", environment, e)
            }
            (
                Publisher::GitLab {
                    repository,
                    workflow_filepath,
                    environment,
                    instance,
                },
                Publisher::GitLab {
                    repository: r,
                    workflow_filepath: w,
                    environment: e,
                    instance: i,
                },
            ) => {
                let host = |i: &Option<String>| {
                    given(i)
                        .map(|i| i.trim_end_matches('/').to_string())
                        .unwrap_or_else(|| GITLAB_ISSUER.into())
                };
                if host(instance) != host(i) {
                    return differ("the GitLab instance", &host(instance), Some(&host(i)));
                }
                if repository != r {
                    return differ("the repository", repository, Some(r));
                }
                check("the CI configuration file", workflow_filepath, w)?;
                check("the environment", environment, e)
            }
            (Publisher::Google { email }, Publisher::Google { email: e }) => {
                if email != e {
                    return differ("the service account", email, Some(e));
                }
                Ok(())
            }
            _ => Err(format!(
                "the publisher is a {} one, expected {}",
                verified.kind(),
                self.kind()
            )),
        }
    }

    /// A publisher read from JSON (an index's `publisher` object, a lock's
    /// identity): an unknown kind says which.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, String> {
        serde_json::from_value(value.clone()).map_err(|e| match value["kind"].as_str() {
            Some(kind) if !["GitHub", "GitLab", "Google"].contains(&kind) => {
                format!("publisher kind {kind:?} is not one keyless knows (GitHub, GitLab, Google)")
            }
            _ => format!("not a publisher object: {e}"),
        })
    }

    /// The publisher as one TOML inline table, as `attestation-identities`
    /// lists it: `{kind = "GitLab", repository = "g/p", ...}`.
    pub fn to_toml_inline(&self) -> String {
        let doc = serde_json::to_value(self).unwrap_or_default();
        let Some(map) = doc.as_object() else {
            return String::new();
        };
        let mut parts = vec![format!("kind = {}", toml_string(self.kind()))];
        for (key, value) in map.iter().filter(|(k, _)| *k != "kind") {
            if let Some(s) = value.as_str() {
                parts.push(format!("{key} = {}", toml_string(s)));
            }
        }
        format!("{{{}}}", parts.join(", "))
    }
}

/// A TOML basic string (the same escapes as JSON's, which TOML accepts).
fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

impl std::fmt::Display for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Publisher::GitHub {
                repository,
                workflow,
                environment,
            } => {
                write!(f, "GitHub {repository}")?;
                if let Some(w) = given(workflow) {
                    write!(f, " workflow {w}")?;
                }
                if let Some(e) = given(environment) {
                    write!(f, " environment {e}")?;
                }
                Ok(())
            }
            Publisher::GitLab {
                repository,
                workflow_filepath,
                environment,
                instance,
            } => {
                write!(f, "GitLab ")?;
                if let Some(i) = given(instance) {
                    write!(f, "{i} ")?;
                }
                write!(f, "{repository}")?;
                if let Some(w) = given(workflow_filepath) {
                    write!(f, " {w}")?;
                }
                if let Some(e) = given(environment) {
                    write!(f, " environment {e}")?;
                }
                Ok(())
            }
            Publisher::Google { email } => write!(f, "Google {email}"),
        }
    }
}

/// What a file's publisher must be: every group must contain a publisher
/// that accepts the verified one (the command line's, a lock's or the
/// policy file's identities). No group: any publisher, which only
/// `--print-identities` (trust on first use) asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// Each group: "one of these".
    pub all_of: Vec<Vec<Publisher>>,
}

impl Expected {
    /// Whether no publisher is expected (trust on first use).
    pub fn is_anyone(&self) -> bool {
        self.all_of.is_empty()
    }

    /// The GitLab instances the expectation names (their issuers are read
    /// as GitLab's).
    pub fn instances(&self) -> Vec<String> {
        self.all_of
            .iter()
            .flatten()
            .filter_map(|p| match p {
                Publisher::GitLab { instance, .. } => given(instance).map(str::to_string),
                _ => None,
            })
            .collect()
    }

    /// Check a verified publisher.
    pub fn check(&self, verified: &Publisher) -> Result<(), String> {
        for group in &self.all_of {
            let mut why = Vec::new();
            if !group.iter().any(|p| match p.accepts(verified) {
                Ok(()) => true,
                Err(e) => {
                    why.push(format!("not {p}: {e}"));
                    false
                }
            }) {
                return Err(format!(
                    "published by {verified}, which no expected publisher accepts ({})",
                    why.join("; ")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gitlab(repo: &str, path: Option<&str>, env: Option<&str>) -> Publisher {
        Publisher::GitLab {
            repository: repo.into(),
            workflow_filepath: path.map(Into::into),
            environment: env.map(Into::into),
            instance: None,
        }
    }

    #[test]
    fn an_expectation_accepts_only_its_own_publisher() {
        let verified = gitlab("g/p", Some(".gitlab-ci.yml"), Some("release"));
        gitlab("g/p", None, None).accepts(&verified).unwrap();
        gitlab("g/p", Some(".gitlab-ci.yml"), Some("release"))
            .accepts(&verified)
            .unwrap();
        // An empty environment is none, as the index writes it.
        gitlab("g/p", Some(".gitlab-ci.yml"), Some(""))
            .accepts(&verified)
            .unwrap();
        for wrong in [
            gitlab("g/p-evil", None, None),
            gitlab("g", None, None),
            gitlab("g/p", Some("other.yml"), None),
            gitlab("g/p", None, Some("staging")),
        ] {
            assert!(wrong.accepts(&verified).is_err(), "{wrong:?}");
        }
        let github = Publisher::GitHub {
            repository: "g/p".into(),
            workflow: None,
            environment: None,
        };
        assert!(github.accepts(&verified).unwrap_err().contains("GitLab"));
        let other_instance = Publisher::GitLab {
            repository: "g/p".into(),
            workflow_filepath: None,
            environment: None,
            instance: Some("https://gitlab.example".into()),
        };
        assert!(other_instance.accepts(&verified).is_err());
        // An expected environment the certificate lacks is refused.
        assert!(
            gitlab("g/p", None, Some("release"))
                .accepts(&gitlab("g/p", Some("x"), None))
                .is_err()
        );
    }

    /// The real GitLab-published certificate of gitlab_oidc_project 0.0.3.
    fn real_cert() -> CertificateInfo {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/vectors/pypi-attestations/gitlab_oidc_project-0.0.3.tar.gz.publish.attestation"
        ))
        .unwrap();
        let a = crate::attestation::Attestation::parse(std::path::Path::new("x"), &text).unwrap();
        let der = sigstore_types::DerCertificate::from_base64(&a.verification_material.certificate)
            .unwrap();
        sigstore_crypto::parse_certificate_info(&der).unwrap()
    }

    #[test]
    fn a_certificate_names_its_publisher_by_the_gitlab_table() {
        let cert = real_cert();
        assert_eq!(
            Publisher::from_certificate(&cert, &[]).unwrap(),
            gitlab(
                "facutuesca/gitlab-oidc-project",
                Some(".gitlab-ci.yml"),
                None
            )
        );
        // The Build Config URI must end in the certificate's own ref or
        // commit: a configuration from another ref is refused.
        let mut other_ref = cert.clone();
        other_ref.ci_claims.build_config_uri = Some(
            "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/evil"
                .into(),
        );
        let e = Publisher::from_certificate(&other_ref, &[]).unwrap_err();
        assert!(e.contains("neither"), "{e}");
        let mut by_commit = cert.clone();
        by_commit.ci_claims.build_config_uri = Some(
            "https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@72f7c63b75eb55ea80864962f0e645c93414da34".into(),
        );
        Publisher::from_certificate(&by_commit, &[]).unwrap();
        // Another project's configuration, or a repository elsewhere.
        let mut borrowed = cert.clone();
        borrowed.ci_claims.build_config_uri =
            Some("https://gitlab.com/evil/project//.gitlab-ci.yml@refs/heads/main".into());
        assert!(Publisher::from_certificate(&borrowed, &[]).is_err());
        let mut moved = cert.clone();
        moved.ci_claims.source_repository_uri =
            Some("https://evil.example/facutuesca/gitlab-oidc-project".into());
        assert!(Publisher::from_certificate(&moved, &[]).is_err());
        // An issuer is GitLab's only when it is gitlab.com or expected.
        let mut managed = cert.clone();
        managed.issuer = Some("https://gitlab.example".into());
        assert!(Publisher::from_certificate(&managed, &[]).is_err());
        managed.ci_claims.build_config_uri = Some(
            "https://gitlab.example/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main"
                .into(),
        );
        let p = Publisher::from_certificate(&managed, &["https://gitlab.example".into()]).unwrap();
        assert!(
            matches!(p, Publisher::GitLab { instance: Some(i), .. } if i == "https://gitlab.example")
        );
    }

    #[test]
    fn publishers_read_and_print_in_the_pep_740_shape() {
        let p = Publisher::from_value(&json!({
            "kind": "GitLab", "repository": "g/p", "workflow_filepath": ".gitlab-ci.yml",
            "environment": null,
        }))
        .unwrap();
        assert_eq!(p, gitlab("g/p", Some(".gitlab-ci.yml"), None));
        assert_eq!(
            p.to_toml_inline(),
            r#"{kind = "GitLab", repository = "g/p", workflow_filepath = ".gitlab-ci.yml"}"#
        );
        let e = Publisher::from_value(&json!({"kind": "CircleCI", "project_id": "x"})).unwrap_err();
        assert!(e.contains("CircleCI"), "{e}");
        assert!(Publisher::from_value(&json!({"kind": "GitLab"})).is_err());
        // A hostile value stays one TOML string.
        let hostile = gitlab("g/p\"\n[evil]", None, None).to_toml_inline();
        assert!(
            !hostile.contains('\n') && hostile.contains("\\\""),
            "{hostile}"
        );
    }
}
