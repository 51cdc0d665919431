//! A checksum list as the inputs of one verification run (`keyless verify
//! --from SHA256SUMS`): one artifact per line, written as `sha256sum`
//! writes it, `<64 hex>  <name>`, optionally followed by the bundle as a
//! third column. Each line is verified by its digest alone (the named file
//! is not read; `sha256sum -c` checks the files against the list), against
//! the bundle in the third column or else the one found beside the name
//! by the usual lookup ([`BundleSource::find_for`]).
//!
//! Names and bundles are relative to the list's folder (to the working
//! folder for standard input), so `--from dist/SHA256SUMS` finds
//! `dist/<name>.sigstore.json`; an absolute name stays as it is, as
//! `sha256sum /srv/dist/*` writes it. The list is trusted to name the files
//! and bundles to read: a bundle still has to verify for its line's digest.
//! Names hold no spaces: a space or tab after a name starts the bundle
//! column (sha256sum itself allows spaces).
//!
//! A pip requirements file (`--hash=sha256:`) is not a second format: its
//! hashes name no file and no bundle, so nothing says which bundle a hash
//! is to be checked against.

use super::{BundleSource, Input, Selected};
use crate::error::{Error, FileKind, Result};
use sigstore_types::Sha256Hash;
use std::io::Read;
use std::path::Path;

/// A list larger than this is refused: 64 MiB is over half a million lines.
pub const MAX_CHECKSUM_LIST_BYTES: u64 = 64 * 1024 * 1024;

/// How the command line names standard input as the list.
pub const STDIN: &str = "-";

/// Read the checksum list at `from` (`-`: standard input) into the inputs
/// to verify, in the list's order.
pub fn read_checksum_list(from: &Path) -> Result<Vec<Selected>> {
    if from == Path::new(STDIN) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_CHECKSUM_LIST_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Read {
                path: from.to_path_buf(),
                source,
            })?;
        if bytes.len() as u64 > MAX_CHECKSUM_LIST_BYTES {
            return Err(Error::TooLarge {
                path: from.to_path_buf(),
                size: bytes.len() as u64,
                limit: MAX_CHECKSUM_LIST_BYTES,
                what: FileKind::ChecksumList,
            });
        }
        let text = String::from_utf8(bytes).map_err(|e| malformed(from, not_utf8(&e)))?;
        return parse_checksum_list(&text, from, Path::new(""));
    }
    let text =
        crate::files::read_text_limited(from, MAX_CHECKSUM_LIST_BYTES, FileKind::ChecksumList)?;
    parse_checksum_list(&text, from, from.parent().unwrap_or(Path::new("")))
}

/// The inputs `text` lists, names and bundles taken relative to `base`;
/// `origin` names the list in errors. Blank lines and `#` comments are
/// skipped; any other line that is not `<64 hex> <name> [<bundle>]` (with
/// `sha256sum`'s ` ` or ` *` before the name) is an error naming its line.
pub fn parse_checksum_list(text: &str, origin: &Path, base: &Path) -> Result<Vec<Selected>> {
    let mut selected = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (digest, name, bundle) = parse_line(line)
            .map_err(|reason| malformed(origin, format!("line {}: {reason}", number + 1)))?;
        let name_path = base.join(name);
        let evidence = match bundle {
            Some(b) => BundleSource::Bundle(base.join(b)),
            None => BundleSource::find_for(&name_path),
        };
        selected.push(Selected {
            arg: name_path.display().to_string(),
            input: Ok(Input::Digest(digest)),
            evidence: Some(evidence),
        });
    }
    if selected.is_empty() {
        return Err(malformed(origin, "it lists no file".into()));
    }
    Ok(selected)
}

