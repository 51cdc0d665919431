//! Whether what keyless prints is coloured: only for a person at a
//! terminal, never into a pipe, a file or a JSON report, and never when
//! `NO_COLOR` is set to anything but the empty string (https://no-color.org).
//! Every renderer that colours asks here.

use std::ffi::OsStr;

/// How to print words that carry a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain text.
    Plain,
    /// ANSI colours.
    Colour,
}

impl Style {
    /// The decision: colour only for a terminal, and only when `no_color`
    /// (the value of `NO_COLOR`) is unset or empty.
    pub fn decide(is_terminal: bool, no_color: Option<&OsStr>) -> Self {
        if is_terminal && no_color.is_none_or(OsStr::is_empty) {
            Style::Colour
        } else {
            Style::Plain
        }
    }

    /// The style for this process's standard output.
    pub fn for_stdout() -> Self {
        use std::io::IsTerminal;
        Self::decide(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        )
    }

    /// `text` as good news (green).
    pub fn good(self, text: &str) -> String {
        self.paint("32", text)
    }

    /// `text` as bad news (red).
    pub fn bad(self, text: &str) -> String {
        self.paint("31", text)
    }

    fn paint(self, colour: &str, text: &str) -> String {
        match self {
            Style::Plain => text.to_string(),
            Style::Colour => format!("\x1b[{colour}m{text}\x1b[0m"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_for_a_terminal_without_no_color() {
        let set = |v: &'static str| Some(OsStr::new(v));
        assert_eq!(Style::decide(true, None), Style::Colour);
        // NO_COLOR set to anything, even "0", means no colour...
        assert_eq!(Style::decide(true, set("1")), Style::Plain);
        assert_eq!(Style::decide(true, set("0")), Style::Plain);
        // ... but an empty value is as if unset (no-color.org).
        assert_eq!(Style::decide(true, set("")), Style::Colour);
        // Never into a pipe or file.
        assert_eq!(Style::decide(false, None), Style::Plain);
        assert_eq!(Style::decide(false, set("1")), Style::Plain);
    }

    #[test]
    fn plain_text_has_no_escape_bytes() {
        assert_eq!(Style::Plain.good("OK"), "OK");
        assert_eq!(Style::Plain.bad("FAIL"), "FAIL");
        assert_eq!(Style::Colour.good("OK"), "\x1b[32mOK\x1b[0m");
        assert_eq!(Style::Colour.bad("FAIL"), "\x1b[31mFAIL\x1b[0m");
    }
}
