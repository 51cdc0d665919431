//! Trust roots, trust configs and signing configs.

use super::{Scratch, Seed, Target, clock, now, seed, testbed, vectors};
use keyless::rekor::TrustedLogs;
use keyless::trust::{TrustMaterial, TrustSource};
use keyless::verify::Verifier;

/// Trusted roots, ClientTrustConfigs and signing configs: loading, a
/// verifier and a Rekor keyring built from them, and service selection.
pub struct TrustTarget {
    seeds: Vec<Seed>,
    scratch: Scratch,
    production: TrustMaterial,
}

impl TrustTarget {
    /// Its seeds: the embedded roots and signing configs, the vectors' and
    /// the testbed's trust files.
    pub fn load() -> Self {
        let mut seeds = Vec::new();
        for source in [TrustSource::Production, TrustSource::Staging] {
            let trust = TrustMaterial::load_uncached(&source).expect("embedded root");
            seeds.push(Seed {
                name: format!("{source}"),
                data: serde_json::to_vec(&trust.trusted_root).expect("serializable"),
                context: 0,
            });
            if let Some(config) = &trust.signing_config {
                seeds.push(Seed {
                    name: format!("{source}'s signing config"),
                    data: serde_json::to_vec(config).expect("serializable"),
                    context: 0,
                });
            }
        }
        for path in [
            vectors().join("sigstore-python/tsa/trust_config.json"),
            testbed().join("trust_config.json"),
            testbed().join("trusted_root.json"),
            testbed().join("signing_config.json"),
            testbed().join("signing_config_v2.json"),
        ] {
            seeds.push(seed(&path, 0));
        }
        Self {
            seeds,
            scratch: Scratch::new("trust.json"),
            production: TrustMaterial::load_uncached(&TrustSource::Production)
                .expect("embedded root"),
        }
    }
}

impl Target for TrustTarget {
    fn name(&self) -> &'static str {
        "trust"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, _context: usize, data: &[u8]) -> String {
        let path = self.scratch.write(data).to_path_buf();
        let mut loaded = Vec::new();
        for source in [
            TrustSource::TrustedRootFile(path.clone()),
            TrustSource::TrustConfigFile(path.clone()),
        ] {
            if let Ok(trust) = TrustMaterial::load_uncached(&source) {
                if Verifier::with_clock(&trust, clock()).is_ok() {
                    loaded.push("a verifier");
                }
                let _ = TrustedLogs::new(&trust);
                if let Some(config) = &trust.signing_config {
                    let _ = keyless::sign::services::select(config, None, now());
                }
            }
        }
        if let Ok(trust) = self.production.clone().with_signing_config_file(&path)
            && let Some(config) = &trust.signing_config
        {
            for version in [None, Some(1), Some(2)] {
                if keyless::sign::services::select(config, version, now()).is_ok() {
                    loaded.push("services");
                }
            }
        }
        if loaded.is_empty() {
            "refused".into()
        } else {
            loaded.join(", ")
        }
    }
}
