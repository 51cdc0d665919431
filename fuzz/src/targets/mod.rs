//! The fuzz targets: each takes arbitrary bytes to one of keyless's
//! parsers, and through it as far as the input gets (a bundle through full
//! verification against a fixed trust root at a fixed time). A target must
//! never panic, whatever the input; its verdict is not checked (a mutant
//! that still verifies is the mutation test's business).
//!
//! | target | module |
//! |---|---|
//! | bundle, attestation | `evidence` |
//! | checksums | `checksums` |
//! | token | `token` |
//! | checkpoint | `checkpoint` |
//! | trust | `trust` |
//! | rekor-entry, rekor-answer | `rekor` |

mod checkpoint;
mod checksums;
mod evidence;
mod rekor;
mod token;
mod trust;

pub use checkpoint::CheckpointTarget;
pub use checksums::ChecksumsTarget;
pub use evidence::{AttestationTarget, BundleTarget};
pub use rekor::{EntryTarget, RekorAnswerTarget};
pub use token::{TokenTarget, jwt_with_claims};
pub use trust::TrustTarget;

use keyless::clock::FixedClock;
use keyless::trust::{TrustMaterial, TrustSource};
use keyless::verify::Verifier;
use keyless::verify::policy::{IdentityPolicy, Policy, RegexMatcher, ValueMatcher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One input the corpus starts from, and the context (artifact, trust
/// root) it must be run in; its mutants keep that context.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Where it came from.
    pub name: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// The index of its context in the target.
    pub context: usize,
}

/// A fuzz target.
pub trait Target {
    /// Its name (`fuzz/run` and `keyless-fuzz` take it).
    fn name(&self) -> &'static str;
    /// Its seed corpus.
    fn seeds(&self) -> &[Seed];
    /// Run one input in context `context`; how far it got (`verified`,
    /// `failed at <step>`, `refused`, ...), for tests that check the seeds
    /// reach the end. Panics are the bugs looked for.
    fn run(&self, context: usize, data: &[u8]) -> String;
}

/// The repository's top folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fixed "now" of every target: after every seed's signing time.
pub fn now() -> jiff::Timestamp {
    "2030-01-01T00:00:00Z".parse().expect("a valid timestamp")
}

pub(crate) fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock(now()))
}

pub(crate) fn vectors() -> PathBuf {
    repo_root().join("testdata/vectors")
}

pub(crate) fn testbed() -> PathBuf {
    repo_root().join("fuzz/seeds/testbed")
}

pub(crate) fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("seed {}: {e}", path.display()))
}

pub(crate) fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| keep(&n.to_string_lossy())))
        .collect();
    out.sort();
    out
}

pub(crate) fn seed(path: &Path, context: usize) -> Seed {
    Seed {
        name: path
            .strip_prefix(repo_root())
            .unwrap_or(path)
            .display()
            .to_string(),
        data: read(path),
        context,
    }
}

/// A scratch file the file-reading entry points read each input from.
pub(crate) struct Scratch {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Scratch {
    pub(crate) fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join(name);
        Self { _dir: dir, path }
    }

    pub(crate) fn write(&self, data: &[u8]) -> &Path {
        std::fs::write(&self.path, data).expect("the scratch file is writable");
        &self.path
    }
}

/// Trust material by source, and a verifier for it at the fixed time.
pub(crate) fn verifier(source: TrustSource) -> (TrustMaterial, Arc<Verifier>) {
    let trust = TrustMaterial::load_uncached(&source).expect("trust material loads");
    let verifier = Verifier::with_clock(&trust, clock()).expect("a verifier");
    (trust, Arc::new(verifier))
}

/// Accept any identity, through the same matchers a person's policy uses.
pub(crate) fn any_identity() -> Policy {
    let any = || ValueMatcher::Regex(RegexMatcher::new(".*").expect("a valid regexp"));
    Policy::Identity(IdentityPolicy::new(any(), any()))
}

/// The trust roots of the seeds, in context order.
pub(crate) fn the_trust_roots() -> Vec<(TrustSource, &'static str)> {
    vec![
        (TrustSource::Production, "production"),
        (TrustSource::Staging, "staging"),
        (
            TrustSource::TrustConfigFile(vectors().join("sigstore-python/tsa/trust_config.json")),
            "tsa",
        ),
        (
            TrustSource::TrustConfigFile(testbed().join("trust_config.json")),
            "testbed",
        ),
    ]
}

/// The names of the targets, for [`by_name`].
pub const NAMES: &[&str] = &[
    "bundle",
    "attestation",
    "token",
    "checkpoint",
    "trust",
    "rekor-entry",
    "rekor-answer",
    "checksums",
];

/// The target called `name`.
pub fn by_name(name: &str) -> Option<Box<dyn Target>> {
    Some(match name {
        "bundle" => Box::new(BundleTarget::load()),
        "attestation" => Box::new(AttestationTarget::load()),
        "token" => Box::new(TokenTarget::load()),
        "checkpoint" => Box::new(CheckpointTarget::load()),
        "trust" => Box::new(TrustTarget::load()),
        "rekor-entry" => Box::new(EntryTarget::load()),
        "rekor-answer" => Box::new(RekorAnswerTarget::load()),
        "checksums" => Box::new(ChecksumsTarget::load()),
        _ => return None,
    })
}
