//! `keyless-testbed`: run a local Sigstore (OIDC issuer, Fulcio, CT log,
//! Rekor v1 and v2, TSA, TUF) on 127.0.0.1, and mint identity tokens for it.

#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)] // doc comments are the CLI help text

use clap::{Args, Parser, Subcommand, ValueEnum};
use keyless_testbed::faults::FaultRule;
use keyless_testbed::material::KeyEnd;
use keyless_testbed::{JwsAlg, Testbed, TestbedOptions, TokenKind, TokenSpec};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// A complete local Sigstore instance for tests, demos and offline pipelines.
#[derive(Debug, Parser)]
#[command(name = "keyless-testbed", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
enum Command {
    /// Serve every Sigstore service on one loopback port until interrupted.
    Serve(ServeArgs),
    /// Print an identity token signed by the testbed's OIDC issuer.
    Token(TokenArgs),
    /// Run the GitLab release flow end to end, offline: start a testbed, mint
    /// a GitLab CI token, `keyless sign` sample dist files, `keyless verify`
    /// them for the GitLab identity (and see a wrong project refused).
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Work here (kept afterwards) instead of a temporary directory.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Keys, log entries and trust files live here; reused across restarts.
    #[arg(long, value_name = "DIR")]
    state_dir: PathBuf,
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Also accept tokens whose `iss` is this URL (repeatable). The testbed's
    /// own URL, https://gitlab.com and GitHub Actions' issuer always are.
    #[arg(long = "trust-issuer", value_name = "URL")]
    trust_issuers: Vec<String>,
    /// Inject a fault: ENDPOINT=FAULT[:ARG][,after=N][,times=N], e.g.
    /// rekor-v1=status:503,after=3. Endpoints: oidc, fulcio, rekor-v1,
    /// rekor-v2, tsa, tuf, pypi. Faults: status:N, delay:MS, truncate, malformed,
    /// wrong-proof, wrong-checkpoint-key, wrong-set-key, rolled-back,
    /// forked-root, untrusted-sct, expired-cert, duplicate, other-entry,
    /// misnumbered-entry, forked-proof, stale-proof:N, other-shard,
    /// corrupt-entry-bundle, log-as-sent.
    #[arg(long = "fault", value_name = "RULE")]
    faults: Vec<FaultRule>,
    /// End a key's validity window in the trusted root at TIME (RFC 3339),
    /// as when Sigstore retires a key (repeatable): KEY=TIME, e.g.
    /// tsa=2026-01-01T00:00:00Z. Keys: fulcio, ct-log, rekor-v1, rekor-v2,
    /// tsa. Windows start when the state directory was first used.
    #[arg(long = "valid-until", value_name = "KEY=TIME")]
    valid_until: Vec<KeyEnd>,
    /// Put the distributions in DIR on the PyPI stand-in (repeatable), each
    /// with <file>.provenance (an Integrity API answer, served as is) or
    /// <file>.publish.attestation (wrapped, publisher from its certificate)
    /// beside it when there is one.
    #[arg(long = "pypi-preload", value_name = "DIR")]
    pypi_preload: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Alg {
    Es256,
    Rs256,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("shape").args(["gitlab", "github", "email"]))]
