//! Checksum lists as `keyless verify --from` reads them.

use super::{Seed, Target};
use keyless::verify::checksums::ChecksumList;
use std::path::Path;

/// `sha256sum` lists as `sha256sum -c` reads them: every line read into a
/// digest, a name and the evidence to check it against, or refused naming
/// its line; no accepted name starts or ends with white space or holds a
/// control character.
pub struct ChecksumsTarget {
    seeds: Vec<Seed>,
}

impl ChecksumsTarget {
    /// Its seeds: a release's list as sha256sum writes it (text and binary
    /// markers, comments, a name with a space, an escaped name, a CRLF line
    /// end, a one-space line).
    pub fn load() -> Self {
        let a = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let b = "60303AE22B998861BCE3B28F33EEC1BE758A213C86C93C076DBE9F558C11C752";
        let lists = [
            format!("{a}  hello-1.0-py3-none-any.whl\n{b} *hello-1.0.tar.gz\n"),
            format!("# release 1.0\n\n{a}  notes.txt  sigs/notes.txt.sigstore.json\r\n"),
            format!("{a}  dist/sub/hello-1.0.tar.gz\t/abs/hello.sigstore\n"),
            format!("\\{a}  back\\\\slash.txt\n{b} one-space.txt\n"),
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
        let list = ChecksumList::new(
            Box::new(std::io::Cursor::new(data.to_vec())),
            Path::new("SHA256SUMS"),
            Path::new("dist"),
        );
        let (mut listed, mut refused) = (0, 0);
        for line in list {
            match line.file {
                Ok(f) => {
                    let name = f.path.strip_prefix("dist").unwrap_or(&f.path);
                    let name = name.to_str().expect("names are UTF-8");
                    assert!(
                        !name.starts_with([' ', '\t'])
                            && !name.ends_with([' ', '\t'])
                            && !name.chars().any(char::is_control),
                        "{f:?}"
                    );
                    listed += 1;
                }
                Err(_) => refused += 1,
            }
        }
        format!("listed {listed}, refused {refused}")
    }
}
