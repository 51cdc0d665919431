//! Evidence no honest Sigstore produces: certificates made with the
//! testbed's own CA keys and logged in its Rekor, and a signing time after
//! keyless's clock (a log or TSA whose clock runs ahead). Everything
//! verifies but the one property under test: each case has a control that
//! verifies with that property restored, so the refusal is that check's
//! doing.

use crate::common::bed::{Bed, GITLAB};
use crate::common::{keyless, run, verify_identity};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use keyless_testbed::TokenSpec;
use keyless_testbed::ca::{CertIdentity, FulcioCa, San, StoredFulcio, identity_from_claims};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The project and branch of [`TokenSpec::gitlab`]'s defaults.
const PROJECT: &str = "keyless-demo/hello-py";

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The certificate identity Fulcio derives from a default GitLab token.
fn gitlab_identity() -> CertIdentity {
    let claims = TokenSpec::gitlab(GITLAB).claims(unix_now());
    identity_from_claims(claims.as_object().unwrap()).unwrap()
}

/// The testbed's Fulcio CA, from its state directory.
fn ca(bed: &Bed) -> FulcioCa {
    let keys = crate::common::read_json(&bed.tb.state_dir().join("keys.json"));
    let stored: StoredFulcio = serde_json::from_value(keys["fulcio"].clone()).unwrap();
    FulcioCa::from_stored(&stored).unwrap()
}

/// Sign `name` (written with unique contents) under a fresh certificate for
/// `identity` from the testbed CA (with the code-signing EKU or not), log
/// it in the testbed's Rekor v1, and write `<name>.sigstore.json` (v0.3).
/// The artifact's path.
fn forge(bed: &Bed, name: &str, identity: &CertIdentity, code_signing: bool) -> PathBuf {
    let file = bed.write(name, format!("{name}, signed under a forged certificate"));
    let key = sigstore_crypto::KeyPair::generate_ecdsa_p256().unwrap();
    let spki = key.public_key_der().unwrap();
    let now = unix_now() - 5;
    let leaf = ca(bed)
        .issue_with_eku(identity, spki.as_bytes(), now, 600, None, code_signing)
        .unwrap();
    let leaf = sigstore_types::DerCertificate::new(leaf);
    let digest = sigstore_crypto::sha256(&std::fs::read(&file).unwrap());
    let signature = key.sign_digest(&digest).unwrap();
    let entry = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(
            sigstore_rekor::RekorClient::new(bed.tb.url())
                .unwrap()
                .create_entry(sigstore_rekor::HashedRekord::new(
                    &digest, &signature, &leaf,
                )),
        )
        .unwrap()
        .to_bundle_entry(sigstore_types::KindVersion::HashedRekordV001)
        .unwrap();
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": { "rawBytes": B64.encode(leaf.as_bytes()) },
            "tlogEntries": [serde_json::to_value(&entry).unwrap()],
        },
        "messageSignature": {
            "messageDigest": { "algorithm": "SHA2_256", "digest": B64.encode(digest.as_bytes()) },
            "signature": B64.encode(signature.as_bytes()),
        },
    });
    bed.write(&format!("{name}.sigstore.json"), bundle.to_string());
    file
}

/// The SAN of a URI identity.
fn san(identity: &CertIdentity) -> String {
    match &identity.san {
        San::Uri(u) => u.clone(),
        San::Email(e) => e.clone(),
    }
}

/// `keyless verify --json` of `file` for `identity`'s SAN and GitLab's
/// issuer against the testbed's root: exit code and the result.
fn verify(bed: &Bed, file: &Path, identity: &CertIdentity) -> (i32, Value) {
    let trust = bed.tb.trust_config_path();
    let (code, report) = verify_identity(&[file.as_os_str()], Some(&trust), &san(identity), GITLAB);
    (code, report["results"][0].clone())
}

/// `keyless verify gitlab --json <file> --project PROJECT --branch main`.
fn verify_gitlab(bed: &Bed, file: &Path) -> (i32, Value) {
    let r = run(keyless()
        .args(["verify", "gitlab", "--json"])
        .arg(file)
        .arg("--trust-config")
        .arg(bed.tb.trust_config_path())
        .args(["--project", PROJECT, "--branch", "main"]));
    (r.code, r.json()["results"][0].clone())
}

