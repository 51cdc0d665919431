//! `keyless trust update`: trust material refreshed through TUF from the
//! testbed's repository, used by `verify`, and refused when TUF says no.

use crate::common::bed::{Bed, GITLAB, MAIN_SAN};
use crate::common::{keyless, read_json};
use keyless_testbed::tuf::RepoOptions;
use keyless_testbed::{JwsAlg, Testbed};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// [`keyless`] with its trust cache in `cache`.
fn keyless_cached(cache: &Path) -> assert_cmd::Command {
    let mut cmd = keyless();
    cmd.env("KEYLESS_CACHE_DIR", cache);
    cmd
}

/// `keyless trust update [--offline]` from the TUF repository at `url`,
/// rooted in `root`, into `cache`.
fn update_from(url: &str, root: &Path, cache: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    keyless_cached(cache)
        .args(["trust", "update", "--tuf-url", url, "--tuf-root"])
        .arg(root)
        .args(extra)
        .timeout(std::time::Duration::from_secs(60))
        .assert()
}

fn tuf_root(tb: &Testbed) -> PathBuf {
    tb.state_dir().join("tuf/1.root.json")
}

fn update(tb: &Testbed, cache: &Path) -> assert_cmd::assert::Assert {
    update_from(&tb.tuf_url(), &tuf_root(tb), cache, &[])
}

fn custom_dir(tb: &Testbed, cache: &Path) -> PathBuf {
    cache.join(keyless::trust::InstanceName::custom(&tb.tuf_url()).0)
}

/// A testbed whose TUF repository is republished with `options`.
fn republished(options: &RepoOptions) -> Bed {
    let bed = Bed::start();
    bed.tb.republish_tuf(options).unwrap();
    bed
}

#[test]
fn update_fetches_the_testbed_trust_material_through_tuf() {
    let Bed { dir, tb } = Bed::start();
    let cache = dir.path().join("cache");
    update(&tb, &cache)
        .success()
        .stdout(predicate::str::contains(
            "1 certificate authorities, 2 transparency logs",
        ));
    let cached = read_json(&custom_dir(&tb, &cache).join("trusted_root.json"));
    let served = read_json(&tb.trusted_root_path());
    assert_eq!(
        cached["certificateAuthorities"],
        served["certificateAuthorities"]
    );
    assert_eq!(cached["tlogs"][0]["logId"], served["tlogs"][0]["logId"]);

    // --offline works from the TUF cache alone, with the server gone...
    let (url, root) = (tb.tuf_url(), tuf_root(&tb));
    drop(tb);
    update_from(&url, &root, &cache, &["--offline"]).success();
    // ... and without a cache it fails rather than reaching out.
    update_from(&url, &root, &dir.path().join("empty-cache"), &["--offline"]).code(2);
}

#[test]
fn a_tampered_timestamp_role_is_refused_and_nothing_is_written() {
    let bed = republished(&RepoOptions::default().with_tampered_timestamp());
    let cache = bed.path("cache");
    update(&bed.tb, &cache)
        .code(2)
        .stderr(predicate::str::contains("timestamp"));
    assert!(
        !custom_dir(&bed.tb, &cache)
            .join("trusted_root.json")
            .exists()
    );
}

#[test]
fn an_expired_timestamp_role_is_refused() {
    let bed = republished(&RepoOptions::default().with_expired_timestamp());
    update(&bed.tb, &bed.path("cache"))
        .code(2)
        .stderr(predicate::str::contains("expired"));
}

/// Cached production material replaces the embedded snapshot for `verify`.
#[test]
fn verify_uses_cached_material_for_its_instance() {
    let bed = Bed::start();
    let token = bed.gitlab_token(JwsAlg::ES256);
    let artifact = bed.sigstore_rust_file("signing_config.json", &token, "a.txt", b"data");
    let cache = bed.path("cache");
    let verify = || {
        keyless_cached(&cache)
            .arg("verify")
            .arg(&artifact)
            .args(["--certificate-identity", MAIN_SAN])
            .args(["--certificate-oidc-issuer", GITLAB])
            .assert()
    };
    // No cache: the embedded production root does not know the testbed.
    verify().code(1);
    // "Production" material in the cache (here: the testbed's) is used.
    std::fs::create_dir_all(cache.join("production")).unwrap();
    std::fs::copy(
        bed.tb.trusted_root_path(),
        cache.join("production/trusted_root.json"),
    )
    .unwrap();
    verify().success();
}

/// A cache that cannot be created is a write error, not "cannot read".
#[test]
fn an_unwritable_cache_is_a_write_error() {
    let Bed { dir, tb } = Bed::start();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "a file where the cache folder would go").unwrap();
    update(&tb, &blocker.join("cache"))
        .code(2)
        .stderr(predicate::str::contains("cannot write"))
        .stderr(predicate::str::contains("cannot read").not());
}

/// A TUF mirror on another 127.0.0.1 port answering every request with a
/// 302 to the same path on the testbed (another origin): the refresh
/// fails, naming the redirect, and writes nothing.
#[test]
fn a_tuf_redirect_to_another_origin_is_not_followed() {
    use std::io::{Read, Write};
    let Bed { dir, tb } = Bed::start();
    let target = url_origin(&tb.tuf_url());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mirror = format!(
        "http://{}{}",
        listener.local_addr().unwrap(),
        &tb.tuf_url()[target.len()..]
    );
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < until {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let path = head.split(' ').nth(1).unwrap_or("/").to_string();
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: {target}{path}\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
        }
    });
    let cache = dir.path().join("cache");
    update_from(&mirror, &tuf_root(&tb), &cache, &[])
        .code(2)
        .stderr(predicate::str::contains("another origin"));
    assert!(
        !cache
            .join(keyless::trust::InstanceName::custom(&mirror).0)
            .join("trusted_root.json")
            .exists(),
        "nothing was written"
    );
}

/// `http://host:port` of a URL.
fn url_origin(url: &str) -> String {
    let after_scheme = url.find("://").unwrap() + 3;
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    url[..end].to_string()
}
