//! Shared helpers: a testbed in a temporary folder, raw HTTP to it, the
//! sigstore-rust signer as its client, and the repository's real vectors.

use base64::Engine;
use keyless_testbed::{JwsAlg, Testbed, TestbedOptions, TokenSpec};
use std::path::{Path, PathBuf};

/// A testbed whose state lives in its own temporary folder (kept while
/// the testbed runs).
pub struct Bed {
    pub tb: Testbed,
    _dir: tempfile::TempDir,
}

/// Start a testbed with the default options in a fresh folder.
pub fn start() -> Bed {
    start_with(Vec::new())
}

/// As [`start`], with fault rules in effect from the first request.
pub fn start_with(faults: Vec<keyless_testbed::faults::FaultRule>) -> Bed {
    let dir = tempfile::tempdir().unwrap();
    let mut options = TestbedOptions::new(dir.path());
    options.faults = faults;
    let tb = Testbed::start(options).unwrap();
    Bed { tb, _dir: dir }
}

/// A GitLab CI token for https://gitlab.com, as `tb`'s issuer signs it.
pub fn gitlab_token(tb: &Testbed, alg: JwsAlg) -> String {
    tb.mint(&TokenSpec::gitlab("https://gitlab.com"), alg)
}

/// The standard base64 alphabet, with padding.
pub fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Decode standard base64.
pub fn unb64(text: &str) -> Vec<u8> {
    b64().decode(text).unwrap()
}

/// A JSON file, parsed.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// `testdata/vectors/<sub>`: real public-good Sigstore material kept in the
/// repository. A test that needs it and cannot find it fails.
pub fn vectors(sub: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/vectors")
        .join(sub);
    assert!(
        dir.is_dir(),
        "the test vectors are missing: {}",
        dir.display()
    );
    dir
}

/// Sign `data` with the sigstore-rust signer (a conformance-tested peer)
/// through `tb`'s `signing_config.json`; the bundle JSON, or the signer's
/// error.
pub fn try_sign_with_sigstore_rust(
    tb: &Testbed,
    token: &str,
    data: &[u8],
) -> Result<String, String> {
    let path = tb.state_dir().join("signing_config.json");
    let cfg = sigstore_trust_root::SigningConfig::from_file(&path).unwrap();
    let services = sigstore_sign::SigningServices::from_signing_config(&cfg).unwrap();
    let ctx = sigstore_sign::SigningContext::new(services);
    let signer = ctx.signer(sigstore_oidc::IdentityToken::from_jwt(token).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(signer.sign(data))
        .map(|b| b.to_json().unwrap())
        .map_err(|e| e.to_string())
}

/// As [`try_sign_with_sigstore_rust`], failing the test when signing fails;
/// the bundle, parsed.
pub fn sign_with_sigstore_rust(tb: &Testbed, token: &str, data: &[u8]) -> serde_json::Value {
    let json = try_sign_with_sigstore_rust(tb, token, data)
        .unwrap_or_else(|e| panic!("signing against {} failed: {e}", tb.url()));
    serde_json::from_str(&json).unwrap()
}

/// A raw HTTP/1.1 exchange (Connection: close): (status, body).
pub fn http(
    url: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let (status, _, body) = http_with_head(url, method, path, content_type, body);
    (status, body)
}

/// As [`http`]: (status, the response head as text, body).
pub fn http_with_head(
    url: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8_lossy(&resp);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(resp.len(), |p| p + 4);
    let head = String::from_utf8_lossy(&resp[..split]).into_owned();
    (status, head, resp[split..].to_vec())
}

/// `GET path` on the testbed: (status, body).
pub fn get(tb: &Testbed, path: &str) -> (u16, Vec<u8>) {
    http(tb.url(), "GET", path, "text/plain", b"")
}

/// `POST path` with a JSON body (sent as is): (status, body).
pub fn post(tb: &Testbed, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    http(tb.url(), "POST", path, "application/json", body)
}

/// `POST path` with `body` serialized: (status, body).
pub fn post_json(tb: &Testbed, path: &str, body: &serde_json::Value) -> (u16, Vec<u8>) {
    post(tb, path, body.to_string().as_bytes())
}
