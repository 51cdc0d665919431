//! Every single-field mutation of a testbed bundle fails verification.
//!
//! Bundles signed by `keyless sign` against the in-process testbed (Rekor v1
//! hashedrekord with an RFC 3161 timestamp, Rekor v2 hashedrekord with one,
//! and a DSSE in-toto statement on Rekor v1) are walked leaf by leaf; each
//! leaf is mutated every way that applies (a bit flipped in what it
//! encodes, a number changed or zeroed, the field dropped, its type
//! swapped) and verified by the library's `Verifier`. Each mutant must fail
//! (a failed step or a refused bundle), except for the fields [`UNSIGNED`]
//! lists: evidence nothing signs that verification does not rely on, each
//! with the reason. Those mutants must still verify, for the same identity.

use crate::common::bed::{Bed, GITLAB, TAG_SAN, tag_v1_0};
use keyless::trust::{TrustMaterial, TrustSource};
use keyless::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
use keyless::verify::{Outcome, Verifier};
use keyless_fuzz::mutate::{LeafMutation, leaves, pattern};
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const V1: &str = "Rekor v1 hashedrekord + TSA";
const V2: &str = "Rekor v2 hashedrekord + TSA";
const DSSE: &str = "DSSE on Rekor v1";

/// Fields a bundle may carry changed, with why that is safe (SECURITY.md
/// lists them too): the bundles they hold for, the field (a JSON pointer,
/// `*` for any array index), the mutations, the reason.
type Unsigned = (
    &'static [&'static str],
    &'static str,
    &'static [LeafMutation],
    &'static str,
);
const UNSIGNED: &[Unsigned] = &[
    (
        &[V1],
        "/verificationMaterial/timestampVerificationData/rfc3161Timestamps/*/signedTimestamp",
        &[LeafMutation::FlipByte],
        "a timestamp no trusted TSA verifies is set aside, as the client spec, sigstore-python \
         and sigstore-go do; the SET's integrated time is still a verified signing time",
    ),
    (
        &[V1, DSSE],
        "/verificationMaterial/tlogEntries/*/inclusionProof/checkpoint/envelope",
        &[LeafMutation::FlipByte],
        "the flip lands on the key name of the checkpoint's signature line, which is not signed: \
         the key is found by its key hint, and the signature covers origin, tree size and root \
         (sigstore-python and sigstore-go accept it too; for Rekor v2 the name must be the \
         origin); every other checkpoint change fails (tamper.rs)",
    ),
    (
        &[DSSE],
        "/verificationMaterial/timestampVerificationData",
        &[LeafMutation::Drop],
        "it is empty here (a PEP 740 attestation carries no timestamp); absent and empty are \
         the same message in protobuf JSON",
    ),
];

/// What a verification found: the identity verified, or why not.
fn verdict(verifier: &Verifier, artifact: &Path, bundle: &Value) -> Result<String, String> {
    let path = Path::new("mutant.sigstore.json");
    let bundle = keyless::bundle::parse_bundle(path, &bundle.to_string())
        .map_err(|e| format!("refused: {e}"))?;
    let policy = Policy::Identity(IdentityPolicy::new(
        ValueMatcher::Exact(TAG_SAN.into()),
        ValueMatcher::Exact(GITLAB.into()),
    ));
    let file = std::fs::File::open(artifact).unwrap();
    match verifier.verify_reader(file, &bundle, &policy).into() {
        Outcome::Verified(v) => Ok(format!(
            "{} ({})",
            v.identity.unwrap_or_default(),
            v.issuer.unwrap_or_default()
        )),
        Outcome::Failed(f) => Err(format!("failed at {}: {}", f.step, f.reason)),
        Outcome::Error(e) => Err(format!("error: {e}")),
    }
}

