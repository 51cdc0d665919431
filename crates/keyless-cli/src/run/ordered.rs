//! Work on many inputs across cores, delivered in input order: `keyless
//! verify`'s inputs are independent, but its report must read the same
//! whatever order they finish in.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

/// Run `work` on each of `items` on up to `jobs` threads and hand each
/// result to `deliver` in the items' order, as soon as it and those before
/// it are done. `deliver` returning false stops the run: no item is started
/// after that, and no further result is delivered.
///
/// One job (or one item) runs on the calling thread, starting no thread.
pub fn map_in_order<T: Send, R: Send>(
    items: Vec<T>,
    jobs: usize,
    work: impl Fn(T) -> R + Sync,
    mut deliver: impl FnMut(R) -> bool,
) {
    let jobs = jobs.clamp(1, items.len().max(1));
    if jobs == 1 {
        for item in items {
            if !deliver(work(item)) {
                return;
            }
        }
        return;
    }
    let queue = Mutex::new(items.into_iter().enumerate());
    let stop = AtomicBool::new(false);
    let (done, results) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let done = done.clone();
            let (queue, stop, work) = (&queue, &stop, &work);
            scope.spawn(move || {
                // Bounded: each turn takes one item off the queue.
                while !stop.load(Ordering::Relaxed) {
                    // A worker that panicked poisons nothing we rely on: the
                    // iterator is advanced before any work is done.
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((index, item)) = next else { break };
                    if done.send((index, work(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for (index, result) in &results {
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&next) {
                next += 1;
                if !deliver(result) {
                    stop.store(true, Ordering::Relaxed);
                    // Workers still busy finish their item; what they send
                    // is dropped with the channel.
                    return;
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_input_order_with_any_number_of_jobs() {
        for jobs in [1, 2, 3, 16] {
            let mut seen = Vec::new();
            // Later items finish first: the early ones sleep longer.
            map_in_order(
                (0..20u64).collect(),
                jobs,
                |i| {
                    std::thread::sleep(std::time::Duration::from_millis((20 - i) / 4));
                    i * 10
                },
                |r| {
                    seen.push(r);
                    true
                },
            );
            assert_eq!(
                seen,
                (0..20).map(|i| i * 10).collect::<Vec<_>>(),
                "jobs {jobs}"
            );
        }
    }

    #[test]
    fn a_stop_delivers_nothing_more_and_starts_no_new_item() {
        let started = std::sync::atomic::AtomicUsize::new(0);
        let stopped = AtomicBool::new(false);
        let mut seen = Vec::new();
        map_in_order(
            (0..1000).collect::<Vec<u32>>(),
            2,
            |i| {
                started.fetch_add(1, Ordering::SeqCst);
                // Items after the stopping one wait for the stop, so each
                // worker holds at most one of them when it comes.
                for _ in 0..10_000 {
                    if i <= 3 || stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                i
            },
            |r| {
                seen.push(r);
                stopped.store(r >= 3, Ordering::SeqCst);
                r < 3
            },
        );
        assert_eq!(seen, [0, 1, 2, 3]);
        // Items 0-3, and at most one more per worker.
        assert!(started.load(Ordering::SeqCst) <= 6, "{started:?}");
    }
}
