//! The PEP 691 JSON simple API: a project's page (`GET <index>/<name>/`,
//! `Accept: application/vnd.pypi.simple.v1+json`) lists every file of
//! every release with its hashes and, per PEP 740, its provenance URL.

use serde::Deserialize;
use serde_json::Value;

/// The media type of the JSON simple API, version 1.
pub const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";

/// A project page.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectPage {
    /// `{"api-version": "1.x"}`.
    pub meta: Meta,
    /// Every file of every release.
    #[serde(default)]
    pub files: Vec<IndexFile>,
}

/// The page's metadata.
#[derive(Debug, Clone, Deserialize)]
pub struct Meta {
    /// The API version, `1.<minor>`.
    #[serde(rename = "api-version")]
    pub api_version: String,
}

/// One file on a project page.
#[derive(Debug, Clone, Deserialize)]
pub struct IndexFile {
    /// The distribution's file name.
    pub filename: String,
    /// Its digests by algorithm (hex).
    #[serde(default)]
    pub hashes: std::collections::BTreeMap<String, String>,
    /// PEP 740: where its provenance is (absolute or relative to the
    /// page), `null` when it has none; absent from an index that does not
    /// say (then the Integrity API is asked).
    #[serde(default, deserialize_with = "present")]
    pub provenance: Option<Value>,
}

/// Keeps `"provenance": null` apart from no `provenance` key at all.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// PEP 503's normalized project name: lowercase, runs of `-`, `_` and `.`
/// as one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A distribution file name's project and version: a wheel
/// (`name-version(-build)?-py-abi-platform.whl`, PEP 427) or an sdist
/// (`name-version.tar.gz`, PEP 625; `.zip` of old).
pub fn name_and_version(filename: &str) -> Option<(&str, &str)> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let (name, version) = (parts.next()?, parts.next()?);
        (parts.count() >= 3).then_some((name, version))
    } else {
        let stem = filename
            .strip_suffix(".tar.gz")
            .or_else(|| filename.strip_suffix(".zip"))?;
        stem.rsplit_once('-')
    }
    .filter(|(n, v)| !n.is_empty() && !v.is_empty())
}

/// Whether `filename` is a file of `project` (normalized) at `version`.
/// Versions are compared as written (ignoring case), not as PEP 440
/// equals them: `1.0` and `1.0.0` are different releases here.
pub fn is_release_file(filename: &str, project: &str, version: &str) -> bool {
    // A name is also a path segment of the Integrity API: nothing that
    // could leave it (`/`, `?`, `%`) or reach a terminal raw.
    let plain = filename
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '!'));
    plain
        && name_and_version(filename)
            .is_some_and(|(n, v)| normalize(n) == project && v.eq_ignore_ascii_case(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_as_pep_503_says() {
        assert_eq!(normalize("GitLab_OIDC.project"), "gitlab-oidc-project");
        assert_eq!(normalize("a--_.b"), "a-b");
    }

    #[test]
    fn file_names_give_project_and_version() {
        assert_eq!(
            name_and_version("gitlab_oidc_project-0.0.3.tar.gz"),
            Some(("gitlab_oidc_project", "0.0.3"))
        );
        assert_eq!(
            name_and_version("pkg-1.0-1-py3-none-any.whl"),
            Some(("pkg", "1.0"))
        );
        assert_eq!(name_and_version("pkg-1.0.whl"), None);
        assert_eq!(name_and_version("pkg.tar.gz"), None);
        assert!(is_release_file("Pkg_A-1.0.tar.gz", "pkg-a", "1.0"));
        assert!(!is_release_file("pkg_a-1.0.1.tar.gz", "pkg-a", "1.0"));
        assert!(!is_release_file("pkg_ab-1.0.tar.gz", "pkg-a", "1.0"));
        assert!(!is_release_file(
            "pkg_a-1.0/../x-1.0.tar.gz",
            "pkg-a",
            "1.0"
        ));
    }

    #[test]
    fn a_null_provenance_is_not_an_absent_one() {
        let page: ProjectPage = serde_json::from_str(
            r#"{"meta": {"api-version": "1.1"}, "files": [
                {"filename": "a-1.tar.gz", "hashes": {}, "provenance": null},
                {"filename": "a-2.tar.gz", "hashes": {}}]}"#,
        )
        .unwrap();
        assert_eq!(page.files[0].provenance, Some(Value::Null));
        assert_eq!(page.files[1].provenance, None);
    }
}
