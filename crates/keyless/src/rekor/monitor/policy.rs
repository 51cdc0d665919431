//! Which matches of the identity scan fail a monitor run: none (they are
//! listed), all of them, or those whose certificate's Source Repository Ref
//! fits none of the refs a project signs from.

use crate::error::{Error, Result};
use crate::rekor::entry::CertificateSummary;

/// What the matches of a run's identity scan mean for its exit status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MatchPolicy {
    /// Every match is listed, none fails the run.
    #[default]
    Report,
    /// Any match fails the run (`--fail-on-match`).
    FailOnMatch,
    /// A match fails the run unless its certificate's Source Repository Ref
    /// (Fulcio OID .1.14) fits one of these globs (`--expect-ref`).
    ExpectRef(Vec<RefGlob>),
}

impl MatchPolicy {
    /// Why the policy does not allow `cert`, if it does not.
    pub fn unexpected(&self, cert: &CertificateSummary) -> Option<String> {
        match self {
            MatchPolicy::Report => None,
            MatchPolicy::FailOnMatch => Some("--fail-on-match: no match is expected".into()),
            MatchPolicy::ExpectRef(globs) => {
                let shown = || {
                    globs
                        .iter()
                        .map(RefGlob::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                match cert.extension(crate::cert::SOURCE_REPOSITORY_REF.oid) {
                    // A certificate that names no ref cannot show it fits.
                    None => Some(format!(
                        "the certificate names no Source Repository Ref, expected {}",
                        shown()
                    )),
                    Some(r) if globs.iter().any(|g| g.matches(r)) => None,
                    Some(r) => Some(format!(
                        "Source Repository Ref {r:?} fits none of {}",
                        shown()
                    )),
                }
            }
        }
    }

    /// How the policy is shown (`--expect-ref refs/tags/*`).
    pub fn describe(&self) -> Option<String> {
        match self {
            MatchPolicy::Report => None,
            MatchPolicy::FailOnMatch => Some("--fail-on-match".into()),
            MatchPolicy::ExpectRef(globs) => Some(
                globs
                    .iter()
                    .map(|g| format!("--expect-ref {}", g.as_str()))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }
}

/// A glob over a full git ref: `*` stands for any characters (`/`
/// included), `?` for one; everything else is itself, and the whole ref must
/// match (`refs/tags/v*` fits `refs/tags/v1.0`, not `refs/heads/v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefGlob(String);

impl RefGlob {
    /// A glob; it must start with `refs/`, as the refs Fulcio records do,
    /// so that `main` or `v*` are not taken for refs that never match.
    pub fn new(glob: &str) -> Result<Self> {
        if !glob.starts_with("refs/") || glob.chars().any(char::is_control) {
            return Err(Error::Usage(format!(
                "--expect-ref {glob:?}: a ref glob is a full ref, e.g. refs/tags/* or refs/heads/main"
            )));
        }
        Ok(RefGlob(glob.to_string()))
    }

    /// The glob as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate`, whole, fits the glob.
    pub fn matches(&self, candidate: &str) -> bool {
        let (pattern, text): (Vec<char>, Vec<char>) =
            (self.0.chars().collect(), candidate.chars().collect());
        // Iterative wildcard matching: on a mismatch, let the last `*`
        // swallow one more character and try again.
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match pattern.get(p) {
                Some('*') => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(&c) if c == '?' || c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p..].iter().all(|&c| c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(git_ref: Option<&str>) -> CertificateSummary {
        CertificateSummary {
            identity: Some("https://gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main".into()),
            other_identities: Vec::new(),
            issuer: Some("https://gitlab.com".into()),
            not_before: jiff::Timestamp::UNIX_EPOCH,
            not_after: jiff::Timestamp::UNIX_EPOCH,
            extensions: git_ref
                .map(|r| crate::cert::ExtensionValue {
                    oid: crate::cert::SOURCE_REPOSITORY_REF.oid,
                    name: "Source Repository Ref",
                    value: r.into(),
                })
                .into_iter()
                .collect(),
        }
    }

    #[test]
    fn globs_match_whole_refs() {
        let g = |s: &str| RefGlob::new(s).unwrap();
        for (glob, yes, no) in [
            (
                "refs/tags/*",
                &["refs/tags/v1.0", "refs/tags/release/2", "refs/tags/"][..],
                &["refs/heads/main", "refs/tagsx/v1", "xrefs/tags/v1"][..],
            ),
            (
                "refs/tags/v?.*",
                &["refs/tags/v1.0", "refs/tags/v2.10"],
                &["refs/tags/v10.0", "refs/tags/v1"],
            ),
            (
                "refs/heads/main",
                &["refs/heads/main"],
                &["refs/heads/main2", "refs/heads/mai", "refs/heads/Main"],
            ),
            (
                "refs/*/release-*",
                &["refs/heads/release-1", "refs/tags/x/release-"],
                &["refs/heads/release", "refs/heads/releases-1"],
            ),
        ] {
            for r in yes {
                assert!(g(glob).matches(r), "{glob} should fit {r}");
            }
            for r in no {
                assert!(!g(glob).matches(r), "{glob} should not fit {r}");
            }
        }
        for bad in ["", "main", "v*", "*", "tags/*", "refs/tags/\n*"] {
            assert!(RefGlob::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn policies_say_why_a_match_is_unexpected() {
        assert_eq!(MatchPolicy::Report.unexpected(&cert(None)), None);
        assert!(
            MatchPolicy::FailOnMatch
                .unexpected(&cert(Some("refs/tags/v1")))
                .is_some()
        );
        let tags = MatchPolicy::ExpectRef(vec![
            RefGlob::new("refs/tags/*").unwrap(),
            RefGlob::new("refs/heads/release").unwrap(),
        ]);
        assert_eq!(tags.unexpected(&cert(Some("refs/tags/v1.0"))), None);
        assert_eq!(tags.unexpected(&cert(Some("refs/heads/release"))), None);
        let why = tags.unexpected(&cert(Some("refs/heads/main"))).unwrap();
        assert!(
            why.contains("\"refs/heads/main\"") && why.contains("refs/tags/*, refs/heads/release"),
            "{why}"
        );
        assert!(
            tags.unexpected(&cert(None))
                .unwrap()
                .contains("names no Source Repository Ref")
        );
        assert_eq!(
            tags.describe().unwrap(),
            "--expect-ref refs/tags/* --expect-ref refs/heads/release"
        );
    }
}
