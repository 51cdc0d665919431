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

/// The bodies the README shows for `POST /admin/faults` (`--data '<body>'`
/// on lines naming the endpoint).
fn readme_fault_bodies() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("the repository README");
    let bodies: Vec<String> = readme
        .lines()
        .filter(|l| l.contains("/admin/faults"))
        .filter_map(|l| {
            let rest = &l[l.find("--data '")? + "--data '".len()..];
            Some(rest[..rest.find('\'')?].to_string())
        })
        .collect();
    assert!(
        !bodies.is_empty(),
        "the README shows no POST /admin/faults body"
    );
    bodies
}

/// The admin endpoint takes a rule as the command line writes it (a JSON
/// string, or `{"rule": ...}`), as the README documents, besides the
/// structured form it lists; anything else is a 400 that says what it takes.
#[test]
fn admin_faults_take_the_documented_string_forms() {
    let bed = start();
    let tb = &bed.tb;
    let listed = |tb| -> serde_json::Value {
        let (status, body) = get(tb, "/admin/faults");
        assert_eq!(status, 200);
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["faults"].clone()
    };

    // Every body the README shows is accepted, as the rule it spells.
    for body in readme_fault_bodies() {
        let (status, resp) = post(tb, "/admin/faults", body.as_bytes());
        assert_eq!(status, 200, "{body}: {}", String::from_utf8_lossy(&resp));
        let faults = listed(tb);
        let last = faults.as_array().unwrap().last().unwrap();
        assert_eq!(last["endpoint"], "rekor-v1", "{body}: {faults}");
        assert_eq!(
            last["fault"],
            serde_json::json!({"kind": "status", "arg": 503})
        );
        assert_eq!(last["after"], 3, "{body}: {faults}");
        tb.clear_faults();
    }

    // Each form takes effect as written: a string, {"rule": ...}, and an
    // array mixing them with the structured form.
    let (status, _) = post(tb, "/admin/faults", br#""rekor-v1=status:503,times=1""#);
    assert_eq!(status, 200);
    assert_eq!(get(tb, "/api/v1/log").0, 503);
    assert_eq!(get(tb, "/api/v1/log").0, 200, "times=1 applies once");
    let (status, _) = post(
        tb,
        "/admin/faults",
        br#"{"rule": "rekor-v1=status:502,after=1,times=1"}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(get(tb, "/api/v1/log").0, 200, "after=1 lets one through");
    assert_eq!(get(tb, "/api/v1/log").0, 502);
    tb.clear_faults();
    let mixed = br#"["fulcio=status:500", {"rule": "tsa=status:504"},
        {"endpoint": "rekor-v1", "fault": {"kind": "status", "arg": 429}}]"#;
    let (status, resp) = post(tb, "/admin/faults", mixed);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    assert_eq!(listed(tb).as_array().unwrap().len(), 3);
    assert_eq!(post(tb, "/api/v2/signingCert", b"{}").0, 500);
    assert_eq!(get(tb, "/api/v1/log").0, 429);
    // What the endpoint lists, it takes back.
    let rules = listed(tb);
    tb.clear_faults();
    let (status, _) = post(tb, "/admin/faults", rules.to_string().as_bytes());
    assert_eq!(status, 200);
    assert_eq!(listed(tb), rules);
    tb.clear_faults();

    // Refused, each with a message that says why; nothing is added.
    for (body, says) in [
        (&br#""nope=status:500""#[..], "unknown endpoint"),
        (br#""rekor-v1=status:200""#, "400-599"),
        (br#""fulcio=wrong-proof""#, "cannot apply"),
        (br#"{"rule": 503}"#, "must be a string"),
        (br#"{"rule": "tsa=truncate", "after": 3}"#, "no other keys"),
        (br#"{"endpoint": "tsa"}"#, "as a string"),
        (br#"503"#, "expected a string"),
        (br#"["tsa=truncate", 7]"#, "expected a string"),
    ] {
        let (status, resp) = post(tb, "/admin/faults", body);
        let err: serde_json::Value = serde_json::from_slice(&resp).unwrap();
        let text = String::from_utf8_lossy(body);
        assert_eq!(status, 400, "{text}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(says),
            "{text}: {err}"
        );
    }
    assert_eq!(listed(tb), serde_json::json!([]));
}
