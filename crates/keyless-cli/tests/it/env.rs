//! Environment variables for the flags a pipeline sets once:
//! `KEYLESS_TRUST_CONFIG`, `KEYLESS_TRUSTED_ROOT`, `KEYLESS_REKOR_URL`
//! (`rekor`, and `verify --signature`), `KEYLESS_TIMEOUT` and
//! `KEYLESS_REKOR_VERSION` (`rekor`). Each
//! applies when its flag is not given, a flag always wins, and a variable
//! never turns a flag into a usage error (`--staging` with
//! `KEYLESS_TRUST_CONFIG` set trusts staging).

use crate::common::bed::{Bed, GITLAB, MAIN_SAN};
use crate::common::{Run, keyless, run};
use std::ffi::OsStr;
use std::path::Path;

const DEAD: &str = "http://127.0.0.1:9";
const VARS: [&str; 5] = [
    "KEYLESS_TRUST_CONFIG",
    "KEYLESS_TRUSTED_ROOT",
    "KEYLESS_REKOR_URL",
    "KEYLESS_TIMEOUT",
    "KEYLESS_REKOR_VERSION",
];

/// `keyless <args>` with exactly `vars` of the five set.
fn keyless_env(vars: &[(&str, &OsStr)], args: &[&OsStr]) -> Run {
    let mut cmd = keyless();
    for v in VARS {
        cmd.env_remove(v);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    run(cmd.args(args).timeout(std::time::Duration::from_secs(60)))
}

fn os<'a>(args: &[&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(|a| OsStr::new(*a)).collect()
}

/// A testbed with one file signed by `keyless sign --legacy-outputs`.
fn signed() -> (Bed, std::path::PathBuf) {
    let bed = Bed::start();
    let file = bed.write("pkg-1.0.tar.gz", "signed for the environment tests");
    let token = bed.gitlab_token(keyless_testbed::JwsAlg::RS256);
    let trust = bed.tb.trust_config_path();
    bed.keyless_sign(
        &token,
        &trust,
        &[file.as_os_str(), "--legacy-outputs".as_ref()],
    )
    .assert_code(0);
    (bed, file)
}

fn path(p: &Path) -> &OsStr {
    p.as_os_str()
}

#[test]
fn trust_variables_choose_the_trust_root_and_flags_win() {
    let (bed, _) = signed();
    let config = bed.tb.trust_config_path();
    let root = bed.tb.trusted_root_path();
    let missing = bed.path("missing.json");
    let log_info = |vars: &[(&str, &OsStr)], extra: &[&str]| {
        let mut args = os(&["rekor", "log-info", "--json", "--rekor-url", bed.tb.url()]);
        args.extend(os(extra));
        keyless_env(vars, &args)
    };

    // Alone, each variable chooses the trust root.
    for var in [
        ("KEYLESS_TRUST_CONFIG", path(&config)),
        ("KEYLESS_TRUSTED_ROOT", path(&root)),
    ] {
        let r = log_info(&[var], &[]);
        r.assert_code(0);
        assert_eq!(r.json()["ok"], true, "{}", r.stdout);
    }
    // Without one, the production root does not know the testbed's log.
    let r = log_info(&[], &[]);
    r.assert_code(1);

    // --staging with KEYLESS_TRUST_CONFIG set: staging, as the flag says
    // (not a conflict, and not the variable's root).
    let r = log_info(&[("KEYLESS_TRUST_CONFIG", path(&config))], &["--staging"]);
    r.assert_code(1);
    assert_eq!(r.json()["failed_check"], "checkpoint", "{}", r.stdout);
    // A flag wins over both variables, whatever they name.
    let both = [
        ("KEYLESS_TRUST_CONFIG", path(&missing)),
        ("KEYLESS_TRUSTED_ROOT", path(&missing)),
    ];
    for flag in [
        ["--trust-config", config.to_str().unwrap()],
        ["--trusted-root", root.to_str().unwrap()],
    ] {
        log_info(&both, &flag).assert_code(0);
    }
    // Both variables and no flag to choose: refused, naming them.
    let r = log_info(&both, &[]);
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("KEYLESS_TRUSTED_ROOT and KEYLESS_TRUST_CONFIG are both set"),
        "{}",
        r.stderr
    );
    // Two flags are still a conflict, variables or not.
    let r = log_info(
        &[],
        &["--staging", "--trust-config", config.to_str().unwrap()],
    );
    r.assert_code(2);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
    // An empty variable is a value (as clap takes its own), refused unless
    // a flag makes it moot.
    let empty = [("KEYLESS_TRUST_CONFIG", OsStr::new(""))];
    let r = log_info(&empty, &[]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("KEYLESS_TRUST_CONFIG is set but empty"),
        "{}",
        r.stderr
    );
    log_info(&empty, &["--trusted-root", root.to_str().unwrap()]).assert_code(0);
    // A variable naming a missing file is that file's error.
    let r = log_info(&[("KEYLESS_TRUST_CONFIG", path(&missing))], &[]);
    r.assert_code(2);
    assert!(r.stderr.contains("missing.json"), "{}", r.stderr);
}

