//! Which files a signing run signs: command-line paths expanded, a
//! directory to its distributions, each file once.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// Expand command-line paths: a directory gives its `*.whl` and `*.tar.gz`
/// files (sorted, not recursive); a file is taken whatever its name.
pub fn select_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let rd = std::fs::read_dir(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default();
                    p.is_file() && (name.ends_with(".whl") || name.ends_with(".tar.gz"))
                })
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    // The same file named twice (dist/ and dist/x.whl, or ./x and x) is
    // signed once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    if out.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to sign: no *.whl or *.tar.gz files in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(out)
}
