//! `keyless sign` against the testbed: many files under one certificate,
//! Rekor v1 and v2, interop with sigstore-python, and every failure mode
//! ending with a clear message, the documented exit code and no partial output.

use crate::common::{keyless, verify_json};
use keyless_testbed::faults::{Endpoint, FaultRule};
use keyless_testbed::{JwsAlg, Testbed, TestbedOptions, TokenSpec};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const SAN: &str = "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/tags/v1.0";

struct Setup {
    dir: tempfile::TempDir,
    tb: Testbed,
    token: String,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    let mut spec = TokenSpec::gitlab("https://gitlab.com");
    spec.tag = Some("v1.0".into());
    let token = tb.mint(&spec, JwsAlg::RS256);
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    Setup { dir, tb, token }
}

impl Setup {
    fn dist(&self) -> PathBuf {
        self.dir.path().join("dist")
    }

    fn add(&self, name: &str) -> PathBuf {
        let p = self.dist().join(name);
        std::fs::write(&p, format!("contents of {name}")).unwrap();
        p
    }

    /// Run `keyless sign` with the token in SIGSTORE_ID_TOKEN; (code, stdout, stderr).
    fn sign(&self, trust: &str, args: &[&OsStr]) -> (i32, String, String) {
        self.sign_with_token(&self.token, trust, args)
    }

    fn sign_with_token(&self, token: &str, trust: &str, args: &[&OsStr]) -> (i32, String, String) {
        let out = keyless()
            .arg("sign")
            .arg("--trust-config")
            .arg(self.tb.state_dir().join(trust))
            .args(args)
            .env("SIGSTORE_ID_TOKEN", token)
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        // The token is a credential: it must never be printed.
        let secret = token.rsplit('.').next().unwrap();
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "the token was printed"
        );
        (out.status.code().unwrap(), stdout, stderr)
    }

    fn verify(&self, trust: &str, files: &[PathBuf], identity: &str) -> (i32, serde_json::Value) {
        let trust = self.tb.state_dir().join(trust);
        let mut args: Vec<&OsStr> = files.iter().map(|f| f.as_os_str()).collect();
        args.extend([
            "--trust-config".as_ref(),
            trust.as_os_str(),
            "--certificate-identity".as_ref(),
            OsStr::new(identity),
            "--certificate-oidc-issuer".as_ref(),
            "https://gitlab.com".as_ref(),
        ]);
        verify_json(&args)
    }

    fn outputs(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dist())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| {
                n.contains(".sigstore")
                    || n.ends_with(".sig")
                    || n.ends_with(".crt")
                    || n.contains(".tmp")
            })
            .collect();
        names.sort();
        names
    }
}

fn python_verify(trust: &Path, files: &[PathBuf], identity: &str) -> (bool, String) {
    let py = crate::interop::sigstore_python();
    let out = std::process::Command::new(py)
        .arg("--trust-config")
        .arg(trust)
        .args([
            "verify",
            "identity",
            "--offline",
            "--cert-identity",
            identity,
        ])
        .args(["--cert-oidc-issuer", "https://gitlab.com"])
        .args(files)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn twenty_files_one_certificate_verified_by_keyless_and_sigstore_python() {
    let s = setup();
    let mut files = Vec::new();
    for i in 0..10 {
        files.push(s.add(&format!("hello_py-1.0.{i}-py3-none-any.whl")));
        files.push(s.add(&format!("hello_py-1.0.{i}.tar.gz")));
    }
    s.add("README.md"); // not selected from a directory
    files.sort();
    let dist = s.dist();
    let (code, stdout, stderr) = s.sign("trust_config.json", &[dist.as_os_str()]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("OK   ")).count(),
        20,
        "{stdout}"
    );
    assert!(
        stderr.contains("GitLab project keyless-demo/hello-py at refs/tags/v1.0"),
        "{stderr}"
    );
    assert_eq!(
        s.tb.requests(Endpoint::Fulcio),
        1,
        "one certificate for the whole run"
    );
    assert!(!s.dist().join("README.md.sigstore.json").exists());

    let (code, report) = s.verify("trust_config.json", &files, SAN);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["results"].as_array().unwrap().len(), 20);
    let (code, _) = s.verify(
        "trust_config.json",
        &files[..1],
        "https://gitlab.com/other/project//.gitlab-ci.yml@refs/tags/v1.0",
    );
    assert_eq!(code, 1);

    let (ok, out) = python_verify(&s.tb.trust_config_path(), &files, SAN);
    {
        assert!(ok, "sigstore-python rejects keyless bundles:\n{out}");
    }
}

