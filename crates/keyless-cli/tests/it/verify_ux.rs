//! What a new user trips over in `keyless verify`: verifying what `keyless
//! sign` wrote (a folder, or a glob that takes the bundles too), a missing
//! file, a bundle from another Sigstore instance, an anchored regexp, which
//! input a hint is about, a bundle given as trust config, an offline
//! refresh with no cache, and colour.

use crate::common::bed::{Bed, GITLAB, TAG_SAN, tag_v1_0};
use crate::common::{Run, WHEEL_IDENTITY, WHEEL_ISSUER, keyless, run, vectors, wheel};
use base64::Engine;
use keyless_testbed::JwsAlg;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub(crate) const PROJECT: &str = "keyless-demo/hello-py";

/// A testbed and `<dir>/dist` holding a wheel and an sdist signed by
/// `keyless sign dist/` (tag v1.0 pipeline), plus `notes.txt` signed by name.
pub(crate) fn signed_dist() -> (Bed, PathBuf) {
    let bed = Bed::start();
    let dist = bed.path("dist");
    std::fs::create_dir(&dist).unwrap();
    for (name, data) in [
        ("hello-1.0-py3-none-any.whl", "wheel"),
        ("hello-1.0.tar.gz", "sdist"),
        ("notes.txt", "notes"),
    ] {
        std::fs::write(dist.join(name), data).unwrap();
    }
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::ES256);
    let trust = bed.tb.trust_config_path();
    bed.keyless_sign(&token, &trust, &[dist.as_os_str()])
        .assert_code(0);
    bed.keyless_sign(&token, &trust, &[dist.join("notes.txt").as_os_str()])
        .assert_code(0);
    (bed, dist)
}

/// Every entry of `dir`, sorted: what the shell makes of `dir/*`.
fn glob(dir: &Path) -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    all.sort();
    all
}

/// `keyless verify gitlab <inputs> --project <PROJECT> --tag v1.0
/// --trust-config <the testbed's> <extra>`.
pub(crate) fn verify_gitlab(bed: &Bed, inputs: &[PathBuf], extra: &[&str]) -> Run {
    run(keyless()
        .args(["verify", "gitlab"])
        .args(inputs)
        .args(["--project", PROJECT, "--tag", "v1.0", "--trust-config"])
        .arg(bed.tb.trust_config_path())
        .args(extra))
}

/// The `input` of each result of a JSON report, file names only.
pub(crate) fn inputs_of(report: &serde_json::Value) -> Vec<String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let input = Path::new(r["input"].as_str().unwrap());
            input.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect()
}

/// The `hint:` lines of stderr, without the prefix.
fn hints(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("  hint: "))
        .collect()
}

