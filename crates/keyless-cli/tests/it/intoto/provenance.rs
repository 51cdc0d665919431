//! `verify gitlab --provenance`: the runner's statement, signed by a later
//! job of the pipeline, agrees with what Fulcio certified about it.

use super::*;

/// A change to the runner's statement.
type Edit = Box<dyn Fn(&mut Value)>;

fn signed(s: &Fx, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let statement = s.runner_statement("artifacts-metadata.json", edit);
    s.attest(
        "trust_config.json",
        &[os("--statement"), statement.as_os_str(), os("--overwrite")],
    )
    .assert_code(0);
    s.path("dist/hello_py-1.0-py3-none-any.whl.intoto.sigstore.json")
}

#[test]
fn the_runners_provenance_verifies_against_its_certificate() {
    let s = setup();
    signed(&s, |_| {});
    let wheel = s.wheel();
    // The statement's bundle is found beside the file.
    let (code, report) = s.verify_gitlab(
        "trust_config.json",
        &[
            wheel.as_os_str(),
            os("--provenance"),
            os("--type"),
            os("slsaprovenance1"),
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    let p = &report["results"][0]["provenance"];
    assert_eq!(p["commit"], COMMIT);
    assert_eq!(p["build_job"], BUILD_JOB);
    assert_eq!(p["signing_job"], SIGNING_JOB);
    assert_eq!(p["project_url"], PROJECT_URL);
    // -v says it under the input's line.
    let r = run(keyless()
        .args(["verify", "gitlab", "-v", "--provenance"])
        .args(["--project", "keyless-demo/hello-py", "--branch", "main"])
        .arg("--trust-config")
        .arg(s.state_file("trust_config.json"))
        .arg(&wheel));
    r.assert_code(0);
    assert!(
        r.stderr.contains(&format!(
            "provenance: {PROJECT_URL} at {COMMIT}, built by job {BUILD_JOB}, signed by job {SIGNING_JOB}"
        )) && r.stderr.contains("statement: https://slsa.dev/provenance/v1, 2 subject(s)"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_claim_the_certificate_contradicts_fails_naming_the_field() {
    let s = setup();
    let wheel = s.wheel();
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|d| {
                d["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["sha256"] =
                    json!("1".repeat(40))
            }),
            "resolvedDependencies[0].digest.sha256",
        ),
        (
            Box::new(|d| {
                d["predicate"]["buildDefinition"]["externalParameters"]["source"] =
                    json!("https://gitlab.com/other/hello-py")
            }),
            "externalParameters.source",
        ),
        (
            Box::new(|d| {
                d["predicate"]["buildDefinition"]["internalParameters"]["job"] =
                    json!("8421337099");
                d["predicate"]["runDetails"]["metadata"]["invocationId"] = json!("8421337099");
            }),
            "internalParameters.job",
        ),
    ];
    for (edit, field) in cases {
        signed(&s, edit);
        let (code, report) = s.verify_gitlab(
            "trust_config.json",
            &[wheel.as_os_str(), os("--provenance")],
        );
        assert_eq!(code, 1, "{field}: {report:#}");
        let result = &report["results"][0];
        assert_eq!(result["failed_step"], "provenance", "{report:#}");
        assert!(
            result["reason"].as_str().unwrap().contains(field),
            "{report:#}"
        );
    }
    // A statement that is not the runner's is not provenance.
    let predicate = s.write("predicate.json", "{}");
    let sdist = s.sdist();
    s.attest(
        "trust_config.json",
        &[
            os("--predicate"),
            predicate.as_os_str(),
            os("--type"),
            os("slsaprovenance1"),
            wheel.as_os_str(),
            sdist.as_os_str(),
            os("--overwrite"),
        ],
    )
    .assert_code(0);
    let (code, report) = s.verify_gitlab(
        "trust_config.json",
        &[wheel.as_os_str(), os("--provenance")],
    );
    assert_eq!(code, 1);
    assert_eq!(report["results"][0]["failed_step"], "provenance");
}