struct TokenArgs {
    /// The state directory of a testbed started at least once.
    #[arg(long, value_name = "DIR")]
    state_dir: PathBuf,
    /// A GitLab CI `id_tokens` token (the default).
    #[arg(long)]
    gitlab: bool,
    /// A GitHub Actions token.
    #[arg(long)]
    github: bool,
    /// An interactive user's token for this email address.
    #[arg(long, value_name = "ADDRESS")]
    email: Option<String>,
    /// `iss` (default: https://gitlab.com, GitHub's issuer, or the testbed URL for --email).
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// `aud`.
    #[arg(long, default_value = "sigstore")]
    aud: String,
    /// Project path, GROUP/[SUBGROUP/]PROJECT (GitHub: OWNER/REPO).
    #[arg(long, default_value = "keyless-demo/hello-py")]
    project: String,
    /// Branch the pipeline runs for.
    #[arg(long = "ref", value_name = "BRANCH", default_value = "main")]
    git_ref: String,
    /// Tag the pipeline runs for (instead of a branch).
    #[arg(long, conflicts_with = "git_ref")]
    tag: Option<String>,
    /// `pipeline_source` (push, web, schedule, merge_request_event, ...).
    #[arg(long, default_value = "push")]
    pipeline_source: String,
    /// `runner_environment` (gitlab-hosted or self-hosted).
    #[arg(long, default_value = "gitlab-hosted")]
    runner_environment: String,
    /// Deployment `environment`.
    #[arg(long)]
    environment: Option<String>,
    /// Commit SHA.
    #[arg(long)]
    sha: Option<String>,
    /// Lifetime in seconds (negative for an already expired token).
    #[arg(long, default_value_t = 300, allow_hyphen_values = true)]
    expires_in: i64,
    /// Signature algorithm.
    #[arg(long, value_enum, default_value_t = Alg::Rs256)]
    alg: Alg,
    /// Set or override any claim: NAME=VALUE (VALUE parsed as JSON if it can be).
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    claims: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve(a),
        Command::Token(a) => token(a),
        Command::Demo(a) => demo(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyless-testbed: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(a: ServeArgs) -> Result<(), String> {
    let mut options = TestbedOptions::new(a.state_dir);
    options.listen = SocketAddr::from(([127, 0, 0, 1], a.port));
    options.trusted_issuers.extend(a.trust_issuers);
    options.faults = a.faults;
    options.valid_until = a.valid_until;
    let testbed = Testbed::start(options)?;
    for dir in &a.pypi_preload {
        testbed.pypi_preload(dir)?;
    }
    println!("keyless-testbed listening on {}", testbed.url());
    println!("  trust config:  {}", testbed.trust_config_path().display());
    println!(
        "  (Rekor v2 + TSA: {})",
        testbed.trust_config_v2_path().display()
    );
    println!(
        "  TUF:           {}/ (root: {}/tuf/1.root.json)",
        testbed.tuf_url(),
        testbed.state_dir().display()
    );
    println!(
        "  PyPI:          {} (uploads: {})",
        testbed.pypi_index_url(),
        testbed.pypi_upload_url()
    );
    println!("Stop with Ctrl-C.");
    testbed.wait();
    Ok(())
}

fn token(a: TokenArgs) -> Result<(), String> {
    let url = std::fs::read_to_string(a.state_dir.join("url"))
        .map(|u| u.trim().to_string())
        .unwrap_or_default();
    let (kind, default_issuer) = if a.github {
        (
            TokenKind::GitHub,
            "https://token.actions.githubusercontent.com".to_string(),
        )
    } else if a.email.is_some() {
        (TokenKind::Email, url)
    } else {
        (TokenKind::GitLab, "https://gitlab.com".to_string())
    };
    let issuer = a.issuer.unwrap_or(default_issuer);
    let mut spec = match kind {
        TokenKind::GitHub => TokenSpec::github(&issuer),
        _ => TokenSpec::gitlab(&issuer),
    };
    spec.kind = kind;
    spec.audience = a.aud;
    spec.project = a.project;
    spec.git_ref = a.git_ref;
    spec.tag = a.tag;
    spec.pipeline_source = a.pipeline_source;
    if !(kind == TokenKind::GitHub && a.runner_environment == "gitlab-hosted") {
        spec.runner_environment = a.runner_environment;
    }
    spec.environment = a.environment;
    if let Some(sha) = a.sha {
        spec.sha = sha;
    }
    if let Some(email) = a.email {
        spec.email = email;
    }
    spec.expires_in = a.expires_in;
    for c in a.claims {
        let (k, v) = c
            .split_once('=')
            .ok_or_else(|| format!("--claim {c:?} is not NAME=VALUE"))?;
        let v = serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.into()));
        spec.overrides.insert(k.to_string(), v);
    }
    let alg = match a.alg {
        Alg::Es256 => JwsAlg::ES256,
        Alg::Rs256 => JwsAlg::RS256,
    };
    let now = jiff::Timestamp::now().as_second();
    let token = keyless_testbed::server::mint_offline(&a.state_dir, &spec, alg, now)?;
    println!("{token}");
    Ok(())
}

