//! The `keyless` wheel (crates/keyless-cli/pyproject.toml): .ci/run builds
//! it as the release pipeline does, with maturin and zig as the linker
//! against glibc 2.17 (a dev-profile build), and these tests install it
//! as a user would, offline, and run what pip put on the venv's PATH.

use crate::common::elf::{glibc_version, needed_versions};
use crate::common::peers::python_with;
use crate::common::{read_json, repo_root, vectors};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The wheel .ci/run built (`$KEYLESS_WHEEL_DIR`, else target/wheel-ci):
/// exactly one, tagged for any glibc from 2.17 on. A missing wheel fails.
fn the_wheel() -> PathBuf {
    let dir = std::env::var_os("KEYLESS_WHEEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/wheel-ci"));
    let wheels: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "no wheel at {} ({e}): .ci/run builds it with maturin --zig",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    let name = format!(
        "keyless-{}-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(
        wheels,
        [dir.join(&name)],
        "exactly the manylinux_2_17 wheel in {}",
        dir.display()
    );
    wheels[0].clone()
}

/// Every glibc version `binary` needs that is newer than 2.17; an error if
/// it needs none at all (then it was not read right).
fn glibc_above_2_17(binary: &Path) -> Vec<String> {
    let data = std::fs::read(binary).unwrap();
    let needs = needed_versions(&data).unwrap();
    let glibc: Vec<_> = needs
        .iter()
        .filter_map(|n| glibc_version(&n.version).map(|v| (v, n)))
        .collect();
    assert!(
        glibc.iter().any(|(_, n)| n.file == "libc.so.6"),
        "{}: no glibc version found in {needs:?}",
        binary.display()
    );
    glibc
        .into_iter()
        .filter(|(v, _)| *v > (2, 17))
        .map(|(_, n)| format!("{} {}", n.file, n.version))
        .collect()
}

#[test]
fn the_wheel_installs_offline_and_its_keyless_runs_on_glibc_2_17_and_verifies() {
    let wheel = the_wheel();
    let python = python_with("venv");
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let ok = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    ok(Command::new(&python).args(["-m", "venv"]).arg(&venv));
    ok(Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "--no-index", "--no-cache-dir"])
        .arg("--disable-pip-version-check")
        .arg(&wheel));
    let keyless = venv.join("bin/keyless");

    // The installed binary is the zig-linked one: nothing newer than
    // glibc 2.17 (CentOS 7, manylinux2014), so the wheel's tag is true.
    assert_eq!(glibc_above_2_17(&keyless), Vec::<String>::new());

    let version = ok(Command::new(&keyless).arg("--version"));
    assert_eq!(version, format!("keyless {}\n", env!("CARGO_PKG_VERSION")));

    // A real verification, offline, with the embedded production root: the
    // GitHub-signed wheel of the sigstore-python vectors verifies for its
    // signer, and CVE-2022-36056's bundle fails at the SET.
    let real = vectors("sigstore-python");
    let cases = read_json(&real.join("expected.json"));
    let case = cases
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bundle"] == "bundle_v3_github.whl.sigstore")
        .unwrap();
    let verify = |artifact: &str, bundle: &str, identity: &str, issuer: &str| {
        let out = Command::new(&keyless)
            .env("KEYLESS_CACHE_DIR", dir.path().join("no-trust-cache"))
            .args(["verify", "--json"])
            .arg(real.join(artifact))
            .arg("--bundle")
            .arg(real.join(bundle))
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", issuer])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
        });
        (out.status.code(), report["results"][0].clone())
    };
    let identity = case["identity"].as_str().unwrap();
    let issuer = case["issuer"].as_str().unwrap();
    let (code, result) = verify(
        "bundle_v3_github.whl",
        "bundle_v3_github.whl.sigstore",
        identity,
        issuer,
    );
    assert_eq!(code, Some(0), "{result:#}");
    assert_eq!(result["ok"], true, "{result:#}");
    assert_eq!(result["identity"], identity, "{result:#}");
    let (code, result) = verify(
        "bundle_cve_2022_36056.txt",
        "bundle_cve_2022_36056.txt.sigstore",
        identity,
        issuer,
    );
    assert_eq!(code, Some(1), "{result:#}");
    assert_eq!(result["failed_step"], "SET", "{result:#}");
}
