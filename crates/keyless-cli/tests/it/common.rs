//! Shared helpers: where the real vectors are, and how to run keyless.

use std::path::{Path, PathBuf};

/// The repository's top folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `testdata/vectors/<sub>`: real public-good Sigstore bundles kept in the
/// repository. A test that needs them and cannot find them fails.
pub fn vectors(sub: &str) -> PathBuf {
    let dir = repo_root().join("testdata/vectors").join(sub);
    assert!(
        dir.is_dir(),
        "the test vectors are missing: {}",
        dir.display()
    );
    dir
}

/// The keyless binary under test, isolated from the user's trust cache.
pub fn keyless() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("keyless").expect("keyless binary is built");
    cmd.env(
        "KEYLESS_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-trust-cache"),
    );
    cmd
}

/// The production GitHub Actions wheel vector: (dir, artifact, bundle, identity, issuer).
pub struct Wheel {
    pub artifact: PathBuf,
    pub bundle: PathBuf,
}

pub const WHEEL_IDENTITY: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
pub const WHEEL_ISSUER: &str = "https://token.actions.githubusercontent.com";

pub fn wheel() -> Wheel {
    let dir = vectors("sigstore-python");
    Wheel {
        artifact: dir.join("bundle_v3_github.whl"),
        bundle: dir.join("bundle_v3_github.whl.sigstore"),
    }
}

/// Run `keyless verify --json` with `args` and return (exit code, parsed report).
pub fn verify_json(args: &[&std::ffi::OsStr]) -> (i32, serde_json::Value) {
    let out = keyless()
        .arg("verify")
        .arg("--json")
        .args(args)
        .output()
        .expect("keyless runs");
    let code = out.status.code().expect("exited normally");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not a JSON report ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, report)
}

/// Sign `data` with the sigstore-rust signer (a conformance-tested peer)
/// using the services in `signing_config`; the bundle JSON or its error.
pub fn sign_with_sigstore_rust(
    signing_config: &Path,
    token: &str,
    data: &[u8],
) -> Result<String, String> {
    let cfg = sigstore_trust_root::SigningConfig::from_file(signing_config).unwrap();
    let services = sigstore_sign::SigningServices::from_signing_config(&cfg).unwrap();
    let ctx = sigstore_sign::SigningContext::new(services);
    let signer = ctx.signer(sigstore_oidc::IdentityToken::from_jwt(token).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(signer.sign(data))
        .map(|b| b.to_json().unwrap())
        .map_err(|e| e.to_string())
}
