//! What a service says is untrusted: a Fulcio that quotes the request (the
//! identity token with it) and sends terminal escapes and line breaks in
//! its error answers gets neither printed, in `-v`'s retry lines or in the
//! error; a log whose SET or inclusion proof is forged gets no bundle
//! written.

use super::setup;

/// A service answering every request with `status` and a body that quotes
/// the request's Authorization header and body between a terminal escape
/// and a forged result line. Stops when the returned value is dropped.
fn echoing_service(status: u16) -> crate::common::serve::Served {
    crate::common::serve::serve(axum::Router::new().fallback(
        move |headers: axum::http::HeaderMap, body: String| async move {
            let auth = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            (
                axum::http::StatusCode::from_u16(status).unwrap(),
                format!("\u{1b}[2K\nOK   forged.whl  -> x {auth} {body}"),
            )
        },
    ))
}

#[test]
fn a_fulcio_quoting_the_token_and_escapes_prints_neither() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    for status in [503, 401] {
        let fulcio = echoing_service(status);
        // keyless_sign fails the test if the token is printed.
        let r = s.sign(
            "trust_config.json",
            &[
                f.as_os_str(),
                "-v".as_ref(),
                "--timeout".as_ref(),
                "2".as_ref(),
                "--fulcio-url".as_ref(),
                fulcio.url.as_ref(),
            ],
        );
        r.assert_code(2);
        assert!(
            r.stderr.contains("<redacted"),
            "{status}: the quoted token was replaced:\n{}",
            r.stderr
        );
        if status == 503 {
            assert!(r.stderr.contains("Fulcio attempt 1 failed"), "{}", r.stderr);
        }
        assert!(!r.stderr.contains('\u{1b}'), "{status}: {}", r.stderr);
        assert!(
            !r.stderr
                .lines()
                .chain(r.stdout.lines())
                .any(|l| l.starts_with("OK   forged")),
            "{status}: a forged line:\n{}",
            r.stderr
        );
        assert!(s.outputs().is_empty());
    }
}

/// A log that signs its SET with a key the trust root does not know, or
/// whose inclusion proof does not lead to the root its checkpoint signs:
/// the new bundle fails keyless's own verification at that step, the file
/// is not signed, and nothing is written (a bundle that `keyless verify`
/// would refuse is never handed out).
#[test]
fn a_log_forging_its_set_or_inclusion_proof_gets_no_bundle_written() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    for (fault, trust, rekor_version, step) in [
        ("rekor-v1=wrong-set-key", "trust_config.json", "1", "SET"),
        (
            "rekor-v1=wrong-proof",
            "trust_config.json",
            "1",
            "inclusion proof",
        ),
        (
            "rekor-v2=wrong-proof",
            "trust_config_v2.json",
            "2",
            "inclusion proof",
        ),
    ] {
        s.tb.clear_faults();
        s.fault(fault);
        let r = s.sign(
            trust,
            &[
                f.as_os_str(),
                "--json".as_ref(),
                "--rekor-version".as_ref(),
                rekor_version.as_ref(),
            ],
        );
        r.assert_code(1);
        let file = &r.json()["files"][0];
        assert_eq!(
            (file["ok"].as_bool(), file["bundle"].as_str()),
            (Some(false), None),
            "{fault}: {file}"
        );
        let error = file["error"].as_str().unwrap();
        assert!(
            error.contains(&format!("the new bundle does not verify ({step}: ")),
            "{fault}: {error}"
        );
        assert!(s.outputs().is_empty(), "{fault}: {:?}", s.outputs());
    }
}
