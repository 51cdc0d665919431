//! `keyless sign` and `keyless attest`.

use super::fail;
use crate::cli::{AttestArgs, SignArgs, SigningArgs};
use crate::render::sign as render;
use keyless::clock::{Clock, SystemClock};
use keyless::sign::{Mode, Outputs, SignOptions, Signer};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// `keyless sign`: write a bundle next to every file.
pub fn sign(args: &SignArgs) -> u8 {
    run("sign", &args.common, args.files(), Mode::Bundle, None)
}

/// `keyless attest`: write a PEP 740 attestation next to every file.
pub fn attest(args: &AttestArgs) -> u8 {
    // Attestations are dsse entries: Rekor v1 unless asked otherwise.
    run(
        "attest",
        &args.common,
        args.files(),
        Mode::Attestation,
        Some(1),
    )
}

fn run(
    command: &str,
    args: &SigningArgs,
    files: keyless::Result<Vec<(PathBuf, Outputs)>>,
    mode: Mode,
    default_rekor_version: Option<u32>,
) -> u8 {
    use std::io::IsTerminal;
    let rekor_version = args.rekor_version.or(default_rekor_version);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let prepared = files.and_then(|files| {
        let trust = args.trust()?;
        let signer = Signer::new(&trust, rekor_version, clock.clone())?;
        let token_options = keyless::sign::token::TokenOptions {
            flag: args.identity_token.as_ref().map(|t| t.0.clone()),
            no_ambient: args.oidc_disable_ambient_providers,
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            oauth_out_of_band: args.oauth_force_oob,
            oauth_device: args.oauth_device,
            oidc_url: signer.services().oidc.clone(),
        };
        let token = keyless::sign::token::resolve(&token_options, &|k| std::env::var(k).ok())?;
        token.preflight(clock.now())?;
        Ok((files, signer, token))
    });
    let (files, signer, token) = match prepared {
        Ok(p) => p,
        Err(e) => return fail(command, &e),
    };
    eprintln!(
        "keyless: {} {} file(s) as {} (token from {})",
        if mode == Mode::Bundle {
            "signing"
        } else {
            "attesting"
        },
        files.len(),
        token.describe(),
        token.origin()
    );
    let options = SignOptions {
        mode,
        files,
        overwrite: args.overwrite,
        jobs: usize::from(args.jobs),
        timeout: std::time::Duration::from_secs(args.timeout),
    };
    let progress = |line: &str| eprintln!("keyless: {line}");
    let report = match signer.sign(&token, &options, &progress) {
        Ok(r) => r,
        Err(e) => return fail(command, &e),
    };
    let text = if args.json {
        render::json(&report)
    } else {
        render::text(&report)
    };
    if writeln!(std::io::stdout().lock(), "{text}").is_err() {
        return 2;
    }
    render::exit_code(&report)
}