#[test]
fn rekor_v2_with_a_tsa_and_json_summary() {
    let s = setup();
    let a = s.add("pkg-2.0.tar.gz");
    let b = s.add("pkg-2.0-py3-none-any.whl");
    let dist = s.dist();
    let (code, stdout, stderr) = s.sign(
        "trust_config_v2.json",
        &[
            dist.as_os_str(),
            "--rekor-version".as_ref(),
            "2".as_ref(),
            "--json".as_ref(),
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["services"]["rekor_version"], 2);
    assert_eq!(summary["identity"], SAN);
    for f in summary["files"].as_array().unwrap() {
        assert_eq!(f["ok"], true);
        assert!(f["integrated_time"].is_null(), "Rekor v2 has none: {f}");
        assert_eq!(
            f["timestamps"].as_array().unwrap().len(),
            1,
            "the TSA's: {f}"
        );
        assert_eq!(f["sha256"].as_str().unwrap().len(), 64);
    }
    let files = vec![a, b];
    let (code, report) = s.verify("trust_config_v2.json", &files, SAN);
    assert_eq!(code, 0, "{report:#}");
    let (ok, out) = python_verify(&s.tb.trust_config_v2_path(), &files, SAN);
    {
        assert!(
            ok,
            "sigstore-python rejects keyless Rekor v2 bundles:\n{out}"
        );
    }
}

#[test]
fn legacy_outputs_match_the_bundle() {
    use base64::Engine;
    let s = setup();
    let f = s.add("tool-0.1.tar.gz");
    let (code, stdout, stderr) = s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--legacy-outputs".as_ref()],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let bundle: serde_json::Value = serde_json::from_slice(
        &std::fs::read(s.dist().join("tool-0.1.tar.gz.sigstore.json")).unwrap(),
    )
    .unwrap();
    let sig = std::fs::read_to_string(s.dist().join("tool-0.1.tar.gz.sig")).unwrap();
    assert_eq!(
        sig,
        bundle["messageSignature"]["signature"].as_str().unwrap()
    );
    let crt = std::fs::read_to_string(s.dist().join("tool-0.1.tar.gz.crt")).unwrap();
    let der = sigstore_types::DerCertificate::from_pem(&crt).unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        bundle["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap()
    );
}

#[test]
fn refusals_before_signing_exit_2_and_write_nothing() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let dist = s.dist();
    let mut expired = TokenSpec::gitlab("https://gitlab.com");
    expired.expires_in = -30;
    let mut wrong_aud = TokenSpec::gitlab("https://gitlab.com");
    wrong_aud.audience = "gitlab".into();
    let untrusted = TokenSpec::gitlab("https://gitlab.evil.example");
    for (spec, message) in [
        (expired, "expired"),
        (wrong_aud, "aud: sigstore"),
        (untrusted, "not accepted"),
    ] {
        let token = s.tb.mint(&spec, JwsAlg::RS256);
        let (code, stdout, stderr) =
            s.sign_with_token(&token, "trust_config.json", &[dist.as_os_str()]);
        assert_eq!(code, 2, "{message}: {stdout}\n{stderr}");
        assert!(stderr.contains(message), "{message}: {stderr}");
        assert!(s.outputs().is_empty(), "{message}: {:?}", s.outputs());
    }
    // No token at all: the error shows the GitLab YAML that provides one.
    let out = keyless()
        .args(["sign", "--trust-config"])
        .arg(s.tb.trust_config_path())
        .arg(&f)
        .env_remove("SIGSTORE_ID_TOKEN")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SIGSTORE_ID_TOKEN:") && stderr.contains("aud: sigstore"),
        "{stderr}"
    );
    // A missing input, and an empty selection.
    let (code, _, stderr) = s.sign(
        "trust_config.json",
        &[s.dist().join("nope.whl").as_os_str()],
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("nope.whl"), "{stderr}");
    let empty = s.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, stderr) = s.sign("trust_config.json", &[empty.as_os_str()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nothing to sign"), "{stderr}");
    assert!(s.outputs().is_empty());
}

#[test]
fn fulcio_down_is_retried_then_exit_2() {
    let s = setup();
    s.add("pkg-1.0.tar.gz");
    s.tb.add_fault("fulcio=status:503".parse::<FaultRule>().unwrap());
    let dist = s.dist();
    let (code, stdout, stderr) = s.sign(
        "trust_config.json",
        &[dist.as_os_str(), "--timeout".as_ref(), "3".as_ref()],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        // Retried until the budget ran out, however many attempts fit.
        stderr.contains("Fulcio")
            && (stderr.contains("attempts") || stderr.contains("no answer within")),
        "{stderr}"
    );
    assert!(s.tb.requests(Endpoint::Fulcio) >= 2, "503 is retried");
    assert!(s.outputs().is_empty());
}

#[test]
fn a_transient_rekor_failure_is_retried() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.tb.add_fault("rekor-v1=status:503,times=2".parse::<FaultRule>().unwrap());
    let (code, stdout, stderr) = s.sign("trust_config.json", &[f.as_os_str()]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(s.tb.requests(Endpoint::RekorV1), 3);
}

#[test]
fn rekor_failing_mid_batch_keeps_finished_outputs_only() {
    let s = setup();
    for i in 0..5 {
        s.add(&format!("pkg-1.{i}.tar.gz"));
    }
    // Two uploads succeed, then Rekor refuses everything (a permanent 400).
    s.tb.add_fault("rekor-v1=status:400,after=2".parse::<FaultRule>().unwrap());
    let dist = s.dist();
    let (code, stdout, stderr) = s.sign(
        "trust_config.json",
        &[dist.as_os_str(), "--jobs".as_ref(), "1".as_ref()],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("OK   ")).count(),
        2,
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("FAIL ")).count(),
        3,
        "{stdout}"
    );
    assert_eq!(
        s.outputs(),
        [
            "pkg-1.0.tar.gz.sigstore.json",
            "pkg-1.1.tar.gz.sigstore.json"
        ]
    );
    let good = [
        s.dist().join("pkg-1.0.tar.gz"),
        s.dist().join("pkg-1.1.tar.gz"),
    ];
    assert_eq!(s.verify("trust_config.json", &good, SAN).0, 0);
}