#[test]
fn verify_takes_the_trust_variables_and_keyless_rekor_url() {
    let (bed, file) = signed();
    let config = bed.tb.trust_config_path();
    let verify = |vars: &[(&str, &OsStr)], extra: &[&OsStr]| {
        let mut args = vec![
            "verify".as_ref(),
            file.as_os_str(),
            "--certificate-identity".as_ref(),
            MAIN_SAN.as_ref(),
            "--certificate-oidc-issuer".as_ref(),
            GITLAB.as_ref(),
        ];
        args.extend(extra);
        keyless_env(vars, &args)
    };
    let trust = ("KEYLESS_TRUST_CONFIG", path(&config));
    let dead = ("KEYLESS_REKOR_URL", OsStr::new(DEAD));

    // The bundle, under the variable's trust root; KEYLESS_REKOR_URL, which
    // only --signature uses, does not make --signature required.
    verify(&[trust], &[]).assert_code(0);
    verify(&[trust, dead], &[]).assert_code(0);
    // --staging wins over the variable.
    verify(&[trust], &["--staging".as_ref()]).assert_code(1);

    // Detached outputs are looked up in KEYLESS_REKOR_URL's log...
    let sig = bed.path("pkg-1.0.tar.gz.sig");
    let crt = bed.path("pkg-1.0.tar.gz.crt");
    let detached = [
        "--signature".as_ref(),
        sig.as_os_str(),
        "--certificate".as_ref(),
        crt.as_os_str(),
    ];
    verify(&[trust], &detached).assert_code(0);
    // (A log that answers 404 at once: a dead one is retried for a minute.)
    let elsewhere = format!("{}/elsewhere", bed.tb.url());
    let r = verify(
        &[trust, ("KEYLESS_REKOR_URL", elsewhere.as_ref())],
        &detached,
    );
    r.assert_code(2);
    assert!(
        r.stdout.contains(&format!("Rekor {elsewhere}: ")),
        "{}",
        r.stdout
    );
    // ... unless --rekor-url names another.
    let mut flag = detached.to_vec();
    flag.extend(["--rekor-url".as_ref(), OsStr::new(bed.tb.url())]);
    verify(&[trust, dead], &flag).assert_code(0);
}

