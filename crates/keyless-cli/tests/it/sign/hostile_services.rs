//! Services that misbehave on purpose: a Fulcio redirecting the token to
//! another origin, services dripping an endless answer (cut by
//! `--timeout`) or sending a huge one (cut at the endpoint's size cap).
//! Each ends with a clear message and the documented exit code, within
//! bounded time, and nothing is sent where the user did not point keyless.

use super::setup;
use crate::common::serve::{chunked, read_request, serve_raw};
use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// 200 with a chunked JSON-looking body that never ends.
fn endless_body() -> impl Fn(std::net::TcpStream) + Clone {
    chunked(200, None)
}

#[test]
fn a_fulcio_redirect_to_another_origin_is_not_followed() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    // The other origin: a listener that must never see a connection.
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let target = format!(
        "http://{}/api/v2/signingCert",
        elsewhere.local_addr().unwrap()
    );
    static TARGET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TARGET.set(target).unwrap();
    let fulcio = serve_raw(|mut stream: std::net::TcpStream| {
        read_request(&mut stream);
        let _ = stream.write_all(
            format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {}\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n",
                TARGET.get().unwrap()
            )
            .as_bytes(),
        );
    });
    let r = s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--timeout".as_ref(),
            "5".as_ref(),
            "--fulcio-url".as_ref(),
            fulcio.as_ref(),
        ],
    );
    r.assert_code(2);
    assert!(
        r.stderr.contains("307") && r.stderr.contains("redirect"),
        "the error names the redirect:\n{}",
        r.stderr
    );
    match elsewhere.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the redirect target was contacted: {other:?}"),
    }
    assert!(s.outputs().is_empty());
}

/// Which Rekor a signing run logs to.
#[derive(Clone, Copy)]
enum Rekor {
    V1,
    V2,
}

impl Rekor {
    /// `keyless sign <args>` with the testbed's trust config for this
    /// Rekor (and `--rekor-version 2`, which a `--rekor-url` needs to be
    /// taken as Rekor v2).
    fn sign(self, s: &super::Setup, args: &[&std::ffi::OsStr]) -> crate::common::Run {
        match self {
            Rekor::V1 => s.sign("trust_config.json", args),
            Rekor::V2 => {
                let mut args = args.to_vec();
                args.extend([
                    std::ffi::OsStr::new("--rekor-version"),
                    std::ffi::OsStr::new("2"),
                ]);
                s.sign("trust_config_v2.json", &args)
            }
        }
    }
}

/// `keyless sign --trust-config <trust> --timeout 5` against `flag
/// <endless service>`: exit `code` (2 when no certificate was had; 1 when
/// the file's upload failed) well within 30 s, the deadline named, no panic.
fn endless_answer_is_cut(rekor: Rekor, flag: &str, code: i32) {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let service = serve_raw(endless_body());
    let started = Instant::now();
    let r = rekor.sign(
        &s,
        &[
            f.as_os_str(),
            "--timeout".as_ref(),
            "5".as_ref(),
            flag.as_ref(),
            service.as_ref(),
        ],
    );
    let elapsed = started.elapsed();
    r.assert_code(code);
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    assert!(
        r.stderr.contains("no answer within 5 s") || r.stdout.contains("no answer within 5 s"),
        "the error names the time limit:\n{}{}",
        r.stdout,
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(s.outputs().is_empty());
}

#[test]
fn an_endless_fulcio_answer_is_cut_by_the_timeout() {
    endless_answer_is_cut(Rekor::V1, "--fulcio-url", 2);
}

#[test]
fn an_endless_rekor_answer_is_cut_by_the_timeout() {
    endless_answer_is_cut(Rekor::V1, "--rekor-url", 1);
}

#[test]
fn an_endless_tsa_answer_is_cut_by_the_timeout() {
    endless_answer_is_cut(Rekor::V1, "--timestamp-server-url", 2);
}

#[test]
fn an_endless_rekor_v2_answer_is_cut_by_the_timeout() {
    endless_answer_is_cut(Rekor::V2, "--rekor-url", 1);
}

/// 16 MiB: four times the largest answer cap.
const HUGE: usize = 16 << 20;

/// `keyless sign --trust-config <rekor's trust> --timeout 20` against `flag <a
/// service answering status with HUGE bytes as fast as they are read>`:
/// exit `code`, cut at the endpoint's cap (the message names it), so
/// neither retried nor read on until the deadline; nothing written.
fn huge_answer_is_cut_at_its_cap(rekor: Rekor, flag: &str, status: u16, code: i32, cap: &str) {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let service = serve_raw(chunked(status, Some(HUGE)));
    let r = rekor.sign(
        &s,
        &[
            f.as_os_str(),
            "--timeout".as_ref(),
            "20".as_ref(),
            flag.as_ref(),
            service.as_ref(),
        ],
    );
    r.assert_code(code);
    let said = format!("{}{}", r.stdout, r.stderr);
    assert!(
        said.contains(&format!("the answer is larger than the {cap}")),
        "{flag} answering {status}: the error names the cap {cap:?}:\n{said}"
    );
    assert!(!said.contains("still failing"), "not retried:\n{said}");
    assert!(s.outputs().is_empty());
}

#[test]
fn a_huge_fulcio_answer_is_cut_at_its_cap() {
    for status in [200, 500] {
        huge_answer_is_cut_at_its_cap(
            Rekor::V1,
            "--fulcio-url",
            status,
            2,
            "1 MiB cap for Fulcio signingCert",
        );
    }
}

#[test]
fn a_huge_tsa_answer_is_cut_at_its_cap() {
    for status in [200, 500] {
        huge_answer_is_cut_at_its_cap(
            Rekor::V1,
            "--timestamp-server-url",
            status,
            2,
            "1 MiB cap for TSA timestamp",
        );
    }
}

#[test]
fn a_huge_rekor_answer_is_cut_at_its_cap() {
    for status in [201, 500] {
        huge_answer_is_cut_at_its_cap(
            Rekor::V1,
            "--rekor-url",
            status,
            1,
            "4 MiB cap for Rekor v1",
        );
        huge_answer_is_cut_at_its_cap(
            Rekor::V2,
            "--rekor-url",
            status,
            1,
            "1 MiB cap for Rekor v2 entry upload",
        );
    }
}

/// A device login whose provider streams an endless discovery document:
/// the answer is cut at its size cap, long before any timeout, exit 2.
#[test]
fn an_endless_oidc_discovery_answer_is_cut_at_its_cap() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let issuer = serve_raw(endless_body());
    let started = Instant::now();
    let r = crate::common::run(
        crate::common::keyless_without_token()
            .args(["sign", "--oauth-device", "--trust-config"])
            .arg(s.tb.trust_config_path())
            .args(["--oidc-issuer", &issuer])
            .arg(&f)
            .timeout(Duration::from_secs(90)),
    );
    let elapsed = started.elapsed();
    r.assert_code(2);
    assert!(
        elapsed < Duration::from_secs(20),
        "cut at the cap, not by a timeout: {elapsed:?}\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("the answer is larger than"),
        "names the cap:\n{}",
        r.stderr
    );
    assert!(s.outputs().is_empty());
}

