//! `keyless trust update`: trust material refreshed through TUF from the
//! testbed's repository, used by `verify`, and refused when TUF says no.

use crate::common::keyless;
use keyless_testbed::tuf::RepoOptions;
use keyless_testbed::{JwsAlg, Testbed, TestbedOptions, TokenSpec};
use predicates::prelude::*;
use std::path::Path;

fn update(tb: &Testbed, cache: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    keyless()
        .env("KEYLESS_CACHE_DIR", cache)
        .args(["trust", "update", "--tuf-url", &tb.tuf_url(), "--tuf-root"])
        .arg(tb.state_dir().join("tuf/1.root.json"))
        .args(extra)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
}

fn custom_dir(tb: &Testbed, cache: &Path) -> std::path::PathBuf {
    cache.join(keyless::trust::InstanceName::custom(&tb.tuf_url()).0)
}

#[test]
fn update_fetches_the_testbed_trust_material_through_tuf() {
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    let cache = dir.path().join("cache");
    update(&tb, &cache, &[])
        .success()
        .stdout(predicate::str::contains(
            "1 certificate authorities, 2 transparency logs",
        ));
    let cached: serde_json::Value = serde_json::from_slice(
        &std::fs::read(custom_dir(&tb, &cache).join("trusted_root.json")).unwrap(),
    )
    .unwrap();
    let served: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tb.trusted_root_path()).unwrap()).unwrap();
    assert_eq!(
        cached["certificateAuthorities"],
        served["certificateAuthorities"]
    );
    assert_eq!(cached["tlogs"][0]["logId"], served["tlogs"][0]["logId"]);

    // --offline works from the TUF cache alone, with the server gone...
    let (url, root) = (tb.tuf_url(), tb.state_dir().join("tuf/1.root.json"));
    drop(tb);
    let offline = |cache: &Path| {
        keyless()
            .env("KEYLESS_CACHE_DIR", cache)
            .args([
                "trust",
                "update",
                "--offline",
                "--tuf-url",
                &url,
                "--tuf-root",
            ])
            .arg(&root)
            .timeout(std::time::Duration::from_secs(60))
            .assert()
    };
    offline(&cache).success();
    // ... and without a cache it fails rather than reaching out.
    offline(&dir.path().join("empty-cache")).code(2);
}

#[test]
fn a_tampered_timestamp_role_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    tb.republish_tuf(&RepoOptions::default().with_tampered_timestamp())
        .unwrap();
    let cache = dir.path().join("cache");
    update(&tb, &cache, &[])
        .code(2)
        .stderr(predicate::str::contains("timestamp"));
    assert!(!custom_dir(&tb, &cache).join("trusted_root.json").exists());
}

#[test]
fn an_expired_timestamp_role_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    tb.republish_tuf(&RepoOptions::default().with_expired_timestamp())
        .unwrap();
    update(&tb, &dir.path().join("cache"), &[])
        .code(2)
        .stderr(predicate::str::contains("expired"));
}

/// Cached production material replaces the embedded snapshot for `verify`.
#[test]
fn verify_uses_cached_material_for_its_instance() {
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    let token = tb.mint(&TokenSpec::gitlab("https://gitlab.com"), JwsAlg::ES256);
    let bundle = crate::common::sign_with_sigstore_rust(
        &tb.state_dir().join("signing_config.json"),
        &token,
        b"data",
    )
    .unwrap();
    let artifact = dir.path().join("a.txt");
    std::fs::write(&artifact, b"data").unwrap();
    std::fs::write(dir.path().join("a.txt.sigstore.json"), bundle).unwrap();
    let policy = [
        "--certificate-identity",
        "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/heads/main",
        "--certificate-oidc-issuer",
        "https://gitlab.com",
    ];
    let cache = dir.path().join("cache");
    // No cache: the embedded production root does not know the testbed.
    keyless()
        .env("KEYLESS_CACHE_DIR", &cache)
        .arg("verify")
        .arg(&artifact)
        .args(policy)
        .assert()
        .code(1);
    // "Production" material in the cache (here: the testbed's) is used.
    std::fs::create_dir_all(cache.join("production")).unwrap();
    std::fs::copy(
        tb.trusted_root_path(),
        cache.join("production/trusted_root.json"),
    )
    .unwrap();
    keyless()
        .env("KEYLESS_CACHE_DIR", &cache)
        .arg("verify")
        .arg(&artifact)
        .args(policy)
        .assert()
        .success();
}
