//! The keyless library's Rekor client against a log that misbehaves in ways
//! the testbed does not: an answer with two entries, a huge answer, an
//! endless one.

use super::{GITLAB, SAN, raw_entry, start, strs};
use crate::common::serve::{chunked, serve_raw};
use crate::common::{keyless, run};
use serde_json::Value;
use std::time::{Duration, Instant};

/// sigstore-rekor 0.15.1 reads a Rekor `{uuid: entry}` answer by taking
/// whichever entry its HashMap yields first, so an answer holding two
/// entries gives one or the other at random instead of being refused.
/// keyless reads entries itself and refuses an answer that holds more than
/// one (no verdict, exit 2); it also checks that the entry it got is the
/// one it asked for.
#[test]
fn an_answer_with_two_entries_never_passes_for_the_one_asked_for() {
    use keyless::rekor::{Auditor, EntryRef, Rekor};
    use keyless::trust::{TrustMaterial, TrustSource};
    let log = start();
    log.sign(&["a.tar.gz", "b.tar.gz"]);
    let mut both: serde_json::Map<String, Value> =
        serde_json::from_str(&raw_entry(&log, 0)).unwrap();
    both.extend(
        serde_json::from_str::<serde_json::Map<String, Value>>(&raw_entry(&log, 1)).unwrap(),
    );
    let answer = Value::Object(both).to_string();

    // A log that answers every request with both entries.
    let server = crate::common::serve::serve(axum::Router::new().fallback(move || {
        let body = answer.clone();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
        }
    }));
    let url = server.url.clone();

    let trust = TrustMaterial::load(&TrustSource::TrustConfigFile(log.trust())).unwrap();
    let auditor = Auditor::new(trust, std::sync::Arc::new(keyless::clock::SystemClock)).unwrap();
    let rekor = Rekor::new(&url, std::time::Duration::from_secs(10), false).unwrap();
    let e = rekor.entry_by_index(0).unwrap_err();
    assert!(
        matches!(e, keyless::Error::Network { .. }) && e.to_string().contains("2 entries"),
        "{e}"
    );
    let e = auditor.get(&rekor, &EntryRef::Index(0)).unwrap_err();
    assert!(e.to_string().contains("2 entries"), "{e}");
    drop(server);
}

/// 16 MiB: four times the Rekor v1 answer cap.
const HUGE: usize = 16 << 20;

/// `keyless <args> --rekor-url <url>`, within a minute.
fn against(url: &str, args: &[&std::ffi::OsStr]) -> crate::common::Run {
    run(keyless()
        .args(args)
        .args(["--rekor-url", url])
        .timeout(Duration::from_secs(60)))
}

/// A Rekor v1 answering every request (200, or 500) with 16 MiB as fast as
/// it is read: `rekor get`, `rekor search` and the entry lookup of `verify
/// --signature` stop at the 4 MiB cap, without retrying, exit 2, naming
/// the cap.
#[test]
fn huge_answers_to_rekor_reads_are_cut_at_the_cap() {
    let log = start();
    let file = log.write("pkg.tar.gz", "a file signed with cosign-style outputs");
    let token = log.gitlab_token(keyless_testbed::JwsAlg::RS256);
    log.keyless_sign(
        &token,
        &log.trust(),
        &[file.as_os_str(), "--legacy-outputs".as_ref()],
    )
    .assert_code(0);
    let trust = log.trust();
    let (sig, crt) = (log.path("pkg.tar.gz.sig"), log.path("pkg.tar.gz.crt"));
    let digest = "ab".repeat(32);
    for status in [200, 500] {
        let url = serve_raw(chunked(status, Some(HUGE)));
        let commands: [Vec<&std::ffi::OsStr>; 3] = [
            strs(&["rekor", "get", "--log-index", "0", "--timeout", "20"]),
            strs(&["rekor", "search", "--sha256", &digest, "--timeout", "20"]),
            strs(&[
                "verify",
                "--certificate-identity",
                SAN,
                "--certificate-oidc-issuer",
                GITLAB,
            ]),
        ];
        for mut args in commands {
            args.extend(["--trust-config".as_ref(), trust.as_os_str()]);
            if args[0] == "verify" {
                args.extend([
                    file.as_os_str(),
                    "--signature".as_ref(),
                    sig.as_os_str(),
                    "--certificate".as_ref(),
                    crt.as_os_str(),
                ]);
            }
            let r = against(&url, &args);
            r.assert_code(2);
            let said = format!("{}{}", r.stdout, r.stderr);
            assert!(
                said.contains("the answer is larger than the 4 MiB cap for Rekor v1"),
                "{args:?} against {status}: names the cap:\n{said}"
            );
            assert!(!said.contains("still failing"), "not retried:\n{said}");
        }
    }
}

/// A Rekor v1 dripping an endless answer: `rekor get --timeout 3` ends at
/// its deadline, exit 2, saying so.
#[test]
fn an_endless_answer_to_a_rekor_read_is_cut_by_the_timeout() {
    let log = start();
    let url = serve_raw(chunked(200, None));
    let trust = log.trust();
    let mut args = strs(&["rekor", "get", "--log-index", "0", "--timeout", "3"]);
    args.extend(["--trust-config".as_ref(), trust.as_os_str()]);
    let started = Instant::now();
    let r = against(&url, &args);
    r.assert_code(2);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(r.stderr.contains("no answer within 3 s"), "{}", r.stderr);
}
