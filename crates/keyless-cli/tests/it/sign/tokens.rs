//! Where `keyless sign` gets its identity token when none is given: the
//! OAuth device flow against the instance's OIDC provider, and GitHub
//! Actions' ambient token endpoint (unless ambient providers are disabled).

use super::setup;
use crate::common::{keyless, keyless_without_token, run, verify_identity};

/// No token in the environment: the device authorization grant logs in
/// against the instance's OIDC provider (the testbed approves on its own).
#[test]
fn oauth_device_flow_logs_in_and_signs() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let r = run(keyless_without_token()
        .args(["sign", "--oauth-device", "--trust-config"])
        .arg(s.tb.trust_config_path())
        .arg(&f)
        .timeout(std::time::Duration::from_secs(60)));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("/oauth/device?user_code=") && r.stderr.contains("enter the code"),
        "{}",
        r.stderr
    );
    let (code, report) = verify_identity(
        &[f.as_os_str()],
        Some(&s.tb.trust_config_path()),
        keyless_testbed::server::DEVICE_LOGIN_EMAIL,
        s.tb.url(),
    );
    assert_eq!(code, 0, "{report:#}");
}

/// In GitHub Actions the ambient OIDC provider is asked for a token with
/// audience `sigstore` (here the testbed plays GitHub's token endpoint).
#[test]
fn github_actions_ambient_token() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let in_github_actions = |token_url: String| {
        let mut cmd = keyless();
        cmd.env_remove("SIGSTORE_ID_TOKEN")
            .env("GITHUB_ACTIONS", "true")
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", token_url)
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token");
        cmd
    };
    let r = run(in_github_actions(format!(
        "{}/github/actions-token?api-version=2.0",
        s.tb.url()
    ))
    .args(["sign", "--trust-config"])
    .arg(s.tb.trust_config_path())
    .arg(&f));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("token from GitHub Actions"),
        "{}",
        r.stderr
    );
    let (code, report) = verify_identity(
        &[f.as_os_str()],
        Some(&s.tb.trust_config_path()),
        "https://github.com/keyless-demo/hello-py/.github/workflows/release.yml@refs/heads/main",
        "https://token.actions.githubusercontent.com",
    );
    assert_eq!(code, 0, "{report:#}");
    // --oidc-disable-ambient-providers turns it off: no token at all.
    in_github_actions(format!("{}/github/actions-token", s.tb.url()))
        .args([
            "sign",
            "--overwrite",
            "--oidc-disable-ambient-providers",
            "--trust-config",
        ])
        .arg(s.tb.trust_config_path())
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no identity token"));
}
