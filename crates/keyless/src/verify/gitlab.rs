//! "This file must come from project G/P's pipeline on a protected tag, built
//! on a GitLab-hosted runner": one composite policy over the certificate
//! claims Fulcio's GitLab provider writes.

use super::policy::{ExtensionRequirement, IdentityPolicy, RegexMatcher, ValueMatcher};
use crate::cert::{self, Extension};
use crate::error::{Error, Result};

/// Which ref the pipeline ran for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitRef {
    /// A branch (`refs/heads/<name>`).
    Branch(String),
    /// A tag (`refs/tags/<name>`).
    Tag(String),
    /// A full ref, `refs/...`.
    Full(String),
}

impl GitRef {
    fn full(&self) -> String {
        match self {
            GitRef::Branch(b) => format!("refs/heads/{b}"),
            GitRef::Tag(t) => format!("refs/tags/{t}"),
            GitRef::Full(r) => r.clone(),
        }
    }
}

/// A GitLab CI signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabSigner {
    /// `group/[subgroup/]project`.
    pub project: String,
    /// The instance URL, `https://gitlab.com` or a self-managed one.
    pub instance: String,
    /// The ref; `None` accepts any ref of the project.
    pub git_ref: Option<GitRef>,
    /// The CI configuration file (`.gitlab-ci.yml`).
    pub config_path: String,
    /// `pipeline_source` (.1.20).
    pub pipeline_source: Option<String>,
    /// `runner_environment` (.1.11): `gitlab-hosted` or `self-hosted`.
    pub runner_environment: Option<String>,
    /// The commit SHA (.1.13).
    pub commit: Option<String>,
    /// The numeric project ID (.1.15).
    pub project_id: Option<String>,
}

fn require(extension: &'static Extension, expected: ValueMatcher) -> ExtensionRequirement {
    ExtensionRequirement {
        extension,
        expected,
    }
}

impl GitLabSigner {
    /// The composite policy: issuer pinned to the instance, SAN and build
    /// signer URI from project, config path and ref, and every other claim
    /// that was asked for.
    pub fn policy(&self) -> Result<IdentityPolicy> {
        let instance = self.instance.trim_end_matches('/');
        let host = instance
            .strip_prefix("https://")
            .filter(|h| !h.is_empty() && !h.contains('/'))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--instance must be an https:// URL with no path, like https://gitlab.com, not {:?}",
                    self.instance
                ))
            })?;
        let project = self.project.trim_matches('/');
        if project.split('/').count() < 2 || project.split('/').any(str::is_empty) {
            return Err(Error::Usage(format!(
                "--project must be GROUP/[SUBGROUP/]PROJECT, not {:?}",
                self.project
            )));
        }
        if let Some(GitRef::Full(r)) = &self.git_ref
            && !r.starts_with("refs/")
        {
            return Err(Error::Usage(format!(
                "--ref must be a full ref such as refs/heads/main, not {r:?}"
            )));
        }
        let prefix = format!("https://{host}/{project}//{}@", self.config_path);
        let signer = match &self.git_ref {
            Some(r) => ValueMatcher::Exact(format!("{prefix}{}", r.full())),
            None => ValueMatcher::Regex(RegexMatcher::built(&format!(
                "{}refs/(heads|tags)/.+",
                regex::escape(&prefix)
            ))?),
        };
        let mut ext = vec![require(&cert::BUILD_SIGNER_URI, signer.clone())];
        if let Some(r) = &self.git_ref {
            ext.push(require(
                &cert::SOURCE_REPOSITORY_REF,
                ValueMatcher::Exact(r.full()),
            ));
        }
        // The SAN (.9/.18) names the project whose CI configuration ran,
        // which a pipeline of another project can borrow; .12 (source
        // repository) and .21 (run invocation) name the project whose
        // pipeline ran. Both are checked on every instance. Fulcio writes
        // https://gitlab.com into .12, .16 and .21 whatever the instance
        // (fulcio issue 1325), so on a self-managed instance either host is
        // accepted there, but the path must be exactly the project. A
        // certificate without .12 or .21 (older Fulcio) is refused.
        let hosts = if host == "gitlab.com" {
            regex::escape("https://gitlab.com")
        } else {
            format!(
                "(?:{}|{})",
                regex::escape(&format!("https://{host}")),
                regex::escape("https://gitlab.com")
            )
        };
        let project_re = regex::escape(project);
        ext.push(require(
            &cert::SOURCE_REPOSITORY_URI,
            if host == "gitlab.com" {
                ValueMatcher::Exact(format!("https://gitlab.com/{project}"))
            } else {
                ValueMatcher::Regex(RegexMatcher::built(&format!("{hosts}/{project_re}"))?)
            },
        ));
        ext.push(require(
            &cert::RUN_INVOCATION_URI,
            ValueMatcher::Regex(RegexMatcher::built(&format!(
                "{hosts}/{project_re}/-/jobs/[0-9]+"
            ))?),
        ));
        let optional = [
            (&cert::RUNNER_ENVIRONMENT, &self.runner_environment),
            (&cert::BUILD_TRIGGER, &self.pipeline_source),
            (&cert::SOURCE_REPOSITORY_DIGEST, &self.commit),
            (&cert::SOURCE_REPOSITORY_IDENTIFIER, &self.project_id),
        ];
        for (extension, value) in optional {
            if let Some(v) = value {
                ext.push(require(extension, ValueMatcher::Exact(v.clone())));
            }
        }
        Ok(
            IdentityPolicy::new(signer, ValueMatcher::Exact(instance.to_string()))
                .with_extensions(ext),
        )
    }
}
