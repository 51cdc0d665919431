//! Which URLs keyless talks to: https anywhere, plain http only to this
//! machine unless `--allow-insecure-http`, and nothing else (`ftp:`,
//! `file:` ...), refused at once with exit 2 by `sign`, `rekor` and
//! `verify` alike. No test here contacts anything but 127.0.0.1 (the
//! `.invalid` host never resolves).

use crate::common::bed::Bed;
use crate::common::{Run, WHEEL_IDENTITY, WHEEL_ISSUER, keyless, run, wheel};
use keyless_testbed::JwsAlg;
use std::ffi::OsStr;
use std::time::{Duration, Instant};

/// A host on another machine, as far as keyless can tell; it never resolves.
const ELSEWHERE: &str = "http://keyless-test.invalid";

fn os<'a>(args: &[&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(|a| OsStr::new(*a)).collect()
}

/// `keyless sign` of one file against the testbed with `extra` flags.
fn sign(bed: &Bed, extra: &[&str]) -> Run {
    let file = bed.write("pkg-1.0.tar.gz", "contents");
    let token = bed.gitlab_token(JwsAlg::RS256);
    let mut args = vec![file.as_os_str()];
    args.extend(os(&["--timeout", "5"]));
    args.extend(os(extra));
    bed.keyless_sign(&token, &bed.tb.trust_config_path(), &args)
}

/// `keyless rekor log-info` with the testbed's trust root and `extra`.
fn log_info(bed: &Bed, extra: &[&str]) -> Run {
    run(keyless()
        .args(["rekor", "log-info", "--timeout", "5", "--trust-config"])
        .arg(bed.tb.trust_config_path())
        .args(extra)
        .timeout(Duration::from_secs(60)))
}

/// `keyless verify` of the wheel against detached outputs (not valid
/// ones: the URL is refused before they are read) and `extra`.
fn verify(bed: &Bed, extra: &[&str]) -> Run {
    let w = wheel();
    let sig = bed.write("a.sig", "%%% not base64 %%%");
    let crt = bed.write("a.crt", "not used");
    run(keyless()
        .arg("verify")
        .arg(&w.artifact)
        .arg("--signature")
        .arg(sig)
        .arg("--certificate")
        .arg(crt)
        .args(["--certificate-identity", WHEEL_IDENTITY])
        .args(["--certificate-oidc-issuer", WHEEL_ISSUER])
        .args(extra)
        .timeout(Duration::from_secs(60)))
}

/// Exit 2 within a few seconds (no retries), stderr naming `flag` and
/// containing `says`.
fn assert_refused(r: &Run, started: Instant, flag: &str, says: &str) {
    r.assert_code(2);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "refused at once, not retried: {:?}\n{}",
        started.elapsed(),
        r.stderr
    );
    assert!(
        r.stderr.contains(flag) && r.stderr.contains(says),
        "names {flag} and says {says:?}:\n{}",
        r.stderr
    );
}

#[test]
fn plain_http_to_another_machine_is_refused_by_every_command() {
    let bed = Bed::start();
    let says = "--allow-insecure-http";
    for flag in [
        "--fulcio-url",
        "--rekor-url",
        "--timestamp-server-url",
        "--oidc-issuer",
    ] {
        let started = Instant::now();
        let r = sign(&bed, &[flag, ELSEWHERE]);
        assert_refused(&r, started, flag, says);
    }
    let started = Instant::now();
    let r = log_info(&bed, &["--rekor-url", ELSEWHERE]);
    assert_refused(&r, started, "--rekor-url", says);
    let started = Instant::now();
    let r = verify(&bed, &["--rekor-url", ELSEWHERE]);
    assert_refused(&r, started, "--rekor-url", says);
}

#[test]
fn other_schemes_are_refused_at_once_even_with_the_flag() {
    let bed = Bed::start();
    for url in ["ftp://rekor.example", "file:///etc/passwd"] {
        for insecure in [false, true] {
            let mut extra = vec!["--rekor-url", url];
            if insecure {
                extra.push("--allow-insecure-http");
            }
            let started = Instant::now();
            let r = sign(&bed, &extra);
            assert_refused(&r, started, "--rekor-url", "not an http(s) URL");
            let started = Instant::now();
            let r = log_info(&bed, &extra);
            assert_refused(&r, started, "--rekor-url", "not an http(s) URL");
            let started = Instant::now();
            let r = verify(&bed, &extra);
            assert_refused(&r, started, "--rekor-url", "not an http(s) URL");
        }
    }
}

#[test]
fn allow_insecure_http_lets_plain_http_through() {
    let bed = Bed::start();
    let refusal = "plain http is accepted only";
    // The log is asked (and cannot be found), rather than refused.
    let r = log_info(&bed, &["--rekor-url", ELSEWHERE, "--allow-insecure-http"]);
    r.assert_code(2);
    assert!(!r.stderr.contains(refusal), "{}", r.stderr);
    assert!(r.stderr.contains("keyless-test.invalid"), "{}", r.stderr);
    // The detached outputs are read, so the URL was accepted.
    let r = verify(&bed, &["--rekor-url", ELSEWHERE, "--allow-insecure-http"]);
    r.assert_code(2);
    assert!(
        r.stdout.contains("not a valid base64 signature") && !r.stderr.contains(refusal),
        "{}{}",
        r.stdout,
        r.stderr
    );
    // Signing gets its certificate from the testbed's Fulcio; the upload
    // to the unreachable Rekor is what fails, not the URL.
    let r = sign(&bed, &["--rekor-url", ELSEWHERE, "--allow-insecure-http"]);
    r.assert_code(1);
    assert!(
        !r.stderr.contains(refusal) && r.stdout.contains("Rekor"),
        "{}{}",
        r.stdout,
        r.stderr
    );
}