/// The testbed bundles: (name, artifact, bundle JSON). Three files per run,
/// and the one logged last is used: its entry is not the log's first
/// (whose index 0 protobuf JSON may leave out) and its proof has hashes.
fn testbed_bundles(bed: &Bed) -> Vec<(&'static str, PathBuf, Value)> {
    let token = bed.tb.mint(&tag_v1_0(), keyless_testbed::JwsAlg::RS256);
    let mut out = Vec::new();
    for (dir, trust, extra, name) in [
        ("v1", "trust_config.json", &["--attestations"][..], V1),
        (
            "v2",
            "trust_config_v2.json",
            &["--rekor-version", "2"][..],
            V2,
        ),
    ] {
        std::fs::create_dir_all(bed.path(dir)).unwrap();
        for f in ["a-1.0.tar.gz", "b-1.0.tar.gz", "c-1.0.tar.gz"] {
            bed.write(&format!("{dir}/{f}"), format!("{dir} {f}"));
        }
        let mut args: Vec<&OsStr> = vec![bed.path(dir).into_os_string().leak()];
        args.extend(extra.iter().map(OsStr::new));
        bed.keyless_sign(&token, &bed.state_file(trust), &args)
            .assert_code(0);
        let index = |f: &&&str| {
            let b = crate::common::read_json(&bed.path(&format!("{dir}/{f}.sigstore.json")));
            b["verificationMaterial"]["tlogEntries"][0]["logIndex"]
                .as_str()
                .and_then(|i| i.parse::<u64>().ok())
                .unwrap()
        };
        let last = *["a-1.0.tar.gz", "b-1.0.tar.gz", "c-1.0.tar.gz"]
            .iter()
            .max_by_key(index)
            .unwrap();
        let artifact = bed.path(&format!("{dir}/{last}"));
        let bundle = crate::common::read_json(&bed.path(&format!("{dir}/{last}.sigstore.json")));
        assert!(
            bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"]
                .as_array()
                .is_some_and(|h| !h.is_empty())
        );
        out.push((name, artifact.clone(), bundle));
        if dir == "v1" {
            let attestation = bed.path(&format!("v1/{last}.publish.attestation"));
            let dsse = keyless::attestation::Attestation::read(&attestation)
                .and_then(|a| a.to_bundle(&attestation))
                .unwrap();
            out.push((
                DSSE,
                artifact,
                serde_json::from_str(&dsse.to_json().unwrap()).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn every_single_field_mutation_of_a_testbed_bundle_fails() {
    let bed = Bed::start();
    let trust = TrustMaterial::load_uncached(&TrustSource::TrustConfigFile(
        bed.state_file("trust_config_v2.json"),
    ))
    .unwrap();
    let verifier = Verifier::new(&trust).unwrap();
    let mut wrong = Vec::new();
    let mut counted = 0;
    for (name, artifact, bundle) in testbed_bundles(&bed) {
        let original = verdict(&verifier, &artifact, &bundle)
            .unwrap_or_else(|e| panic!("{name}: the unmodified bundle: {e}"));
        for path in leaves(&bundle) {
            let field = pattern(&path);
            for kind in LeafMutation::ALL {
                let Some(mutant) = kind.apply(&bundle, &path) else {
                    continue;
                };
                counted += 1;
                let allowed = UNSIGNED.iter().find(|(bundles, p, kinds, _)| {
                    bundles.contains(&name) && *p == field && kinds.contains(&kind)
                });
                match (verdict(&verifier, &artifact, &mutant), allowed) {
                    (Ok(v), None) => {
                        wrong.push(format!("{name}: {field} {kind:?} verifies as {v}"))
                    }
                    (Ok(v), Some(_)) if v != original => wrong.push(format!(
                        "{name}: {field} {kind:?} verifies as {v}, not {original}"
                    )),
                    (Err(e), Some((_, _, _, why))) => wrong.push(format!(
                        "{name}: {field} {kind:?} is listed as unsigned ({why}) but fails: {e}"
                    )),
                    _ => {}
                }
            }
        }
    }
    assert!(counted > 150, "only {counted} mutations");
    assert!(
        wrong.is_empty(),
        "{counted} mutations, wrong:\n{}",
        wrong.join("\n")
    );
}
