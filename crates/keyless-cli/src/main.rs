//! The `keyless` command: parse arguments, call the library, print, exit.

use clap::Parser;
use keyless::clock::{Clock, SystemClock};
use keyless::trust::TrustMaterial;
use keyless::verify::{Input, Outcome, Verifier, report};
use keyless_cli::cli::{
    AttestArgs, Cli, Command, CompletionsArgs, EvidenceArgs, InspectArgs, RekorCommand,
    RekorLogArgs, SignArgs, SigningArgs, TrustArgs, TrustCommand, TrustUpdateArgs, VerifyCommand,
    VerifyPreset,
};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Verify(args) => verify(&args),
        Command::Sign(args) => sign(&args),
        Command::Attest(args) => attest(&args),
        Command::Inspect(args) => inspect(&args),
        Command::Trust(TrustCommand::Update(args)) => trust_update(&args),
        Command::Rekor(cmd) => rekor(&cmd),
        Command::Completions(args) => completions(&args),
    };
    ExitCode::from(code)
}

/// Print an error that stops `keyless <command>` before a verdict, with its hint.
fn fail(command: &str, err: &keyless::Error) -> u8 {
    eprintln!("keyless: error: {err}");
    match (err.hint(), err) {
        (Some(hint), _) => eprintln!("  hint: {hint}"),
        (None, keyless::Error::Usage(_)) => eprintln!("  hint: see 'keyless {command} --help'"),
        (None, _) => {}
    }
    2
}

fn verify(cmd: &VerifyCommand) -> u8 {
    match &cmd.preset {
        Some(VerifyPreset::Gitlab(g)) => run_verify(
            "verify gitlab",
            &g.inputs,
            &g.evidence,
            &g.trust,
            g.json,
            g.policy(),
        ),
        None => {
            let a = &cmd.args;
            run_verify(
                "verify",
                &a.inputs,
                &a.evidence,
                &a.trust,
                a.json,
                a.policy(),
            )
        }
    }
}

fn run_verify(
    command: &str,
    inputs: &[String],
    evidence: &EvidenceArgs,
    trust: &TrustArgs,
    json: bool,
    policy: keyless::Result<keyless::verify::policy::Policy>,
) -> u8 {
    if evidence.is_single_input() && inputs.len() > 1 {
        return fail(command, &keyless::Error::Usage(
            "--bundle, --attestation and --signature name one input's evidence; with several inputs each is found next to its file".into(),
        ));
    }
    let policy = match policy {
        Ok(p) => p,
        Err(e) => return fail(command, &e),
    };
    let trust = match TrustMaterial::load(&trust.source()) {
        Ok(t) => t,
        Err(e) => return fail(command, &e),
    };
    let verifier = match Verifier::new(&trust) {
        Ok(v) => v,
        Err(e) => return fail(command, &e),
    };
    let rekor_url = evidence.rekor_url.clone().or_else(|| {
        trust
            .trusted_root
            .tlogs
            .first()
            .map(|t| t.base_url.trim_end_matches('/').to_string())
    });
    let source = evidence.source();
    let mut reports = Vec::with_capacity(inputs.len());
    let mut stdout = std::io::stdout().lock();
    for arg in inputs {
        let report = match Input::parse(arg) {
            Ok(input @ Input::Digest(_)) if evidence.attestation.is_some() => {
                eprintln!(
                    "keyless: warning: {arg}: a digest cannot be checked against the attestation's file name"
                );
                verifier.verify_input(&input, source.as_ref(), &policy)
            }
            Ok(input) => match (&evidence.signature, &evidence.certificate, &rekor_url) {
                (Some(sig), Some(cert), Some(url)) => {
                    verifier.verify_legacy(&input, sig, cert, url, &policy)
                }
                (Some(_), _, None) => keyless::verify::InputReport {
                    input: arg.clone(),
                    bundle: None,
                    sha256: None,
                    outcome: Outcome::Error(keyless::Error::Usage(
                        "the trust root names no transparency log; pass --rekor-url".into(),
                    )),
                },
                _ => verifier.verify_input(&input, source.as_ref(), &policy),
            },
            Err(e) => keyless::verify::InputReport {
                input: arg.clone(),
                bundle: None,
                sha256: None,
                outcome: Outcome::Error(e),
            },
        };
        if !json {
            // A closed pipe (e.g. `| head`) is not an error worth a panic.
            if writeln!(stdout, "{}", report::text_line(&report)).is_err() {
                return 2;
            }
            if let Outcome::Error(e) = &report.outcome
                && let Some(hint) = e.hint()
            {
                eprintln!("  hint: {hint}");
            }
        }
        reports.push(report);
    }
    if json && writeln!(stdout, "{}", report::json_report(&reports)).is_err() {
        return 2;
    }
    report::exit_code(&reports)
}

