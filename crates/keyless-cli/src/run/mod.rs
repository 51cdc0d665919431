//! What each `keyless` command does: parse the arguments into library
//! types, call the library, print with [`crate::render`] and return the exit
//! status. One module per command family; `main` only dispatches here.

pub mod inspect;
pub mod rekor;
pub mod sign;
pub mod trust;
pub mod verify;

use crate::cli::CompletionsArgs;
use std::io::Write;

/// The hint shown under an error of `keyless <command>`: the error's own,
/// else for a usage error a pointer to the command's help.
fn hint(command: &str, err: &keyless::Error) -> Option<String> {
    match (err.hint(), err) {
        (Some(hint), _) => Some(hint.to_string()),
        (None, keyless::Error::Usage(_)) => Some(format!("see 'keyless {command} --help'")),
        (None, _) => None,
    }
}

/// Print an error that stops `keyless <command>`, with its hint; the exit
/// status: 1 for a verification failure, 2 when there is no verdict.
fn fail(command: &str, err: &keyless::Error) -> u8 {
    eprintln!("keyless: error: {err}");
    if let Some(hint) = hint(command, err) {
        eprintln!("  hint: {hint}");
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

/// Print a report (text or JSON); false when stdout is gone.
fn print(
    json: bool,
    text: impl FnOnce() -> String,
    doc: impl FnOnce() -> serde_json::Value,
) -> bool {
    let out = if json { doc().to_string() } else { text() };
    writeln!(std::io::stdout().lock(), "{out}").is_ok()
}

/// `keyless completions`: the completion script on stdout.
pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = crate::cli::command();
    clap_complete::generate(args.shell, &mut cmd, "keyless", &mut std::io::stdout());
    0
}
