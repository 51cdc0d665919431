//! The interop peers: sigstore-python 4.5.1 and pypi-attestations 0.0.30
//! (Python), cosign 3.x and sigstore-go 1.x (Go).
//!
//! `.ci/run` installs the Python peers into `target/ci-venv`
//! (`KEYLESS_SIGSTORE_PYTHON` and `KEYLESS_PYTHON` point elsewhere) and the
//! Go peers with `.ci/go-peers` into `target/go-peers/bin`
//! (`KEYLESS_GO_PEERS_BIN` points elsewhere). A test that needs a peer and
//! cannot find it fails: an interop test that skips proves nothing.

use super::repo_root;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The sigstore-python CLI that `.ci/run` installs (or
/// `$KEYLESS_SIGSTORE_PYTHON`).
pub fn sigstore_python() -> PathBuf {
    let path = std::env::var_os("KEYLESS_SIGSTORE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/ci-venv/bin/sigstore"));
    assert!(
        path.is_file(),
        "sigstore-python is missing at {} (.ci/run installs it; run the tests with .ci/run)",
        path.display()
    );
    path
}

/// The venv's Python with pypi-attestations (or `$KEYLESS_PYTHON`).
pub fn python_with_pypi_attestations() -> PathBuf {
    python_with("pypi_attestations")
}

/// The venv's Python (or `$KEYLESS_PYTHON`), which must import `module`.
pub fn python_with(module: &str) -> PathBuf {
    let path = std::env::var_os("KEYLESS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/ci-venv/bin/python"));
    let ok = path.is_file()
        && Command::new(&path)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{module} is not importable from {} (.ci/run installs it; run the tests with .ci/run)",
        path.display()
    );
    path
}

/// A JUnit XML report checked against the common JUnit schema
/// (`tests/junit/junit.xsd`) by the `xmlschema` package, then read:
/// `{"suite": {tests, failures, errors}, "cases": [{name, classname,
/// verdict: "passed"|"failure"|"error", type, message, text}]}`.
pub fn junit_report(path: &Path) -> serde_json::Value {
    const READ: &str = r#"
import json, sys, xmlschema, xml.etree.ElementTree as ET
xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])
root = ET.parse(sys.argv[2]).getroot()
cases = []
for c in root.iter("testcase"):
    v = next((e for e in c if e.tag in ("failure", "error")), None)
    cases.append({"name": c.get("name"), "classname": c.get("classname"),
                  "verdict": v.tag if v is not None else "passed",
                  "type": v.get("type") if v is not None else None,
                  "message": v.get("message") if v is not None else None,
                  "text": (v.text if v is not None else c.findtext("system-out")) or ""})
print(json.dumps({"suite": {k: int(root.get(k)) for k in ("tests", "failures", "errors")},
                  "cases": cases}))
"#;
    let schema = repo_root().join("crates/keyless-cli/tests/junit/junit.xsd");
    let out = Command::new(python_with("xmlschema"))
        .args(["-c", READ])
        .arg(&schema)
        .arg(path)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{} is not a valid JUnit report: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the reader prints JSON")
}

/// A Go peer's binary (`cosign`, `sigstore-go-signing`,
/// `sigstore-go-verification`) from `$KEYLESS_GO_PEERS_BIN` or
/// `target/go-peers/bin`.
pub fn go_peer(name: &str) -> PathBuf {
    let dir = std::env::var_os("KEYLESS_GO_PEERS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/go-peers/bin"));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "the Go peer {name} is missing at {} (.ci/go-peers installs it; run the tests with .ci/run)",
        path.display()
    );
    path
}

/// Run a peer: (succeeded, stdout followed by stderr).
pub fn run_peer(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("the peer runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `sigstore verify identity --offline` of `files` (each next to its
/// `.sigstore.json`) under `trust`, for `identity` and `issuer`:
/// (accepted, output).
pub fn sigstore_python_verify(
    trust: &Path,
    files: &[PathBuf],
    identity: &str,
    issuer: &str,
) -> (bool, String) {
    run_peer(
        Command::new(sigstore_python())
            .arg("--trust-config")
            .arg(trust)
            .args([
                "verify",
                "identity",
                "--offline",
                "--cert-identity",
                identity,
            ])
            .args(["--cert-oidc-issuer", issuer])
            .args(files),
    )
}
