//! `valid_until`: the trust files end the validity windows of the keys
//! named, and only theirs, from the start or while the testbed runs.

use crate::common::read_json;
use keyless_testbed::{KeyEnd, Testbed, TestbedOptions, TrustedKey};
use serde_json::Value;

/// The five windows of a trusted root: Fulcio, CT log, Rekor v1, Rekor v2, TSA.
fn windows(root: &Value) -> [Value; 5] {
    [
        root["certificateAuthorities"][0]["validFor"].clone(),
        root["ctlogs"][0]["publicKey"]["validFor"].clone(),
        root["tlogs"][0]["publicKey"]["validFor"].clone(),
        root["tlogs"][1]["publicKey"]["validFor"].clone(),
        root["timestampAuthorities"][0]["validFor"].clone(),
    ]
}

#[test]
fn the_trust_files_end_the_windows_of_the_keys_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = TestbedOptions::new(dir.path().join("state"));
    options.valid_until = vec!["tsa=2030-01-01T00:00:00Z".parse().unwrap()];
    let tb = Testbed::start(options).unwrap();
    let start = tb.valid_from().to_string();
    let root = read_json(&tb.trusted_root_path());
    for (key, window) in TrustedKey::ALL.into_iter().zip(windows(&root)) {
        assert_eq!(window["start"], start.as_str(), "{key:?}");
        let end = (key == TrustedKey::Tsa).then_some("2030-01-01T00:00:00Z");
        assert_eq!(window["end"].as_str(), end, "{key:?}");
    }
    // What clients parse it with.
    sigstore_trust_root::TrustedRoot::from_json(&root.to_string()).unwrap();

    // While running: every trust file, and the served copy, change.
    let end: jiff::Timestamp = "2029-06-01T12:00:00Z".parse().unwrap();
    let ends = [TrustedKey::RekorV1, TrustedKey::RekorV2].map(|key| KeyEnd { key, end });
    tb.set_valid_until(&ends).unwrap();
    let config = read_json(&tb.trust_config_v2_path());
    for root in [
        read_json(&tb.trusted_root_path()),
        config["trustedRoot"].clone(),
    ] {
        let ended: Vec<bool> = windows(&root)
            .iter()
            .map(|w| w["end"] == "2029-06-01T12:00:00Z")
            .collect();
        assert_eq!(ended, [false, false, true, true, false], "{root:#}");
    }
    let (status, served) = crate::common::http(
        tb.url(),
        "GET",
        "/trust/trusted_root.json",
        "application/json",
        b"",
    );
    assert_eq!(status, 200);
    let served: Value = serde_json::from_slice(&served).unwrap();
    assert_eq!(windows(&served)[2]["end"], "2029-06-01T12:00:00Z");

    for bad in ["tsa", "hsm=2030-01-01T00:00:00Z", "tsa=tomorrow"] {
        assert!(bad.parse::<KeyEnd>().is_err(), "{bad}");
    }
}

#[test]
fn serve_takes_valid_until_and_names_the_keys_when_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("keyless-testbed")
        .unwrap()
        .args(["serve", "--state-dir"])
        .arg(dir.path())
        .args(["--valid-until", "hsm=2030-01-01T00:00:00Z"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--valid-until")
            && stderr.contains("keys: fulcio, ct-log, rekor-v1, rekor-v2, tsa"),
        "{stderr}"
    );
}
