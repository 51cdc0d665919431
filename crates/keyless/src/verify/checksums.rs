//! A checksum list as the inputs of one verification run (`keyless verify
//! --from SHA256SUMS`): one artifact per line, `<64 hex>  <name>` as
//! `sha256sum` writes it, each verified against the bundle found beside its
//! name by the usual lookup ([`BundleSource::find_for`]).
//!
//! # A line means what it means to `sha256sum -c`
//!
//! A list is the one place where two tools read the same names: a user runs
//! `sha256sum -c` (or trusts keyless to have hashed the files) and then
//! installs what the list names. If keyless read `<digest>  pkg.tar.gz `
//! as `pkg.tar.gz` while coreutils reads `pkg.tar.gz ` (trailing space), a
//! decoy named `pkg.tar.gz ` could hold the signed bytes, both tools would
//! pass, and the `pkg.tar.gz` that gets installed would be checked by
//! neither. So a line is read exactly as GNU coreutils' `sha256sum -c` reads
//! it, and every line coreutils could read otherwise is refused:
//!
//! - the name is the whole rest of the line after `<digest>` and the mode
//!   marker (`' '` text, `'*'` binary: the same bytes either way), spaces
//!   included; one trailing CR is dropped, as coreutils drops it;
//! - a line starting with a backslash holds an escaped name (`\\` for a
//!   backslash, as coreutils writes it); other escapes are refused;
//! - refused: a name that is not printable ASCII (letters, digits,
//!   punctuation and single inner spaces, as release files are named): any
//!   other character can make two names look alike (a trailing or doubled
//!   space, a tab, a no-break space, invisible and bidirectional
//!   characters, variation selectors, Hangul fillers, a Cyrillic `а` for a
//!   Latin `a`, a name in NFD beside one in NFC); a name that starts or ends
//!   with a space, or starts with `*` (`<d>  *x` names `*x`, `<d> *x` names
//!   `x`); the name `-` (standard input to coreutils); one space between
//!   digest and name or a tab after the digest (coreutils reads such lines
//!   differently depending on the list's *first* line), and every line of a
//!   list whose first line was of that kind; leading white space; the
//!   tagged format (`SHA256 (name) = ...`); anything else not a line.
//!
//! A refused line is reported as an error of its own (exit 2) and the other
//! lines are still checked. There is no bundle column: a second name on the
//! line is part of the name, as it is to coreutils.
//!
//! Names are relative to the list's folder (to the working folder for
//! standard input or a pipe such as `--from <(...)`), so `--from dist/SHA256SUMS` finds `dist/<name>` and
//! `dist/<name>.sigstore.json`; an absolute name stays as it is, as
//! `sha256sum /srv/dist/*` writes it. The list is trusted to name the files
//! and bundles to read: a bundle still has to verify for its line's digest.
//!
//! # Memory
//!
//! The list is read a line at a time ([`ChecksumList`] is an iterator), so
//! a run's memory does not grow with the list; a line is at most
//! [`MAX_LINE_BYTES`].
//!
//! A pip requirements file (`--hash=sha256:`) is not a second format: its
//! hashes name no file and no bundle, so nothing says which bundle a hash
//! is to be checked against.

use super::BundleSource;
use crate::error::{Error, FileKind, Result};
use sigstore_types::Sha256Hash;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

/// A line longer than this is refused (a name is at most `PATH_MAX`, 4096
/// bytes, on Linux).
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// How the command line names standard input as the list.
pub const STDIN: &str = "-";

/// One file a list names, with the digest the list gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// The name as reports give it: the path, relative to the working
    /// folder (the list's folder joined with the listed name).
    pub arg: String,
    /// The file, where keyless reads it (unless asked not to).
    pub path: PathBuf,
    /// The SHA-256 the list gives it.
    pub digest: Sha256Hash,
    /// Its evidence, found beside it.
    pub evidence: BundleSource,
}

