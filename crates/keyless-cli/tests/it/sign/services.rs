//! cosign's service flags on `keyless sign`: `--fulcio-url`, `--rekor-url`,
//! `--timestamp-server-url` replace the services the signing config selects
//! while verification stays against the instance's trust root;
//! `--oidc-issuer` chooses the login provider and must agree with the
//! token; `--instance URL` signs with what `keyless trust update` cached.

use super::{SAN, Setup, setup};
use crate::common::bed::{Bed, GITLAB};
use crate::common::{keyless, keyless_without_token, read_json, run, verify_identity};
use keyless_testbed::JwsAlg;
use keyless_testbed::faults::Endpoint;
use std::ffi::OsStr;
use std::path::PathBuf;

/// No service listens here.
const DEAD: &str = "http://127.0.0.1:9";

/// The testbed's trust config with every service of its signing config
/// replaced by one that does not answer; its path.
fn dead_services(s: &Setup) -> PathBuf {
    let mut config = read_json(&s.tb.trust_config_path());
    let signing = &mut config["signingConfig"];
    for list in ["caUrls", "rekorTlogUrls", "tsaUrls", "oidcUrls"] {
        for service in signing[list].as_array_mut().unwrap() {
            service["url"] = DEAD.into();
        }
    }
    let path = s.state_file("trust_config_dead.json");
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

fn tsa_url(bed: &Bed) -> String {
    format!("{}/api/v1/timestamp", bed.tb.url())
}

#[test]
fn explicit_services_replace_those_of_the_signing_config() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let trust = dead_services(&s);
    let url = s.tb.url();
    let tsa = tsa_url(&s);
    let r = s.keyless_sign(
        &s.token,
        &trust,
        &[
            f.as_os_str(),
            "--fulcio-url".as_ref(),
            url.as_ref(),
            "--rekor-url".as_ref(),
            url.as_ref(),
            "--timestamp-server-url".as_ref(),
            tsa.as_ref(),
            "--json".as_ref(),
        ],
    );
    r.assert_code(0);
    let services = &r.json()["services"];
    assert_eq!(services["fulcio"], url);
    assert_eq!(services["rekor"], url);
    assert_eq!(services["rekor_version"], 1);
    assert_eq!(services["tsa"], tsa);
    assert_eq!(s.tb.requests(Endpoint::Fulcio), 1);
    assert_eq!(s.tb.requests(Endpoint::RekorV1), 1);
    assert!(
        s.tb.requests(Endpoint::Tsa) >= 2,
        "certificate check and signature"
    );
    assert_eq!(s.verify("trust_config.json", &[f], SAN).0, 0);
}

#[test]
fn an_explicit_rekor_speaks_v1_unless_told_otherwise() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let url = s.tb.url();
    // The config's only log is v2; the log named on the command line is v1.
    let r = s.sign(
        "trust_config_v2.json",
        &[
            f.as_os_str(),
            "--rekor-url".as_ref(),
            url.as_ref(),
            "--json".as_ref(),
        ],
    );
    r.assert_code(0);
    assert_eq!(r.json()["services"]["rekor_version"], 1);
    assert_eq!(s.tb.requests(Endpoint::RekorV1), 1);
    assert_eq!(s.tb.requests(Endpoint::RekorV2), 0);
    let r = s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--overwrite".as_ref(),
            "--rekor-url".as_ref(),
            url.as_ref(),
            "--rekor-version".as_ref(),
            "2".as_ref(),
            "--json".as_ref(),
        ],
    );
    r.assert_code(0);
    assert_eq!(r.json()["services"]["rekor_version"], 2);
    assert_eq!(s.tb.requests(Endpoint::RekorV2), 1);
    assert_eq!(s.verify("trust_config.json", &[f], SAN).0, 0);
}

/// Services of another instance are used, but what they return does not
/// verify against this instance's trust root, so nothing is written.
#[test]
fn services_outside_the_trust_root_fail_verification() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let other = Bed::start();
    let other_url = other.tb.url();

    // Another log: the entry is made there, and the bundle fails.
    let r = s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--rekor-url".as_ref(), other_url.as_ref()],
    );
    r.assert_code(1);
    assert!(r.stdout.contains("does not verify"), "{}", r.stdout);
    assert_eq!(other.tb.requests(Endpoint::RekorV1), 1);
    assert!(s.outputs().is_empty(), "{:?}", s.outputs());

    // Another TSA: its timestamp fails the certificate check.
    let other_tsa = tsa_url(&other);
    let r = s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--timestamp-server-url".as_ref(),
            other_tsa.as_ref(),
        ],
    );
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("TSA: the timestamp it issued does not verify against the trust root"),
        "{}",
        r.stderr
    );

    // Another Fulcio (accepting a token of its own issuer): its certificate
    // does not chain to this trust root.
    let token = other.gitlab_token(JwsAlg::RS256);
    let r = s.sign_with_token(
        &token,
        "trust_config.json",
        &[f.as_os_str(), "--fulcio-url".as_ref(), other_url.as_ref()],
    );
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("Fulcio: the certificate it issued does not verify against the trust root"),
        "{}",
        r.stderr
    );
    assert_eq!(other.tb.requests(Endpoint::Fulcio), 1);
    assert!(s.outputs().is_empty(), "{:?}", s.outputs());
}

