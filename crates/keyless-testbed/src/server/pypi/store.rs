//! Where the PyPI stand-in keeps its files, and what a file name says.
//!
//! `<state>/pypi/<normalized project>/<file name>` holds a distribution and
//! `<file name>.provenance` beside it the Integrity API answer for it (when
//! it has attestations). The project and version of a file come from its
//! name (PEP 427 wheels, PEP 625 sdists), as pypiserver does, so a directory
//! of files is an index without any other record.

use std::path::{Path, PathBuf};

/// The provenance file's suffix.
pub(super) const PROVENANCE_SUFFIX: &str = ".provenance";

/// PEP 503 normalization: lowercase, runs of `-`, `_` and `.` become one `-`.
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A distribution file name: `(normalized project, version)`, or `None` for
/// anything that is not a wheel or an sdist, or that could name another
/// path (a separator, `..`, a control character).
pub(crate) fn parse_filename(file: &str) -> Option<(String, String)> {
    let safe = !file.is_empty()
        && !file.starts_with('.')
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '!'));
    if !safe || file.ends_with(PROVENANCE_SUFFIX) {
        return None;
    }
    let (name, version) = if let Some(stem) = file.strip_suffix(".whl") {
        // name-version(-build)?-python-abi-platform
        let parts: Vec<&str> = stem.split('-').collect();
        if !(5..=6).contains(&parts.len()) {
            return None;
        }
        (parts[0], parts[1])
    } else {
        let stem = file
            .strip_suffix(".tar.gz")
            .or_else(|| file.strip_suffix(".zip"))?;
        stem.rsplit_once('-')?
    };
    let name = normalize(name);
    (!name.is_empty() && !version.is_empty()).then(|| (name, version.to_string()))
}

/// The on-disk index.
pub(super) struct Store {
    dir: PathBuf,
}

/// One file of a project, as listed.
pub(super) struct Listed {
    pub(super) filename: String,
    pub(super) version: String,
    pub(super) sha256: String,
    pub(super) size: u64,
    pub(super) has_provenance: bool,
}

impl Store {
    pub(super) fn new(state_dir: &Path) -> Self {
        Self {
            dir: state_dir.join("pypi"),
        }
    }

    /// Where `file` lives (after [`parse_filename`] accepted it).
    pub(super) fn path(&self, file: &str) -> Option<PathBuf> {
        let (project, _) = parse_filename(file)?;
        Some(self.dir.join(project).join(file))
    }

    pub(super) fn provenance_path(&self, file: &str) -> Option<PathBuf> {
        let mut p = self.path(file)?.into_os_string();
        p.push(PROVENANCE_SUFFIX);
        Some(p.into())
    }

    /// Store a file (and its provenance) atomically. The provenance goes
    /// first: a file is never listed without the provenance it came with.
    pub(super) fn put(
        &self,
        file: &str,
        bytes: &[u8],
        provenance: Option<&[u8]>,
    ) -> Result<(), String> {
        let path = self
            .path(file)
            .ok_or_else(|| format!("not a distribution file name: {file:?}"))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        if let (Some(p), Some(prov)) = (self.provenance_path(file), provenance) {
            keyless::files::write_atomic(&p, prov).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        keyless::files::write_atomic(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub(super) fn exists(&self, file: &str) -> bool {
        self.path(file).is_some_and(|p| p.is_file())
    }

    /// The files of `project` (normalized), sorted by name.
    pub(super) fn list(&self, project: &str) -> Vec<Listed> {
        let Ok(entries) = std::fs::read_dir(self.dir.join(project)) else {
            return Vec::new();
        };
        let mut out: Vec<Listed> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let filename = e.file_name().into_string().ok()?;
                let (p, version) = parse_filename(&filename)?;
                if p != project {
                    return None;
                }
                let bytes = std::fs::read(e.path()).ok()?;
                Some(Listed {
                    sha256: sha256_hex(&bytes),
                    size: bytes.len() as u64,
                    has_provenance: self.provenance_path(&filename).is_some_and(|p| p.is_file()),
                    filename,
                    version,
                })
            })
            .collect();
        out.sort_by(|a, b| a.filename.cmp(&b.filename));
        out
    }

    /// Every project with at least one file.
    pub(super) fn projects(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|p| !self.list(p).is_empty())
            .collect();
        out.sort();
        out
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_come_from_file_names() {
        assert_eq!(normalize("Hello__World.py"), "hello-world-py");
        assert_eq!(normalize("gitlab_oidc_project"), "gitlab-oidc-project");
        let p = |f: &str| parse_filename(f);
        assert_eq!(
            p("hello_py-1.0-py3-none-any.whl"),
            Some(("hello-py".into(), "1.0".into()))
        );
        assert_eq!(
            p("hello_py-1.0-1-py3-none-any.whl"),
            Some(("hello-py".into(), "1.0".into()))
        );
        assert_eq!(
            p("pypi_attestations-0.0.19.tar.gz"),
            Some(("pypi-attestations".into(), "0.0.19".into()))
        );
        for bad in [
            "",
            "x.tar.gz",
            "a-1.tar.gz.provenance",
            "../a-1.tar.gz",
            "a/b-1.tar.gz",
            "a-1-py3.whl",
            ".a-1.tar.gz",
            "a-1.exe",
            "a\n-1.tar.gz",
        ] {
            assert_eq!(p(bad), None, "{bad:?}");
        }
    }
}
