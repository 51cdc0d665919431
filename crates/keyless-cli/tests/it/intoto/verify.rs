//! `keyless verify` of a statement's bundle: the predicate type at a step
//! of its own, the artifact among the subjects, bounds before cryptography,
//! outputs written only for a verified statement, and globs over a release.

use super::*;

/// A release in `dist/`: both files attested by one statement (SLSA v1
/// predicate); the bundle's path.
fn attested(s: &Fx) -> PathBuf {
    let predicate = s.write("predicate.json", r#"{"k": "v"}"#);
    let (wheel, sdist) = (s.wheel(), s.sdist());
    s.attest(
        "trust_config.json",
        &[
            os("--predicate"),
            predicate.as_os_str(),
            os("--type"),
            os("https://slsa.dev/provenance/v1"),
            wheel.as_os_str(),
            sdist.as_os_str(),
        ],
    )
    .assert_code(0);
    s.path("dist/hello_py-1.0-py3-none-any.whl.intoto.sigstore.json")
}

#[test]
fn the_wrong_predicate_type_fails_at_its_own_step_naming_both() {
    let s = setup();
    let bundle = attested(&s);
    let wheel = s.wheel();
    let (code, report) = s.verify(
        "trust_config.json",
        &[
            wheel.as_os_str(),
            os("--bundle"),
            bundle.as_os_str(),
            os("--type"),
            os("spdxjson"),
        ],
    );
    assert_eq!(code, 1, "{report:#}");
    let result = &report["results"][0];
    assert_eq!(result["failed_step"], "predicate type");
    let reason = result["reason"].as_str().unwrap();
    assert!(
        reason.contains("https://slsa.dev/provenance/v1")
            && reason.contains("https://spdx.dev/Document"),
        "{reason}"
    );
    // A bundle that signs the file itself has no predicate type at all.
    let plain = s.path("dist/hello_py-1.0.tar.gz");
    let r = run(keyless_with_token(&s.token)
        .arg("sign")
        .arg("--trust-config")
        .arg(s.state_file("trust_config.json"))
        .arg(&plain));
    r.assert_code(0);
    let (code, report) = s.verify(
        "trust_config.json",
        &[plain.as_os_str(), os("--type"), os("custom")],
    );
    assert_eq!(code, 1);
    assert_eq!(report["results"][0]["failed_step"], "predicate type");
}

#[test]
fn a_file_that_is_no_subject_fails_at_the_artifact_step() {
    let s = setup();
    let bundle = attested(&s);
    let other = s.write("other.whl", "not attested");
    let (code, report) = s.verify(
        "trust_config.json",
        &[other.as_os_str(), os("--bundle"), bundle.as_os_str()],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["results"][0]["failed_step"], "artifact");
}

/// Over sigstore-go's caps, a statement is refused at the statement step,
/// before its signature is looked at (a tampered payload would otherwise
/// fail at the signature).
#[test]
fn statements_over_the_bounds_fail_at_the_statement_step() {
    use base64::Engine;
    let s = setup();
    let bundle = attested(&s);
    let wheel = s.wheel();
    let sha = sha256_hex(&wheel);
    let subjects = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|_| json!({"name": "x", "digest": {"sha256": sha}}))
            .collect()
    };
    let digests: serde_json::Map<String, Value> =
        (0..33).map(|i| (format!("a{i}"), json!("00"))).collect();
    for (statement, reason) in [
        (
            json!({"_type": "https://in-toto.io/Statement/v1", "subject": subjects(1025), "predicateType": "p"}),
            "1025 subjects",
        ),
        (
            json!({"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "x", "digest": digests}], "predicateType": "p"}),
            "33 digests",
        ),
    ] {
        let mut doc = crate::common::read_json(&bundle);
        doc["dsseEnvelope"]["payload"] = json!(
            base64::engine::general_purpose::STANDARD
                .encode(serde_json::to_vec(&statement).unwrap())
        );
        let tampered = s.write("tampered.sigstore.json", doc.to_string());
        let (code, report) = s.verify(
            "trust_config.json",
            &[wheel.as_os_str(), os("--bundle"), tampered.as_os_str()],
        );
        assert_eq!(code, 1, "{report:#}");
        assert_eq!(
            report["results"][0]["failed_step"], "statement",
            "{report:#}"
        );
        assert!(
            report["results"][0]["reason"]
                .as_str()
                .unwrap()
                .contains(reason),
            "{report:#}"
        );
    }
}

#[test]
fn the_statement_and_predicate_are_written_only_when_verified() {
    let s = setup();
    let bundle = attested(&s);
    let wheel = s.wheel();
    let (st_out, pred_out) = (s.path("statement.json"), s.path("predicate.out.json"));
    let args = |ty: &'static str| -> Vec<&OsStr> {
        vec![
            wheel.as_os_str(),
            os("--bundle"),
            bundle.as_os_str(),
            os("--type"),
            os(ty),
            os("--output-statement"),
            st_out.as_os_str(),
            os("--output-predicate"),
            pred_out.as_os_str(),
        ]
    };
    let (code, _) = s.verify("trust_config.json", &args("custom"));
    assert_eq!(code, 1);
    assert!(
        !st_out.exists() && !pred_out.exists(),
        "nothing written for a failure"
    );
    let (code, report) = s.verify("trust_config.json", &args("slsaprovenance1"));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(std::fs::read(&st_out).unwrap(), payload(&bundle));
    assert_eq!(crate::common::read_json(&pred_out), json!({"k": "v"}));
    // One input only.
    let sdist = s.sdist();
    let mut two = args("slsaprovenance1");
    two.extend([sdist.as_os_str(), os("--bundle"), bundle.as_os_str()]);
    let (code, _) = s.verify("trust_config.json", &two);
    assert_eq!(code, 2);
}