#[test]
fn what_sign_wrote_verifies_by_folder_by_glob_and_by_bundle() {
    let (bed, dist) = signed_dist();
    let signed = [
        "hello-1.0-py3-none-any.whl",
        "hello-1.0.tar.gz",
        "notes.txt",
    ];
    // Distractors: a file nobody signed, and a bundle whose file is gone.
    std::fs::write(dist.join("README.md"), "readme").unwrap();
    std::fs::copy(
        dist.join("notes.txt.sigstore.json"),
        dist.join("gone.txt.sigstore.json"),
    )
    .unwrap();

    // The folder, as `sign` takes it: its distributions and every file with
    // a bundle beside it, sorted; not README.md, not the orphaned bundle.
    let r = verify_gitlab(&bed, std::slice::from_ref(&dist), &["--json"]);
    r.assert_code(0);
    assert_eq!(inputs_of(&r.json()), signed, "{}", r.stdout);

    // The shell's glob, bundles included: each file is verified once and no
    // bundle is taken for a file (…sigstore.json.sigstore.json).
    let artifacts_and_bundles: Vec<PathBuf> = glob(&dist)
        .into_iter()
        .filter(|p| !p.ends_with("README.md") && !p.ends_with("gone.txt.sigstore.json"))
        .collect();
    assert_eq!(artifacts_and_bundles.len(), 6);
    let r = verify_gitlab(&bed, &artifacts_and_bundles, &[]);
    r.assert_code(0);
    assert_eq!(r.lines_starting("OK   "), 3, "{}", r.stdout);
    assert!(
        !r.stdout.contains("sigstore.json.sigstore.json"),
        "{}",
        r.stdout
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);

    // Only the bundles: each stands for its file and is what it is checked
    // against.
    let bundle = dist.join("hello-1.0.tar.gz.sigstore.json");
    let r = verify_gitlab(&bed, std::slice::from_ref(&bundle), &["--json"]);
    r.assert_code(0);
    let report = r.json();
    assert_eq!(inputs_of(&report), ["hello-1.0.tar.gz"]);
    assert_eq!(report["results"][0]["bundle"], bundle.display().to_string());

    // A bundle with no file beside it is still an input, and fails as one.
    let r = verify_gitlab(&bed, &[dist.join("gone.txt.sigstore.json")], &[]);
    r.assert_code(2);
    assert!(
        r.stdout.starts_with("FAIL ") && r.stdout.contains("gone.txt.sigstore.json"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_folder_with_nothing_to_verify_is_a_usage_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-dist");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("README.md"), "readme").unwrap();
    let r = run(keyless()
        .arg("verify")
        .arg(&empty)
        .args(["--certificate-identity", TAG_SAN])
        .args(["--certificate-oidc-issuer", GITLAB]));
    r.assert_code(2);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("nothing to verify in")
            && r.stderr.contains(&empty.display().to_string()),
        "{}",
        r.stderr
    );
}

#[test]
fn a_missing_file_is_reported_as_the_file_not_its_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let nope = dir.path().join("nope.whl");
    let verify = |json: bool| {
        let mut cmd = keyless();
        cmd.arg("verify").arg(&nope);
        if json {
            cmd.arg("--json");
        }
        run(cmd
            .args(["--certificate-identity", TAG_SAN])
            .args(["--certificate-oidc-issuer", GITLAB]))
    };
    let r = verify(false);
    r.assert_code(2);
    assert!(
        r.stdout
            .contains(&format!("{}: cannot read: No such file", nope.display())),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains(".sigstore"), "{}", r.stdout);
    let hint = hints(&r.stderr);
    assert_eq!(hint.len(), 1, "{}", r.stderr);
    assert!(
        hint[0].starts_with("check the path") && !hint[0].contains("bundle is looked up"),
        "{}",
        r.stderr
    );

    let report = verify(true).json();
    let result = &report["results"][0];
    assert_eq!(result["bundle"], serde_json::Value::Null, "{report:#}");
    assert!(
        result["hint"]
            .as_str()
            .unwrap()
            .starts_with("check the path"),
        "{report:#}"
    );
}