#[test]
fn a_certificate_without_the_code_signing_eku_fails_at_the_certificate() {
    let bed = Bed::start();
    let identity = gitlab_identity();
    let honest = forge(&bed, "control.tar.gz", &identity, true);
    let (code, r) = verify(&bed, &honest, &identity);
    assert_eq!(code, 0, "the control verifies: {r:#}");

    // A TLS server certificate from the same CA, same identity.
    let tls = forge(&bed, "server-auth.tar.gz", &identity, false);
    let (code, r) = verify(&bed, &tls, &identity);
    assert_eq!(
        (code, r["failed_step"].as_str()),
        (1, Some("certificate")),
        "{r:#}"
    );
}

#[test]
fn a_gitlab_certificate_without_source_repository_or_run_invocation_is_refused() {
    let bed = Bed::start();
    let complete = gitlab_identity();
    let control = forge(&bed, "control.tar.gz", &complete, true);
    let (code, r) = verify_gitlab(&bed, &control);
    assert_eq!(code, 0, "the control verifies: {r:#}");

    for (missing, name) in [
        (12, "1.3.6.1.4.1.57264.1.12"),
        (21, "1.3.6.1.4.1.57264.1.21"),
    ] {
        let mut identity = complete.clone();
        identity.extensions.retain(|(n, _)| *n != missing);
        let file = forge(&bed, &format!("without-{missing}.tar.gz"), &identity, true);
        let (code, r) = verify_gitlab(&bed, &file);
        assert_eq!(
            (code, r["failed_step"].as_str()),
            (1, Some("identity")),
            "{r:#}"
        );
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains(name), "without .{missing}: {reason}");
        // The generic identity policy does not ask for it: it verifies.
        let (code, r) = verify(&bed, &file, &identity);
        assert_eq!(code, 0, "without .{missing}, for its SAN: {r:#}");
    }
}

#[test]
fn a_signing_time_after_keyless_clock_fails_at_signing_time() {
    use keyless::verify::policy::{IdentityPolicy, Policy, ValueMatcher};
    use keyless::verify::{Step, Verifier};
    let bed = Bed::start();
    let file = bed.write("pkg-1.0.tar.gz", "signed a moment ago");
    let token = bed.gitlab_token(keyless_testbed::JwsAlg::RS256);
    bed.keyless_sign(&token, &bed.tb.trust_config_path(), &[file.as_os_str()])
        .assert_code(0);
    let trust = keyless::trust::TrustMaterial::load(&keyless::trust::TrustSource::TrustConfigFile(
        bed.tb.trust_config_path(),
    ))
    .unwrap();
    let bundle = keyless::bundle::read_bundle(&bed.path("pkg-1.0.tar.gz.sigstore.json")).unwrap();
    let policy = Policy::Identity(IdentityPolicy::new(
        ValueMatcher::Exact(crate::common::bed::MAIN_SAN.into()),
        ValueMatcher::Exact(GITLAB.into()),
    ));
    let artifact = || std::fs::File::open(&file).unwrap();

    let verified = Verifier::new(&trust)
        .unwrap()
        .verify_reader(artifact(), &bundle, &policy)
        .unwrap();
    let signed = verified.signing_time().unwrap();
    // keyless's clock a minute before the verified signing time.
    let earlier = keyless::clock::FixedClock(
        signed
            .checked_sub(std::time::Duration::from_secs(60))
            .unwrap(),
    );
    let e = Verifier::with_clock(&trust, std::sync::Arc::new(earlier))
        .unwrap()
        .verify_reader(artifact(), &bundle, &policy)
        .unwrap_err();
    match e {
        keyless::Error::Failed(f) => {
            assert_eq!(f.step, Step::SigningTime, "{f}");
            assert!(f.reason.contains("after the current time"), "{f}");
        }
        other => panic!("no verdict: {other}"),
    }
}
