//! Interop with sigstore-python 4.5.1, the reference peer: it signs against
//! the testbed (Rekor v1, and Rekor v2 with a TSA) and verifies offline with
//! the testbed's trust config, and keyless verifies the same bundles; PEP 740
//! attestations both ways with pypi-attestations.
//!
//! `.ci/run` installs the peers into `target/ci-venv` (see
//! [`crate::common::peers`]).

use crate::common::bed::{Bed, GITLAB, TAG_SAN, tag_v1_0};
use crate::common::peers::{
    python_with_pypi_attestations, run_peer, sigstore_python, sigstore_python_verify,
};
use crate::common::{keyless, keyless_with_token, verify_identity};
use keyless_testbed::JwsAlg;
use std::path::{Path, PathBuf};
use std::process::Command;

/// An identity no test signs as.
const EVIL_SAN: &str = "https://gitlab.com/evil/x//.gitlab-ci.yml@refs/tags/v1.0";

#[test]
fn sigstore_python_signs_against_the_testbed_and_both_verify() {
    let py = sigstore_python();
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);

    for (trust, version) in [("trust_config.json", "1"), ("trust_config_v2.json", "2")] {
        let trust = bed.state_file(trust);
        let artifact = bed.write(
            &format!("hello_py-1.0-rekor{version}.tar.gz"),
            format!("sdist bytes {version}"),
        );
        let (ok, out) = run_peer(
            Command::new(&py)
                .arg("--trust-config")
                .arg(&trust)
                .args([
                    "sign",
                    "--rekor-version",
                    version,
                    "--identity-token",
                    &token,
                ])
                .arg(&artifact),
        );
        assert!(ok, "sigstore-python sign (Rekor v{version}) failed:\n{out}");
        let bundle = PathBuf::from(format!("{}.sigstore.json", artifact.display()));
        assert!(bundle.is_file(), "{out}");

        // sigstore-python verifies its bundle offline against our trust root...
        let files = std::slice::from_ref(&artifact);
        let (ok, out) = sigstore_python_verify(&trust, files, TAG_SAN, GITLAB);
        assert!(
            ok,
            "sigstore-python verify (Rekor v{version}) failed:\n{out}"
        );
        // ... and rejects the wrong identity.
        let (ok, _) = sigstore_python_verify(&trust, files, EVIL_SAN, GITLAB);
        assert!(!ok, "sigstore-python accepted a wrong identity");

        // keyless verifies the same bundle.
        let (code, report) =
            verify_identity(&[artifact.as_os_str()], Some(&trust), TAG_SAN, GITLAB);
        assert_eq!(
            code, 0,
            "keyless rejects sigstore-python's Rekor v{version} bundle: {report:#}"
        );
        let r = &report["results"][0];
        assert_eq!(r["identity"], TAG_SAN);
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
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);
    let trust = bed.tb.trust_config_path();

    let ours = bed.write("hello_py-1.0-py3-none-any.whl", b"wheel");
    keyless_with_token(&token)
        .args(["attest", "--trust-config"])
        .arg(&trust)
        .arg(&ours)
        .assert()
        .success();
    let att = bed.path("hello_py-1.0-py3-none-any.whl.publish.attestation");
    let pypi_verify = |identity: &str| {
        run_peer(
            Command::new(&python)
                .arg(&script)
                .arg("verify")
                .arg(&trust)
                .arg(&ours)
                .arg(&att)
                .args([identity, GITLAB]),
        )
    };
    let (ok, out) = pypi_verify(TAG_SAN);
    assert!(
        ok && out.contains("OK https://docs.pypi.org/attestations/publish/v1"),
        "{out}"
    );
    // pypi-attestations refuses it for another identity (sanity of the harness).
    let (ok, _) = pypi_verify(EVIL_SAN);
    assert!(!ok, "pypi-attestations accepted a wrong identity");

    let theirs = bed.write("other_pkg-2.0.tar.gz", b"sdist");
    let (ok, out) = run_peer(
        Command::new(&python)
            .arg(&script)
            .arg("sign")
            .arg(&trust)
            .arg(&theirs)
            .arg(bed.path("other_pkg-2.0.tar.gz.publish.attestation"))
            .env("SIGSTORE_ID_TOKEN", &token),
    );
    assert!(ok, "pypi-attestations sign failed:\n{out}");
    keyless()
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
