//! The testbed fixture: a local Sigstore in a temporary folder, tokens for
//! it, bundles signed against it by `keyless sign` or by the sigstore-rust
//! signer (a conformance-tested peer).

use super::{Run, keyless_with_token, run};
use keyless_testbed::faults::FaultRule;
use keyless_testbed::{JwsAlg, KeyEnd, Testbed, TestbedOptions, TokenSpec, TrustedKey};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The issuer of GitLab.com's CI tokens.
pub const GITLAB: &str = "https://gitlab.com";
/// The SAN of [`TokenSpec::gitlab`]'s default token (a main-branch pipeline).
pub const MAIN_SAN: &str =
    "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/heads/main";
/// The SAN of the same project's pipeline for tag v1.0 ([`tag_v1_0`]).
pub const TAG_SAN: &str = "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/tags/v1.0";

/// A GitLab.com token spec for the demo project's v1.0 tag pipeline.
pub fn tag_v1_0() -> TokenSpec {
    let mut spec = TokenSpec::gitlab(GITLAB);
    spec.tag = Some("v1.0".into());
    spec
}

/// A running testbed, its state in `<dir>/state`; the rest of `dir` is the
/// test's to use.
pub struct Bed {
    pub dir: tempfile::TempDir,
    pub tb: Testbed,
}

impl Bed {
    /// A testbed with the default trusted issuers.
    pub fn start() -> Self {
        Self::start_trusting(&[])
    }

    /// A testbed that also accepts tokens from `issuers`.
    pub fn start_trusting(issuers: &[&str]) -> Self {
        Self::start_with(|options| {
            options
                .trusted_issuers
                .extend(issuers.iter().map(|s| s.to_string()))
        })
    }

    /// A testbed with the options `configure` sets.
    pub fn start_with(configure: impl FnOnce(&mut TestbedOptions)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut options = TestbedOptions::new(dir.path().join("state"));
        configure(&mut options);
        let tb = Testbed::start(options).unwrap();
        Self { dir, tb }
    }

    /// `<dir>/<name>`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write `contents` to `<dir>/<name>`; its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A file of the testbed's state (`signing_config.json`,
    /// `trust_config_v2.json`, ...).
    pub fn state_file(&self, name: &str) -> PathBuf {
        self.tb.state_dir().join(name)
    }

    /// Inject a fault (`ENDPOINT=FAULT[:ARG][,after=N][,times=N]`).
    pub fn fault(&self, rule: &str) {
        self.tb.add_fault(rule.parse::<FaultRule>().unwrap());
    }

    /// Retire `keys` in the testbed's trust files, as Sigstore would: their
    /// validity windows end at `end`. Keys and logs stay as they are.
    pub fn retire(&self, keys: &[TrustedKey], end: jiff::Timestamp) {
        let ends: Vec<KeyEnd> = keys.iter().map(|&key| KeyEnd { key, end }).collect();
        self.tb.set_valid_until(&ends).unwrap();
    }

    /// A second after the trust root's windows start: before anything the
    /// testbed signed (they start a minute before it first ran).
    pub fn before_signing(&self) -> jiff::Timestamp {
        self.tb.valid_from() + jiff::SignedDuration::from_secs(1)
    }

    /// A GitLab.com main-branch token ([`MAIN_SAN`]).
    pub fn gitlab_token(&self, alg: JwsAlg) -> String {
        self.tb.mint(&TokenSpec::gitlab(GITLAB), alg)
    }

    /// `keyless sign --trust-config <trust> <args>` as the holder of `token`.
    /// The token is a credential: the run must never print it.
    pub fn keyless_sign(&self, token: &str, trust: &Path, args: &[&OsStr]) -> Run {
        let r = run(keyless_with_token(token)
            .arg("sign")
            .arg("--trust-config")
            .arg(trust)
            .args(args)
            .timeout(std::time::Duration::from_secs(120)));
        let secret = token.rsplit('.').next().unwrap();
        assert!(
            !r.stdout.contains(secret) && !r.stderr.contains(secret),
            "the token was printed"
        );
        r
    }

    /// Sign `data` with the sigstore-rust signer through the state's
    /// `signing_config` and write it as `<dir>/<name>` with its bundle
    /// `<name>.sigstore.json`; the artifact's path, or the signer's error.
    pub fn try_sigstore_rust_file(
        &self,
        signing_config: &str,
        token: &str,
        name: &str,
        data: &[u8],
    ) -> Result<PathBuf, String> {
        let bundle = sign_with_sigstore_rust(&self.state_file(signing_config), token, data)?;
        self.write(&format!("{name}.sigstore.json"), bundle);
        Ok(self.write(name, data))
    }

    /// As [`Bed::try_sigstore_rust_file`], failing the test if signing fails.
    pub fn sigstore_rust_file(
        &self,
        signing_config: &str,
        token: &str,
        name: &str,
        data: &[u8],
    ) -> PathBuf {
        self.try_sigstore_rust_file(signing_config, token, name, data)
            .unwrap_or_else(|e| panic!("signing against {} failed: {e}", self.tb.url()))
    }
}

/// Sign `data` with the sigstore-rust signer (a conformance-tested peer)
/// using the services in `signing_config`; the bundle JSON or its error.
fn sign_with_sigstore_rust(
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
