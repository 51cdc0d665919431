//! `keyless sign` against the testbed: many files under one certificate,
//! Rekor v1 and v2, interop with sigstore-python, and every failure mode
//! ending with a clear message, the documented exit code and no partial
//! output. One module per concern; the fixture is here.

mod attestations;
mod concurrency;
mod environment;
mod hints;
mod hostile_services;
mod outputs;
mod progress;
mod recovery;
mod refusals;
mod services;
mod tokens;
mod untrusted_answers;

use crate::common::bed::{Bed, GITLAB, TAG_SAN, tag_v1_0};
use crate::common::{Run, verify_identity};
use keyless_testbed::JwsAlg;
use std::ffi::OsStr;
use std::path::PathBuf;

/// The identity of [`Setup`]'s token.
const SAN: &str = TAG_SAN;

/// A testbed, a token for the demo project's v1.0 tag, and an empty
/// `dist/` to sign.
struct Setup {
    bed: Bed,
    token: String,
}

fn setup() -> Setup {
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);
    std::fs::create_dir(bed.path("dist")).unwrap();
    Setup { bed, token }
}

impl std::ops::Deref for Setup {
    type Target = Bed;
    fn deref(&self) -> &Bed {
        &self.bed
    }
}

impl Setup {
    fn dist(&self) -> PathBuf {
        self.path("dist")
    }

    fn add(&self, name: &str) -> PathBuf {
        let p = self.dist().join(name);
        std::fs::write(&p, format!("contents of {name}")).unwrap();
        p
    }

    /// Run `keyless sign --trust-config <state>/<trust> <args>` with the
    /// token in SIGSTORE_ID_TOKEN (it must never be printed).
    fn sign(&self, trust: &str, args: &[&OsStr]) -> Run {
        self.sign_with_token(&self.token, trust, args)
    }

    fn sign_with_token(&self, token: &str, trust: &str, args: &[&OsStr]) -> Run {
        self.keyless_sign(token, &self.state_file(trust), args)
    }

    fn verify(&self, trust: &str, files: &[PathBuf], identity: &str) -> (i32, serde_json::Value) {
        let args: Vec<&OsStr> = files.iter().map(|f| f.as_os_str()).collect();
        verify_identity(&args, Some(&self.state_file(trust)), identity, GITLAB)
    }

    /// Signing outputs in `dist/` (bundles, signatures, certificates, and
    /// temporary files), sorted.
    fn outputs(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dist())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| {
                n.contains(".sigstore")
                    || n.ends_with(".sig")
                    || n.ends_with(".crt")
                    || n.contains(".tmp")
            })
            .collect();
        names.sort();
        names
    }
}