#[test]
fn service_urls_are_checked_before_any_request() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    for (flag, url, why) in [
        ("--fulcio-url", "http://fulcio.example", "plain http"),
        ("--rekor-url", "rekor.example", "not a URL"),
        (
            "--timestamp-server-url",
            "https://tsa.example/?a=b",
            "query",
        ),
        (
            "--oidc-issuer",
            "ftp://issuer.example",
            "not an http(s) URL",
        ),
    ] {
        let r = s.sign(
            "trust_config.json",
            &[f.as_os_str(), flag.as_ref(), url.as_ref()],
        );
        r.assert_code(2);
        assert!(
            r.stderr.contains(flag) && r.stderr.contains(why),
            "{flag}: {}",
            r.stderr
        );
    }
    assert_eq!(s.tb.requests(Endpoint::Fulcio), 0);
}

#[test]
fn oidc_issuer_must_agree_with_the_token() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--oidc-issuer".as_ref(),
            "https://gitlab.com/".as_ref(),
        ],
    )
    .assert_code(0);

    // As a cosign job might pass it, beside a GitLab token.
    let r = s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--overwrite".as_ref(),
            "--oidc-issuer".as_ref(),
            "https://oauth2.sigstore.dev/auth".as_ref(),
        ],
    );
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("--oidc-issuer https://oauth2.sigstore.dev/auth contradicts")
            && r.stderr.contains("\"https://gitlab.com\""),
        "{}",
        r.stderr
    );
    assert_eq!(
        s.tb.requests(Endpoint::Fulcio),
        1,
        "only the first run asked Fulcio"
    );
}

/// With `--oidc-issuer`, the device login goes to that provider, not the
/// signing config's (here one that does not answer).
#[test]
fn oidc_issuer_chooses_the_login_provider() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let trust = dead_services(&s);
    let url = s.tb.url();
    let r = run(keyless_without_token()
        .args(["sign", "--oauth-device", "--trust-config"])
        .arg(&trust)
        .args([
            "--oidc-issuer",
            url,
            "--fulcio-url",
            url,
            "--rekor-url",
            url,
        ])
        .arg("--timestamp-server-url")
        .arg(tsa_url(&s))
        .arg(&f)
        .timeout(std::time::Duration::from_secs(60)));
    r.assert_code(0);
    assert!(
        r.stderr.contains(&format!("{url}/oauth/device")),
        "{}",
        r.stderr
    );
    let (code, report) = verify_identity(
        &[f.as_os_str()],
        Some(&s.tb.trust_config_path()),
        keyless_testbed::server::DEVICE_LOGIN_EMAIL,
        url,
    );
    assert_eq!(code, 0, "{report:#}");
}

/// sigstore-python's `--instance URL` (after `trust-instance`): here after
/// `keyless trust update --tuf-url URL --tuf-root root.json`.
#[test]
fn instance_signs_with_the_trust_material_cached_for_it() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let cache = s.path("cache");
    let tuf = s.tb.tuf_url();
    let sign = || {
        let mut cmd = crate::common::keyless_with_token(&s.token);
        cmd.env("KEYLESS_CACHE_DIR", &cache)
            .args(["sign", "--instance", &tuf])
            .arg(&f);
        run(&mut cmd)
    };
    let r = sign();
    r.assert_code(2);
    assert!(
        r.stderr
            .contains(&format!("keyless trust update --tuf-url {tuf}")),
        "{}",
        r.stderr
    );
    keyless()
        .env("KEYLESS_CACHE_DIR", &cache)
        .args(["trust", "update", "--tuf-url", &tuf, "--tuf-root"])
        .arg(s.state_file("tuf/1.root.json"))
        .assert()
        .success();
    let r = sign();
    r.assert_code(0);
    assert!(!r.stderr.contains(s.token.rsplit('.').next().unwrap()));
    let root = cache
        .join(keyless::trust::InstanceName::custom(&tuf).0)
        .join("trusted_root.json");
    let (code, report) = crate::common::verify_json(&[
        f.as_os_str(),
        "--trusted-root".as_ref(),
        root.as_os_str(),
        "--certificate-identity".as_ref(),
        SAN.as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        GITLAB.as_ref(),
    ]);
    assert_eq!(code, 0, "{report:#}");
}

/// With only a trusted root (no signing config), the services are named.
#[test]
fn a_trusted_root_with_named_services() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let root = s.tb.trusted_root_path();
    let r = s.keyless_sign_any(&["--trusted-root".as_ref(), root.as_os_str(), f.as_os_str()]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("has no signing config") && r.stderr.contains("--fulcio-url"),
        "{}",
        r.stderr
    );
    let url = s.tb.url();
    let r = s.keyless_sign_any(&[
        "--trusted-root".as_ref(),
        root.as_os_str(),
        "--fulcio-url".as_ref(),
        url.as_ref(),
        "--rekor-url".as_ref(),
        url.as_ref(),
        f.as_os_str(),
    ]);
    r.assert_code(0);
    assert_eq!(s.verify("trust_config.json", &[f], SAN).0, 0);
}

impl Setup {
    /// `keyless sign <args>` with the setup's token and no --trust-config.
    fn keyless_sign_any(&self, args: &[&OsStr]) -> crate::common::Run {
        let r = run(crate::common::keyless_with_token(&self.token)
            .arg("sign")
            .args(args)
            .timeout(std::time::Duration::from_secs(120)));
        assert!(!r.stderr.contains(self.token.rsplit('.').next().unwrap()));
        r
    }
}
