//! `keyless attest --predicate` and `--statement`: one DSSE bundle over the
//! statement, logged as Rekor v1's dsse or Rekor v2's hashedrekord over the
//! PAE; statements that do not describe the files refused before any
//! request.

use super::*;
use keyless_testbed::faults::Endpoint;

#[test]
fn a_predicate_over_files_is_one_statement_on_rekor_v1_and_v2() {
    for (trust, v2) in [("trust_config.json", false), ("trust_config_v2.json", true)] {
        let s = setup();
        let predicate = s.write(
            "predicate.json",
            r#"{"buildDefinition": {"buildType": "x"}}"#,
        );
        let (wheel, sdist) = (s.wheel(), s.sdist());
        let mut args: Vec<&OsStr> = vec![
            os("--predicate"),
            predicate.as_os_str(),
            os("--type"),
            os("slsaprovenance1"),
            wheel.as_os_str(),
            sdist.as_os_str(),
            os("--json"),
        ];
        if v2 {
            args.extend([os("--rekor-version"), os("2")]);
        }
        let r = s.attest(trust, &args);
        r.assert_code(0);
        assert_eq!(s.tb.requests(Endpoint::Fulcio), 1);
        // Named after the first file, beside it; nothing else written.
        let bundle = s.path("dist/hello_py-1.0-py3-none-any.whl.intoto.sigstore.json");
        assert!(bundle.is_file(), "{}", r.stdout);
        let names: Vec<String> = std::fs::read_dir(s.path("dist"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        let doc = crate::common::read_json(&bundle);
        assert_eq!(
            doc["dsseEnvelope"]["payloadType"],
            "application/vnd.in-toto+json"
        );
        let statement: Value = serde_json::from_slice(&payload(&bundle)).unwrap();
        assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
        assert_eq!(statement["predicate"]["buildDefinition"]["buildType"], "x");
        assert_eq!(
            statement["subject"],
            json!([
                {"name": "hello_py-1.0-py3-none-any.whl", "digest": {"sha256": sha256_hex(&wheel)}},
                {"name": "hello_py-1.0.tar.gz", "digest": {"sha256": sha256_hex(&sdist)}},
            ])
        );
        // Rekor v2 has no dsse kind that verifies: a hashedrekord over the
        // PAE, as sigstore-python and sigstore-go log DSSE there.
        assert_eq!(
            entry_kind(&bundle),
            if v2 { "hashedrekord" } else { "dsse" }
        );
        if v2 {
            let entry = &doc["verificationMaterial"]["tlogEntries"][0];
            assert_eq!(entry["kindVersion"]["version"], "0.0.2");
            assert_eq!(
                doc["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
                    .as_array()
                    .map(Vec::len),
                Some(1),
                "Rekor v2 signs with a TSA timestamp"
            );
        }
        // Each file verifies against it, under --type.
        for file in [&wheel, &sdist] {
            let (code, report) = s.verify(
                trust,
                &[
                    file.as_os_str(),
                    os("--bundle"),
                    bundle.as_os_str(),
                    os("--type"),
                    os("slsaprovenance1"),
                ],
            );
            assert_eq!(code, 0, "{report:#}");
            assert_eq!(
                report["results"][0]["predicate_type"],
                "https://slsa.dev/provenance/v1"
            );
            assert_eq!(report["results"][0]["statement"], statement);
        }
    }
}

#[test]
fn a_statement_is_signed_byte_for_byte_with_its_subjects_found_beside_it() {
    let s = setup();
    let statement = s.runner_statement("artifacts-metadata.json", |_| {});
    let r = s.attest(
        "trust_config_v2.json",
        &[os("--statement"), statement.as_os_str()],
    );
    r.assert_code(0);
    let bundle = s.path("dist/hello_py-1.0-py3-none-any.whl.intoto.sigstore.json");
    assert_eq!(payload(&bundle), std::fs::read(&statement).unwrap());
    assert_eq!(entry_kind(&bundle), "hashedrekord");
    // --bundle names the output; PATHs name the files.
    let out = s.path("provenance.sigstore.json");
    let (wheel, sdist) = (s.wheel(), s.sdist());
    let r = s.attest(
        "trust_config.json",
        &[
            os("--statement"),
            statement.as_os_str(),
            sdist.as_os_str(),
            wheel.as_os_str(),
            os("--bundle"),
            out.as_os_str(),
        ],
    );
    r.assert_code(0);
    assert_eq!(payload(&out), std::fs::read(&statement).unwrap());
    assert_eq!(entry_kind(&out), "dsse");
}

/// Each refusal: exit 2, its reason, and not one request.
#[test]
fn statements_that_do_not_describe_the_files_are_refused_before_any_request() {
    let s = setup();
    let (wheel, sdist) = (s.wheel(), s.sdist());
    let good = s.runner_statement("artifacts-metadata.json", |_| {});
    let stale = s.runner_statement("stale.json", |d| {
        d["subject"][1]["digest"]["sha256"] = json!("00".repeat(32));
    });
    let not_a_statement = s.write("predicate.json", r#"{"buildDefinition": {}}"#);
    let sha512_only = s.runner_statement("sha512.json", |d| {
        for subject in d["subject"].as_array_mut().unwrap() {
            subject["digest"] = json!({"sha512": "cd".repeat(64)});
        }
    });
    let outside = s.runner_statement("outside.json", |d| {
        d["subject"][0]["name"] = json!("../secret");
    });
    let cases: Vec<(Vec<&OsStr>, &str)> = vec![
        (
            vec![os("--statement"), not_a_statement.as_os_str()],
            "_type is missing",
        ),
        (
            vec![os("--statement"), stale.as_os_str()],
            "has sha256 0000",
        ),
        (
            vec![os("--statement"), good.as_os_str(), wheel.as_os_str()],
            "none of the files given",
        ),
        (
            vec![
                os("--statement"),
                good.as_os_str(),
                wheel.as_os_str(),
                sdist.as_os_str(),
                good.as_os_str(),
            ],
            "artifacts-metadata.json is not a subject",
        ),
        (
            vec![os("--statement"), outside.as_os_str()],
            "not a path inside",
        ),
        (
            vec![os("--bundle"), good.as_os_str(), sdist.as_os_str()],
            "a PEP 740 attestation is named by --output",
        ),
        (
            vec![
                os("--statement"),
                sha512_only.as_os_str(),
                os("--no-subject-check"),
            ],
            "no subject with a sha256 digest",
        ),
        (
            vec![
                os("--predicate"),
                not_a_statement.as_os_str(),
                os("--type"),
                os("slsa"),
                wheel.as_os_str(),
            ],
            "neither a predicate type URI",
        ),
    ];
    for (args, reason) in cases {
        let r = s.attest("trust_config.json", &args);
        r.assert_code(2);
        assert!(r.stderr.contains(reason), "{args:?}: {}", r.stderr);
    }
    assert_eq!(
        s.tb.requests(Endpoint::Fulcio),
        0,
        "refused before any request"
    );
    assert!(
        !s.path("dist/hello_py-1.0-py3-none-any.whl.intoto.sigstore.json")
            .exists()
    );
    // --no-subject-check signs what it is told to.
    let r = s.attest(
        "trust_config.json",
        &[
            os("--statement"),
            stale.as_os_str(),
            os("--no-subject-check"),
        ],
    );
    r.assert_code(0);
    assert!(s.path("stale.json.intoto.sigstore.json").is_file());
}