/// A TSA that replays the first timestamp it obtained (from the testbed's
/// TSA) for every later request: keyless's TSA client checks that an answer
/// carries its own request's message imprint and nonce, so the file's
/// timestamp is refused (the certificate check's passed), exit 1, nothing
/// written.
#[test]
fn a_replayed_timestamp_is_refused() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let real = format!("{}/api/v1/timestamp", s.tb.url());
    let first: std::sync::Arc<tokio::sync::Mutex<Option<Vec<u8>>>> = Default::default();
    let tsa = crate::common::serve::serve(axum::Router::new().fallback(
        move |body: axum::body::Bytes| {
            let (real, first) = (real.clone(), first.clone());
            async move {
                let mut first = first.lock().await;
                if first.is_none() {
                    let answer = sigstore_rekor::reqwest::Client::new()
                        .post(&real)
                        .header("Content-Type", "application/timestamp-query")
                        .body(body.to_vec())
                        .send()
                        .await
                        .unwrap();
                    *first = Some(answer.bytes().await.unwrap().to_vec());
                }
                first.clone().unwrap()
            }
        },
    ));
    let r = s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--timeout".as_ref(),
            "10".as_ref(),
            "--timestamp-server-url".as_ref(),
            tsa.url.as_ref(),
        ],
    );
    r.assert_code(1);
    assert!(
        r.stdout
            .contains("the timestamp is for another message imprint"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    assert!(s.outputs().is_empty());
}

/// A TSA that forwards each request to the testbed's TSA and changes only
/// the nonce in its answer (its imprint stays right): the answer is refused
/// as another request's, before the certificate check trusts it; exit 2,
/// nothing logged or written.
#[test]
fn a_timestamp_with_another_nonce_is_refused() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let real = format!("{}/api/v1/timestamp", s.tb.url());
    let tsa = crate::common::serve::serve(axum::Router::new().fallback(
        move |body: axum::body::Bytes| {
            let real = real.clone();
            async move {
                // TimeStampReq ::= SEQUENCE { version INTEGER (3 bytes),
                // messageImprint SEQUENCE, nonce INTEGER, certReq }: short
                // lengths throughout for a SHA-256 request.
                let imprint_end = 7 + usize::from(body[6]);
                assert_eq!(body[imprint_end], 0x02, "keyless sends a nonce");
                let nonce =
                    &body[imprint_end..imprint_end + 2 + usize::from(body[imprint_end + 1])];
                let mut answer = sigstore_rekor::reqwest::Client::new()
                    .post(&real)
                    .header("Content-Type", "application/timestamp-query")
                    .body(body.to_vec())
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap()
                    .to_vec();
                let at = answer
                    .windows(nonce.len())
                    .position(|w| w == nonce)
                    .expect("the TSTInfo carries the request's nonce");
                answer[at + nonce.len() - 1] ^= 1;
                answer
            }
        },
    ));
    let r = s.sign(
        "trust_config.json",
        &[
            f.as_os_str(),
            "--timeout".as_ref(),
            "10".as_ref(),
            "--timestamp-server-url".as_ref(),
            tsa.url.as_ref(),
        ],
    );
    r.assert_code(2);
    assert!(
        r.stderr.contains("the timestamp carries another nonce"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    assert!(s.outputs().is_empty());
}
