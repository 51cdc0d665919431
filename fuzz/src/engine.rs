//! The fuzzing loop: mutate corpus entries, run the target, catch panics.
//!
//! No coverage feedback (that needs nightly-only compiler flags): a
//! mutational fuzzer seeded with real and testbed documents, with
//! structure-aware JSON mutations so most mutants get past parsing and into
//! the checks behind it. A mutant is kept in the corpus when it was the
//! first to make the target return at a new point, measured cheaply by how
//! long the input's run was relative to its parent; every panicking input
//! is written to `fuzz/artifacts/<target>/`.

use crate::mutate::Mutator;
use crate::targets::{Seed, Target};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// At most this many seeds and new-outcome mutants are kept for good.
const MAX_KEPT: usize = 512;

/// When a run stops.
#[derive(Debug, Clone, Copy)]
pub enum Budget {
    /// After this long (`fuzz/run`).
    Time(Duration),
    /// After this many executions (tests: never timed).
    Executions(u64),
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Stats {
    /// Inputs run (seeds included).
    pub executions: u64,
    /// Inputs that panicked, with the panic message and where they were saved.
    pub crashes: Vec<Crash>,
    /// How long it took.
    pub elapsed: Duration,
    /// Distinct outcomes reached (per context), seeds' included.
    pub outcomes: usize,
}

/// A panicking input.
#[derive(Debug)]
pub struct Crash {
    /// The panic message.
    pub message: String,
    /// Where the input was written, if it could be.
    pub saved: Option<PathBuf>,
    /// The input.
    pub input: Vec<u8>,
}

thread_local! {
    static FUZZING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Panics inside [`run_one`] are caught and reported by the engine: keep
/// the panic hook from printing each one, on this thread only (tests run
/// in parallel and their own panics must still be shown).
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !FUZZING.with(|f| f.get()) {
                previous(info);
            }
        }));
    });
}

/// Run `data` through `target`; the panic message if it panicked.
pub fn run_one(target: &dyn Target, context: usize, data: &[u8]) -> Option<String> {
    run_caught(target, context, data).err()
}

/// Run `data` through `target`: its outcome, or the panic message.
fn run_caught(target: &dyn Target, context: usize, data: &[u8]) -> Result<String, String> {
    quiet_panics();
    FUZZING.with(|f| f.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| target.run(context, data)));
    FUZZING.with(|f| f.set(false));
    result.map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// FNV-1a, to name saved inputs by content.
fn name_of(data: &[u8]) -> String {
    let h = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("crash-{h:016x}")
}

/// Fuzz `target` within `budget`, with mutations from `seed`; crashing
/// inputs are written under `artifacts` (when given).
pub fn fuzz(target: &dyn Target, budget: Budget, seed: u64, artifacts: Option<&Path>) -> Stats {
    let start = Instant::now();
    let mut stats = Stats::default();
    let mut corpus: Vec<Seed> = target.seeds().to_vec();
    assert!(!corpus.is_empty(), "target {} has no seeds", target.name());
    let mut mutator = Mutator::new(seed);
    quiet_panics();
    let done = |stats: &Stats| match budget {
        Budget::Time(t) => start.elapsed() >= t,
        Budget::Executions(n) => stats.executions >= n,
    };
    let crash = |stats: &mut Stats, message: String, input: Vec<u8>| {
        let saved = artifacts.and_then(|dir| {
            let dir = dir.join(target.name());
            std::fs::create_dir_all(&dir).ok()?;
            let path = dir.join(name_of(&input));
            std::fs::write(&path, &input).ok()?;
            Some(path)
        });
        stats.crashes.push(Crash {
            message,
            saved,
            input,
        });
    };
    // Outcomes reached so far, per context.
    let mut reached = std::collections::HashSet::new();
    // The seeds first, as they are.
    for s in corpus.clone() {
        if done(&stats) {
            break;
        }
        stats.executions += 1;
        match run_caught(target, s.context, &s.data) {
            Ok(outcome) => {
                reached.insert((s.context, outcome));
            }
            Err(message) => crash(&mut stats, message, s.data.clone()),
        }
    }
    // Seeds and mutants that reached a new outcome: never replaced.
    let mut kept = corpus.len();
    while !done(&stats) {
        let parent = &corpus[mutator.rng.below(corpus.len())];
        let other = &corpus[mutator.rng.below(corpus.len())].data;
        let input = mutator.mutate(&parent.data, other);
        let context = parent.context;
        stats.executions += 1;
        let outcome = match run_caught(target, context, &input) {
            Ok(outcome) => outcome,
            Err(message) => {
                crash(&mut stats, message, input);
                continue;
            }
        };
        if kept < MAX_KEPT && reached.insert((context, outcome)) {
            corpus.insert(
                kept,
                Seed {
                    name: "mutant with a new outcome".into(),
                    data: input,
                    context,
                },
            );
            kept += 1;
            continue;
        }
        // Keep a bounded number of other mutants to mutate further:
        // deeper changes without losing the seeds.
        if corpus.len() < kept * 4 {
            corpus.push(Seed {
                name: "mutant".into(),
                data: input,
                context,
            });
        } else if mutator.rng.one_in(8) {
            let i = kept + mutator.rng.below(corpus.len() - kept);
            corpus[i] = Seed {
                name: "mutant".into(),
                data: input,
                context,
            };
        }
    }
    stats.elapsed = start.elapsed();
    stats.outcomes = reached.len();
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Panics on any input containing a zero byte.
    struct Fragile(Vec<Seed>);

    impl Target for Fragile {
        fn name(&self) -> &'static str {
            "fragile"
        }
        fn seeds(&self) -> &[Seed] {
            &self.0
        }
        fn run(&self, _context: usize, data: &[u8]) -> String {
            assert!(!data.contains(&0), "a zero byte");
            "ok".into()
        }
    }

    #[test]
    fn a_panicking_input_is_caught_reported_and_saved() {
        let target = Fragile(vec![Seed {
            name: "seed".into(),
            data: br#"{"a": [1, "AQID"], "b": "text"}"#.to_vec(),
            context: 0,
        }]);
        let dir = tempfile::tempdir().unwrap();
        let stats = fuzz(&target, Budget::Executions(2000), 3, Some(dir.path()));
        assert_eq!(stats.executions, 2000);
        let crash = stats.crashes.first().expect("a zero byte is found");
        assert!(crash.message.contains("a zero byte"), "{}", crash.message);
        assert!(crash.input.contains(&0));
        let saved = crash.saved.as_ref().unwrap();
        assert!(saved.starts_with(dir.path().join("fragile")));
        assert_eq!(std::fs::read(saved).unwrap(), crash.input);
        // The same input, replayed, panics the same way.
        assert!(run_one(&target, 0, &crash.input).is_some());
    }
}
