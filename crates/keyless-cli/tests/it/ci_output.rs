//! Output that fits a CI log and a terminal: `-q` leaves only what failed,
//! `-v` adds the evidence and digest of each input; colour and the progress
//! counter appear only on a terminal (a real one: a pseudo-terminal from
//! util-linux's `script`), and colour never with `NO_COLOR`.

use crate::common::{keyless, run, vectors};
use std::path::PathBuf;
use std::process::Command;

const PROJECT: &str = "facutuesca/gitlab-oidc-project";

fn sdist() -> PathBuf {
    vectors("pypi-attestations").join("gitlab_oidc_project-0.0.3.tar.gz")
}

/// `keyless verify gitlab <sdist> missing.tar.gz --project ... --any-ref <extra>`.
fn verify_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["verify", "gitlab"].map(String::from).to_vec();
    args.push(sdist().display().to_string());
    args.push("missing-1.0.tar.gz".into());
    args.extend(["--project", PROJECT, "--any-ref"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn quiet_prints_only_failures_and_verbose_the_evidence() {
    let r = run(keyless().args(verify_args(&["-q"])));
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("FAIL missing-1.0.tar.gz  error: "),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("hint: missing-1.0.tar.gz: check the path"),
        "{}",
        r.stderr
    );

    let r = run(keyless().args(verify_args(&["-v"])));
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout.lines().count(), 2, "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!(
            "  evidence: {}.publish.attestation\n",
            sdist().display()
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "  sha256: c1ca9b0d85df1606451098233018534497bf584362e10e4a8c21dfaea92c02a8\n"
        ),
        "{}",
        r.stderr
    );
    // Not both.
    assert_eq!(run(keyless().args(verify_args(&["-q", "-v"]))).code, 2);
}

/// Run keyless with `args` on a pseudo-terminal (stdout and stderr both),
/// `no_color` as NO_COLOR if given: everything it wrote there.
fn on_a_terminal(args: &[String], no_color: Option<&str>) -> String {
    on_a_terminal_with(args, no_color, None)
}

/// As [`on_a_terminal`], stdout redirected to `stdout_to` if given.
fn on_a_terminal_with(
    args: &[String],
    no_color: Option<&str>,
    stdout_to: Option<&std::path::Path>,
) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let line = std::iter::once(env!("CARGO_BIN_EXE_keyless"))
        .chain(args.iter().map(String::as_str))
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
        + &stdout_to
            .map(|p| format!(" > {}", quote(&p.display().to_string())))
            .unwrap_or_default();
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR");
    if let Some(v) = no_color {
        cmd.env("NO_COLOR", v);
    }
    let out = cmd.output().expect("util-linux script runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colour_and_progress_only_on_a_terminal() {
    // Text on a terminal: coloured verdicts, no counter (the lines are the
    // progress).
    let tty = on_a_terminal(&verify_args(&[]), None);
    assert!(tty.contains("\x1b[32mOK\x1b[0m   "), "{tty:?}");
    assert!(
        tty.contains("\x1b[31mFAIL\x1b[0m missing-1.0.tar.gz"),
        "{tty:?}"
    );
    assert!(!tty.contains("input(s) done"), "{tty:?}");
    // NO_COLOR: no colour, even on a terminal.
    let plain = on_a_terminal(&verify_args(&[]), Some("1"));
    assert!(
        plain.contains("OK   ") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    // --json on a terminal: the report, and a counter that erases itself.
    let json = on_a_terminal(&verify_args(&["--json"]), None);
    assert!(
        json.contains("\r\x1b[2Kkeyless: 2/2 input(s) done\r\x1b[2K"),
        "{json:?}"
    );
    // ... but not with -q.
    let quiet = on_a_terminal(&verify_args(&["--json", "-q"]), None);
    assert!(
        quiet.contains("\"exit_code\": 2") && !quiet.contains("done"),
        "{quiet:?}"
    );
    // Text into a file, stderr on a terminal: the counter, erased before
    // each hint so that the hint has its own line.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let tty = on_a_terminal_with(&verify_args(&[]), None, Some(&out));
    assert!(
        tty.contains("\r\x1b[2Kkeyless: 2/2 input(s) done\r\x1b[2K  hint: missing-1.0.tar.gz: "),
        "{tty:?}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("OK   ") && !text.contains('\x1b'),
        "{text:?}"
    );
    // Into a pipe (a CI log): neither colour nor counter.
    let r = run(keyless().args(verify_args(&["--json"])));
    assert!(!r.stderr.contains('\x1b') && !r.stdout.contains('\x1b'));
}
