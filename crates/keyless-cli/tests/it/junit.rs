//! `--junit FILE`: one test case per input (per entry for `rekor search`),
//! the failed step and reason in the failure element, an unreadable input
//! as an error; every report valid against the common JUnit schema.

use crate::common::peers::junit_report;
use crate::common::{keyless, run, vectors};
use serde_json::json;

const PROJECT: &str = "facutuesca/gitlab-oidc-project";

#[test]
fn verify_gitlab_writes_one_case_per_input_with_the_failed_step() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = vectors("pypi-attestations").join("gitlab_oidc_project-0.0.3.tar.gz");
    let missing = dir.path().join("missing-1.0.tar.gz");
    let report = dir.path().join("report.xml");

    // A verified input and one that cannot be checked: exit 2, two cases.
    let r = run(keyless()
        .args([
            "verify",
            "gitlab",
            "--project",
            PROJECT,
            "--branch",
            "main",
            "--junit",
        ])
        .arg(&report)
        .arg(&sdist)
        .arg(&missing));
    assert_eq!(r.code, 2, "{}", r.stderr);
    let doc = junit_report(&report);
    assert_eq!(
        doc["suite"],
        json!({"tests": 2, "failures": 0, "errors": 1})
    );
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases[0]["name"], sdist.to_str().unwrap());
    assert_eq!(cases[0]["classname"], "keyless verify gitlab");
    assert_eq!(cases[0]["verdict"], "passed");
    let passed = cases[0]["text"].as_str().unwrap();
    assert!(
        passed.contains("identity: https://gitlab.com/facutuesca/gitlab-oidc-project//.gitlab-ci.yml@refs/heads/main"),
        "{passed}"
    );
    assert_eq!(
        (&cases[1]["verdict"], &cases[1]["type"]),
        (&json!("error"), &json!("input"))
    );
    assert!(
        cases[1]["text"]
            .as_str()
            .unwrap()
            .contains("hint: check the path")
    );

    // The wrong branch: a failure at the identity step, the SAN quoted;
    // the previous report replaced whole.
    let r = run(keyless()
        .args([
            "verify",
            "gitlab",
            "--project",
            PROJECT,
            "--branch",
            "develop",
            "--junit",
        ])
        .arg(&report)
        .arg(&sdist));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = junit_report(&report);
    assert_eq!(
        doc["suite"],
        json!({"tests": 1, "failures": 1, "errors": 0})
    );
    let case = &doc["cases"][0];
    assert_eq!(
        (&case["verdict"], &case["type"]),
        (&json!("failure"), &json!("identity"))
    );
    let message = case["message"].as_str().unwrap();
    assert!(message.starts_with("identity: "), "{message}");
    assert!(message.contains("refs/heads/develop"), "{message}");
    let text = case["text"].as_str().unwrap();
    assert!(
        text.starts_with("failed step: identity\nreason: "),
        "{text}"
    );
    // The temporary file was renamed, none left beside the report.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn an_unwritable_report_is_an_io_error_and_plain_verify_names_its_suite() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = vectors("pypi-attestations").join("gitlab_oidc_project-0.0.3.tar.gz");
    let r = run(keyless()
        .args([
            "verify",
            "--certificate-identity-regexp",
            ".*",
            "--certificate-oidc-issuer",
            "https://gitlab.com",
            "--junit",
        ])
        .arg(dir.path().join("no/such/dir/report.xml"))
        .arg(&sdist));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("report.xml: cannot write"),
        "{}",
        r.stderr
    );

    let report = dir.path().join("report.xml");
    let r = run(keyless()
        .args([
            "verify",
            "--certificate-identity-regexp",
            ".*",
            "--certificate-oidc-issuer",
            "https://gitlab.com",
            "--junit",
        ])
        .arg(&report)
        .arg(&sdist));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = junit_report(&report);
    assert_eq!(doc["cases"][0]["classname"], "keyless verify");
    assert_eq!(doc["cases"][0]["verdict"], "passed");
}

