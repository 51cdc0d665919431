//! What `verify pypi` is asked to verify: `NAME==VERSION` releases, a pip
//! requirements file's `--hash` pins, a PEP 751 `pylock.toml`'s files and
//! their `attestation-identities`, and the publisher policy file.

use super::publisher::{Expected, Publisher};
use super::simple::normalize;
use crate::error::{Error, FileKind, Result};
use serde::Deserialize;
use sigstore_types::Sha256Hash;
use std::collections::BTreeMap;
use std::path::Path;

/// Requirements, locks and policy files are text of a few hundred KiB at
/// most; anything larger is the wrong file.
const MAX_INPUT_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Which files of a release to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every file the index lists for the release.
    All,
    /// The files of these names (`--file`).
    Named(Vec<String>),
    /// The files with these SHA-256 digests (requirements `--hash`, a
    /// lock's `hashes`): each must be a file of the release on the index.
    Pinned(Vec<Sha256Hash>),
}

/// One release to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The project, PEP 503-normalized.
    pub project: String,
    /// The version, as written.
    pub version: String,
    /// Which of its files.
    pub files: Selection,
    /// The publishers a lock or policy file records for it (one of them
    /// must have published each file).
    pub publishers: Option<Vec<Publisher>>,
    /// Who must have published its files: filled by the caller from
    /// `publishers` and its own options (empty from the readers here).
    pub expected: Expected,
    /// Where it was asked for, for messages (`requirements.txt:3`).
    pub origin: String,
}

fn malformed(path: &Path, what: FileKind, reason: impl Into<String>) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        what,
        reason: reason.into(),
    }
}

/// `NAME==VERSION` (extras and an environment marker are ignored).
pub fn parse_release(spec: &str) -> std::result::Result<(String, String), String> {
    let spec = spec.split(';').next().unwrap_or_default();
    let (name, version) = spec
        .split_once("==")
        .ok_or_else(|| format!("{spec:?} is not NAME==VERSION"))?;
    let name = name.split('[').next().unwrap_or_default().trim();
    let version = version.trim();
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let valid_version = !version.is_empty()
        && !version.starts_with('=')
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!' | '-' | '_'));
    if !valid_name || !valid_version {
        return Err(format!(
            "{spec:?} is not NAME==VERSION (an exact version, no wildcard)"
        ));
    }
    Ok((normalize(name), version.to_string()))
}

/// A `sha256:<64 hex>` pin's digest.
fn sha256_pin(hex: &str) -> Option<Sha256Hash> {
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| Sha256Hash::from_hex(&hex.to_ascii_lowercase()).ok())
        .flatten()
}

