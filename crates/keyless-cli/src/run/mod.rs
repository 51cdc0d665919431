//! What each `keyless` command does: parse the arguments into library
//! types, call the library, print with [`crate::render`] and return the exit
//! status. One module per command family; `main` only dispatches here.

pub mod inspect;
mod ordered;
mod pypi;
pub mod rekor;
pub mod sign;
pub(crate) mod spool;
pub mod trust;
pub mod verify;

use crate::cli::CompletionsArgs;
use std::io::Write;

/// The hint shown under an error of `keyless <command>`: the error's own,
/// else for a usage error a pointer to the command's help.
fn hint(command: &str, err: &keyless::Error) -> Option<String> {
    match (err.hint(), err) {
        (Some(hint), _) => Some(hint.to_string()),
        (None, keyless::Error::Usage(m)) if m == crate::cli::verify::NO_REF => {
            Some(crate::cli::verify::NO_REF_HINT.to_string())
        }
        (None, keyless::Error::Usage(_)) => Some(format!("see 'keyless {command} --help'")),
        (None, _) => None,
    }
}

/// Print an error that stops `keyless <command>`, with its hint; the exit
/// status: 1 for a verification failure, 2 when there is no verdict.
fn fail(command: &str, err: &keyless::Error) -> u8 {
    // An error may quote a bundle, a certificate or a service: control
    // characters escaped (a regex error's own lines kept).
    let printable = crate::render::escape::printable_lines;
    say(&format!("keyless: error: {}", printable(&err.to_string())));
    if let Some(hint) = hint(command, err) {
        say(&format!("  hint: {}", printable(&hint)));
    }
    exit_code(err)
}

/// 1 for a verification failure (a verdict), 2 for every other error.
fn exit_code(err: &keyless::Error) -> u8 {
    match err {
        keyless::Error::Failed(_) => 1,
        _ => 2,
    }
}

/// As [`fail`], and with `--json` also the error as a JSON object on
/// stdout, `{"ok": false, "error": ..., "hint": ...}`, so a script reading
/// stdout always gets a document.
fn fail_json(command: &str, json: bool, err: &keyless::Error) -> u8 {
    if json {
        let doc = serde_json::json!({
            "ok": false,
            "error": err.to_string(),
            "hint": hint(command, err),
        });
        // The error itself goes to stderr below whatever becomes of this.
        let _ = write_stdout(json_text(&doc).as_bytes());
    }
    fail(command, err)
}

/// How much a command says on stderr (`-q`, default, `-v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verbosity {
    /// Errors only (`-q`).
    Quiet,
    /// The usual lines, and a self-erasing counter on a terminal.
    Normal,
    /// Everything the command can tell (`-v`).
    Verbose,
}

impl Verbosity {
    /// From the `-q` and `-v` flags (which clap keeps apart).
    fn new(quiet: bool, verbose: bool) -> Self {
        match (quiet, verbose) {
            (true, _) => Verbosity::Quiet,
            (_, true) => Verbosity::Verbose,
            _ => Verbosity::Normal,
        }
    }
}

/// A progress counter on stderr, `keyless: <n>/<total> <what> done`, that
/// rewrites itself in place: only on a terminal, since a CI log keeps every
/// half-erased line.
struct Counter {
    enabled: bool,
    total: Option<usize>,
    what: &'static str,
    done: std::sync::atomic::AtomicUsize,
}

impl Counter {
    /// A counter for `total` items (`None`: not known in advance), shown
    /// only when `wanted` and stderr is a terminal.
    fn new(wanted: bool, total: Option<usize>, what: &'static str) -> Self {
        use std::io::IsTerminal;
        Self {
            enabled: wanted && std::io::stderr().is_terminal(),
            total,
            what,
            done: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// One more item done.
    fn tick(&self) {
        if self.enabled {
            let n = self.done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            match self.total {
                Some(total) => {
                    say_raw(&format!("\r\x1b[2Kkeyless: {n}/{total} {} done", self.what))
                }
                None => say_raw(&format!("\r\x1b[2Kkeyless: {n} {} done", self.what)),
            }
        }
    }

    /// Erase the counter.
    fn clear(&self) {
        if self.enabled {
            say_raw("\r\x1b[2K");
        }
    }
}

/// Write a line to stderr. A stderr that is gone (`2>&1 | head`) loses
/// the line, never the run: `eprintln!` would panic there, in the middle of
/// a run's deliveries.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// [`say`] without the newline (the progress counter).
fn say_raw(text: &str) {
    let _ = write!(std::io::stderr(), "{text}");
}

/// What became of output written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// Written and flushed.
    Delivered,
    /// The reader went away (a closed pipe, e.g. `| head -1`): not an error
    /// worth a message, as ripgrep treats it; but nothing was delivered.
    ReaderGone,
    /// Writing failed otherwise (a full disk ...); the error was printed.
    Failed,
}

impl Delivery {
    /// The exit status: `code`, the command's own (a closed pipe does not
    /// turn a failed verification into success), or 2 when writing failed.
    fn exit_code(self, code: u8) -> u8 {
        match self {
            Delivery::Delivered | Delivery::ReaderGone => code,
            Delivery::Failed => 2,
        }
    }
}

/// Write `out` and a newline to stdout and flush: never a panic. A closed
/// pipe is [`Delivery::ReaderGone`], quietly; any other failure is printed.
fn write_stdout(out: &[u8]) -> Delivery {
    write_stdout_with(|w| w.write_all(out))
}

/// [`write_stdout`] for output written piece by piece by `write`.
fn write_stdout_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Delivery {
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written = write(&mut stdout)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => Delivery::Delivered,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Delivery::ReaderGone,
        Err(e) => {
            say(&format!(
                "keyless: error: standard output: cannot write: {e}"
            ));
            Delivery::Failed
        }
    }
}

/// A JSON document as every `--json` prints it: one document, indented
/// (as `verify`, `sign` and `inspect` print theirs).
fn json_text(doc: &serde_json::Value) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_else(|_| doc.to_string())
}

/// Print a report (text or JSON). The text's lines (which carry log
/// entries' and services' words) have every control character escaped.
fn print(
    json: bool,
    text: impl FnOnce() -> String,
    doc: impl FnOnce() -> serde_json::Value,
) -> Delivery {
    let out = if json {
        json_text(&doc())
    } else {
        crate::render::escape::printable_lines(&text())
    };
    write_stdout(out.as_bytes())
}

/// `keyless completions`: the completion script on stdout.
pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = crate::cli::command();
    // Generated in memory: clap_complete panics when its writer fails.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "keyless", &mut script);
    let script = script.strip_suffix(b"\n").unwrap_or(&script);
    write_stdout(script).exit_code(0)
}