fn sign(args: &SignArgs) -> u8 {
    run_signing(
        "sign",
        &args.common,
        args.files(),
        keyless::sign::Mode::Bundle,
        None,
    )
}

fn attest(args: &AttestArgs) -> u8 {
    // Attestations are dsse entries: Rekor v1 unless asked otherwise.
    run_signing(
        "attest",
        &args.common,
        args.files(),
        keyless::sign::Mode::Attestation,
        Some(1),
    )
}

fn run_signing(
    command: &str,
    args: &SigningArgs,
    files: keyless::Result<Vec<(std::path::PathBuf, keyless::sign::Outputs)>>,
    mode: keyless::sign::Mode,
    default_rekor_version: Option<u32>,
) -> u8 {
    use std::io::IsTerminal;
    let rekor_version = args.rekor_version.or(default_rekor_version);
    let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(SystemClock);
    let prepared = files.and_then(|files| {
        let trust = args.trust()?;
        let signer = keyless::sign::Signer::new(&trust, rekor_version, clock.clone())?;
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
        if mode == keyless::sign::Mode::Bundle {
            "signing"
        } else {
            "attesting"
        },
        files.len(),
        token.describe(),
        token.origin()
    );
    let options = keyless::sign::SignOptions {
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
    let mut stdout = std::io::stdout().lock();
    let text = if args.json {
        keyless::sign::report::json(&report)
    } else {
        keyless::sign::report::text(&report)
    };
    if writeln!(stdout, "{text}").is_err() {
        return 2;
    }
    if report.all_ok() { 0 } else { 1 }
}

fn inspect(args: &InspectArgs) -> u8 {
    use keyless::trust::TrustSource;
    let mut roots = Vec::new();
    for source in [
        args.trust.source(),
        TrustSource::Production,
        TrustSource::Staging,
    ] {
        match TrustMaterial::load(&source) {
            Ok(t) => roots.push(t.trusted_root),
            Err(e) => return fail("inspect", &e),
        }
    }
    match keyless::inspect::inspect(&args.file, &roots) {
        Ok(i) => {
            let out = if args.json {
                serde_json::to_string_pretty(&i).expect("inspection serializes")
            } else {
                keyless::inspect::text(&args.file, &i)
            };
            if writeln!(std::io::stdout(), "{out}").is_err() {
                return 2;
            }
            0
        }
        Err(e) => fail("inspect", &e),
    }
}

fn trust_update(args: &TrustUpdateArgs) -> u8 {
    let Some(cache) = keyless::trust::cache_dir() else {
        return fail(
            "trust update",
            &keyless::Error::Usage("no cache directory: set KEYLESS_CACHE_DIR or HOME".into()),
        );
    };
    let result = args.repository().and_then(|repo| {
        keyless::trust::update_from_tuf(&repo, &cache, SystemClock.now(), args.offline)
            .map(|s| (repo, s))
    });
    match result {
        Ok((repo, s)) => {
            let [cas, tlogs, ctlogs, tsas] = s.counts;
            println!(
                "updated trust material from {} into {}\n  {cas} certificate authorities, {tlogs} transparency logs, {ctlogs} CT logs, {tsas} timestamp authorities",
                repo.url,
                s.dir.display()
            );
            0
        }
        Err(e) => fail("trust update", &e),
    }
}

/// Print an error of `keyless rekor <command>`: on stderr with its hint,
/// and with `--json` also as a JSON object on stdout.
fn rekor_fail(command: &str, json: bool, err: &keyless::Error) -> u8 {
    if json {
        let hint = match (err.hint(), err) {
            (Some(h), _) => Some(h.to_string()),
            (None, keyless::Error::Usage(_)) => {
                Some(format!("see 'keyless rekor {command} --help'"))
            }
            (None, _) => None,
        };
        let doc = serde_json::json!({"ok": false, "error": err.to_string(), "hint": hint});
        let _ = writeln!(std::io::stdout().lock(), "{doc}");
    }
    fail(&format!("rekor {command}"), err)
}

/// Print a report (text or JSON); 2 when stdout is gone.
fn print(
    json: bool,
    text: impl FnOnce() -> String,
    doc: impl FnOnce() -> serde_json::Value,
) -> bool {
    let out = if json { doc().to_string() } else { text() };
    writeln!(std::io::stdout().lock(), "{out}").is_ok()
}

fn rekor(cmd: &RekorCommand) -> u8 {
    use keyless::rekor::report;
    let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(SystemClock);
    let auditor = |trust: &TrustArgs| {
        TrustMaterial::load(&trust.source())
            .and_then(|t| keyless::rekor::Auditor::new(t, clock.clone()))
    };
    let online = |log: &RekorLogArgs| {
        let a = auditor(&log.trust)?;
        let url = log
            .rekor_url
            .clone()
            .or_else(|| a.default_rekor_url())
            .ok_or_else(|| {
                keyless::Error::Usage(
                    "the trust root names no transparency log; pass --rekor-url".into(),
                )
            })?;
        let rekor = keyless::rekor::Rekor::new(&url, std::time::Duration::from_secs(log.timeout))?;
        Ok::<_, keyless::Error>((a, rekor))
    };
    match cmd {
        RekorCommand::Get(args) => {
            let json = args.log.json;
            let got = online(&args.log).and_then(|(a, r)| {
                let (report, raw) = a.get(&r, &args.entry())?;
                Ok((a, report, raw))
            });
            let (a, entry, raw) = match got {
                Ok(g) => g,
                Err(e) => return rekor_fail("get", json, &e),
            };
            let mut code = report::entry_exit_code(&entry);
            let mut bundle = None;
            // Evidence is only exported for an entry that was proven.
            if let (Some(path), 0) = (&args.bundle_out, code) {
                match a.export_bundle(&raw, path, args.overwrite) {
                    Ok(Ok(p)) => bundle = Some(Ok(p)),
                    Ok(Err(f)) => {
                        bundle = Some(Err(f));
                        code = 1;
                    }
                    Err(e) => return rekor_fail("get", json, &e),
                }
            }
            let text = || {
                let mut t = report::entry_text(&entry);
                match &bundle {
                    Some(Ok(p)) => t += &format!("\n     bundle written   {}", p.display()),
                    Some(Err(f)) => {
                        t += &format!(
                            "\nFAIL the bundle for this entry does not verify, not written: {f}"
                        )
                    }
                    None => {}
                }
                t
            };
            let doc = || {
                let mut d = report::entry_json(&entry);
                d["bundle"] = match &bundle {
                    Some(Ok(p)) => serde_json::json!(p),
                    _ => serde_json::Value::Null,
                };
                if let Some(Err(f)) = &bundle {
                    d["ok"] = false.into();
                    d["bundle_error"] = f.to_string().into();
                }
                d
            };
            if !print(json, text, doc) {
                return 2;
            }
            code
        }
        RekorCommand::Search(args) => {
            let json = args.log.json;
            let result = args.query().and_then(|q| {
                let (a, r) = online(&args.log)?;
                a.search(&r, &q, usize::from(args.limit))
            });
            match result {
                Ok(s) => {
                    if !print(json, || report::search_text(&s), || report::search_json(&s)) {
                        return 2;
                    }
                    report::search_exit_code(&s)
                }
                Err(e) => rekor_fail("search", json, &e),
            }
        }
        RekorCommand::LogInfo(args) => {
            let json = args.log.json;
            match online(&args.log).and_then(|(a, r)| a.log_info(&r)) {
                Ok(info) => {
                    if !print(
                        json,
                        || report::log_info_text(&info),
                        || report::log_info_json(&info),
                    ) {
                        return 2;
                    }
                    report::log_info_exit_code(&info)
                }
                Err(e) => rekor_fail("log-info", json, &e),
            }
        }
        RekorCommand::Monitor(args) => {
            let json = args.log.json;
            let result = args.options().and_then(|o| {
                let lock = keyless::rekor::monitor::lock_state(&o.state)?;
                let (a, r) = online(&args.log)?;
                Ok((keyless::rekor::monitor::run(&a, &r, &o)?, lock))
            });
            match result {
                Ok((m, _lock)) => {
                    if !print(
                        json,
                        || report::monitor_text(&m),
                        || report::monitor_json(&m),
                    ) {
                        return 2;
                    }
                    // Only a delivered report moves the state on.
                    if let Err(e) = m.commit() {
                        return rekor_fail("monitor", json, &e);
                    }
                    report::monitor_exit_code(&m)
                }
                Err(e) => rekor_fail("monitor", json, &e),
            }
        }
        RekorCommand::VerifyEntry(args) => {
            match auditor(&args.trust).and_then(|a| a.verify_entry_file(&args.file)) {
                Ok(r) => {
                    if !print(
                        args.json,
                        || report::entry_text(&r),
                        || report::entry_json(&r),
                    ) {
                        return 2;
                    }
                    report::entry_exit_code(&r)
                }
                Err(e) => rekor_fail("verify-entry", args.json, &e),
            }
        }
    }
}

fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = keyless_cli::cli::command();
    clap_complete::generate(args.shell, &mut cmd, "keyless", &mut std::io::stdout());
    0
}
