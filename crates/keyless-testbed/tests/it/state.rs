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

#[test]
fn every_entry_answered_to_concurrent_clients_is_on_disk() {
    // Entries are written outside the state lock, several at once: each
    // answer must still wait until its entry is in the log's file.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut indexes: Vec<String> = {
        let tb = Testbed::start(TestbedOptions::new(&state)).unwrap();
        let token = gitlab_token(&tb, JwsAlg::ES256);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|i| {
                    let (tb, token) = (&tb, &token);
                    scope.spawn(move || {
                        let bundle = sign_with_sigstore_rust(tb, token, format!("{i}").as_bytes());
                        bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"]
                            .as_str()
                            .unwrap()
                            .to_string()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        })
    };
    indexes.sort_by_key(|i| i.parse::<u64>().unwrap());
    let expected: Vec<String> = (1..=8).map(|i| i.to_string()).collect();
    assert_eq!(indexes, expected, "one entry each, after the genesis entry");
    let tb = Testbed::start(TestbedOptions::new(&state)).unwrap();
    let token = gitlab_token(&tb, JwsAlg::ES256);
    let bundle = sign_with_sigstore_rust(&tb, &token, b"after the restart");
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"],
        "9"
    );
}
