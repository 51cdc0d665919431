//! What `keyless sign` prints where: without a terminal each file is named
//! once (its result line on stdout); `-v` adds the services, every retry as
//! it happens and the timings on stderr; `-q` leaves only errors.

use super::setup;
use crate::common::{keyless_with_token, run};
use std::io::BufRead;

#[test]
fn each_file_is_named_once_without_a_terminal() {
    let s = setup();
    let names = [
        "pkg-1.0.tar.gz",
        "pkg-1.0-py3-none-any.whl",
        "other-2.0.tar.gz",
    ];
    for name in names {
        s.add(name);
    }
    let dist = s.dist();
    let r = s.sign("trust_config.json", &[dist.as_os_str()]);
    r.assert_code(0);
    for name in names {
        let lines = r
            .stdout
            .lines()
            .chain(r.stderr.lines())
            .filter(|l| l.contains(name))
            .count();
        assert_eq!(
            lines, 1,
            "{name} is named on {lines} lines:\nstdout:\n{}\nstderr:\n{}",
            r.stdout, r.stderr
        );
    }
    assert_eq!(r.lines_starting("OK   "), 3, "{}", r.stdout);
    // stderr: who signs, and nothing per file.
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("signing 3 file(s) as GitLab project"),
        "{}",
        r.stderr
    );
}

#[test]
fn verbose_shows_services_retries_and_timings() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.fault("rekor-v1=status:503,times=2");
    let r = s.sign("trust_config.json", &[f.as_os_str(), "-v".as_ref()]);
    r.assert_code(0);
    let url = s.tb.url();
    for expected in [
        format!("keyless: Fulcio: {url} (from the signing config)"),
        format!("keyless: Rekor: {url} v1 (from the signing config)"),
        format!("keyless: TSA: {url}/api/v1/timestamp (from the signing config)"),
        format!("keyless: OIDC: {url} ("),
        "keyless: identity token from SIGSTORE_ID_TOKEN in ".to_string(),
        "from Fulcio in ".to_string(),
        "certificate verified against the trust root".to_string(),
        "keyless: Rekor attempt 1 failed: ".to_string(),
        "keyless: Rekor attempt 2 failed: ".to_string(),
        "1 of 1 file(s) signed in ".to_string(),
    ] {
        assert!(
            r.stderr.contains(&expected),
            "no {expected:?} in:\n{}",
            r.stderr
        );
    }
    let retry = r
        .stderr
        .lines()
        .find(|l| l.contains("attempt 1 failed"))
        .unwrap();
    assert!(
        retry.contains("503") && retry.contains("; retrying in ") && retry.ends_with(" ms"),
        "the reason and the delay: {retry}"
    );
    let timings = r
        .stderr
        .lines()
        .find(|l| l.starts_with("keyless: signed "))
        .unwrap_or_else(|| panic!("no timings line:\n{}", r.stderr));
    for phase in ["hash ", "timestamp ", "log ", "verify ", "write "] {
        assert!(timings.contains(phase), "{phase}: {timings}");
    }
    assert_eq!(r.lines_starting("OK   "), 1, "{}", r.stdout);
}

/// A retry is shown when it is decided, while the run still waits: here
/// Fulcio keeps failing within a long budget, and the first retry line
/// arrives long before the run could end.
#[test]
fn retries_are_shown_as_they_happen() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.fault("fulcio=status:503");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("keyless"))
        .args(["sign", "-v", "--timeout", "600", "--trust-config"])
        .arg(s.tb.trust_config_path())
        .arg(&f)
        .env("SIGSTORE_ID_TOKEN", &s.token)
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    let mut retry_line = None;
    for line in stderr.lines() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.contains("Fulcio attempt 1 failed") {
            retry_line = Some(line);
            break;
        }
    }
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    child.wait().unwrap();
    let line = retry_line.unwrap_or_else(|| panic!("no retry line:\n{}", seen.join("\n")));
    assert!(still_running, "the retry was only shown at the end");
    assert!(
        line.contains("503") && line.contains("retrying in"),
        "{line}"
    );
    assert!(!line.contains(s.token.rsplit('.').next().unwrap()));
    assert!(!s.dist().join("pkg-1.0.tar.gz.sigstore.json").exists());
}

#[test]
fn quiet_prints_only_errors() {
    let s = setup();
    for i in 0..3 {
        s.add(&format!("pkg-1.{i}.tar.gz"));
    }
    let dist = s.dist();
    let r = s.sign("trust_config.json", &[dist.as_os_str(), "-q".as_ref()]);
    r.assert_code(0);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));

    // A file that fails still has its FAIL line; those that worked none.
    s.fault("rekor-v1=status:400,after=1");
    let r = s.sign(
        "trust_config.json",
        &[
            dist.as_os_str(),
            "-q".as_ref(),
            "--overwrite".as_ref(),
            "--jobs".as_ref(),
            "1".as_ref(),
        ],
    );
    r.assert_code(1);
    assert_eq!(r.lines_starting("FAIL "), 2, "{}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
    assert_eq!(r.stderr, "");

    // An error before signing is still shown, with its hint.
    let r = s.sign(
        "trust_config.json",
        &["-q".as_ref(), s.dist().join("nope.whl").as_os_str()],
    );
    r.assert_code(2);
    assert!(r.stderr.contains("nope.whl"), "{}", r.stderr);

    // -q and -v contradict each other.
    let r = run(keyless_with_token(&s.token)
        .args(["sign", "-q", "-v"])
        .arg(&dist));
    r.assert_code(2);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
}
