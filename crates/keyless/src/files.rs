//! Files in and out: inputs read through a size cap, outputs written
//! atomically (a temporary file, then a rename), so a reader never sees half
//! a file and a failure never destroys a good one.

use crate::error::{Error, FileKind, Result};
use std::io::Read;
use std::path::Path;

/// Read `path` as bytes, at most `limit` of them: checked before reading
/// (a regular file's size) and while reading (a FIFO, a device, a growing
/// file), so nothing ever reads more than `limit + 1` bytes.
pub(crate) fn read_bytes_limited(path: &Path, limit: u64, what: FileKind) -> Result<Vec<u8>> {
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
    Ok(bytes)
}

/// Read `path` as UTF-8 text of at most `limit` bytes.
///
/// The size is checked before reading (so a 2 GiB file is refused at once) and
/// again while reading (so a FIFO or a growing file cannot exceed it either).
pub(crate) fn read_text_limited(path: &Path, limit: u64, what: FileKind) -> Result<String> {
    let bytes = read_bytes_limited(path, limit, what)?;
    String::from_utf8(bytes).map_err(|e| Error::Malformed {
        path: path.to_path_buf(),
        what,
        reason: format!(
            "not UTF-8 text (invalid byte at offset {}); expected a JSON document",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// A temporary file next to `path`, created exclusively under a random
/// name (never following a planted symlink), holding `bytes`, synced.
fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<std::path::PathBuf> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut last_err = None;
    for _ in 0..8 {
        let mut nonce = [0u8; 8];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| std::io::Error::other("no randomness"))?;
        let suffix = crate::digest::hex(&nonce);
        let tmp = dir.join(format!(".{name}.{suffix}.tmp"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(mut f) => {
                let written = f.write_all(bytes).and_then(|()| f.sync_all());
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
                return Ok(tmp);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// Write `bytes` to `path` atomically: a temporary file in the same
/// directory, then a rename, so readers never see half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_all_atomic(&[(path, bytes)])
}

/// Write several files as one unit: every temporary file is written first,
/// then all are renamed into place. If any step fails, temporary files are
/// removed and outputs already renamed by this call are deleted, so a
/// failure never leaves a mix of new and old outputs behind.
pub fn write_all_atomic(files: &[(&Path, &[u8])]) -> std::io::Result<()> {
    let mut temps = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        match write_temp(path, bytes) {
            Ok(t) => temps.push(t),
            Err(e) => {
                for t in &temps {
                    let _ = std::fs::remove_file(t);
                }
                return Err(e);
            }
        }
    }
    for (i, ((path, _), tmp)) in files.iter().zip(&temps).enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            for t in &temps[i..] {
                let _ = std::fs::remove_file(t);
            }
            for (done, _) in &files[..i] {
                let _ = std::fs::remove_file(done);
            }
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_multi_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("a.sigstore.json");
        let bad = dir.path().join("missing-dir/a.sig");
        assert!(write_all_atomic(&[(&ok, b"bundle"), (&bad, b"sig")]).is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        write_all_atomic(&[(&ok, b"bundle")]).unwrap();
        assert_eq!(std::fs::read(&ok).unwrap(), b"bundle");
    }
}