/// One line's reading: the file it lists, or why it is refused.
#[derive(Debug)]
pub struct ListedLine {
    /// How reports name the line when it lists no file: `<list>:<line>`.
    pub arg: String,
    /// The file listed, or the error that refuses the line.
    pub file: Result<ListedFile>,
}

/// The lines of a checksum list, read one at a time. Blank lines and
/// comments (`#` first) are skipped; every other line is one item.
pub struct ChecksumList {
    reader: Box<dyn BufRead + Send>,
    origin: PathBuf,
    base: PathBuf,
    line: usize,
    mode: Mode,
    ended: bool,
}

/// How coreutils reads a list's lines, fixed by the first line it reads
/// as one (`bsd_reversed` in coreutils' `digest.c`): `<digest>  <name>`
/// (or ` *`), or `<digest> <name>` with one white space. In the second
/// mode, a later `<digest>  <name>` names ` <name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Undecided,
    Standard,
    /// Since this line.
    OneSpace(usize),
}

/// Open the checksum list at `from` (`-`: standard input) for reading, a
/// line at a time.
///
/// A list comes with the files it names, from whoever made the release, so
/// it is opened as they are: a regular file only, refused unread otherwise
/// (a FIFO with no writer, a symlink to `/dev/zero`), never blocking. A
/// pipe the user hands over (`-`, `/dev/stdin`, `--from <(...)`, which is
/// `/dev/fd/N`) is read as it comes, its names relative to the working
/// folder (the pipe's own folder, `/dev/fd`, names nothing of the user's).
pub fn open_checksum_list(from: &Path) -> Result<ChecksumList> {
    let reader = |r: Box<dyn Read + Send>| std::io::BufReader::with_capacity(64 * 1024, r);
    if from == Path::new(STDIN) {
        let stdin = reader(Box::new(std::io::stdin()));
        return Ok(ChecksumList::new(Box::new(stdin), from, Path::new("")));
    }
    if from == Path::new("/dev/stdin") || from.starts_with("/dev/fd") {
        let file = crate::digest::open_artifact(from)?;
        return Ok(ChecksumList::new(
            Box::new(reader(Box::new(file))),
            from,
            Path::new(""),
        ));
    }
    let file = crate::files::open_regular(from)?;
    Ok(ChecksumList::new(
        Box::new(reader(Box::new(file))),
        from,
        from.parent().unwrap_or(Path::new("")),
    ))
}

impl ChecksumList {
    /// The lines of `reader`, names taken relative to `base`; `origin`
    /// names the list in errors and reports.
    pub fn new(reader: Box<dyn BufRead + Send>, origin: &Path, base: &Path) -> Self {
        Self {
            reader,
            origin: origin.to_path_buf(),
            base: base.to_path_buf(),
            line: 0,
            mode: Mode::Undecided,
            ended: false,
        }
    }

    /// The number of the last line read.
    pub fn lines_read(&self) -> usize {
        self.line
    }

    fn refused(&self, reason: String) -> ListedLine {
        ListedLine {
            arg: format!("{}:{}", self.origin.display(), self.line),
            file: Err(malformed(
                &self.origin,
                format!("line {}: {reason}", self.line),
            )),
        }
    }

    /// The next line's bytes without its newline, or `None` at the end.
    /// A line longer than [`MAX_LINE_BYTES`] is read to its end and
    /// returned as `Err(())`.
    fn next_line(
        &mut self,
        buf: &mut Vec<u8>,
    ) -> std::io::Result<Option<std::result::Result<(), ()>>> {
        buf.clear();
        let n = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
            return Ok(Some(Ok(())));
        }
        if buf.len() <= MAX_LINE_BYTES {
            // The last line, without a newline.
            return Ok(Some(Ok(())));
        }
        // Too long: skip to its end, a buffer at a time.
        loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.reader.consume(i + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    self.reader.consume(len);
                }
            }
        }
        Ok(Some(Err(())))
    }
}

impl Iterator for ChecksumList {
    type Item = ListedLine;