/// The `keyless` binary next to this one (both are built together).
fn keyless_binary() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot locate myself: {e}"))?;
    let bin = me.with_file_name(format!("keyless{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "{} not found: build it first (cargo build)",
            bin.display()
        ))
    }
}

fn demo(a: DemoArgs) -> Result<(), String> {
    let keyless = keyless_binary()?;
    let temp;
    let dir = match a.dir {
        Some(d) => d,
        None => {
            temp = std::env::temp_dir().join(format!("keyless-demo-{}", std::process::id()));
            temp
        }
    };
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    let testbed = Testbed::start(TestbedOptions::new(dir.join("testbed")))?;
    println!(
        "# A local Sigstore (Fulcio, Rekor, TSA, OIDC) on {}",
        testbed.url()
    );

    // What a GitLab pipeline for a tag v1.0 of keyless-demo/hello-py gets.
    let mut spec = TokenSpec::gitlab("https://gitlab.com");
    spec.tag = Some("v1.0".into());
    let token = testbed.mint(&spec, JwsAlg::RS256);
    println!(
        "# A GitLab CI id_token (aud: sigstore) for keyless-demo/hello-py at tag v1.0, in $SIGSTORE_ID_TOKEN"
    );
    for (name, body) in [
        ("hello_py-1.0-py3-none-any.whl", "PK\x03\x04 wheel bytes\n"),
        ("hello_py-1.0.tar.gz", "sdist bytes\n"),
    ] {
        std::fs::write(dist.join(name), body).map_err(|e| e.to_string())?;
    }
    let trust = testbed.trust_config_path();
    let run = |args: &[&std::ffi::OsStr]| -> Result<i32, String> {
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        println!("\n$ keyless {}", shown.join(" "));
        let status = std::process::Command::new(&keyless)
            .args(args)
            .env("SIGSTORE_ID_TOKEN", &token)
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("running keyless: {e}"))?;
        Ok(status.code().unwrap_or(2))
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let trust_arg = trust.as_os_str().to_owned();
    let sign = run(&[&os("sign"), &os("dist/"), &os("--trust-config"), &trust_arg])?;
    if sign != 0 {
        return Err(format!("keyless sign exited {sign}"));
    }
    let identity = "https://gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/tags/v1.0";
    let verify = run(&[
        &os("verify"),
        &os("dist/hello_py-1.0-py3-none-any.whl"),
        &os("dist/hello_py-1.0.tar.gz"),
        &os("--trust-config"),
        &trust_arg,
        &os("--certificate-identity"),
        &os(identity),
        &os("--certificate-oidc-issuer"),
        &os("https://gitlab.com"),
    ])?;
    if verify != 0 {
        return Err(format!("keyless verify exited {verify}"));
    }
    println!("\n# The GitLab-first form: project, tag and runner pinned in one policy:");
    let gitlab = run(&[
        &os("verify"),
        &os("gitlab"),
        &os("dist/hello_py-1.0-py3-none-any.whl"),
        &os("dist/hello_py-1.0.tar.gz"),
        &os("--project"),
        &os("keyless-demo/hello-py"),
        &os("--tag"),
        &os("v1.0"),
        &os("--runner-environment"),
        &os("gitlab-hosted"),
        &os("--trust-config"),
        &trust_arg,
    ])?;
    if gitlab != 0 {
        return Err(format!("keyless verify gitlab exited {gitlab}"));
    }
    println!("\n# The same files claimed for another project are refused (exit 1):");
    let wrong = run(&[
        &os("verify"),
        &os("dist/hello_py-1.0.tar.gz"),
        &os("--trust-config"),
        &trust_arg,
        &os("--certificate-identity-regexp"),
        &os("https://gitlab[.]com/keyless-demo/other//.*"),
        &os("--certificate-oidc-issuer"),
        &os("https://gitlab.com"),
    ])?;
    if wrong != 1 {
        return Err(format!(
            "verifying for the wrong project exited {wrong}, not 1"
        ));
    }
    println!("\n# Done: bundles are in {}", dist.display());
    Ok(())
}
