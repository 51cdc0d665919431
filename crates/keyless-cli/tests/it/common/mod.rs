//! Shared helpers: where the real vectors are, how to run keyless and read
//! what it printed; the testbed fixture ([`bed`]) and the Python peers
//! ([`peers`]) have their own modules.

pub mod bed;
pub mod elf;
pub mod peers;
pub mod runner_provenance;
pub mod serve;

use base64::Engine;
use serde_json::Value;
use std::ffi::OsStr;
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

/// The keyless binary under test as a plain process (for a stdout of the
/// test's choosing), isolated from the user's trust cache as [`keyless`].
pub fn keyless_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_keyless"));
    cmd.env(
        "KEYLESS_CACHE_DIR",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-trust-cache"),
    );
    cmd
}

/// Run `cmd` with its stdout a pipe whose read end is already closed (what
/// `| head -1` leaves once it has read its line); what it wrote to stderr
/// and how it exited (it must exit, not die of a signal).
pub fn run_with_closed_stdout(cmd: &mut std::process::Command) -> Run {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    run_with_stdout(cmd, writer.into())
}

/// Run `cmd` with `stdout` (stdin empty, stderr captured).
pub fn run_with_stdout(cmd: &mut std::process::Command, stdout: std::process::Stdio) -> Run {
    let out = cmd
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("keyless runs");
    Run {
        code: out.status.code().expect("exited normally, not by a signal"),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// [`keyless`] with `token` in `SIGSTORE_ID_TOKEN` and no GitHub Actions
/// token endpoint to fall back on.
pub fn keyless_with_token(token: &str) -> assert_cmd::Command {
    let mut cmd = keyless();
    cmd.env("SIGSTORE_ID_TOKEN", token)
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL");
    cmd
}

/// [`keyless`] with no identity token in the environment.
pub fn keyless_without_token() -> assert_cmd::Command {
    let mut cmd = keyless();
    cmd.env_remove("SIGSTORE_ID_TOKEN")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL");
    cmd
}

/// What a `keyless` run printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `cmd` to completion; it must exit (not die of a signal).
pub fn run(cmd: &mut assert_cmd::Command) -> Run {
    let out = cmd.output().expect("keyless runs");
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    /// stdout parsed as JSON; a test failure (showing both streams) if it
    /// is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not a JSON report ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Assert the exit code, showing both streams when it differs.
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// How many stdout lines start with `prefix` (`"OK   "`, `"FAIL "`).
    pub fn lines_starting(&self, prefix: &str) -> usize {
        count_lines_starting(&self.stdout, prefix)
    }
}

/// How many lines of `text` start with `prefix`.
pub fn count_lines_starting(text: &str, prefix: &str) -> usize {
    text.lines().filter(|l| l.starts_with(prefix)).count()
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Decode standard base64.
pub fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

/// The DER signing certificate of a v0.3 bundle.
pub fn bundle_certificate_der(bundle: &Value) -> Vec<u8> {
    unb64(
        bundle["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap(),
    )
}

/// The production GitHub Actions wheel vector: the artifact and its bundle.
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
pub fn verify_json(args: &[&OsStr]) -> (i32, Value) {
    let r = run(keyless().arg("verify").arg("--json").args(args));
    (r.code, r.json())
}

/// [`verify_json`] for `args` (inputs, `--bundle` ...) under the exact
/// identity policy `identity` + `issuer`, with `--trust-config trust` if
/// given (else the embedded production root).
pub fn verify_identity(
    args: &[&OsStr],
    trust: Option<&Path>,
    identity: &str,
    issuer: &str,
) -> (i32, Value) {
    let mut all: Vec<&OsStr> = args.to_vec();
    if let Some(trust) = trust {
        all.extend(["--trust-config".as_ref(), trust.as_os_str()]);
    }
    all.extend([
        "--certificate-identity".as_ref(),
        OsStr::new(identity),
        "--certificate-oidc-issuer".as_ref(),
        OsStr::new(issuer),
    ]);
    verify_json(&all)
}