/// One line: the digest, the name and the bundle, if named.
fn parse_line(line: &str) -> std::result::Result<(Sha256Hash, &str, Option<&str>), String> {
    // sha256sum escapes a name holding a backslash or newline and marks the
    // line with a leading backslash; such names are not taken.
    if line.starts_with('\\') {
        return Err("escaped file names (a leading backslash) are not supported".into());
    }
    let (hex, rest) = line
        .split_once(' ')
        .ok_or("expected '<sha256>  <name>', as sha256sum writes it")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{:?} is not a SHA-256 digest (64 hex digits); only sha256sum's format is read",
            hex.chars().take(72).collect::<String>()
        ));
    }
    let digest = Sha256Hash::from_hex(&hex.to_ascii_lowercase()).map_err(|e| e.to_string())?;
    // ` *` marks binary mode, `  ` text mode: the same bytes either way.
    let rest = rest.strip_prefix(['*', ' ']).unwrap_or(rest);
    // Columns are split at plain spaces and tabs only; any other white
    // space or control character would split a name, or hide in it.
    if let Some(c) = rest
        .chars()
        .find(|&c| c != '\t' && (c.is_control() || (c.is_whitespace() && c != ' ')))
    {
        return Err(format!(
            "the name holds {c:?}: names hold no white space but plain spaces, which separate the bundle column"
        ));
    }
    let mut columns = rest.split([' ', '\t']).filter(|c| !c.is_empty());
    let name = columns.next().ok_or("no file name after the digest")?;
    let bundle = columns.next();
    if columns.next().is_some() {
        return Err(
            "more than three columns (names with spaces are not read: a second column after the name is its bundle)"
                .into(),
        );
    }
    Ok((digest, name, bundle))
}

fn malformed(origin: &Path, reason: String) -> Error {
    Error::Malformed {
        path: origin.to_path_buf(),
        what: FileKind::ChecksumList,
        reason,
    }
}

fn not_utf8(e: &std::string::FromUtf8Error) -> String {
    format!(
        "not UTF-8 text (invalid byte at offset {})",
        e.utf8_error().valid_up_to()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const A: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn parse(text: &str) -> Result<Vec<Selected>> {
        parse_checksum_list(text, Path::new("SUMS"), Path::new("dist"))
    }

    fn evidence(s: &Selected) -> PathBuf {
        s.evidence.as_ref().unwrap().path().to_path_buf()
    }

    #[test]
    fn sha256sum_lines_give_digests_with_their_bundles_beside_or_named() {
        let text = format!(
            "# release\n{A}  a.tar.gz\n\n{} *b.whl\n{A}  c.txt  sigs/c.bundle\n",
            A.to_uppercase()
        );
        let selected = parse(&text).unwrap();
        let digest = Sha256Hash::from_hex(A).unwrap();
        assert_eq!(selected.len(), 3);
        for s in &selected {
            assert_eq!(s.input.as_ref().unwrap(), &Input::Digest(digest));
        }
        assert_eq!(
            selected[0].arg,
            Path::new("dist/a.tar.gz").display().to_string()
        );
        assert_eq!(
            evidence(&selected[0]),
            Path::new("dist/a.tar.gz.sigstore.json")
        );
        assert_eq!(
            selected[1].arg,
            Path::new("dist/b.whl").display().to_string()
        );
        assert_eq!(evidence(&selected[2]), Path::new("dist/sigs/c.bundle"));
    }

    #[test]
    fn a_bad_line_is_an_error_naming_its_line() {
        for (text, says) in [
            (format!("{A}  a\nnot-a-digest  b\n"), "line 2"),
            (format!("{}  a\n", &A[..60]), "64 hex"),
            (format!("{A}\n"), "expected"),
            (format!("{A}  a b c\n"), "three columns"),
            (
                format!("{A}  caf\u{a0}menu.pdf\n"),
                "names hold no white space",
            ),
            (format!("{A}  a\rb\n"), "names hold no white space"),
            (format!("\\{A}  a\\nb\n"), "escaped"),
            ("# nothing\n".to_string(), "lists no file"),
        ] {
            let err = parse(&text).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Malformed {
                        what: FileKind::ChecksumList,
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(err.to_string().contains(says), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_list_file_is_read_relative_to_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("SHA256SUMS");
        std::fs::write(&list, format!("{A}  a.txt\n")).unwrap();
        std::fs::write(dir.path().join("a.txt.sigstore"), "{}").unwrap();
        let selected = read_checksum_list(&list).unwrap();
        // The legacy spelling is found beside the name, as for a file input.
        assert_eq!(evidence(&selected[0]), dir.path().join("a.txt.sigstore"));
    }
}