#[test]
fn a_duplicate_409_recovers_the_existing_entry() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.tb.add_fault("rekor-v1=duplicate,times=1".parse::<FaultRule>().unwrap());
    let (code, stdout, stderr) = s.sign("trust_config.json", &[f.as_os_str()]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(s.verify("trust_config.json", &[f], SAN).0, 0);
}

#[test]
fn existing_outputs_need_overwrite_and_unwritable_outputs_fail_cleanly() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let bundle = s.dist().join("pkg-1.0.tar.gz.sigstore.json");
    std::fs::write(&bundle, "old").unwrap();
    let (code, _, stderr) = s.sign("trust_config.json", &[f.as_os_str()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("already exists") && stderr.contains("--overwrite"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&bundle).unwrap(), "old");
    assert_eq!(
        s.tb.requests(Endpoint::Fulcio),
        0,
        "refused before any network call"
    );

    let (code, stdout, stderr) = s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--overwrite".as_ref()],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        s.verify("trust_config.json", std::slice::from_ref(&f), SAN)
            .0,
        0
    );

    // An output folder that cannot be written (here: does not exist; root
    // ignores permission bits) fails that file, leaving nothing behind.
    let unwritable = s.dir.path().join("no-such-dir/b.sigstore.json");
    let (code, stdout, _) = s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--bundle".as_ref(), unwritable.as_os_str()],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("cannot write"), "{stdout}");
    assert!(!s.dir.path().join("no-such-dir").exists());
}

/// No token in the environment: the device authorization grant logs in
/// against the instance's OIDC provider (the testbed approves on its own).
#[test]
fn oauth_device_flow_logs_in_and_signs() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let out = keyless()
        .args(["sign", "--oauth-device", "--trust-config"])
        .arg(s.tb.trust_config_path())
        .arg(&f)
        .env_remove("SIGSTORE_ID_TOKEN")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("/oauth/device?user_code=") && stderr.contains("enter the code"),
        "{stderr}"
    );
    let trust = s.tb.trust_config_path();
    let args: [&OsStr; 7] = [
        f.as_os_str(),
        "--trust-config".as_ref(),
        trust.as_os_str(),
        "--certificate-identity".as_ref(),
        keyless_testbed::server::DEVICE_LOGIN_EMAIL.as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        s.tb.url().as_ref(),
    ];
    let (code, report) = verify_json(&args);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_failed_output_write_leaves_no_output_of_that_file() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let bad_sig = s.dir.path().join("missing/pkg.sig");
    let (code, stdout, _) = s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--output-signature".as_ref(),
            bad_sig.as_os_str(),
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        s.outputs().is_empty(),
        "the bundle must not stay behind: {:?}",
        s.outputs()
    );
}

