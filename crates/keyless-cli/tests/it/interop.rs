//! Interop with sigstore-python 4.5.1, the reference peer: it signs against
//! the testbed (Rekor v1, and Rekor v2 with a TSA) and verifies offline with
//! the testbed's trust config, and keyless verifies the same bundles.
//!
//! `.ci/run` installs sigstore-python into `target/ci-venv`; set
//! `KEYLESS_SIGSTORE_PYTHON` to use another `sigstore` executable.

use crate::common::verify_json;
use keyless_testbed::{JwsAlg, Testbed, TestbedOptions, TokenSpec};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

const SAN: &str = "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/tags/v1.0";

/// The sigstore-python CLI that `.ci/run` installs (or
/// `$KEYLESS_SIGSTORE_PYTHON`). A test that needs it and cannot find it fails:
/// an interop test that skips proves nothing.
pub fn sigstore_python() -> PathBuf {
    let path = std::env::var_os("KEYLESS_SIGSTORE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::common::repo_root().join("target/ci-venv/bin/sigstore"));
    assert!(
        path.is_file(),
        "sigstore-python is missing at {} (.ci/run installs it; run the tests with .ci/run)",
        path.display()
    );
    path
}

/// The venv's Python with pypi-attestations (or `$KEYLESS_PYTHON`); a test
/// that needs it and cannot find it fails.
fn python_with_pypi_attestations() -> PathBuf {
    let path = std::env::var_os("KEYLESS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::common::repo_root().join("target/ci-venv/bin/python"));
    let ok = path.is_file()
        && Command::new(&path)
            .args(["-c", "import pypi_attestations"])
            .output()
            .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "pypi-attestations is not importable from {} (.ci/run installs it; run the tests with .ci/run)",
        path.display()
    );
    path
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("sigstore-python runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn sigstore_python_signs_against_the_testbed_and_both_verify() {
    let py = sigstore_python();
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    let mut spec = TokenSpec::gitlab("https://gitlab.com");
    spec.tag = Some("v1.0".into());
    let token = tb.mint(&spec, JwsAlg::RS256);

    for (trust, version) in [("trust_config.json", "1"), ("trust_config_v2.json", "2")] {
        let trust = tb.state_dir().join(trust);
        let artifact = dir
            .path()
            .join(format!("hello_py-1.0-rekor{version}.tar.gz"));
        std::fs::write(&artifact, format!("sdist bytes {version}")).unwrap();
        let (ok, out) = run(Command::new(&py)
            .arg("--trust-config")
            .arg(&trust)
            .args([
                "sign",
                "--rekor-version",
                version,
                "--identity-token",
                &token,
            ])
            .arg(&artifact));
        assert!(ok, "sigstore-python sign (Rekor v{version}) failed:\n{out}");
        let bundle = PathBuf::from(format!("{}.sigstore.json", artifact.display()));
        assert!(bundle.is_file(), "{out}");

        // sigstore-python verifies its bundle offline against our trust root...
        let (ok, out) = run(Command::new(&py)
            .arg("--trust-config")
            .arg(&trust)
            .args(["verify", "identity", "--offline", "--cert-identity", SAN])
            .args(["--cert-oidc-issuer", "https://gitlab.com"])
            .arg(&artifact));
        assert!(
            ok,
            "sigstore-python verify (Rekor v{version}) failed:\n{out}"
        );
        // ... and rejects the wrong identity.
        let (ok, _) = run(Command::new(&py)
            .arg("--trust-config")
            .arg(&trust)
            .args([
                "verify",
                "identity",
                "--offline",
                "--cert-identity",
                "https://gitlab.com/evil/x//.gitlab-ci.yml@refs/tags/v1.0",
            ])
            .args(["--cert-oidc-issuer", "https://gitlab.com"])
            .arg(&artifact));
        assert!(!ok, "sigstore-python accepted a wrong identity");

        // keyless verifies the same bundle.
        let args: [&OsStr; 7] = [
            artifact.as_os_str(),
            "--trust-config".as_ref(),
            trust.as_os_str(),
            "--certificate-identity".as_ref(),
            SAN.as_ref(),
            "--certificate-oidc-issuer".as_ref(),
            "https://gitlab.com".as_ref(),
        ];
        let (code, report) = verify_json(&args);
        assert_eq!(
            code, 0,
            "keyless rejects sigstore-python's Rekor v{version} bundle: {report:#}"
        );
        let r = &report["results"][0];
        assert_eq!(r["identity"], SAN);
        assert_eq!(r["integrated_time"].is_null(), version == "2", "{r}");
    }
}

/// PEP 740 both ways: pypi-attestations accepts what `keyless attest` writes
/// (its own conversion to a bundle and its own subject checks, against the
/// testbed root), and keyless verifies what pypi-attestations signs.
#[test]
fn pep740_attestations_interoperate_with_pypi_attestations() {
    let python = python_with_pypi_attestations();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pep740.py");
    let dir = tempfile::tempdir().unwrap();
    let tb = Testbed::start(TestbedOptions::new(dir.path().join("state"))).unwrap();
    let mut spec = TokenSpec::gitlab("https://gitlab.com");
    spec.tag = Some("v1.0".into());
    let token = tb.mint(&spec, JwsAlg::RS256);
    let trust = tb.trust_config_path();

    let ours = dir.path().join("hello_py-1.0-py3-none-any.whl");
    std::fs::write(&ours, b"wheel").unwrap();
    crate::common::keyless()
        .args(["attest", "--trust-config"])
        .arg(&trust)
        .arg(&ours)
        .env("SIGSTORE_ID_TOKEN", &token)
        .assert()
        .success();
    let att = dir
        .path()
        .join("hello_py-1.0-py3-none-any.whl.publish.attestation");
    let (ok, out) = run(Command::new(&python)
        .arg(&script)
        .arg("verify")
        .arg(&trust)
        .arg(&ours)
        .arg(&att)
        .args([SAN, "https://gitlab.com"]));
    assert!(
        ok && out.contains("OK https://docs.pypi.org/attestations/publish/v1"),
        "{out}"
    );
    // pypi-attestations refuses it for another identity (sanity of the harness).
    let (ok, _) = run(Command::new(&python)
        .arg(&script)
        .arg("verify")
        .arg(&trust)
        .arg(&ours)
        .arg(&att)
        .args([
            "https://gitlab.com/evil/x//.gitlab-ci.yml@refs/tags/v1.0",
            "https://gitlab.com",
        ]));
    assert!(!ok, "pypi-attestations accepted a wrong identity");

    let theirs = dir.path().join("other_pkg-2.0.tar.gz");
    std::fs::write(&theirs, b"sdist").unwrap();
    let (ok, out) = run(Command::new(&python)
        .arg(&script)
        .arg("sign")
        .arg(&trust)
        .arg(&theirs)
        .arg(dir.path().join("other_pkg-2.0.tar.gz.publish.attestation"))
        .env("SIGSTORE_ID_TOKEN", &token));
    assert!(ok, "pypi-attestations sign failed:\n{out}");
    crate::common::keyless()
        .args([
            "verify",
            "gitlab",
            "--project",
            "keyless-demo/hello-py",
            "--tag",
            "v1.0",
            "--trust-config",
        ])
        .arg(&trust)
        .arg(&theirs)
        .assert()
        .success();
}
