//! Folders on a command line: `keyless sign dist/` and `keyless verify dist/`
//! both take a folder to stand for some of the regular files directly in it,
//! sorted by name, not recursive; each command chooses which. A file reached
//! twice (`dist/` and `dist/x.whl`, or `./x` and `x`) is taken once.

use crate::error::{Error, Result};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The regular files directly in `dir` that `keep` accepts, sorted by path.
/// Symbolic links to regular files count; subfolders are not entered.
pub(crate) fn files_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && keep(p))
        .collect();
    found.sort();
    Ok(found)
}

/// Whether `path` names a directory (following symbolic links); a path that
/// cannot be looked at is not one, and fails later where it is opened.
pub(crate) fn is_dir(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

/// Remembers which files have been taken, by their canonical path (the path
/// itself when it cannot be resolved, e.g. a file that does not exist).
#[derive(Debug, Default)]
pub(crate) struct Seen(HashSet<PathBuf>);

impl Seen {
    /// Record `path`; false when the same file was recorded before.
    pub(crate) fn insert(&mut self, path: &Path) -> bool {
        self.0.insert(identity(path))
    }

    /// Whether the same file as `path` was recorded.
    pub(crate) fn contains(&self, path: &Path) -> bool {
        self.0.contains(&identity(path))
    }
}

/// The file `path` names, however it is spelled (its canonical path when
/// it exists).
pub(crate) fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `paths` joined for a message: `dist/, other/`.
pub(crate) fn list(paths: impl IntoIterator<Item = impl AsRef<Path>>) -> String {
    paths
        .into_iter()
        .map(|p| p.as_ref().display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_lists_its_regular_files_sorted_without_entering_subfolders() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.whl", "a.tar.gz", "c.txt"] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.whl")).unwrap();
        std::fs::write(dir.path().join("sub.whl/d.whl"), "d").unwrap();
        let names: Vec<String> = files_in(dir.path(), |p| !p.ends_with("c.txt"))
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.tar.gz", "b.whl"]);
    }

    #[test]
    fn the_same_file_by_two_names_is_seen_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.whl");
        std::fs::write(&file, "x").unwrap();
        let mut seen = Seen::default();
        assert!(seen.insert(&file));
        assert!(!seen.insert(&dir.path().join(".").join("x.whl")));
        assert!(seen.contains(&file));
        assert!(!seen.contains(&dir.path().join("y.whl")));
    }
}
