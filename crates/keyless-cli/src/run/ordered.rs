//! Work on many inputs across cores, delivered in input order: `keyless
//! verify`'s inputs are independent, but its report must read the same
//! whatever order they finish in.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, mpsc};

/// Run `work` on each of `items` on up to `jobs` threads and hand each
/// result to `deliver` in the items' order, as soon as it and those before
/// it are done. `deliver` returning false stops the run: no item is started
/// after that, and no further result is delivered.
///
/// Items are taken from the iterator as workers free up, and no worker
/// starts an item more than [`window`] places after the next one to be
/// delivered, so however many items there are (a checksum list of a
/// million lines) and however slow one of them is, memory holds at most a
/// window of them.
///
/// One job (or one item) runs on the calling thread, starting no thread.
pub fn map_in_order<T: Send, R: Send>(
    items: impl IntoIterator<Item = T, IntoIter: Send>,
    jobs: usize,
    work: impl Fn(T) -> R + Sync,
    mut deliver: impl FnMut(R) -> bool,
) {
    let items = items.into_iter();
    let most = items.size_hint().1.unwrap_or(usize::MAX);
    let jobs = jobs.clamp(1, most.max(1));
    if jobs == 1 {
        for item in items {
            if !deliver(work(item)) {
                return;
            }
        }
        return;
    }
    let window = window(jobs);
    let queue = Mutex::new(items.enumerate());
    let stop = AtomicBool::new(false);
    // How many results have been delivered, and a wake-up when it grows.
    let delivered = (Mutex::new(0usize), Condvar::new());
    // A panic anywhere stops the run: without this, workers waiting for the
    // window to reach their item would wait for ever for the item whose
    // worker (or delivery) panicked, and the run would hang instead of
    // failing. The guard wakes them on the way out of any thread.
    let halt = || {
        stop.store(true, Ordering::SeqCst);
        let _count = delivered.0.lock().unwrap_or_else(|p| p.into_inner());
        delivered.1.notify_all();
    };
    let (done, results) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let done = done.clone();
            let (queue, stop, work, delivered) = (&queue, &stop, &work, &delivered);
            let halt = &halt;
            scope.spawn(move || {
                let _halt_on_panic = OnPanic(halt);
                // Bounded: each turn takes one item off the queue.
                while !stop.load(Ordering::Relaxed) {
                    // A worker that panicked poisons nothing we rely on: the
                    // iterator is advanced before any work is done.
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((index, item)) = next else { break };
                    // Wait for the window to reach this item. The item at
                    // the window's start is always being worked on (items
                    // are taken in order), so this wait ends.
                    let mut count = delivered.0.lock().unwrap_or_else(|p| p.into_inner());
                    while index >= *count + window && !stop.load(Ordering::Relaxed) {
                        count = delivered.1.wait(count).unwrap_or_else(|p| p.into_inner());
                    }
                    drop(count);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if done.send((index, work(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let _halt_on_panic = OnPanic(&halt);
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for (index, result) in &results {
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&next) {
                next += 1;
                let go_on = deliver(result);
                if !go_on {
                    stop.store(true, Ordering::Relaxed);
                }
                *delivered.0.lock().unwrap_or_else(|p| p.into_inner()) = next;
                delivered.1.notify_all();
                if !go_on {
                    // Workers still busy finish their item; what they send
                    // is dropped with the channel.
                    return;
                }
            }
        }
    });
}

/// Calls its function when dropped while the thread panics.
struct OnPanic<'a>(&'a (dyn Fn() + Sync));

impl Drop for OnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            (self.0)();
        }
    }
}

/// How far ahead of the next result to deliver workers may go: enough to
/// keep every worker busy past a slow item for a while, and no more.
fn window(jobs: usize) -> usize {
    (jobs * 8).max(64)
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
                (0..20u64).collect::<Vec<_>>(),
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

    #[test]
    fn no_item_starts_more_than_a_window_ahead_of_a_slow_one() {
        let jobs = 4;
        let ahead = std::sync::atomic::AtomicUsize::new(0);
        let slow_done = AtomicBool::new(false);
        let mut seen = 0usize;
        map_in_order(
            0..10_000usize,
            jobs,
            |i| {
                if i == 0 {
                    // Item 0 is slow: the others may not run away from it.
                    // Bounded: at most 2,000 naps of 1 ms.
                    for _ in 0..2_000 {
                        if ahead.load(Ordering::SeqCst) >= window(jobs) - 1 {
                            break;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    slow_done.store(true, Ordering::SeqCst);
                } else if !slow_done.load(Ordering::SeqCst) {
                    ahead.fetch_add(1, Ordering::SeqCst);
                }
                i
            },
            |r| {
                assert_eq!(r, seen);
                seen += 1;
                true
            },
        );
        assert_eq!(seen, 10_000);
        // Items 1 .. window-1 ran while item 0 was slow, and none beyond.
        assert_eq!(ahead.load(Ordering::SeqCst), window(jobs) - 1);
    }

    /// Runs `f` on another thread and fails the test if it takes more than
    /// 30 s (a hang), returning whether it panicked.
    fn panics_in_time(f: impl FnOnce() + Send + 'static) -> bool {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err();
            let _ = tx.send(panicked);
        });
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .expect("map_in_order hung after a panic")
    }

    #[test]
    fn a_panic_in_work_or_delivery_ends_the_run_instead_of_hanging_it() {
        // More items than a window, so that workers wait for the one that
        // panicked.
        let worker = panics_in_time(|| {
            map_in_order(
                0..500usize,
                2,
                |i| {
                    assert_ne!(i, 5, "a worker panics");
                    i
                },
                |_| true,
            )
        });
        assert!(worker);
        let delivery = panics_in_time(|| {
            map_in_order(
                0..500usize,
                2,
                |i| i,
                |r| {
                    assert_ne!(r, 5, "the delivery panics");
                    true
                },
            )
        });
        assert!(delivery);
    }
}
