//! The state folder: keys and log entries survive a restart (on a new port).

use crate::common::{gitlab_token, read_json, sign_with_sigstore_rust};
use keyless_testbed::{JwsAlg, Testbed, TestbedOptions};

#[test]
fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (root_before, url_before) = {
        let tb = Testbed::start(TestbedOptions::new(&state)).unwrap();
        let token = gitlab_token(&tb, JwsAlg::ES256);
        sign_with_sigstore_rust(&tb, &token, b"one");
        (read_json(&tb.trusted_root_path()), tb.url().to_string())
    };
    let tb = Testbed::start(TestbedOptions::new(&state)).unwrap();
    let root = read_json(&tb.trusted_root_path());
    // Same keys (the URL may differ: a new ephemeral port).
    assert_eq!(
        root["certificateAuthorities"][0]["certChain"],
        root_before["certificateAuthorities"][0]["certChain"]
    );
    assert_eq!(
        root["tlogs"],
        {
            let mut t = root_before["tlogs"].clone();
            for log in t.as_array_mut().unwrap() {
                log["baseUrl"] = serde_json::Value::String(tb.url().into());
            }
            t
        },
        "logs keep their keys ({url_before} -> {})",
        tb.url()
    );
    // The genesis entry (#0) and the entry logged before the restart (#1)
    // are still there: the next one is #2.
    let token = gitlab_token(&tb, JwsAlg::ES256);
    let bundle = sign_with_sigstore_rust(&tb, &token, b"two");
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"],
        "2"
    );
}