    fn next(&mut self) -> Option<ListedLine> {
        let mut buf = Vec::new();
        // Bounded by the list: each turn reads one line.
        while !self.ended {
            let complete = match self.next_line(&mut buf) {
                Ok(Some(r)) => r.is_ok(),
                Ok(None) => {
                    self.ended = true;
                    return None;
                }
                Err(source) => {
                    // Nothing after an error can be trusted to be a line.
                    self.ended = true;
                    self.line += 1;
                    return Some(ListedLine {
                        arg: format!("{}:{}", self.origin.display(), self.line),
                        file: Err(Error::Read {
                            path: self.origin.clone(),
                            source,
                        }),
                    });
                }
            };
            match read_line(&buf, complete, &mut self.mode, self.line) {
                Line::Skip => continue,
                Line::Refused(reason) => return Some(self.refused(reason)),
                Line::File { digest, name } => {
                    let path = self.base.join(&name);
                    return Some(ListedLine {
                        arg: path.display().to_string(),
                        file: Ok(ListedFile {
                            arg: path.display().to_string(),
                            evidence: BundleSource::find_for(&path),
                            path,
                            digest,
                        }),
                    });
                }
            }
        }
        None
    }
}

/// What one line is.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// Blank, or a comment.
    Skip,
    /// Refused, and why.
    Refused(String),
    /// A file and its digest.
    File { digest: Sha256Hash, name: String },
}

/// coreutils' white space between a digest and its name (`ISWHITE`).
fn is_white(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Read one line (its bytes without the newline; `complete` is false when
/// it was cut at [`MAX_LINE_BYTES`]) as `sha256sum -c` does, keeping the
/// list's `mode` as coreutils keeps it, whatever keyless then refuses;
/// `number` is the line's number.
fn read_line(line: &[u8], complete: bool, mode: &mut Mode, number: usize) -> Line {
    // coreutils drops one trailing CR (a list written on Windows).
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.first() == Some(&b'#') || line.iter().copied().all(is_white) {
        return Line::Skip;
    }
    // coreutils skips leading white space, then reads an optional
    // backslash (an escaped name) and the digest, which must be followed
    // by one white space and at least one more character.
    let start = line.iter().position(|&b| !is_white(b)).unwrap_or(0);
    let escaped = line[start] == b'\\';
    let hex_at = start + usize::from(escaped);
    let after = hex_at + 64;
    let hex = line
        .get(hex_at..after)
        .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
    let (Some(hex), true) = (hex, line.len() >= after + 2 && is_white(line[after])) else {
        let shown = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
        return Line::Refused(if line[start..].starts_with(b"SHA256 (") {
            "the tagged format (sha256sum --tag) is not read; write the list with sha256sum without --tag".into()
        } else {
            format!(
                "expected '<sha256>  <name>' (64 hex digits, two spaces, the name), as sha256sum writes it; found {shown:?}"
            )
        });
    };
    // Then coreutils decides whether the next character is the mode
    // marker, once per list.
    let rest = &line[after + 1..];
    let marked = rest.len() > 1 && (rest[0] == b' ' || rest[0] == b'*');
    if *mode == Mode::Undecided {
        *mode = if marked {
            Mode::Standard
        } else {
            Mode::OneSpace(number)
        };
    }
    if let Mode::OneSpace(since) = *mode {
        return Line::Refused(format!(
            "sha256sum reads every line of this list differently since line {since}, which has one white space between digest and name; write two spaces ('<sha256>  <name>')"
        ));
    }
    if !marked {
        // coreutils finds this line improperly formatted: no name at all.
        return Line::Refused(
            "one white space between digest and name; sha256sum writes two ('<sha256>  <name>')"
                .into(),
        );
    }
    if !complete {
        return Line::Refused(format!("longer than {MAX_LINE_BYTES} bytes"));
    }
    if start > 0 {
        return Line::Refused("white space before the digest".into());
    }
    if line[after] != b' ' {
        return Line::Refused("a tab after the digest; sha256sum writes two spaces".into());
    }
    let Ok(raw) = std::str::from_utf8(&rest[1..]) else {
        return Line::Refused("the name is not UTF-8 text".into());
    };
    let name = if escaped {
        match unescape(raw) {
            Some(n) => n,
            None => {
                return Line::Refused(
                    "an escaped name holds a backslash that is not '\\\\', '\\n' or '\\r'".into(),
                );
            }
        }
    } else {
        raw.to_string()
    };
    if let Err(reason) = check_name(&name) {
        return Line::Refused(reason);
    }
    // Hex digits are ASCII.
    let hex = String::from_utf8_lossy(hex).to_ascii_lowercase();
    match Sha256Hash::from_hex(&hex) {
        Ok(digest) => Line::File { digest, name },
        Err(e) => Line::Refused(e.to_string()),
    }
}

/// An escaped name as coreutils reads it (`filename_unescape`): `\\`,
/// `\n` and `\r`; any other backslash makes the line improperly formatted.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
}

/// Refuse a name that could be mistaken for another: see the module's
/// documentation.
fn check_name(name: &str) -> std::result::Result<(), String> {
    if name == "-" {
        return Err("the name '-' is standard input to sha256sum".into());
    }
    if let Some(c) = name.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!(
            "the name holds {c:?}: names are printable ASCII (letters, digits, punctuation, single inner spaces), so that none can pass for another"
        ));
    }
    if name.starts_with(' ') || name.ends_with(' ') || name.contains("  ") {
        return Err(format!(
            "the name {name:?} starts or ends with a space, or holds two in a row, which makes it look like another name"
        ));
    }
    if name.starts_with('*') {
        // `<d> *x` (binary mode, `x`) and `<d>  *x` (`*x`) look alike.
        return Err(format!(
            "the name {name:?} starts with '*', which reads as sha256sum's binary marker"
        ));
    }
    Ok(())
}

