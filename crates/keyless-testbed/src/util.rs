//! Small helpers the testbed's modules share: lower-case hex, and reading a
//! file that may not exist yet.

use std::path::Path;

/// Lower-case hex (the library's encoder).
pub use keyless::digest::hex as hex_encode;

/// The bytes of `path`, or `None` if there is no such file; other errors are
/// the caller's to word.
pub(crate) fn read_optional(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
