//! A run's files are hashed from its start, while the certificate is
//! fetched and checked, a few at a time and in input order: hashing a large
//! file overlaps the service round trips instead of following them.

use sigstore_types::Sha256Hash;
use std::path::PathBuf;
// Hashing is timed on the monotonic clock; `Clock` is for the decisions
// about what time it is.
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// A file's digest (or why it could not be read) and how long hashing took.
pub(super) type Hashed = (Result<Sha256Hash, String>, Duration);

/// Stops the hashing of files no longer waited for when dropped (a run cut
/// short by an error). A file being hashed still finishes; the runtime is
/// then shut down without waiting for it.
pub(super) struct Hashing(tokio::task::JoinHandle<()>);

impl Drop for Hashing {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Start hashing `files` on the blocking pool, `parallel` at a time, in
/// order; one receiver per file, in the same order.
pub(super) fn start(
    files: Vec<PathBuf>,
    parallel: usize,
) -> (Vec<oneshot::Receiver<Hashed>>, Hashing) {
    use futures_util::StreamExt;
    let (senders, receivers): (Vec<_>, Vec<_>) = files.iter().map(|_| oneshot::channel()).unzip();
    let task = tokio::spawn(async move {
        let hashes = futures_util::stream::iter(files)
            .map(|path| {
                tokio::task::spawn_blocking(move || {
                    let started = Instant::now();
                    let digest = crate::digest::sha256_file(&path).map_err(|e| e.to_string());
                    (digest, started.elapsed())
                })
            })
            .buffered(parallel.max(1));
        let mut hashes = std::pin::pin!(hashes.zip(futures_util::stream::iter(senders)));
        while let Some((done, sender)) = hashes.next().await {
            let hashed =
                done.unwrap_or_else(|e| (Err(format!("hashing task failed: {e}")), Duration::ZERO));
            // A file no longer waited for is let go.
            let _ = sender.send(hashed);
        }
    });
    (receivers, Hashing(task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_file_gets_its_own_digest_in_order_and_a_missing_one_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for i in 0..7u8 {
            let p = dir.path().join(format!("f{i}"));
            std::fs::write(&p, vec![i; 1000 + usize::from(i)]).unwrap();
            files.push(p);
        }
        files.insert(3, dir.path().join("missing"));
        let (receivers, _hashing) = start(files.clone(), 2);
        assert_eq!(receivers.len(), files.len());
        for (path, rx) in files.iter().zip(receivers) {
            let (digest, _) = rx.await.unwrap();
            if path.ends_with("missing") {
                let err = digest.unwrap_err();
                assert!(err.contains("missing"), "{err}");
            } else {
                let want = sigstore_crypto::sha256(&std::fs::read(path).unwrap());
                assert_eq!(digest.unwrap(), want, "{}", path.display());
            }
        }
    }
}
