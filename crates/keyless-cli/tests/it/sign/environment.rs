//! `KEYLESS_*` variables a pipeline sets once stand in for the flags of
//! `sign` and `attest`; a flag on the command line wins, even over
//! `KEYLESS_TRUST_CONFIG` where the two name different instances. Help
//! names the variables and never shows a value (least of all the token).

use super::setup;
use crate::common::{Run, keyless, keyless_with_token, run};
use keyless_testbed::faults::Endpoint;

/// `keyless sign <args>` with the setup's token and `vars` set.
fn sign_with_env(token: &str, vars: &[(&str, &str)], args: &[&std::ffi::OsStr]) -> Run {
    let mut cmd = keyless_with_token(token);
    cmd.arg("sign").args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let r = run(cmd.timeout(std::time::Duration::from_secs(120)));
    let secret = token.rsplit('.').next().unwrap();
    assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret));
    r
}

#[test]
fn variables_stand_in_for_flags_and_flags_win() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let v2 = s.tb.trust_config_v2_path();
    let v2 = v2.to_str().unwrap();
    let url = s.tb.url();
    let json = ["--json".as_ref(), "--overwrite".as_ref(), f.as_os_str()];

    // The instance and the Rekor version from the environment alone.
    let r = sign_with_env(
        &s.token,
        &[("KEYLESS_TRUST_CONFIG", v2), ("KEYLESS_REKOR_VERSION", "2")],
        &json,
    );
    r.assert_code(0);
    assert_eq!(r.json()["services"]["rekor_version"], 2);

    // The service URLs from the environment (the config's v2 log replaced
    // by the v1 one named in KEYLESS_REKOR_URL).
    let tsa = format!("{url}/api/v1/timestamp");
    let env = [
        ("KEYLESS_TRUST_CONFIG", v2),
        ("KEYLESS_FULCIO_URL", url),
        ("KEYLESS_REKOR_URL", url),
        ("KEYLESS_TIMESTAMP_SERVER_URL", tsa.as_str()),
    ];
    let r = sign_with_env(&s.token, &env, &json);
    r.assert_code(0);
    let services = &r.json()["services"];
    assert_eq!(
        (&services["rekor"], &services["rekor_version"]),
        (&url.into(), &1.into())
    );

    // A flag wins over its variable.
    let r = sign_with_env(
        &s.token,
        &[("KEYLESS_TRUST_CONFIG", v2), ("KEYLESS_REKOR_VERSION", "2")],
        &[
            &json[..],
            &[
                "--rekor-version".as_ref(),
                "1".as_ref(),
                "--rekor-url".as_ref(),
                url.as_ref(),
            ],
        ]
        .concat(),
    );
    r.assert_code(0);
    assert_eq!(r.json()["services"]["rekor_version"], 1);
    let missing = s.path("missing.json");
    let r = sign_with_env(
        &s.token,
        &[("KEYLESS_TRUST_CONFIG", missing.to_str().unwrap())],
        &[
            &json[..],
            &[
                "--trust-config".as_ref(),
                s.tb.trust_config_path().as_os_str(),
            ],
        ]
        .concat(),
    );
    r.assert_code(0);
}

/// KEYLESS_TRUST_CONFIG gives way to the other instance flags instead of
/// conflicting with them; the same flags given together still conflict.
#[test]
fn the_trust_config_variable_gives_way_to_instance_flags() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let missing = s.path("missing.json");
    let signing_config = s.state_file("signing_config.json");
    let root = s.tb.trusted_root_path();
    let by_files = [
        "--signing-config".as_ref(),
        signing_config.as_os_str(),
        "--trusted-root".as_ref(),
        root.as_os_str(),
        f.as_os_str(),
    ];
    let r = sign_with_env(
        &s.token,
        &[("KEYLESS_TRUST_CONFIG", missing.to_str().unwrap())],
        &by_files,
    );
    r.assert_code(0);

    let r = sign_with_env(
        &s.token,
        &[],
        &[
            &[
                "--overwrite".as_ref(),
                "--trust-config".as_ref(),
                s.tb.trust_config_path().as_os_str(),
            ],
            &by_files[..],
        ]
        .concat(),
    );
    r.assert_code(2);
    assert!(
        r.stderr
            .contains("--trust-config cannot be used with --signing-config"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_timeout_variable_and_its_flag() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.fault("fulcio=status:503");
    let trust = s.tb.trust_config_path();
    let trust = trust.to_str().unwrap();
    let env = [("KEYLESS_TRUST_CONFIG", trust), ("KEYLESS_TIMEOUT", "1")];
    let r = sign_with_env(&s.token, &env, &[f.as_os_str()]);
    r.assert_code(2);
    assert!(r.stderr.contains("within 1 s"), "{}", r.stderr);
    let r = sign_with_env(
        &s.token,
        &env,
        &[f.as_os_str(), "--timeout".as_ref(), "2".as_ref()],
    );
    r.assert_code(2);
    assert!(r.stderr.contains("within 2 s"), "{}", r.stderr);
    let r = sign_with_env(&s.token, &[("KEYLESS_TIMEOUT", "soon")], &[f.as_os_str()]);
    r.assert_code(2);
    assert!(r.stderr.contains("--timeout"), "{}", r.stderr);
    assert!(s.tb.requests(Endpoint::Fulcio) >= 2);
}

#[test]
fn help_names_the_variables_and_shows_no_values() {
    let s = setup();
    for command in ["sign", "attest"] {
        let r = run(keyless_with_token(&s.token)
            .env("KEYLESS_FULCIO_URL", "https://fulcio.secret.example")
            .env("KEYLESS_TRUST_CONFIG", "/secret/trust.json")
            .args([command, "--help"]));
        r.assert_code(0);
        for var in [
            "KEYLESS_TRUST_CONFIG",
            "KEYLESS_FULCIO_URL",
            "KEYLESS_REKOR_URL",
            "KEYLESS_TIMESTAMP_SERVER_URL",
            "KEYLESS_REKOR_VERSION",
            "KEYLESS_TIMEOUT",
        ] {
            assert!(
                r.stdout.contains(&format!("[env: {var}]")),
                "{command} --help lacks {var}:\n{}",
                r.stdout
            );
        }
        assert!(r.stdout.contains("SIGSTORE_ID_TOKEN"));
        for value in [
            s.token.as_str(),
            s.token.rsplit('.').next().unwrap(),
            "secret.example",
            "/secret/",
        ] {
            assert!(!r.stdout.contains(value), "{command} --help shows {value}");
        }
    }
    // Without a token in the environment, help is the same.
    let bare = run(keyless()
        .env_remove("SIGSTORE_ID_TOKEN")
        .args(["sign", "--help"]));
    let with = run(keyless_with_token(&s.token).args(["sign", "--help"]));
    assert_eq!(bare.stdout, with.stdout);
}
