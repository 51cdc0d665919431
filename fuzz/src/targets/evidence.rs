//! Bundles and PEP 740 attestations through full verification.

use super::{
    Scratch, Seed, Target, any_identity, files_in, read, seed, testbed, the_trust_roots, vectors,
    verifier,
};
use keyless::attestation::Attestation;
use keyless::verify::policy::Policy;
use keyless::verify::{BundleSource, Input, Verifier};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;

/// How far a verification got.
fn outcome(report: &keyless::verify::InputReport) -> String {
    use keyless::verify::Outcome;
    match &report.outcome {
        Outcome::Verified(_) => "verified".into(),
        Outcome::Failed(f) => format!("failed at {}", f.step),
        Outcome::Error(_) => "refused".into(),
    }
}

/// A verification context: the trust root and the artifact a seed signs.
pub(crate) struct Context {
    /// Its trust root: an index into [`the_trust_roots`].
    pub(crate) root: usize,
    verifier: Arc<Verifier>,
    roots: Vec<sigstore_trust_root::TrustedRoot>,
    artifact: PathBuf,
}

/// Contexts and seeds for evidence files (bundles or attestations) whose
/// artifact is the file's name without `suffix`.
pub(crate) fn evidence_seeds(suffixes: &[&str]) -> (Vec<Context>, Vec<Seed>) {
    let roots = the_trust_roots();
    let verifiers: Vec<_> = roots.iter().map(|(s, _)| verifier(s.clone())).collect();
    let dirs: Vec<(PathBuf, usize)> = vec![
        (vectors().join("sigstore-python"), 0),
        (vectors().join("sigstore-python/integration"), 0),
        (vectors().join("sigstore-python/tsa"), 2),
        (vectors().join("pypi-attestations"), 0),
        (testbed().join("v1"), 3),
        (testbed().join("v2"), 3),
    ];
    let expected: Value =
        serde_json::from_slice(&read(&vectors().join("sigstore-python/expected.json")))
            .expect("expected.json is JSON");
    let instances: std::collections::HashMap<String, String> = expected
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some((
                c["bundle"].as_str()?.to_string(),
                c["instance"].as_str()?.to_string(),
            ))
        })
        .collect();
    let (mut contexts, mut seeds) = (Vec::new(), Vec::new());
    for (dir, root) in dirs {
        for path in files_in(&dir, |n| suffixes.iter().any(|s| n.ends_with(s))) {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let suffix = suffixes
                .iter()
                .find(|s| name.ends_with(*s))
                .copied()
                .unwrap_or("");
            let mut artifact = dir.join(&name[..name.len() - suffix.len()]);
            if !artifact.is_file() {
                // tsa/bundle.duplicate.sigstore and friends sign bundle.txt.
                artifact = dir.join("bundle.txt");
            }
            // sigstore-python's vectors say which instance signed them.
            let root = match instances.get(name.as_ref()).map(String::as_str) {
                Some("staging") if root == 0 => 1,
                _ => root,
            };
            let (trust, verifier) = &verifiers[root];
            contexts.push(Context {
                root,
                verifier: verifier.clone(),
                roots: vec![trust.trusted_root.clone()],
                artifact,
            });
            seeds.push(seed(&path, contexts.len() - 1));
        }
    }
    (contexts, seeds)
}

/// Bundle JSON through `verify`: parsing, every verification step and the
/// identity policy, then `inspect`.
pub struct BundleTarget {
    contexts: Vec<Context>,
    seeds: Vec<Seed>,
    scratch: Scratch,
    policy: Policy,
}

impl BundleTarget {
    /// Load its trust roots and seeds.
    pub fn load() -> Self {
        let (contexts, seeds) = evidence_seeds(&[".sigstore.json", ".sigstore"]);
        Self {
            contexts,
            seeds,
            scratch: Scratch::new("input.sigstore.json"),
            policy: any_identity(),
        }
    }
}

impl Target for BundleTarget {
    fn name(&self) -> &'static str {
        "bundle"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, context: usize, data: &[u8]) -> String {
        let cx = &self.contexts[context];
        let path = self.scratch.write(data);
        let source = BundleSource::Bundle(path.to_path_buf());
        let report = cx.verifier.verify_input(
            &Input::File(cx.artifact.clone()),
            Some(&source),
            &self.policy,
        );
        let _ = report.hint();
        let _ = keyless::inspect::inspect(path, &cx.roots);
        outcome(&report)
    }
}

/// PEP 740 attestations through `verify --attestation` (statement, subject
/// name and digest, the DSSE bundle made of it), then `inspect`.
pub struct AttestationTarget {
    contexts: Vec<Context>,
    seeds: Vec<Seed>,
    scratch: Scratch,
    policy: Policy,
}

impl AttestationTarget {
    /// Load its trust roots and seeds.
    pub fn load() -> Self {
        let (contexts, seeds) = evidence_seeds(&[".publish.attestation"]);
        Self {
            contexts,
            seeds,
            scratch: Scratch::new("input.publish.attestation"),
            policy: any_identity(),
        }
    }
}

impl Target for AttestationTarget {
    fn name(&self) -> &'static str {
        "attestation"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, context: usize, data: &[u8]) -> String {
        let cx = &self.contexts[context];
        let path = self.scratch.write(data);
        let source = BundleSource::Attestation(path.to_path_buf());
        let report = cx.verifier.verify_input(
            &Input::File(cx.artifact.clone()),
            Some(&source),
            &self.policy,
        );
        let _ = report.hint();
        if let Ok(text) = std::str::from_utf8(data)
            && let Ok(a) = Attestation::parse(path, text)
        {
            let _ = a.to_bundle(path);
        }
        let _ = keyless::inspect::inspect(path, &cx.roots);
        outcome(&report)
    }
}
