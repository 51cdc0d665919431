//! Terminal injection: strings from a bundle (SAN, issuer, extension
//! values, entry kind) reach the human output of `verify`, `verify gitlab`,
//! `inspect` and `rekor verify-entry` escaped, so an ESC/CR sequence in a
//! claim cannot erase a FAIL line and print a fake OK.

use crate::common::bed::{Bed, GITLAB};
use crate::common::{keyless, read_json, run};
use keyless_testbed::{JwsAlg, TokenSpec};

const HOSTILE: &str = "\x1b[2K\rOK  ";

/// Neither stream of `r` holds an ESC, CR or BEL byte; stdout shows the
/// escaped sequence instead.
fn assert_escaped(what: &str, r: &crate::common::Run) {
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        assert!(
            !text.contains(['\x1b', '\r', '\x07']),
            "{what}: a control character reached {stream}: {text:?}"
        );
    }
    assert!(
        r.stdout.contains("\\u{1b}[2K\\rOK  "),
        "{what}: {:?}",
        r.stdout
    );
}

#[test]
fn hostile_claims_reach_the_terminal_escaped() {
    let bed = Bed::start();
    let trust = bed.tb.trust_config_path();
    let file = bed.write("app-1.0.tar.gz", b"sdist");
    let mut spec = TokenSpec::gitlab(GITLAB);
    spec.project = "g/p".into();
    spec.pipeline_source = format!("push{HOSTILE}");
    let san_claim = format!("gitlab.com/g/p//.gitlab-ci.yml@refs/heads/main{HOSTILE}");
    spec.overrides
        .insert("ci_config_ref_uri".into(), san_claim.clone().into());
    let token = bed.tb.mint(&spec, JwsAlg::RS256);
    bed.keyless_sign(&token, &trust, &[file.as_os_str()])
        .assert_code(0);
    let bundle = bed.path("app-1.0.tar.gz.sigstore.json");

    // verify: the OK line names the SAN.
    let r = run(keyless()
        .arg("verify")
        .arg(&file)
        .arg("--trust-config")
        .arg(&trust)
        .args(["--certificate-identity-regexp", ".*"])
        .args(["--certificate-oidc-issuer", GITLAB]));
    r.assert_code(0);
    assert_escaped("verify", &r);

    // verify gitlab: the FAIL line quotes the hostile SAN and claims.
    let r = run(keyless()
        .args(["verify", "gitlab"])
        .arg(&file)
        .arg("--trust-config")
        .arg(&trust)
        .args(["--project", "g/p", "--any-ref", "--pipeline-source", "push"]));
    r.assert_code(1);
    for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        assert!(
            !text.contains(['\x1b', '\r', '\x07']),
            "verify gitlab: a control character reached {stream}: {text:?}"
        );
    }

    // inspect: every extension value.
    let r = run(keyless().arg("inspect").arg(&bundle));
    r.assert_code(0);
    assert_escaped("inspect", &r);

    // rekor verify-entry: the entry's certificate claims.
    let tle = read_json(&bundle)["verificationMaterial"]["tlogEntries"][0].clone();
    let entry = bed.write("entry.json", tle.to_string());
    let r = run(keyless()
        .args(["rekor", "verify-entry"])
        .arg(&entry)
        .arg("--trust-config")
        .arg(&trust));
    r.assert_code(0);
    assert_escaped("rekor verify-entry", &r);

    // An entry whose kind is hostile gets no verdict, and no raw bytes.
    let mut tle = tle;
    tle["kindVersion"]["kind"] = format!("hashedrekord{HOSTILE}").into();
    let entry = bed.write("entry-kind.json", tle.to_string());
    for json in [false, true] {
        let mut cmd = keyless();
        cmd.args(["rekor", "verify-entry"])
            .arg(&entry)
            .arg("--trust-config")
            .arg(&trust);
        if json {
            cmd.arg("--json");
        }
        let r = run(&mut cmd);
        assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
        for (stream, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
            assert!(
                !text.contains(['\x1b', '\r', '\x07']),
                "rekor verify-entry (kind, json {json}): a control character reached {stream}: {text:?}"
            );
        }
    }
}
