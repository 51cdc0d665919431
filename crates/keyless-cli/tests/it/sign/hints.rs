//! The hint under a signing error fits what failed: Fulcio refusing the
//! token's identity is a token/instance problem, not a network one, and a
//! service that cannot be reached is pointed at by the flag `sign` has for
//! it. Every test here failed while sign errors shared the verifier's
//! network hint ("check the service URL (--rekor-url, ...) and the network").

use super::setup;
use crate::common::Run;
use keyless_testbed::faults::Endpoint;
use keyless_testbed::{JwsAlg, TokenSpec};

/// The one `hint:` line of stderr.
fn the_hint(r: &Run) -> &str {
    let hints: Vec<&str> = r
        .stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("hint: "))
        .collect();
    assert_eq!(hints.len(), 1, "{}", r.stderr);
    hints[0]
}

#[test]
fn a_rejected_issuer_is_an_identity_problem() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let token = s.tb.mint(
        &TokenSpec::gitlab("https://gitlab.evil.example"),
        JwsAlg::RS256,
    );
    let r = s.sign_with_token(&token, "trust_config.json", &[f.as_os_str()]);
    r.assert_code(2);
    assert!(r.stderr.contains("not accepted"), "{}", r.stderr);
    let hint = the_hint(&r);
    assert!(
        hint.contains("issuer") && hint.contains("audience") && hint.contains("instance"),
        "{hint}"
    );
    assert!(
        !hint.contains("network") && !hint.contains("--rekor-url"),
        "{hint}"
    );
    assert_eq!(
        s.tb.requests(Endpoint::Fulcio),
        1,
        "a refusal is not retried"
    );
}

#[test]
fn a_refused_request_is_not_a_network_problem() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    s.fault("fulcio=status:400");
    let r = s.sign("trust_config.json", &[f.as_os_str()]);
    r.assert_code(2);
    let hint = the_hint(&r);
    assert!(
        hint.contains("refused the certificate request") && hint.contains("--fulcio-url"),
        "{hint}"
    );
    assert!(!hint.contains("network"), "{hint}");
}

#[test]
fn unreachable_services_are_named_by_their_sign_flags() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let budget = ["--timeout".as_ref(), "2".as_ref()];
    s.fault("fulcio=status:503");
    let r = s.sign(
        "trust_config.json",
        &[&[f.as_os_str()], &budget[..]].concat(),
    );
    r.assert_code(2);
    let hint = the_hint(&r);
    assert!(
        hint.contains("--fulcio-url") && hint.contains("network") && !hint.contains("--rekor-url"),
        "{hint}"
    );

    s.tb.clear_faults();
    s.fault("tsa=status:503");
    let r = s.sign(
        "trust_config.json",
        &[&[f.as_os_str()], &budget[..]].concat(),
    );
    r.assert_code(2);
    assert!(r.stderr.contains("TSA"), "{}", r.stderr);
    let hint = the_hint(&r);
    assert!(
        hint.contains("--timestamp-server-url") && !hint.contains("--rekor-url"),
        "{hint}"
    );
}
