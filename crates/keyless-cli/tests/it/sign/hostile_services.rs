//! Services that misbehave on purpose: a Fulcio redirecting the token to
//! another origin, and services streaming an endless answer. Each ends
//! with exit 2 and a clear message, within bounded time, and nothing is
//! sent where the user did not point keyless.

use super::setup;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Serve every connection on a fresh 127.0.0.1 port with `answer`, one
/// thread per connection, for at most a minute. Returns the base URL.
fn raw_service(answer: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            match listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(false).unwrap();
                    std::thread::spawn(move || answer(stream));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    url
}

/// Read the request head (and whatever of the body came with it).
fn read_request(stream: &mut TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 65536];
    let _ = stream.read(&mut buf);
}

/// 200 with a chunked JSON-looking body that never ends: 1 KiB every
/// 10 ms until the client hangs up (or a minute passes).
fn endless_body(mut stream: TcpStream) {
    read_request(&mut stream);
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = format!("400\r\n[{}]\r\n", " ".repeat(1022));
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if stream.write_all(chunk.as_bytes()).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
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
    let fulcio = raw_service(|mut stream| {
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

/// `keyless sign --timeout 5` against `flag <endless service>`: exit
/// `code` (2 when no certificate was had; 1 when the file's upload failed)
/// well within 30 s, the deadline named, no panic.
fn endless_answer_is_cut(flag: &str, code: i32) {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let service = raw_service(endless_body);
    let started = Instant::now();
    let r = s.sign(
        "trust_config.json",
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
    endless_answer_is_cut("--fulcio-url", 2);
}

#[test]
fn an_endless_rekor_answer_is_cut_by_the_timeout() {
    endless_answer_is_cut("--rekor-url", 1);
}

/// A device login whose provider streams an endless discovery document:
/// the answer is cut at its size cap, long before any timeout, exit 2.
#[test]
fn an_endless_oidc_discovery_answer_is_cut_at_its_cap() {
    let s = setup();
    let f = s.add("pkg-1.0.tar.gz");
    let issuer = raw_service(endless_body);
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
