//! Untrusted text made safe for a terminal. Strings from bundles,
//! certificates, log entries and services (a SAN, an issuer, an extension
//! value, an entry kind, a reason quoting them) could carry ESC, BEL or CR
//! sequences that move the cursor, erase a `FAIL` line and print a fake
//! `OK`. Every human renderer passes them through here; JSON output needs
//! nothing (serde escapes control characters).

/// Whether `c` must not reach a terminal raw: control characters (C0, DEL,
/// C1) and the Unicode line separators and bidirectional overrides, which
/// can reorder or split what a person reads.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every unsafe character escaped (`\u{1b}`, `\r`, `\n`, ...):
/// one line, whatever it held.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// As [`printable`], but keeping the newlines of a multi-line rendering
/// (whose lines keyless wrote): a last pass over a whole report.
pub fn printable_lines(text: &str) -> String {
    text.split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_sequences_are_escaped() {
        assert_eq!(
            printable("a\x1b[2K\rOK  \x07b\nc\u{202e}"),
            "a\\u{1b}[2K\\rOK  \\u{7}b\\nc\\u{202e}"
        );
        assert_eq!(
            printable("https://gitlab.com/g/p é"),
            "https://gitlab.com/g/p é"
        );
        assert_eq!(printable_lines("a\x1b\nb\r"), "a\\u{1b}\nb\\r");
    }
}