/// A pip requirements file: one `NAME==VERSION` per logical line (`\`
/// continues a line, `#` starts a comment) with its `--hash=sha256:<hex>`
/// pins. Only pinned files count, so a requirement without a pin, another
/// specifier, or an option that changes where pip looks (`--index-url`,
/// `-r`, `-e`) is refused rather than skipped.
pub fn read_requirements(path: &Path) -> Result<Vec<Wanted>> {
    let text = crate::files::read_text_limited(path, MAX_INPUT_FILE_BYTES, FileKind::Requirements)?;
    // pip splits lines as Python's str.splitlines() does (also at \r,
    // \x0b, \x0c, \x1c-\x1e, \x85, U+2028, U+2029): such a character
    // inside what reads here as one line (a comment) would hide from
    // keyless a requirement pip installs. Refused, as is every other
    // control character but a tab.
    if let Some((n, c)) = text.lines().enumerate().find_map(|(n, l)| {
        l.chars()
            .find(|&c| (c.is_control() && c != '\t') || c == '\u{2028}' || c == '\u{2029}')
            .map(|c| (n, c))
    }) {
        return Err(malformed(
            path,
            FileKind::Requirements,
            format!(
                "line {}: holds {c:?}, which pip reads as a line break or keyless cannot read",
                n + 1
            ),
        ));
    }
    let bad = |line: usize, reason: String| {
        malformed(
            path,
            FileKind::Requirements,
            format!("line {line}: {reason}"),
        )
    };
    let mut wanted = Vec::new();
    let mut logical = String::new();
    let mut start = 0;
    for (n, raw) in text.lines().enumerate() {
        if logical.is_empty() {
            start = n + 1;
        }
        // A comment starts at `#` at the start or after whitespace.
        let line = match raw.find(" #").or_else(|| raw.starts_with('#').then_some(0)) {
            Some(i) => &raw[..i],
            None => raw,
        };
        match line.trim_end().strip_suffix('\\') {
            Some(more) => {
                logical.push_str(more);
                logical.push(' ');
                continue;
            }
            None => logical.push_str(line),
        }
        let text = std::mem::take(&mut logical);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if text.starts_with('-') {
            return Err(bad(
                start,
                format!(
                    "{:?}: keyless reads NAME==VERSION lines with --hash pins only; give the index with --index-url",
                    text.split_whitespace().next().unwrap_or_default()
                ),
            ));
        }
        let (spec, options) = match text.find(" -") {
            Some(i) => (&text[..i], &text[i..]),
            None => (text, ""),
        };
        let (project, version) = parse_release(spec).map_err(|e| bad(start, e))?;
        let mut pins = Vec::new();
        let mut words = options.split_whitespace();
        while let Some(word) = words.next() {
            let value = match word.strip_prefix("--hash=") {
                Some(v) => v,
                None if word == "--hash" => words.next().unwrap_or_default(),
                None => {
                    return Err(bad(
                        start,
                        format!("option {word:?} is not one keyless reads"),
                    ));
                }
            };
            let hex = value.strip_prefix("sha256:").ok_or_else(|| {
                bad(
                    start,
                    format!("--hash {value:?}: keyless checks sha256 pins (what the index lists)"),
                )
            })?;
            pins.push(
                sha256_pin(hex)
                    .ok_or_else(|| bad(start, format!("--hash sha256:{hex}: not 64 hex digits")))?,
            );
        }
        if pins.is_empty() {
            return Err(bad(
                start,
                format!(
                    "{project}=={version} has no --hash pin: only pinned files are verified (write the file with --generate-hashes)"
                ),
            ));
        }
        wanted.push(Wanted {
            project,
            version,
            files: Selection::Pinned(pins),
            publishers: None,
            expected: Expected::default(),
            origin: format!("{}:{start}", path.display()),
        });
    }
    Ok(wanted)
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PyLock {
    lock_version: String,
    #[serde(default)]
    packages: Vec<LockedPackage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct LockedPackage {
    name: String,
    version: Option<String>,
    #[serde(default)]
    wheels: Vec<LockedFile>,
    sdist: Option<LockedFile>,
    attestation_identities: Option<Vec<toml::Value>>,
    vcs: Option<toml::Value>,
    directory: Option<toml::Value>,
    archive: Option<toml::Value>,
}

#[derive(Deserialize)]
struct LockedFile {
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

/// A lock's (or policy file's) `attestation-identities`.
fn identities(
    path: &Path,
    what: FileKind,
    name: &str,
    list: Vec<toml::Value>,
) -> Result<Vec<Publisher>> {
    if list.is_empty() {
        return Err(malformed(
            path,
            what,
            format!("package {name}: attestation-identities is empty"),
        ));
    }
    list.into_iter()
        .map(|v| {
            let json = serde_json::to_value(&v).map_err(|e| e.to_string())?;
            Publisher::from_value(&json)
        })
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| {
            malformed(
                path,
                what,
                format!("package {name}: attestation-identities: {e}"),
            )
        })
}

/// A PEP 751 lock: each package's files by their recorded SHA-256, and its
/// `attestation-identities` as who must have published them. A package
/// that is not from an index (VCS, directory, archive) is refused.
pub fn read_pylock(path: &Path) -> Result<Vec<Wanted>> {
    let text = crate::files::read_text_limited(path, MAX_INPUT_FILE_BYTES, FileKind::PyLock)?;
    let bad = |reason: String| malformed(path, FileKind::PyLock, reason);
    let lock: PyLock = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if !lock.lock_version.starts_with("1.") {
        return Err(bad(format!(
            "lock-version {:?} (keyless reads 1.x)",
            lock.lock_version
        )));
    }
    let mut wanted = Vec::new();
    for p in lock.packages {
        let name = p.name.clone();
        if p.vcs.is_some() || p.directory.is_some() || p.archive.is_some() {
            return Err(bad(format!(
                "package {name} is not from an index (vcs, directory or archive): no provenance to verify"
            )));
        }
        let version = p
            .version
            .ok_or_else(|| bad(format!("package {name} has no version")))?;
        let mut pins = Vec::new();
        for file in p.wheels.iter().chain(&p.sdist) {
            let hex = file
                .hashes
                .get("sha256")
                .ok_or_else(|| bad(format!("package {name}: a file has no sha256 hash")))?;
            pins.push(
                sha256_pin(hex)
                    .ok_or_else(|| bad(format!("package {name}: sha256 {hex:?} is not 64 hex")))?,
            );
        }
        if pins.is_empty() {
            return Err(bad(format!("package {name} locks no file")));
        }
        let publishers = p
            .attestation_identities
            .map(|list| identities(path, FileKind::PyLock, &name, list))
            .transpose()?;
        wanted.push(Wanted {
            project: normalize(&name),
            version,
            files: Selection::Pinned(pins),
            publishers,
            expected: Expected::default(),
            origin: format!("{}: package {name}", path.display()),
        });
    }
    Ok(wanted)
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct PolicyFile {
    packages: Vec<PolicyPackage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct PolicyPackage {
    name: String,
    attestation_identities: Vec<toml::Value>,
}

/// The publisher policy file (`--publishers`): `[[packages]]` with `name`
/// and `attestation-identities`, as a lock writes them. By normalized name.
pub fn read_publishers(path: &Path) -> Result<BTreeMap<String, Vec<Publisher>>> {
    let text = crate::files::read_text_limited(path, MAX_INPUT_FILE_BYTES, FileKind::Publishers)?;
    let file: PolicyFile =
        toml::from_str(&text).map_err(|e| malformed(path, FileKind::Publishers, e.to_string()))?;
    let mut out = BTreeMap::new();
    for p in file.packages {
        let list = identities(
            path,
            FileKind::Publishers,
            &p.name,
            p.attestation_identities,
        )?;
        if out.insert(normalize(&p.name), list).is_some() {
            return Err(malformed(
                path,
                FileKind::Publishers,
                format!("package {} is listed twice", p.name),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn releases_are_exact_pins() {
        assert_eq!(
            parse_release("GitLab_OIDC_Project[x]==0.0.3 ; python_version > '3'").unwrap(),
            ("gitlab-oidc-project".into(), "0.0.3".into())
        );
        for bad in [
            "pkg",
            "pkg>=1.0",
            "pkg==1.*",
            "pkg===1.0",
            "==1.0",
            "p\u{1b}==1",
        ] {
            assert!(parse_release(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn requirements_need_sha256_pins() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        let (_d, path) = write(&format!(
            "# comment\nfoo==1.0 \\\n    --hash=sha256:{a} \\\n    --hash sha256:{b}  # two\n\nbar[x]==2.0; python_version>'3' --hash=sha256:{a}\n"
        ));
        let w = read_requirements(&path).unwrap();
        assert_eq!(w.len(), 2);
        assert_eq!(
            (w[0].project.as_str(), w[0].version.as_str()),
            ("foo", "1.0")
        );
        assert_eq!(
            w[0].files,
            Selection::Pinned(vec![
                Sha256Hash::from_hex(&a).unwrap(),
                Sha256Hash::from_hex(&"b".repeat(64)).unwrap()
            ])
        );
        assert!(w[1].origin.ends_with(":6"), "{}", w[1].origin);
        for bad in [
            // pip splits at these: a requirement hidden in a comment.
            format!("# c\revil==1.0 --hash=sha256:{a}\n"),
            format!("foo==1.0 --hash=sha256:{a} # c\u{2028}evil==1.0 --hash=sha256:{a}\n"),
            format!("# c\x0cevil==1.0 --hash=sha256:{a}\n"),
            "foo==1.0\n".to_string(),
            format!("foo>=1.0 --hash=sha256:{a}\n"),
            format!("--index-url https://evil.example/simple\nfoo==1.0 --hash=sha256:{a}\n"),
            format!("foo==1.0 --hash=md5:{a}\n"),
            "foo==1.0 --hash=sha256:abc\n".into(),
        ] {
            let (_d, path) = write(&bad);
            let e = read_requirements(&path).unwrap_err();
            assert!(matches!(e, Error::Malformed { .. }), "{bad}: {e}");
        }
    }

    #[test]
    fn a_lock_gives_hashes_and_identities() {
        let a = "a".repeat(64);
        let (_d, path) = write(&format!(
            r#"lock-version = "1.0"
created-by = "uv"
[[packages]]
name = "Gitlab_OIDC_Project"
version = "0.0.3"
attestation-identities = [{{kind = "GitLab", repository = "g/p", workflow_filepath = ".gitlab-ci.yml"}}]
[packages.sdist]
name = "gitlab_oidc_project-0.0.3.tar.gz"
upload-time = 2024-11-19T17:37:00Z
hashes = {{sha256 = "{a}"}}
[[packages]]
name = "other"
version = "1.0"
wheels = [{{name = "other-1.0-py3-none-any.whl", hashes = {{sha256 = "{a}"}}}}]
"#
        ));
        let w = read_pylock(&path).unwrap();
        assert_eq!(w[0].project, "gitlab-oidc-project");
        assert_eq!(
            w[0].files,
            Selection::Pinned(vec![Sha256Hash::from_hex(&a).unwrap()])
        );
        assert!(matches!(
            &w[0].publishers.as_deref().unwrap()[0],
            Publisher::GitLab { repository, .. } if repository == "g/p"
        ));
        assert_eq!(w[1].publishers, None);
        for bad in [
            "lock-version = \"2.0\"\n".to_string(),
            "lock-version = \"1.0\"\n[[packages]]\nname = \"x\"\nversion = \"1\"\n".into(),
            format!(
                "lock-version = \"1.0\"\n[[packages]]\nname = \"x\"\nversion = \"1\"\nvcs = {{type = \"git\"}}\nsdist = {{hashes = {{sha256 = \"{a}\"}}}}\n"
            ),
            format!(
                "lock-version = \"1.0\"\n[[packages]]\nname = \"x\"\nversion = \"1\"\nattestation-identities = [{{kind = \"Nope\"}}]\nsdist = {{hashes = {{sha256 = \"{a}\"}}}}\n"
            ),
        ] {
            let (_d, path) = write(&bad);
            assert!(read_pylock(&path).is_err(), "{bad}");
        }
    }
}