#[test]
fn a_command_that_checks_no_input_still_writes_a_report_with_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = vectors("pypi-attestations").join("gitlab_oidc_project-0.0.3.tar.gz");
    let report = dir.path().join("report.xml");
    // The trust root cannot be read: nothing is checked, exit 2.
    let r = run(keyless()
        .args([
            "verify",
            "gitlab",
            "--project",
            PROJECT,
            "--branch",
            "main",
            "--trusted-root",
        ])
        .arg(dir.path().join("missing-root.json"))
        .arg("--junit")
        .arg(&report)
        .arg(&sdist));
    assert_eq!(r.code, 2, "{}", r.stderr);
    let doc = junit_report(&report);
    assert_eq!(
        doc["suite"],
        json!({"tests": 1, "failures": 0, "errors": 1})
    );
    let case = &doc["cases"][0];
    assert_eq!(case["name"], "keyless verify gitlab");
    assert_eq!(
        (&case["verdict"], &case["type"]),
        (&json!("error"), &json!("input"))
    );
    assert!(
        case["message"]
            .as_str()
            .unwrap()
            .contains("missing-root.json"),
        "{case}"
    );
}

/// A command line that stops keyless before it checks anything (clap
/// refuses a flag or a missing value, `rekor search` has no query) still
/// replaces the report it names with one error: a report of an earlier,
/// passing run must not stay behind for CI to collect as this run's.
#[test]
fn a_refused_command_line_replaces_an_earlier_passing_report() {
    let dir = tempfile::tempdir().unwrap();
    let sdist = vectors("pypi-attestations").join("gitlab_oidc_project-0.0.3.tar.gz");
    let report = dir.path().join("report.xml");
    let verify = ["verify", "--certificate-identity-regexp", ".*"];
    let issuer = ["--certificate-oidc-issuer", "https://gitlab.com"];
    let r = run(keyless()
        .args(verify)
        .args(issuer)
        .arg("--junit")
        .arg(&report)
        .arg(&sdist));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(junit_report(&report)["cases"][0]["verdict"], "passed");
    let passed = std::fs::read(&report).unwrap();
    let refused = |doc: &serde_json::Value, suite: &str, why: &str| {
        assert_eq!(
            doc["suite"],
            json!({"tests": 1, "failures": 0, "errors": 1}),
            "{doc}"
        );
        let case = &doc["cases"][0];
        assert_eq!(
            (&case["name"], &case["verdict"]),
            (&json!(suite), &json!("error"))
        );
        assert!(case["message"].as_str().unwrap().contains(why), "{case}");
    };

    // The same run with an unknown flag: exit 2, the report an error.
    let r = run(keyless()
        .args(verify)
        .args(issuer)
        .arg("--junit")
        .arg(&report)
        .arg("--bogus-flag")
        .arg(&sdist));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--bogus-flag"), "{}", r.stderr);
    refused(
        &junit_report(&report),
        "keyless verify",
        "unexpected argument '--bogus-flag'",
    );

    // `verify gitlab`, `--junit=FILE`, a flag missing its value.
    std::fs::write(&report, &passed).unwrap();
    let r = run(keyless()
        .args(["verify", "gitlab"])
        .arg(format!("--junit={}", report.display()))
        .arg(&sdist)
        .arg("--project"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    refused(&junit_report(&report), "keyless verify gitlab", "--project");

    // `rekor search`: without a query (clap), and with a malformed one
    // (refused after parsing, offline).
    std::fs::write(&report, &passed).unwrap();
    let r = run(keyless().args(["rekor", "search", "--junit"]).arg(&report));
    assert_eq!(r.code, 2, "{}", r.stderr);
    refused(
        &junit_report(&report),
        "keyless rekor search",
        "the following required arguments were not provided: <--sha256 <HEX>|",
    );
    std::fs::write(&report, &passed).unwrap();
    let r = run(keyless()
        .args(["rekor", "search", "--sha256", "not-hex", "--junit"])
        .arg(&report));
    assert_eq!(r.code, 2, "{}", r.stderr);
    refused(&junit_report(&report), "keyless rekor search", "not-hex");

    // Help is no failure: nothing written. After `--`, `--junit` is an
    // input's name, not the flag.
    let untouched = dir.path().join("untouched.xml");
    let r = run(keyless()
        .args(["verify", "--help", "--junit"])
        .arg(&untouched));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(keyless()
        .args(verify)
        .args(["--bogus-flag", "--", "--junit"])
        .arg(&untouched));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!untouched.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