fn malformed(origin: &Path, reason: String) -> Error {
    Error::Malformed {
        path: origin.to_path_buf(),
        what: FileKind::ChecksumList,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn list(text: &str) -> Vec<ListedLine> {
        ChecksumList::new(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            Path::new("SUMS"),
            Path::new("dist"),
        )
        .collect()
    }

    fn names(text: &str) -> Vec<std::result::Result<String, String>> {
        list(text)
            .into_iter()
            .map(|l| match l.file {
                Ok(f) => Ok(f.path.strip_prefix("dist").unwrap().display().to_string()),
                Err(e) => Err(e.to_string()),
            })
            .collect()
    }

    #[test]
    fn sha256sum_lines_give_digests_names_and_the_bundles_beside_them() {
        let text = format!(
            "# release\n{A}  a.tar.gz\n\n{} *b.whl\n{A}  c d.txt\r\n\\{A}  e\\\\f\n",
            A.to_uppercase()
        );
        let lines = list(&text);
        assert_eq!(lines.len(), 4);
        let digest = Sha256Hash::from_hex(A).unwrap();
        let files: Vec<_> = lines.iter().map(|l| l.file.as_ref().unwrap()).collect();
        for f in &files {
            assert_eq!(f.digest, digest);
        }
        assert_eq!(files[0].path, Path::new("dist/a.tar.gz"));
        assert_eq!(
            files[0].arg,
            Path::new("dist/a.tar.gz").display().to_string()
        );
        assert_eq!(
            files[0].evidence,
            BundleSource::Bundle("dist/a.tar.gz.sigstore.json".into())
        );
        assert_eq!(files[1].path, Path::new("dist/b.whl"));
        // The name is the rest of the line, a second word included; the
        // CR of a Windows line is not part of it.
        assert_eq!(files[2].path, Path::new("dist/c d.txt"));
        assert_eq!(files[3].path, Path::new("dist/e\\f"));
    }

    #[test]
    fn names_coreutils_could_read_otherwise_are_refused_naming_their_line() {
        for (line, says) in [
            (format!("{A}  a "), "ends with a space"),
            (format!("{A}   a"), "starts or ends with a space"),
            (format!("{A}  a  b"), "two in a row"),
            (format!("{A}  a\t"), "printable ASCII"),
            (format!("{A}  a\u{a0}"), "printable ASCII"),
            (format!("{A}  a\u{202e}zg.exe"), "printable ASCII"),
            (format!("{A}  a\u{200b}"), "printable ASCII"),
            (format!("{A}  a\u{e0100}"), "printable ASCII"),
            (format!("{A}  a\u{3164}"), "printable ASCII"),
            (format!("{A}  \u{430}.whl"), "printable ASCII"),
            (format!("{A}  cafe\u{301}.whl"), "printable ASCII"),
            (format!("{A}  a\rb"), "printable ASCII"),
            (format!("{A}  a\u{0}b"), "printable ASCII"),
            (format!("\\{A}  a\\nb"), "printable ASCII"),
            (format!("\\{A}  a\\tb"), "escaped name"),
            (format!("{A}  -"), "standard input"),
            (format!("{A} **a"), "binary marker"),
            (format!("{A}\t a"), "a tab after the digest"),
            (format!(" {A}  a"), "white space before the digest"),
            (format!("SHA256 (a) = {A}"), "tagged format"),
            (format!("{}  a", &A[..60]), "expected"),
            (A.to_string(), "expected"),
            (format!("{A}x  a"), "expected"),
            ("  # indented comment".to_string(), "expected"),
        ] {
            let got = names(&format!("{A}  ok\n{line}\n"));
            assert_eq!(got[0], Ok("ok".into()), "{line:?}");
            let err = got[1].as_ref().unwrap_err();
            assert!(
                err.contains("line 2") && err.contains(says),
                "{line:?}: {err}"
            );
        }
    }

    #[test]
    fn a_one_space_list_is_refused_from_its_first_line_on() {
        // coreutils reads `<d> a` as naming `a`, and then `<d>  b` as
        // naming ` b`: keyless refuses the whole list from that line on.
        let got = names(&format!("{A} a\n{A}  b\n{A} *c\n"));
        assert_eq!(got.len(), 3);
        for g in &got {
            assert!(g.as_ref().unwrap_err().contains("since line 1"), "{g:?}");
        }
        // After a standard first line, a one-space line is refused alone.
        let got = names(&format!("{A}  a\n{A} b\n{A}  c\n"));
        assert_eq!(got[0], Ok("a".into()));
        assert!(got[1].as_ref().unwrap_err().contains("one white space"));
        assert_eq!(got[2], Ok("c".into()));
    }

    #[test]
    fn a_long_line_is_refused_and_the_next_one_read() {
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        let got = names(&format!("{A}  {long}\n{A}  b\n"));
        assert!(got[0].as_ref().unwrap_err().contains("longer than"));
        assert_eq!(got[1], Ok("b".into()));
        let mut bytes = format!("{A}  b\n{A}  c").into_bytes();
        bytes.extend([0xff, b'\n']);
        let got: Vec<_> = ChecksumList::new(
            Box::new(std::io::Cursor::new(bytes)),
            Path::new("SUMS"),
            Path::new(""),
        )
        .collect();
        let err = got[1].file.as_ref().unwrap_err().to_string();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn a_list_file_is_read_relative_to_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("SHA256SUMS");
        std::fs::write(&path, format!("{A}  a.txt\n")).unwrap();
        std::fs::write(dir.path().join("a.txt.sigstore"), "{}").unwrap();
        let lines: Vec<_> = open_checksum_list(&path).unwrap().collect();
        // The legacy spelling is found beside the name, as for a file input.
        assert_eq!(
            lines[0].file.as_ref().unwrap().evidence,
            BundleSource::Bundle(dir.path().join("a.txt.sigstore"))
        );
    }
}
