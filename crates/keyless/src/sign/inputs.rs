//! Which files a signing run signs: command-line paths expanded, a
//! directory to its distributions, each file once.

use crate::error::{Error, Result};
use crate::inputs::{Seen, files_in, is_dir, list};
use std::path::PathBuf;

/// Expand command-line paths: a directory gives its `*.whl` and `*.tar.gz`
/// files (sorted, not recursive); a file is taken whatever its name.
pub fn select_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        // A path that does not exist is refused here, before any signing.
        std::fs::metadata(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        if is_dir(path) {
            out.extend(files_in(path, crate::attestation::is_distribution)?);
        } else {
            out.push(path.clone());
        }
    }
    // The same file named twice (dist/ and dist/x.whl, or ./x and x) is
    // signed once.
    let mut seen = Seen::default();
    out.retain(|p| seen.insert(p));
    if out.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to sign: no *.whl or *.tar.gz files in {}",
            list(paths)
        )));
    }
    Ok(out)
}
