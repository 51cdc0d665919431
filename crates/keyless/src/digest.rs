//! SHA-256 of artifacts, streamed: every file keyless hashes (to sign it, to
//! verify it, to search the log for it) goes through one reader here, in
//! large reads and constant memory, and is read exactly once.

use crate::error::{Error, Result};
use sigstore_types::Sha256Hash;
use std::io::Read;
use std::path::Path;

/// Reads of 1 MiB: few system calls, and memory stays flat at any file size.
const READ_SIZE: usize = 1 << 20;

/// The SHA-256 of the file at `path`, streamed (never held whole in memory).
pub fn sha256_file(path: &Path) -> Result<Sha256Hash> {
    sha256_open(open_artifact(path)?, path)
}

/// The SHA-256 of `file`, open at `path` (named in errors), streamed.
pub(crate) fn sha256_open(file: std::fs::File, path: &Path) -> Result<Sha256Hash> {
    // A small file needs no 1 MiB buffer (a checksum list may name many).
    let size = file.metadata().map_or(READ_SIZE as u64, |m| m.len());
    let mut r = HashingReader::new(file);
    let mut buf = vec![0u8; (size as usize).clamp(8 * 1024, READ_SIZE)];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(Error::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    r.finish().ok_or_else(|| Error::Incomplete {
        path: path.to_path_buf(),
    })
}

/// Open an artifact for reading; a directory is refused by name.
pub(crate) fn open_artifact(path: &Path) -> Result<std::fs::File> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    if std::fs::metadata(path).map_err(read_err)?.is_dir() {
        return Err(Error::IsADirectory {
            path: path.to_path_buf(),
        });
    }
    std::fs::File::open(path).map_err(read_err)
}

/// Hashes what passes through it, so the artifact is read exactly once, and
/// remembers an I/O error so it is reported as one, not as a bad signature.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: sigstore_crypto::Sha256Hasher,
    eof: bool,
    pub(crate) error: Option<std::io::Error>,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: sigstore_crypto::Sha256Hasher::new(),
            eof: false,
            error: None,
        }
    }

    /// The digest, if the reader was read to the end.
    pub(crate) fn finish(self) -> Option<Sha256Hash> {
        self.eof.then(|| self.hasher.finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(0) => {
                self.eof = !buf.is_empty() || self.eof;
                Ok(0)
            }
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                Ok(n)
            }
            // The caller retries an interrupted read; it is not a failure.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let copy = std::io::Error::new(e.kind(), e.to_string());
                self.error = Some(e);
                Err(copy)
            }
        }
    }
}

/// Lower-case hex of raw bytes (log IDs, key IDs, random names).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_hashes_like_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        // Longer than one read, so the loop is exercised.
        let data: Vec<u8> = (0..READ_SIZE + 12345).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        assert_eq!(sha256_file(&path).unwrap(), sigstore_crypto::sha256(&data));
        assert!(matches!(
            sha256_file(dir.path()),
            Err(Error::IsADirectory { .. })
        ));
        assert!(matches!(
            sha256_file(&dir.path().join("missing")),
            Err(Error::Read { .. })
        ));
    }

    #[test]
    fn hex_is_lower_case_and_padded() {
        assert_eq!(hex(&[0, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(hex(&[]), "");
    }
}