#[test]
fn rekor_takes_keyless_rekor_url_and_keyless_timeout_and_flags_win() {
    let (bed, _) = signed();
    let config = bed.tb.trust_config_path();
    let trust = ("KEYLESS_TRUST_CONFIG", path(&config));
    let url = ("KEYLESS_REKOR_URL", OsStr::new(bed.tb.url()));
    let dead = ("KEYLESS_REKOR_URL", OsStr::new(DEAD));
    let get = |vars: &[(&str, &OsStr)], extra: &[&str]| {
        let mut args = os(&["rekor", "get", "--log-index", "0", "--json"]);
        args.extend(os(extra));
        keyless_env(vars, &args)
    };

    get(&[trust, url], &[]).assert_code(0);
    let r = get(&[trust, dead], &["--timeout", "2"]);
    r.assert_code(2);
    assert!(
        r.json()["error"].as_str().unwrap().contains(DEAD),
        "{}",
        r.stdout
    );
    get(&[trust, dead], &["--rekor-url", bed.tb.url()]).assert_code(0);

    // KEYLESS_TIMEOUT bounds each interaction; --timeout wins.
    bed.fault("rekor-v1=delay:1500");
    let r = get(&[trust, ("KEYLESS_TIMEOUT", OsStr::new("1"))], &[]);
    r.assert_code(2);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("no answer within 1 s"),
        "{}",
        r.stdout
    );
    get(
        &[trust, ("KEYLESS_TIMEOUT", OsStr::new("1"))],
        &["--timeout", "30"],
    )
    .assert_code(0);
    bed.tb.clear_faults();
    // A bad value is a usage error, as the flag's would be.
    let r = get(&[trust, ("KEYLESS_TIMEOUT", OsStr::new("0"))], &[]);
    r.assert_code(2);
    assert!(r.stderr.contains("--timeout"), "{}", r.stderr);
}

/// The Rekor v2 log a pipeline signs to (`KEYLESS_REKOR_VERSION=2` for
/// `sign`) is the one its `rekor` commands read; `--rekor-version` wins.
#[test]
fn rekor_takes_keyless_rekor_version_and_the_flag_wins() {
    let bed = Bed::start();
    let config = bed.tb.trust_config_path();
    let trust = ("KEYLESS_TRUST_CONFIG", path(&config));
    let url = ("KEYLESS_REKOR_URL", OsStr::new(bed.tb.url()));
    let log_id = |vars: &[(&str, &OsStr)], extra: &[&str]| {
        let mut args = os(&["rekor", "log-info", "--json"]);
        args.extend(os(extra));
        let r = keyless_env(vars, &args);
        r.assert_code(0);
        r.json()["log_id"].as_str().unwrap().to_string()
    };
    let v1 = log_id(&[trust, url], &[]);
    let v2 = log_id(&[trust, url], &["--rekor-version", "2"]);
    assert_ne!(v1, v2, "the testbed serves both logs at one URL");
    let two = ("KEYLESS_REKOR_VERSION", OsStr::new("2"));
    assert_eq!(log_id(&[trust, url, two], &[]), v2);
    assert_eq!(log_id(&[trust, url, two], &["--rekor-version", "1"]), v1);
}

#[test]
fn help_names_the_variables() {
    for (args, vars) in [
        (
            &["rekor", "get", "--help"][..],
            &[
                "[env: KEYLESS_REKOR_URL]",
                "[env: KEYLESS_TIMEOUT]",
                "[env: KEYLESS_REKOR_VERSION]",
                "[env: KEYLESS_TRUSTED_ROOT]",
                "[env: KEYLESS_TRUST_CONFIG]",
            ][..],
        ),
        (
            &["verify", "--help"],
            &[
                "[env: KEYLESS_REKOR_URL]",
                "[env: KEYLESS_TRUSTED_ROOT]",
                "[env: KEYLESS_TRUST_CONFIG]",
            ],
        ),
    ] {
        // Set or not, the help reads the same (values are not shown).
        let r = keyless_env(&[("KEYLESS_REKOR_URL", OsStr::new(DEAD))], &os(args));
        r.assert_code(0);
        let help = r.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        for v in vars {
            assert!(help.contains(v), "{args:?} lacks {v}:\n{}", r.stdout);
        }
        assert!(!help.contains(DEAD), "{}", r.stdout);
    }
}
