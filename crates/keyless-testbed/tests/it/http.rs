//! The HTTP surface: every endpoint answers garbage with a 4xx JSON error
//! and keeps serving; injected faults (in process, from the options, and over
//! `/admin/faults` as another process would add them) reach the client.

use crate::common::{get, post, start, start_with};
use keyless_testbed::faults::FaultRule;

#[test]
fn every_endpoint_answers_garbage_with_a_4xx_json_error() {
    let bed = start();
    let tb = &bed.tb;
    let garbage: [&[u8]; 6] = [
        b"",
        b"{",
        b"[]",
        b"null",
        b"{\"publicKeyRequest\": {\"publicKey\": {\"content\": 7}}}",
        &[0xff, 0x00, 0x13, 0x37],
    ];
    let posts = [
        "/api/v2/signingCert",
        "/api/v1/log/entries",
        "/api/v1/log/entries/retrieve",
        "/api/v1/index/retrieve",
        "/api/v2/log/entries",
        "/api/v1/timestamp",
        "/admin/faults",
    ];
    for path in posts {
        for body in garbage {
            let (status, resp) = post(tb, path, body);
            assert!(
                (400..500).contains(&status),
                "POST {path} {body:?} -> {status}"
            );
            let err: serde_json::Value = serde_json::from_slice(&resp)
                .unwrap_or_else(|_| panic!("POST {path}: error body is not JSON: {resp:?}"));
            assert!(err["message"].is_string(), "POST {path}: {err}");
        }
    }
    for path in [
        "/api/v1/log/entries?logIndex=-1",
        "/api/v1/log/entries?logIndex=99999999999999999999",
        "/api/v1/log/entries/zzz",
        // 80 bytes with a multi-byte character across the tree-ID prefix.
        "/api/v1/log/entries/aaaaaaaaaaaaaaa%C3%A9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "/api/v1/log/proof?firstSize=5&lastSize=2",
        "/api/v1/log/proof?firstSize=x",
        "/tuf/../keys.json",
        "/trust/keys.json",
        "/nope",
    ] {
        let (status, resp) = get(tb, path);
        assert!((400..500).contains(&status), "GET {path} -> {status}");
        serde_json::from_slice::<serde_json::Value>(&resp)
            .unwrap_or_else(|_| panic!("GET {path}: error body is not JSON: {resp:?}"));
    }
    // Still serving after all that.
    let (status, _) = get(tb, "/api/v1/log");
    assert_eq!(status, 200);
}

#[test]
fn injected_faults_reach_the_client() {
    let bed = start_with(vec![
        "rekor-v1=status:503,times=1".parse::<FaultRule>().unwrap(),
    ]);
    let tb = &bed.tb;
    let (status, body) = get(tb, "/api/v1/log");
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    let (status, _) = get(tb, "/api/v1/log");
    assert_eq!(status, 200, "times=1 applies once");

    tb.add_fault("rekor-v1=truncate".parse().unwrap());
    let (_, body) = get(tb, "/api/v1/log");
    assert!(
        serde_json::from_slice::<serde_json::Value>(&body).is_err(),
        "truncated body parses"
    );
    tb.clear_faults();

    // Over the admin endpoint, as another process would.
    let rule = br#"{"endpoint": "fulcio", "fault": {"kind": "status", "arg": 500}}"#;
    let (status, _) = post(tb, "/admin/faults", rule);
    assert_eq!(status, 200);
    let (status, _) = post(tb, "/api/v2/signingCert", b"{}");
    assert_eq!(status, 500);
}
