//! `keyless rekor get`: an entry fetched by index or UUID is proven and
//! described (text and JSON); one from a log the trust root does not know is
//! not proven; a missing one is an error, not a verdict; `--bundle-out`
//! exports a bundle `keyless verify` accepts, and keeps an existing file
//! unless `--overwrite`.

use super::{PROJECT, SAN, start, strs};
use crate::common::bed::GITLAB;
use crate::common::{keyless, run, verify_identity};
use std::ffi::OsStr;

#[test]
fn signed_entries_are_fetched_and_proven_by_index_and_uuid() {
    let log = start();
    let signed = log.sign_one("pkg-1.0.tar.gz");
    let (index, uuid) = (signed.index, &signed.uuid);

    // Fetch by index and by UUID: proven, and described.
    let by_index = log.rekor(&strs(&["get", "--log-index", &index.to_string()]), true);
    assert_eq!(by_index.code, 0, "{}", by_index.stdout);
    let e = &by_index.json;
    assert_eq!(e["uuid"], uuid.as_str());
    assert_eq!(
        (e["kind"].as_str(), e["version"].as_str()),
        (Some("hashedrekord"), Some("0.0.1"))
    );
    assert_eq!(e["integrated_time_verified"], true);
    assert_eq!(e["certificate"]["identity"], SAN);
    assert_eq!(e["certificate"]["issuer"], GITLAB);
    let repo = e["certificate"]["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["oid"] == "1.3.6.1.4.1.57264.1.12")
        .unwrap();
    assert_eq!(repo["value"], format!("https://gitlab.com/{PROJECT}"));
    // By entry ID (tree ID and UUID, as Rekor names it) and by bare UUID.
    for id in [uuid.as_str(), &uuid[16..]] {
        let by_uuid = log.rekor(&strs(&["get", "--uuid", id]), true);
        assert_eq!(by_uuid.code, 0, "{}", by_uuid.stdout);
        assert_eq!(by_uuid.json["log_index"], index);
    }
    let text = log.rekor(&strs(&["get", "--uuid", uuid]), false);
    assert!(
        text.stdout
            .starts_with(&format!("OK   Rekor entry #{index}")),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("(signed by the SET)"),
        "{}",
        text.stdout
    );

    // An entry of a log the trust root does not know is not proven.
    let r = run(keyless()
        .args([
            "rekor",
            "get",
            "--json",
            "--log-index",
            &index.to_string(),
            "--rekor-url",
        ])
        .arg(log.tb.url()));
    let doc = r.json();
    assert_eq!(
        (r.code, doc["failed_check"].as_str()),
        (1, Some("log-entry")),
        "{doc}"
    );

    // A missing entry is an error, not a verdict.
    let r = log.rekor(&strs(&["get", "--log-index", "999"]), true);
    assert_eq!(r.code, 2);
    assert!(
        r.json["error"].as_str().unwrap().contains("404"),
        "{}",
        r.json
    );
}

/// A 404 is the log saying it has no such entry: exit 2 (no verdict) with
/// what the log holds and a hint about the index, not about the network.
#[test]
fn a_missing_entry_is_no_such_entry_not_a_network_problem() {
    let log = start();
    let signed = log.sign_one("pkg-1.0.tar.gz");
    // After the log's genesis entry.
    assert_eq!(signed.index, 1);

    let r = log.rekor(&strs(&["get", "--log-index", "999"]), true);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(r.json["ok"], false);
    let error = r.json["error"].as_str().unwrap();
    assert!(
        error.contains("no entry at log index 999 (HTTP 404)")
            && error.ends_with("the log says it holds entries at log indexes 0 to 1"),
        "{error}"
    );
    let hint = r.json["hint"].as_str().unwrap();
    assert!(
        hint.contains("check the log index or UUID") && hint.contains("rekor log-info"),
        "{hint}"
    );
    assert!(!hint.contains("network"), "{hint}");
    // The same on stderr, in text mode; nothing on stdout.
    let r = log.rekor(&strs(&["get", "--log-index", "999"]), false);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("no entry at log index 999")
            && r.stderr.contains("hint: check the log index or UUID"),
        "{}",
        r.stderr
    );

    // By UUID too.
    let unknown = "ab".repeat(32);
    let r = log.rekor(&strs(&["get", "--uuid", &unknown]), true);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let error = r.json["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("no entry with UUID {unknown} (HTTP 404)")),
        "{error}"
    );
    assert!(
        r.json["hint"]
            .as_str()
            .unwrap()
            .contains("check the log index or UUID")
    );

    // A failing service still gets the network hint.
    log.fault("rekor-v1=status:503");
    let r = log.rekor(&strs(&["get", "--log-index", "0", "--timeout", "1"]), true);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.json["hint"].as_str().unwrap().contains("network"),
        "{}",
        r.json
    );
}

#[test]
fn fetched_entries_export_as_bundles_that_keyless_verifies() {
    let log = start();
    let signed = log.sign_one("pkg-1.0.tar.gz");
    let index = signed.index.to_string();

    // Exported as a bundle that `keyless verify` accepts, for the digest and the file.
    let out = log.path("exported.sigstore.json");
    let export = || {
        log.rekor(
            &strs(&[
                "get",
                "--log-index",
                &index,
                "--bundle-out",
                out.to_str().unwrap(),
            ]),
            true,
        )
    };
    let r = export();
    assert_eq!(
        (r.code, r.json["bundle"].as_str()),
        (0, out.to_str()),
        "{}",
        r.stdout
    );
    let trust = log.trust();
    for input in [
        format!("sha256:{}", signed.digest),
        signed.file.display().to_string(),
    ] {
        let args: [&OsStr; 3] = [input.as_ref(), "--bundle".as_ref(), out.as_os_str()];
        let (code, report) = verify_identity(&args, Some(&trust), SAN, GITLAB);
        assert_eq!(code, 0, "{report:#}");
        assert_eq!(report["results"][0]["log_index"], signed.index);
    }
    // An existing output is kept unless --overwrite.
    let before = std::fs::read(&out).unwrap();
    let r = export();
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.json["error"].as_str().unwrap().contains("--overwrite"));
    assert_eq!(std::fs::read(&out).unwrap(), before);
}
