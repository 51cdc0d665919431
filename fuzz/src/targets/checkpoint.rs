//! Signed-note checkpoints.

use super::evidence::evidence_seeds;
use super::{Seed, Target, now, read, testbed, the_trust_roots};
use keyless::rekor::{TrustedLogs, checkpoint};
use keyless::trust::TrustMaterial;
use serde_json::Value;

/// Signed-note checkpoints: parsing, the signature against a trust root's
/// log keys, and the comparison the monitor makes between two.
pub struct CheckpointTarget {
    logs: Vec<TrustedLogs>,
    seeds: Vec<Seed>,
}

/// The checkpoints in the entries of a bundle or attestation document.
fn checkpoints_in(doc: &Value) -> Vec<String> {
    let entries = doc["verificationMaterial"]["tlogEntries"]
        .as_array()
        .or(doc["verification_material"]["transparency_entries"].as_array());
    entries
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let cp = &e["inclusionProof"]["checkpoint"];
            cp["envelope"].as_str().or(cp.as_str()).map(str::to_string)
        })
        .collect()
}

impl CheckpointTarget {
    /// Its trust roots (production, staging, the testbed's) and the
    /// checkpoints of the bundle seeds and of the testbed's log info.
    pub fn load() -> Self {
        let roots = the_trust_roots();
        let logs: Vec<TrustedLogs> = roots
            .iter()
            .map(|(s, _)| {
                TrustedLogs::new(&TrustMaterial::load_uncached(s).expect("trust material"))
                    .expect("its logs")
            })
            .collect();
        let (contexts, bundles) =
            evidence_seeds(&[".sigstore.json", ".sigstore", ".publish.attestation"]);
        let mut seeds = Vec::new();
        for b in &bundles {
            let Ok(doc) = serde_json::from_slice::<Value>(&b.data) else {
                continue;
            };
            for cp in checkpoints_in(&doc) {
                let context = contexts[b.context].root;
                if !seeds.iter().any(|s: &Seed| s.data == cp.as_bytes()) {
                    seeds.push(Seed {
                        name: format!("checkpoint of {}", b.name),
                        data: cp.into_bytes(),
                        context,
                    });
                }
            }
        }
        let info: Value = serde_json::from_slice(&read(&testbed().join("rekor-v1-log-info.json")))
            .expect("log info JSON");
        seeds.push(Seed {
            name: "testbed log info".into(),
            data: info["signedTreeHead"]
                .as_str()
                .unwrap_or_default()
                .as_bytes()
                .to_vec(),
            context: 3,
        });
        Self { logs, seeds }
    }
}

impl Target for CheckpointTarget {
    fn name(&self) -> &'static str {
        "checkpoint"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, context: usize, data: &[u8]) -> String {
        let Ok(text) = std::str::from_utf8(data) else {
            return "refused".into();
        };
        let Ok(cp) = sigstore_types::Checkpoint::from_text(text) else {
            return "refused".into();
        };
        let _ = (
            cp.origin(),
            cp.tree_size(),
            cp.root_hash(),
            cp.signed_data(),
        );
        let logs = &self.logs[context];
        // Rekor v2's rule too (its verdict is the Any rule's or a refusal).
        let _ = checkpoint::verify_signature(
            text,
            &cp,
            logs,
            now(),
            None,
            checkpoint::SignerName::Origin,
        );
        match checkpoint::verify_signature(
            text,
            &cp,
            logs,
            now(),
            None,
            checkpoint::SignerName::Any,
        ) {
            Ok(verified) => {
                let _ = checkpoint::compare(&verified, &verified);
                let mut smaller = verified.clone();
                smaller.tree_size = verified.tree_size / 2;
                let _ = checkpoint::compare(&smaller, &verified);
                let _ = checkpoint::compare(&verified, &smaller);
                "verified".into()
            }
            Err(f) => format!("failed at {}", f.step),
        }
    }
}
