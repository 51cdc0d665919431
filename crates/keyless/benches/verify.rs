//! Speed of verification, run with `cargo bench --bench verify`.
//!
//! Not part of the test suite: numbers depend on the machine. What it
//! measures: (1) verifying a real production bundle end to end with one
//! `Verifier` (the per-file cost of `keyless verify` on many inputs);
//! (2) streaming a large artifact through verification (hashing dominates,
//! memory stays constant because the file is never loaded whole).

use keyless::trust::{TrustMaterial, TrustSource};
use keyless::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
use keyless::verify::{Input, Outcome, Verifier};
use std::path::Path;
use std::time::Instant;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors/sigstore-python");
    let trust = TrustMaterial::load_uncached(&TrustSource::Production).unwrap();
    let started = Instant::now();
    let verifier = Verifier::new(&trust).unwrap();
    println!(
        "build verifier (parse + check trust root): {:?}",
        started.elapsed()
    );

    let policy = Policy::Identity(IdentityPolicy::new(
        ValueMatcher::Exact(
            "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2".into(),
        ),
        ValueMatcher::Exact("https://token.actions.githubusercontent.com".into()),
    ));
    let input = Input::File(dir.join("bundle_v3_github.whl"));
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        let report = std::hint::black_box(verifier.verify_input(&input, None, &policy));
        assert!(matches!(report.outcome, Outcome::Verified(_)));
    }
    let per = started.elapsed() / rounds;
    println!("verify one production bundle (wheel, read + hash + all checks): {per:?} per file");

    // A large artifact with a bundle whose signature cannot match it: the
    // whole file is still streamed and hashed before the verdict.
    let tmp = std::env::temp_dir().join(format!("keyless-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let big = tmp.join("big.whl");
    let size: u64 = 512 * 1024 * 1024;
    std::fs::File::create(&big).unwrap().set_len(size).unwrap();
    std::fs::copy(
        dir.join("bundle_v3_github.whl.sigstore"),
        tmp.join("big.whl.sigstore"),
    )
    .unwrap();
    // Read it once first: the first read of a sparse file measures the
    // kernel filling the page cache, not keyless.
    std::io::copy(
        &mut std::fs::File::open(&big).unwrap(),
        &mut std::io::sink(),
    )
    .unwrap();
    let started = Instant::now();
    let report = verifier.verify_input(&Input::File(big.clone()), None, &policy);
    let elapsed = started.elapsed();
    assert!(matches!(report.outcome, Outcome::Failed(_)));
    assert!(report.sha256.is_some(), "the file was read to the end");
    println!(
        "stream a {} MiB artifact through verification: {elapsed:?} ({:.0} MiB/s)",
        size >> 20,
        (size >> 20) as f64 / elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
