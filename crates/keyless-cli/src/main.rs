//! The `keyless` command: parse the arguments and dispatch; each command's
//! work is in `keyless_cli::run`.

use keyless_cli::cli::{Command, TrustCommand};
use keyless_cli::run;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any cryptography: the bundles of one run share certificate
    // checks, made once (see `keyless::memo`).
    keyless::memo::MemoProvider::install();
    let cli = keyless_cli::cli::parse();
    let code = match cli.command {
        Command::Verify(args) => run::verify::run(&args),
        Command::Sign(args) => run::sign::sign(&args),
        Command::Attest(args) => run::sign::attest(&args),
        Command::Inspect(args) => run::inspect::run(&args),
        Command::Trust(trust) => match &*trust {
            TrustCommand::Update(args) => run::trust::update(args),
        },
        Command::Rekor(cmd) => run::rekor::run(&cmd),
        Command::Completions(args) => run::completions(&args),
    };
    ExitCode::from(code)
}
