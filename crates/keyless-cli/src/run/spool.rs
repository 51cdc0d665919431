//! Report parts kept until the run's end, off the heap once they grow: a
//! JSON or JUnit report opens with totals known only when every input is
//! checked, and a checksum list may have a million lines, so each part is
//! written here as it is delivered and the whole copied out at the end.

use std::io::{Read, Seek, Write};

/// Parts held in memory up to this size, then in an unnamed temporary file.
const IN_MEMORY: usize = 4 << 20;

/// Bytes appended in order and copied out once.
#[derive(Default)]
pub struct Spool {
    memory: Vec<u8>,
    file: Option<std::fs::File>,
}

impl Spool {
    /// Append `bytes`.
    pub fn push(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() && self.memory.len() + bytes.len() > IN_MEMORY {
            // Unnamed: it goes with the process, whatever ends it.
            let mut file = tempfile::tempfile()?;
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(f) => f.write_all(bytes),
            None => {
                self.memory.extend_from_slice(bytes);
                Ok(())
            }
        }
    }

    /// Whether nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.memory.is_empty()
    }

    /// Copy everything appended to `out`.
    pub fn copy_to(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => {
                f.rewind()?;
                let mut reader = std::io::BufReader::with_capacity(1 << 20, &*f);
                std::io::copy(&mut reader.by_ref(), out).map(|_| ())
            }
            None => out.write_all(&self.memory),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_pushed_comes_out_in_order_from_memory_and_from_a_file() {
        for part in [10, IN_MEMORY / 3 + 1] {
            let mut spool = Spool::default();
            assert!(spool.is_empty());
            let mut expected = Vec::new();
            for i in 0..5u8 {
                let bytes = vec![b'a' + i; part];
                spool.push(&bytes).unwrap();
                expected.extend(bytes);
            }
            assert_eq!(spool.file.is_some(), part > 10);
            let mut out = Vec::new();
            spool.copy_to(&mut out).unwrap();
            assert_eq!(out, expected);
        }
    }
}
