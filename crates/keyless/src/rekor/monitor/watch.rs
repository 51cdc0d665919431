//! The identities a monitor watches for, and why a logged certificate
//! matches one.

use crate::error::{Error, Result};
use crate::rekor::entry::CertificateSummary;

/// An identity to watch for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watch {
    /// A certificate identity (SAN), exactly.
    Identity(String),
    /// A GitLab project (`group/[subgroup/]project`): certificates whose
    /// Source Repository URI (Fulcio OID .1.12) is
    /// `https://gitlab.com/<project>`, or whose SAN is a GitLab CI identity
    /// of a project of that path on any host (`https://<host>/<project>//...`).
    /// Both match ASCII case-insensitively, as GitLab paths do.
    GitLabProject(String),
}

impl Watch {
    /// Watch for an exact SAN.
    pub fn identity(value: &str) -> Result<Self> {
        if value.trim().is_empty() {
            return Err(Error::Usage("--identity needs a value".into()));
        }
        Ok(Watch::Identity(value.to_string()))
    }

    /// Watch for a GitLab project path.
    pub fn gitlab_project(path: &str) -> Result<Self> {
        let segments: Vec<&str> = path.split('/').collect();
        let ok = segments.len() >= 2
            && segments.iter().all(|s| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            });
        if !ok {
            return Err(Error::Usage(format!(
                "{path:?} is not a GitLab project path (group/[subgroup/]project)"
            )));
        }
        Ok(Watch::GitLabProject(path.to_string()))
    }

    /// How the watch is shown.
    pub fn describe(&self) -> String {
        match self {
            Watch::Identity(v) => format!("identity {v}"),
            Watch::GitLabProject(p) => format!("GitLab project {p}"),
        }
    }

    /// Why `cert` matches, if it does.
    pub fn matches(&self, cert: &CertificateSummary) -> Option<String> {
        match self {
            // Any SAN: cosign's --certificate-identity accepts a certificate
            // whose any SAN matches, and sigstore-go reads the first URI
            // before any email, so a watched name in a second SAN would
            // otherwise pass verification unseen.
            Watch::Identity(want) => cert
                .identities()
                .any(|san| san == want)
                .then(|| format!("identity is {want}")),
            Watch::GitLabProject(project) => {
                let project = project.to_ascii_lowercase();
                if let Some(uri) = cert.extension(crate::cert::SOURCE_REPOSITORY_URI.oid)
                    && uri.to_ascii_lowercase() == format!("https://gitlab.com/{project}")
                {
                    return Some(format!("Source Repository URI is {uri}"));
                }
                cert.identities().find_map(|san| {
                    let (host, path) = san.strip_prefix("https://")?.split_once('/')?;
                    (!host.is_empty()
                        && path
                            .to_ascii_lowercase()
                            .starts_with(&format!("{project}//")))
                    .then(|| format!("identity is a GitLab CI identity of {project} on {host}"))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(identity: &str, repo: Option<&str>) -> CertificateSummary {
        CertificateSummary {
            identity: Some(identity.into()),
            other_identities: Vec::new(),
            issuer: Some("https://gitlab.com".into()),
            not_before: jiff::Timestamp::UNIX_EPOCH,
            not_after: jiff::Timestamp::UNIX_EPOCH,
            extensions: repo
                .map(|r| crate::cert::ExtensionValue {
                    oid: crate::cert::SOURCE_REPOSITORY_URI.oid,
                    name: "Source Repository URI",
                    value: r.into(),
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn gitlab_projects_match_by_repository_or_ci_identity() {
        let w = Watch::gitlab_project("group/app").unwrap();
        let ours = "https://gitlab.com/group/app//.gitlab-ci.yml@refs/heads/main";
        assert!(
            w.matches(&cert(ours, Some("https://gitlab.com/group/app")))
                .is_some()
        );
        // A self-managed instance: the SAN carries the real host.
        let elsewhere = "https://gitlab.example.com/Group/App//ci.yml@refs/tags/v1";
        assert!(w.matches(&cert(elsewhere, None)).is_some());
        // .12 alone (what Fulcio writes for self-managed GitLab too).
        assert!(
            w.matches(&cert("x@example.com", Some("https://gitlab.com/group/app")))
                .is_some()
        );
        // Prefixes and other projects do not match.
        for other in [
            "https://gitlab.com/group/app-fork//.gitlab-ci.yml@refs/heads/main",
            "https://gitlab.com/group/application//.gitlab-ci.yml@refs/heads/main",
            "https://gitlab.com/other/group/app//.gitlab-ci.yml@refs/heads/main",
            "https:///group/app//x",
        ] {
            assert!(
                w.matches(&cert(other, Some("https://gitlab.com/group/app-fork")))
                    .is_none(),
                "{other}"
            );
        }
    }

    /// Any SAN matches, not only the first: a second one is what cosign
    /// (any SAN) and sigstore-go (a URI before an email) may verify.
    #[test]
    fn a_watched_name_in_any_san_matches() {
        let mut c = cert("someone@example.com", None);
        let ours = "https://gitlab.com/group/app//.gitlab-ci.yml@refs/heads/main";
        c.other_identities = vec!["x.example".into(), ours.into()];
        assert!(Watch::identity(ours).unwrap().matches(&c).is_some());
        assert!(
            Watch::gitlab_project("group/app")
                .unwrap()
                .matches(&c)
                .is_some()
        );
        c.other_identities.pop();
        assert!(Watch::identity(ours).unwrap().matches(&c).is_none());
        assert!(
            Watch::gitlab_project("group/app")
                .unwrap()
                .matches(&c)
                .is_none()
        );
    }

    #[test]
    fn project_paths_and_identities_are_validated() {
        for bad in [
            "",
            "app",
            "/group/app",
            "group//app",
            "group/app/",
            "group/a p",
        ] {
            assert!(Watch::gitlab_project(bad).is_err(), "{bad:?}");
        }
        assert!(Watch::gitlab_project("group/sub/app").is_ok());
        assert!(Watch::identity(" ").is_err());
        let w = Watch::identity("dev@example.com").unwrap();
        assert!(w.matches(&cert("dev@example.com", None)).is_some());
        assert!(w.matches(&cert("Dev@example.com", None)).is_none());
    }
}
