//! `keyless rekor`: audit a transparency log.

use super::{Delivery, print};
use crate::cli::{
    RekorCommand, RekorGetArgs, RekorLogArgs, RekorLogInfoArgs, RekorMonitorArgs, RekorSearchArgs,
    RekorVerifyEntryArgs, TrustArgs,
};
use crate::render::rekor as render;
use keyless::clock::{Clock, SystemClock};
use keyless::rekor::{Auditor, Rekor, RekorApi, monitor};
use keyless::trust::TrustMaterial;
use std::sync::Arc;

/// `keyless rekor <command>`: print the report (text or JSON) and return
/// its exit status.
pub fn run(cmd: &RekorCommand) -> u8 {
    match cmd {
        RekorCommand::Get(args) => get(args),
        RekorCommand::Search(args) => search(args),
        RekorCommand::LogInfo(args) => log_info(args),
        RekorCommand::Monitor(args) => monitor(args),
        RekorCommand::VerifyEntry(args) => verify_entry(args),
    }
}

/// Print an error of `keyless rekor <command>`: on stderr with its hint,
/// and with `--json` also as a JSON object on stdout.
fn fail(command: &str, json: bool, err: &keyless::Error) -> u8 {
    super::fail_json(&format!("rekor {command}"), json, err)
}

/// Print a report and return its exit status, or print why there is none.
fn finish<R>(
    command: &str,
    json: bool,
    result: keyless::Result<R>,
    text: fn(&R) -> String,
    doc: fn(&R) -> serde_json::Value,
    exit_code: fn(&R) -> u8,
) -> u8 {
    match result {
        Ok(r) => print(json, || text(&r), || doc(&r)).exit_code(exit_code(&r)),
        Err(e) => fail(command, json, &e),
    }
}

/// An auditor for the selected trust root, on the system clock.
fn auditor(trust: &TrustArgs) -> keyless::Result<Auditor> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    TrustMaterial::load(&trust.source()).and_then(|t| Auditor::new(t, clock))
}

/// An auditor and a client for the log the arguments name.
fn online(log: &RekorLogArgs) -> keyless::Result<(Auditor, Rekor)> {
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
    let api = match log.rekor_version {
        2 => RekorApi::V2,
        _ => RekorApi::V1,
    };
    let rekor = Rekor::with_api(
        &url,
        api,
        std::time::Duration::from_secs(log.timeout),
        log.allow_insecure_http,
    )?;
    Ok((a, rekor))
}

fn get(args: &RekorGetArgs) -> u8 {
    let json = args.log.json;
    if args.log.rekor_version == 2 {
        return get_from_tiles(args);
    }
    let got = online(&args.log).and_then(|(a, r)| {
        let (report, raw) = a.get(&r, &args.entry())?;
        Ok((a, report, raw))
    });
    let (a, entry, raw) = match got {
        Ok(g) => g,
        Err(e) => return fail("get", json, &e),
    };
    let mut code = render::entry_exit_code(&entry);
    let mut bundle = None;
    // Evidence is only exported for an entry that was proven.
    if let (Some(path), 0) = (&args.bundle_out, code) {
        match a.export_bundle(&raw, path, args.overwrite) {
            Ok(p) => bundle = Some(Ok(p)),
            Err(keyless::Error::Failed(f)) => {
                bundle = Some(Err(f));
                code = 1;
            }
            Err(e) => return fail("get", json, &e),
        }
    }
    let text = || render::get_text(&entry, bundle.as_ref());
    let doc = || render::get_json(&entry, bundle.as_ref());
    print(json, text, doc).exit_code(code)
}

/// `keyless rekor get --rekor-version 2`: an entry of a Rekor v2 log, by
/// log index, proven from its tiles.
fn get_from_tiles(args: &RekorGetArgs) -> u8 {
    let json = args.log.json;
    let result = match (args.entry(), &args.bundle_out) {
        (keyless::rekor::EntryRef::Uuid(_), _) => Err(keyless::Error::Usage(
            "a Rekor v2 log has no lookup by UUID; pass --log-index".into(),
        )),
        // The log holds no signed time for its entries; a bundle needs the
        // signer's RFC 3161 timestamp, which only the signer's bundle has.
        (_, Some(_)) => Err(keyless::Error::Usage(
            "--bundle-out needs a Rekor v1 entry: a Rekor v2 entry carries no signed time, so a \
             bundle made from the log alone cannot verify (the signer's bundle holds its TSA timestamp)"
                .into(),
        )),
        (keyless::rekor::EntryRef::Index(i), None) => {
            online(&args.log).and_then(|(a, r)| a.get_from_tiles(&r, i))
        }
    };
    match result {
        Ok(entry) => print(
            json,
            || render::get_text(&entry, None),
            || render::get_json(&entry, None),
        )
        .exit_code(render::entry_exit_code(&entry)),
        Err(e) => fail("get", json, &e),
    }
}

fn search(args: &RekorSearchArgs) -> u8 {
    let result = args.query().and_then(|q| {
        let (a, r) = online(&args.log)?;
        a.search(&r, &q, usize::from(args.limit))
    });
    if let Some(path) = &args.junit {
        let suite = "keyless rekor search";
        let cases = match &result {
            Ok(report) => crate::render::junit::search_cases(report),
            // Stopped before any entry (no query, the log unreachable): an
            // error case replaces an earlier run's report, which CI would
            // otherwise collect as this run's.
            Err(e) => vec![crate::render::junit::command_error(
                suite,
                e.to_string(),
                super::hint("rekor search", e),
            )],
        };
        if let Err(e) = crate::render::junit::write(path, suite, &cases) {
            return fail("search", args.log.json, &e);
        }
    }
    finish(
        "search",
        args.log.json,
        result,
        render::search_text,
        render::search_json,
        render::search_exit_code,
    )
}

fn log_info(args: &RekorLogInfoArgs) -> u8 {
    let result = online(&args.log).and_then(|(a, r)| a.log_info(&r));
    finish(
        "log-info",
        args.log.json,
        result,
        render::log_info_text,
        render::log_info_json,
        render::log_info_exit_code,
    )
}

fn monitor(args: &RekorMonitorArgs) -> u8 {
    let json = args.log.json;
    let result = args.options().and_then(|o| {
        let lock = monitor::lock_state(&o.state)?;
        let (a, r) = online(&args.log)?;
        Ok((monitor::run(&a, &r, &o)?, lock))
    });
    match result {
        Ok((m, _lock)) => {
            let code = render::monitor_exit_code(&m);
            match print(
                json,
                || render::monitor_text(&m),
                || render::monitor_json(&m),
            ) {
                // Only a delivered report moves the state on. A state that
                // cannot be stored is said on stderr only: stdout already
                // holds the report, and holds one document.
                Delivery::Delivered => match m.commit() {
                    Ok(()) => code,
                    Err(e) => super::fail("rekor monitor", &e),
                },
                undelivered => undelivered.exit_code(code),
            }
        }
        Err(e) => fail("monitor", json, &e),
    }
}

fn verify_entry(args: &RekorVerifyEntryArgs) -> u8 {
    let result = auditor(&args.trust).and_then(|a| a.verify_entry_file(&args.file));
    finish(
        "verify-entry",
        args.json,
        result,
        render::entry_text,
        render::entry_json,
        render::entry_exit_code,
    )
}