/// The hex of a base64 log ID.
fn hex_of(base64: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_testbed_bundle_against_the_production_root_says_whose_keys_are_missing() {
    let (bed, dist) = signed_dist();
    let log_id =
        crate::common::read_json(&bed.tb.trusted_root_path())["tlogs"][0]["logId"]["keyId"]
            .as_str()
            .unwrap()
            .to_string();
    let sdist = dist.join("hello-1.0.tar.gz");
    let verify = |json: bool| {
        let mut cmd = keyless();
        cmd.args(["verify", "gitlab"]).arg(&sdist);
        if json {
            cmd.arg("--json");
        }
        run(cmd.args(["--project", PROJECT, "--tag", "v1.0"]))
    };

    let r = verify(false);
    r.assert_code(1);
    let hint = hints(&r.stderr);
    assert_eq!(hint.len(), 1, "{}", r.stderr);
    assert!(
        hint[0].starts_with(&format!(
            "the embedded production trusted root does not know this bundle's transparency log (log ID {})",
            hex_of(&log_id)
        )),
        "{}",
        r.stderr
    );
    assert!(
        hint[0].contains("--trust-config") && hint[0].contains("--trusted-root"),
        "{}",
        hint[0]
    );
    // Log IDs in hex, everywhere.
    for out in [&r.stdout, &r.stderr] {
        assert!(!out.contains(&log_id), "base64 log ID printed: {out}");
    }
    assert!(r.stdout.contains(&hex_of(&log_id)), "{}", r.stdout);

    let report = verify(true).json();
    let result = &report["results"][0];
    assert_eq!(result["hint"].as_str(), Some(hint[0]), "{report:#}");
    assert!(!report.to_string().contains(&log_id), "{report:#}");
}

#[test]
fn bundles_of_the_public_instances_are_named_as_theirs() {
    let w = wheel();
    // A production bundle checked against staging.
    let r = run(keyless()
        .arg("verify")
        .arg(&w.artifact)
        .args(["--certificate-identity", WHEEL_IDENTITY])
        .args(["--certificate-oidc-issuer", WHEEL_ISSUER, "--staging"]));
    r.assert_code(1);
    let hint = hints(&r.stderr);
    assert!(
        hint.len() == 1
            && hint[0].starts_with("the embedded staging trusted root does not know")
            && hint[0].contains("public-good production instance: verify without --staging"),
        "{}",
        r.stderr
    );

    // A staging Rekor v2 bundle (timestamped by staging's TSA) checked
    // against production.
    let staging = vectors("sigstore-python").join("staging-rekor-v2.txt");
    let r = run(keyless()
        .arg("verify")
        .arg(&staging)
        .args(["--certificate-identity", "jku@goto.fi"])
        .args([
            "--certificate-oidc-issuer",
            "https://github.com/login/oauth",
        ]));
    r.assert_code(1);
    let hint = hints(&r.stderr);
    assert!(
        hint.len() == 1
            && hint[0].contains("timestamp authority")
            && hint[0].ends_with("staging instance: verify with --staging"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_anchored_regexp_that_matches_part_of_the_value_shows_the_form_to_use() {
    let w = wheel();
    let verify = |identity: &str, issuer: &str| {
        run(keyless()
            .arg("verify")
            .arg(&w.artifact)
            .args(["--certificate-identity-regexp", identity])
            .args(["--certificate-oidc-issuer-regexp", issuer]))
    };
    let r = verify("trailofbits/rfc8785.py", ".*");
    r.assert_code(1);
    assert_eq!(
        hints(&r.stderr),
        [
            "keyless anchors --certificate-identity-regexp at both ends (cosign does not), and \"trailofbits/rfc8785.py\" matches only part of the identity; to accept it, use \".*trailofbits/rfc8785.py.*\""
        ],
        "{}",
        r.stderr
    );
    let r = verify(".*", "https://token.actions");
    r.assert_code(1);
    assert_eq!(hints(&r.stderr).len(), 1, "{}", r.stderr);
    assert!(
        hints(&r.stderr)[0].contains("--certificate-oidc-issuer-regexp")
            && hints(&r.stderr)[0].ends_with("use \"https://token.actions.*\""),
        "{}",
        r.stderr
    );
    // The suggested form verifies.
    verify(".*trailofbits/rfc8785.py.*", "https://token.actions.*").assert_code(0);
    // A regexp that matches no part of the value gets no such hint.
    let r = verify("gitlab", ".*");
    r.assert_code(1);
    assert!(hints(&r.stderr).is_empty(), "{}", r.stderr);
}

#[test]
fn with_several_inputs_each_hint_names_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.whl"), dir.path().join("b.whl"));
    let verify = |inputs: &[&Path]| {
        run(keyless()
            .arg("verify")
            .args(inputs)
            .args(["--certificate-identity", TAG_SAN])
            .args(["--certificate-oidc-issuer", GITLAB]))
    };
    let r = verify(&[&a, &b]);
    r.assert_code(2);
    let hint = hints(&r.stderr);
    assert_eq!(hint.len(), 2, "{}", r.stderr);
    assert!(
        hint[0].starts_with(&format!("{}: check the path", a.display())),
        "{}",
        r.stderr
    );
    assert!(
        hint[1].starts_with(&format!("{}: check the path", b.display())),
        "{}",
        r.stderr
    );
    // One input: the hint alone.
    let r = verify(&[&a]);
    assert_eq!(hints(&r.stderr).len(), 1, "{}", r.stderr);
    assert!(
        hints(&r.stderr)[0].starts_with("check the path"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_bundle_given_as_trust_config_is_named_as_a_bundle() {
    let w = wheel();
    let r = run(keyless()
        .arg("verify")
        .arg(&w.artifact)
        .args(["--certificate-identity", WHEEL_IDENTITY])
        .args(["--certificate-oidc-issuer", WHEEL_ISSUER])
        .arg("--trust-config")
        .arg(&w.bundle));
    r.assert_code(2);
    assert!(
        r.stderr.contains("it is a Sigstore bundle")
            && r.stderr.contains("not a ClientTrustConfig"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("Some("), "Rust debug text: {}", r.stderr);
    let hint = hints(&r.stderr);
    assert!(
        hint.len() == 1 && hint[0].contains("--trust-config"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_offline_refresh_without_a_cache_says_to_go_online_once() {
    let dir = tempfile::tempdir().unwrap();
    let r =
        run(keyless()
            .env("KEYLESS_CACHE_DIR", dir.path())
            .args(["trust", "update", "--offline"]));
    r.assert_code(2);
    assert!(
        r.stderr.contains("no local TUF cache yet") && !r.stderr.contains("timestamp.json"),
        "{}",
        r.stderr
    );
    let hint = hints(&r.stderr);
    assert!(
        hint.len() == 1
            && hint[0].contains("without --offline")
            && !hint[0].contains("--trusted-root"),
        "{}",
        r.stderr
    );
    // Nothing was created for a cache that is not there.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn no_colour_into_a_pipe_even_without_no_color() {
    let w = wheel();
    let verify = |args: &[&OsStr]| {
        run(keyless()
            .env_remove("NO_COLOR")
            .arg("verify")
            .arg(&w.artifact)
            .arg(&w.artifact)
            .args(args))
    };
    let ok: [&OsStr; 4] = [
        "--certificate-identity".as_ref(),
        WHEEL_IDENTITY.as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        WHEEL_ISSUER.as_ref(),
    ];
    let r = verify(&ok);
    r.assert_code(0);
    assert_eq!(r.lines_starting("OK   "), 2, "{}", r.stdout);
    let fail: [&OsStr; 4] = [
        "--certificate-identity".as_ref(),
        "someone-else".as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        WHEEL_ISSUER.as_ref(),
    ];
    let failed = verify(&fail);
    failed.assert_code(1);
    assert_eq!(failed.lines_starting("FAIL "), 2, "{}", failed.stdout);
    let mut json_args = fail.to_vec();
    json_args.push("--json".as_ref());
    let json = verify(&json_args);
    for out in [&r, &failed, &json] {
        assert!(
            !out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'),
            "escape bytes: {:?}",
            out.stdout
        );
    }
}

/// No false alarm: a bundle whose every key the trust root holds (Rekor v1,
/// and Rekor v2 with a TSA timestamp) fails over a changed file with no
/// hint about unknown keys.
#[test]
fn a_failure_under_known_keys_gets_no_trust_hint() {
    let bed = Bed::start();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::ES256);
    for trust in ["trust_config.json", "trust_config_v2.json"] {
        let file = bed.write("app.txt", "signed");
        let trust = bed.state_file(trust);
        bed.keyless_sign(&token, &trust, &["--overwrite".as_ref(), file.as_os_str()])
            .assert_code(0);
        std::fs::write(&file, "changed").unwrap();
        let r = run(keyless()
            .args(["verify", "--json"])
            .arg(&file)
            .args(["--certificate-identity", TAG_SAN])
            .args(["--certificate-oidc-issuer", GITLAB])
            .arg("--trust-config")
            .arg(&trust));
        r.assert_code(1);
        let report = r.json();
        assert_eq!(
            report["results"][0]["hint"],
            serde_json::Value::Null,
            "{report:#}"
        );
    }
}