/// `keyless verify dist/*` over a release with bundles and the statement's
/// bundle verifies each file once, and not the statement's bundle as an
/// artifact.
#[test]
fn a_glob_over_a_release_takes_the_statement_bundle_as_evidence() {
    let s = setup();
    attested(&s);
    let r = run(keyless_with_token(&s.token)
        .arg("sign")
        .arg("--trust-config")
        .arg(s.state_file("trust_config.json"))
        .arg(s.path("dist")));
    r.assert_code(0);
    let mut glob: Vec<PathBuf> = std::fs::read_dir(s.path("dist"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    glob.sort();
    assert_eq!(glob.len(), 5, "{glob:?}");
    let args: Vec<&OsStr> = glob.iter().map(|p| p.as_os_str()).collect();
    let (code, report) = s.verify("trust_config.json", &args);
    assert_eq!(code, 0, "{report:#}");
    let inputs: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["input"].as_str().unwrap())
        .collect();
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    // Named alone, the statement's bundle stands for its file.
    let bundle = s.path("dist/hello_py-1.0-py3-none-any.whl.intoto.sigstore.json");
    let (code, report) = s.verify(
        "trust_config.json",
        &[bundle.as_os_str(), os("--type"), os("slsaprovenance1")],
    );
    assert_eq!(code, 0, "{report:#}");
    assert!(
        report["results"][0]["input"]
            .as_str()
            .unwrap()
            .ends_with(".whl")
    );
}

/// sigstore-verify accepts a statement whose subject matches the file by
/// SHA-512 alone; keyless holds statements to the SHA-256 it reports.
#[test]
fn a_subject_named_by_sha512_alone_does_not_stand_for_the_file() {
    let s = setup();
    let wheel = s.wheel();
    let sha512 = sigstore_crypto::sha512(&std::fs::read(&wheel).unwrap());
    let statement = s.write(
        "sha512.json",
        json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [
                {"name": "other", "digest": {"sha256": "ab".repeat(32)}},
                {"name": "hello_py-1.0-py3-none-any.whl", "digest": {"sha512": sha512.to_hex()}}
            ],
            "predicateType": "https://example.com/p",
            "predicate": {}
        })
        .to_string(),
    );
    let bundle = s.path("sha512.sigstore.json");
    s.attest(
        "trust_config.json",
        &[
            os("--statement"),
            statement.as_os_str(),
            os("--no-subject-check"),
            os("--bundle"),
            bundle.as_os_str(),
        ],
    )
    .assert_code(0);
    let (code, report) = s.verify(
        "trust_config.json",
        &[wheel.as_os_str(), os("--bundle"), bundle.as_os_str()],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["results"][0]["failed_step"], "artifact");
    assert!(
        report["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("none of the statement's"),
        "{report:#}"
    );
}

/// sigstore-python's DSSE bundle on Rekor v2 (a hashedrekord over the PAE,
/// as keyless writes it there): `--type` and the statement outputs work on
/// a peer's bundle as on ours.
#[test]
fn a_sigstore_python_dsse_bundle_on_rekor_v2_takes_type_and_outputs() {
    let dir = crate::common::vectors("sigstore-python");
    let bundle = dir.join("a.dsse.staging-rekor-v2.txt.sigstore.json");
    let out = tempfile::tempdir().unwrap();
    let predicate = out.path().join("predicate.json");
    let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let verify = |ty: &str| {
        crate::common::verify_json(&[
            os("sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf"),
            os("--bundle"),
            bundle.as_os_str(),
            os("--staging"),
            os("--certificate-identity"),
            os(identity),
            os("--certificate-oidc-issuer"),
            os("https://token.actions.githubusercontent.com"),
            os("--type"),
            os(ty),
            os("--output-predicate"),
            predicate.as_os_str(),
        ])
    };
    let (code, report) = verify("spdxjson");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["results"][0]["failed_step"], "predicate type");
    assert!(!predicate.exists());
    let (code, report) = verify("slsaprovenance1");
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        crate::common::read_json(&predicate)["buildDefinition"]["buildType"],
        "https://github.com/sigstore-conformance/rekor2-dsse-hashedrekord-regen"
    );
}
