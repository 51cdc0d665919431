//! Reading small JSON documents (bundles, trust material) safely.

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;

/// Read `path` as UTF-8 text of at most `limit` bytes.
///
/// The size is checked before reading (so a 2 GiB file is refused at once) and
/// again while reading (so a FIFO or a growing file cannot exceed it either).
pub(crate) fn read_text_limited(path: &Path, limit: u64, what: &'static str) -> Result<String> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.is_dir() {
        return Err(Error::IsADirectory {
            path: path.to_path_buf(),
        });
    }
    if meta.is_file() && meta.len() > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit,
            what,
        });
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit,
            what,
        });
    }
    String::from_utf8(bytes).map_err(|e| Error::Malformed {
        path: path.to_path_buf(),
        what,
        reason: format!(
            "not UTF-8 text (invalid byte at offset {}); expected a JSON document",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// Write `bytes` to `path` atomically: a temporary file in the same
/// directory, then a rename, so readers never see half a file.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
