//! Checksum lists as `keyless verify --from` reads them.

use super::{Seed, Target};
use keyless::verify::checksums::parse_checksum_list;
use std::path::Path;

/// `sha256sum` lists with keyless's optional bundle column: every line
/// parsed into a digest, a name and the evidence to check it against, or
/// the list refused naming its line.
pub struct ChecksumsTarget {
    seeds: Vec<Seed>,
}

impl ChecksumsTarget {
    /// Its seeds: a release's list as sha256sum writes it (text and binary
    /// markers, comments, a bundle column, a CRLF line end).
    pub fn load() -> Self {
        let a = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let b = "60303AE22B998861BCE3B28F33EEC1BE758A213C86C93C076DBE9F558C11C752";
        let lists = [
            format!("{a}  hello-1.0-py3-none-any.whl\n{b} *hello-1.0.tar.gz\n"),
            format!("# release 1.0\n\n{a}  notes.txt  sigs/notes.txt.sigstore.json\r\n"),
            format!("{a}  dist/sub/hello-1.0.tar.gz\t/abs/hello.sigstore\n"),
        ];
        let seeds = lists
            .iter()
            .enumerate()
            .map(|(i, text)| Seed {
                name: format!("checksum list {i}"),
                data: text.clone().into_bytes(),
                context: 0,
            })
            .collect();
        Self { seeds }
    }
}

impl Target for ChecksumsTarget {
    fn name(&self) -> &'static str {
        "checksums"
    }

    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }

    fn run(&self, _context: usize, data: &[u8]) -> String {
        let Ok(text) = std::str::from_utf8(data) else {
            return "not UTF-8".into();
        };
        match parse_checksum_list(text, Path::new("SHA256SUMS"), Path::new("dist")) {
            Ok(selected) => {
                // Every line gives a digest and the evidence to check it with.
                for s in &selected {
                    assert!(s.input.is_ok() && s.evidence.is_some(), "{s:?}");
                }
                format!("listed {}", selected.len())
            }
            Err(_) => "refused".into(),
        }
    }
}
