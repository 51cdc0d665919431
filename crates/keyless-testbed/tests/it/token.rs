//! The `keyless-testbed token` command mints tokens with the claims asked
//! for, signed by the testbed's issuer.

use crate::common::start;
use base64::Engine;

#[test]
fn the_token_command_mints_tokens_the_testbed_accepts() {
    let bed = start();
    let out = assert_cmd::Command::cargo_bin("keyless-testbed")
        .unwrap()
        .args(["token", "--state-dir"])
        .arg(bed.tb.state_dir())
        .args([
            "--project",
            "grp/sub/proj",
            "--tag",
            "v2.0",
            "--pipeline-source",
            "web",
        ])
        .args([
            "--runner-environment",
            "self-hosted",
            "--alg",
            "es256",
            "--claim",
            "user_login=alice",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim().split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], "https://gitlab.com");
    assert_eq!(claims["project_path"], "grp/sub/proj");
    assert_eq!(claims["namespace_path"], "grp/sub");
    assert_eq!(claims["ref_type"], "tag");
    assert_eq!(claims["pipeline_source"], "web");
    assert_eq!(claims["runner_environment"], "self-hosted");
    assert_eq!(claims["user_login"], "alice");
    assert_eq!(claims["aud"], "sigstore");
}