/// Without a TSA the certificate cannot be checked before logging: the first
/// file goes alone, and when its bundle does not verify nothing else is logged.
#[test]
fn without_a_tsa_a_bad_certificate_logs_only_one_entry() {
    let s = setup();
    for i in 0..4 {
        s.add(&format!("pkg-1.{i}.tar.gz"));
    }
    let mut config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.tb.trust_config_path()).unwrap()).unwrap();
    config["signingConfig"]["tsaUrls"] = serde_json::json!([]);
    let no_tsa = s.tb.state_dir().join("trust_config_no_tsa.json");
    std::fs::write(&no_tsa, config.to_string()).unwrap();
    s.tb.add_fault("fulcio=untrusted-sct".parse::<FaultRule>().unwrap());
    let before = s.tb.requests(Endpoint::RekorV1);
    let dist = s.dist();
    let (code, stdout, stderr) = s.sign("trust_config_no_tsa.json", &[dist.as_os_str()]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert_eq!(
        s.tb.requests(Endpoint::RekorV1) - before,
        1,
        "only the first file was logged"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains("does not verify"))
            .count(),
        1,
        "{stdout}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains("not signed: the first bundle"))
            .count(),
        3,
        "{stdout}"
    );
    assert!(s.outputs().is_empty());
}

#[test]
fn lost_answers_and_rate_limits_are_recovered() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    // Rekor v2 409 (already logged): signed again with a fresh signature.
    s.tb.add_fault("rekor-v2=duplicate,times=1".parse::<FaultRule>().unwrap());
    let (code, stdout, stderr) = s.sign(
        "trust_config_v2.json",
        &[f.as_os_str(), "--rekor-version".as_ref(), "2".as_ref()],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // A TSA that rate-limits once.
    s.tb.clear_faults();
    s.tb.add_fault("tsa=status:429,times=1".parse::<FaultRule>().unwrap());
    let (code, stdout, stderr) = s.sign(
        "trust_config.json",
        &[f.as_os_str(), "--overwrite".as_ref()],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // A DSSE upload answered 409 (attest): the existing entry is fetched.
    s.tb.clear_faults();
    s.tb.add_fault("rekor-v1=duplicate,times=1".parse::<FaultRule>().unwrap());
    let out = keyless()
        .args(["attest", "--trust-config"])
        .arg(s.tb.trust_config_path())
        .arg(&f)
        .env("SIGSTORE_ID_TOKEN", &s.token)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_file_named_twice_is_signed_once() {
    let s = setup();
    let f = s.add("pkg-1.0-py3-none-any.whl");
    let dist = s.dist();
    let dotted = s.dist().join(".").join("pkg-1.0-py3-none-any.whl");
    let (code, stdout, stderr) = s.sign(
        "trust_config.json",
        &[dist.as_os_str(), f.as_os_str(), dotted.as_os_str()],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert_eq!(s.tb.requests(Endpoint::RekorV1), 1);
}

/// In GitHub Actions the ambient OIDC provider is asked for a token with
/// audience `sigstore` (here the testbed plays GitHub's token endpoint).
#[test]
fn github_actions_ambient_token() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let out = keyless()
        .args(["sign", "--trust-config"])
        .arg(s.tb.trust_config_path())
        .arg(&f)
        .env_remove("SIGSTORE_ID_TOKEN")
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/github/actions-token?api-version=2.0", s.tb.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("token from GitHub Actions"), "{stderr}");
    let trust = s.tb.trust_config_path();
    let args: [&OsStr; 7] = [
        f.as_os_str(),
        "--trust-config".as_ref(),
        trust.as_os_str(),
        "--certificate-identity".as_ref(),
        "https://github.com/keyless-demo/hello-py/.github/workflows/release.yml@refs/heads/main"
            .as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        "https://token.actions.githubusercontent.com".as_ref(),
    ];
    let (code, report) = verify_json(&args);
    assert_eq!(code, 0, "{report:#}");
    // --oidc-disable-ambient-providers turns it off: no token at all.
    keyless()
        .args([
            "sign",
            "--overwrite",
            "--oidc-disable-ambient-providers",
            "--trust-config",
        ])
        .arg(s.tb.trust_config_path())
        .arg(&f)
        .env_remove("SIGSTORE_ID_TOKEN")
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/github/actions-token", s.tb.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-request-token")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no identity token"));
}
