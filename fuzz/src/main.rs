//! `keyless-fuzz [TARGET...] [--seconds N] [--seed S]`: fuzz each target
//! (all when none is named) for N seconds and print executions per target.
//! Exit 1 when an input panicked (saved in fuzz/artifacts/<target>/).

use keyless_fuzz::engine::{Budget, fuzz};
use keyless_fuzz::targets::{NAMES, by_name, repo_root};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let mut names = Vec::new();
    let (mut seconds, mut seed) = (10u64, 1u64);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |what: &str| {
            args.next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or_else(|| {
                    eprintln!("keyless-fuzz: {what} needs a number");
                    std::process::exit(2)
                })
        };
        match arg.as_str() {
            "--seconds" => seconds = number("--seconds"),
            "--seed" => seed = number("--seed"),
            name if NAMES.contains(&name) => names.push(name.to_string()),
            other => {
                eprintln!(
                    "keyless-fuzz: unknown argument {other:?}; targets: {}",
                    NAMES.join(", ")
                );
                return ExitCode::from(2);
            }
        }
    }
    if names.is_empty() {
        names = NAMES.iter().map(|s| s.to_string()).collect();
    }
    let artifacts = repo_root().join("fuzz/artifacts");
    let mut crashed = false;
    for name in names {
        let Some(target) = by_name(&name) else {
            continue;
        };
        let stats = fuzz(
            target.as_ref(),
            Budget::Time(Duration::from_secs(seconds)),
            seed,
            Some(&artifacts),
        );
        let secs = stats.elapsed.as_secs_f64().max(f64::EPSILON);
        println!(
            "{name:<12} {:>9} executions in {:>5.1} s ({:>7.0}/s), {} seeds, {} outcomes, {} crash(es)",
            stats.executions,
            secs,
            stats.executions as f64 / secs,
            target.seeds().len(),
            stats.outcomes,
            stats.crashes.len()
        );
        for c in &stats.crashes {
            crashed = true;
            let saved = c
                .saved
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(not saved)".into());
            println!("  panic: {} -> {saved}", c.message.escape_debug());
        }
    }
    if crashed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
