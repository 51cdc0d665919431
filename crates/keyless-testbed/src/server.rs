//! The testbed's HTTP listener: every service on one 127.0.0.1 port, with
//! state (keys and log entries) kept in a state directory across restarts.

use super::ca::{FulcioCa, LEAF_VALIDITY_SECONDS, identity_from_claims};
use super::faults::{Endpoint, Fault, FaultRule, FaultTable};
use super::keys::{KeyKind, StoredKey, TestKey, pem_encode};
use super::material::Services;
use super::oidc::{JwsAlg, OidcIssuer, StoredOidc, TokenSpec};
use super::rekor::{
    AnswerFaults, Canonical, LogVersion, LoggedEntry, Rejection, StoredLog, TransparencyLog,
    canonicalize_v1, canonicalize_v2,
};
use super::tsa::{StoredTsa, TimestampAuthority};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use keyless::clock::{Clock, SystemClock};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How to run a testbed.
#[derive(Clone)]
pub struct TestbedOptions {
    /// Where keys, log entries and trust files live.
    pub state_dir: PathBuf,
    /// Address to listen on; port 0 picks a free one. Must be loopback.
    pub listen: SocketAddr,
    /// Issuers (besides the testbed's own URL) whose tokens Fulcio accepts
    /// when signed by the testbed's OIDC keys.
    pub trusted_issuers: Vec<String>,
    /// Faults active from the start.
    pub faults: Vec<FaultRule>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for TestbedOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestbedOptions")
            .field("state_dir", &self.state_dir)
            .field("listen", &self.listen)
            .field("trusted_issuers", &self.trusted_issuers)
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

/// Issuers Fulcio trusts by default besides the testbed itself: the testbed
/// impersonates them with its own keys, inside its own trust root only.
pub const DEFAULT_TRUSTED_ISSUERS: &[&str] = &[
    "https://gitlab.com",
    "https://token.actions.githubusercontent.com",
];

impl TestbedOptions {
    /// Defaults: an ephemeral loopback port, the default trusted issuers, no
    /// faults, the system clock.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            state_dir: state_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            trusted_issuers: DEFAULT_TRUSTED_ISSUERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            faults: Vec::new(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Key material, stored as `keys.json`.
#[derive(Serialize, Deserialize)]
struct StoredKeys {
    created: i64,
    oidc: StoredOidc,
    fulcio: super::ca::StoredFulcio,
    rekor_v1: StoredLog,
    rekor_v2: StoredLog,
    tsa: StoredTsa,
    tuf: super::tuf::StoredTufKeys,
    rogue: StoredKey,
}

struct Keys {
    created: i64,
    oidc: OidcIssuer,
    fulcio: FulcioCa,
    rekor_v1: TransparencyLog,
    rekor_v2: TransparencyLog,
    tsa: TimestampAuthority,
    tuf: super::tuf::TufKeys,
    /// A key no trust root knows, for forged-signature faults.
    rogue: TestKey,
}

struct State {
    /// Device authorization grants in progress: device code -> polls so far.
    devices: std::collections::HashMap<String, u32>,
    url: String,
    dir: PathBuf,
    keys: Keys,
    trusted_issuers: Vec<String>,
    faults: FaultTable,
    clock: Arc<dyn Clock>,
    tsa_serial: u128,
}

type Shared = Arc<Mutex<State>>;

/// The state, even after a handler panicked while holding it: a poisoned
/// lock must not turn one bad request into a dead testbed.
fn lock(st: &Shared) -> std::sync::MutexGuard<'_, State> {
    st.lock().unwrap_or_else(|e| e.into_inner())
}

use keyless::files::write_atomic;

fn io_err(path: &Path, e: impl std::fmt::Display) -> String {
    format!("{}: {e}", path.display())
}

impl Keys {
    fn load_or_create(dir: &Path, now: i64) -> Result<Self, String> {
        let path = dir.join("keys.json");
        let entries = |name: &str| -> Result<Vec<LoggedEntry>, String> {
            let p = dir.join(name);
            match std::fs::read(&p) {
                Ok(b) => serde_json::from_slice(&b).map_err(|e| io_err(&p, e)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(io_err(&p, e)),
            }
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let s: StoredKeys = serde_json::from_slice(&bytes).map_err(|e| io_err(&path, e))?;
                Ok(Self {
                    created: s.created,
                    oidc: OidcIssuer::from_stored(&s.oidc)?,
                    fulcio: FulcioCa::from_stored(&s.fulcio)?,
                    rekor_v1: TransparencyLog::from_stored(&s.rekor_v1, entries("rekor-v1.json")?)?,
                    rekor_v2: TransparencyLog::from_stored(&s.rekor_v2, entries("rekor-v2.json")?)?,
                    tsa: TimestampAuthority::from_stored(&s.tsa)?,
                    tuf: super::tuf::TufKeys::from_stored(&s.tuf)?,
                    rogue: TestKey::from_stored(&s.rogue)?,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Valid from a minute ago, so clock skew cannot make the
                // first certificate predate its CA.
                let created = now - 60;
                let keys = Self {
                    created,
                    oidc: OidcIssuer::generate(),
                    fulcio: FulcioCa::generate(created),
                    rekor_v1: TransparencyLog::generate(LogVersion::V1, "rekor.keyless-testbed"),
                    rekor_v2: TransparencyLog::generate(
                        LogVersion::V2,
                        "log2026.rekor.keyless-testbed",
                    ),
                    tsa: TimestampAuthority::generate(
                        jiff::Timestamp::from_second(created).map_err(|e| e.to_string())?,
                    ),
                    tuf: super::tuf::TufKeys::generate(),
                    rogue: TestKey::generate(KeyKind::EcdsaP256),
                };
                let stored = StoredKeys {
                    created,
                    oidc: keys.oidc.to_stored(),
                    fulcio: keys.fulcio.to_stored(),
                    rekor_v1: keys.rekor_v1.to_stored(),
                    rekor_v2: keys.rekor_v2.to_stored(),
                    tsa: keys.tsa.to_stored(),
                    tuf: keys.tuf.to_stored(),
                    rogue: keys.rogue.to_stored(),
                };
                let json = serde_json::to_vec_pretty(&stored).map_err(|e| e.to_string())?;
                write_atomic(&path, &json).map_err(|e| io_err(&path, e))?;
                Ok(keys)
            }
            Err(e) => Err(io_err(&path, e)),
        }
    }
}

impl State {
    fn now(&self) -> i64 {
        self.clock.now().as_second()
    }

    fn services(&self) -> Services<'_> {
        Services {
            url: &self.url,
            valid_from: jiff::Timestamp::from_second(self.keys.created)
                .map(|t| t.to_string())
                .unwrap_or_default(),
            ca: &self.keys.fulcio,
            rekor_v1: &self.keys.rekor_v1,
            rekor_v2: &self.keys.rekor_v2,
            tsa_chain: Some(self.keys.tsa.chain_der()),
        }
    }

    /// Write the trust files for the current URL.
    fn write_trust_files(&self) -> Result<(), String> {
        let s = self.services();
        let files: [(&str, Value); 6] = [
            ("trusted_root.json", s.trusted_root()),
            ("signing_config.json", s.signing_config(1)),
            ("signing_config_v2.json", s.signing_config(2)),
            ("trust_config.json", s.trust_config(1)),
            ("trust_config_v2.json", s.trust_config(2)),
            ("url", Value::String(self.url.clone())),
        ];
        for (name, doc) in files {
            let path = self.dir.join(name);
            let text = match doc {
                Value::String(s) => format!("{s}\n"),
                doc => serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?,
            };
            write_atomic(&path, text.as_bytes()).map_err(|e| io_err(&path, e))?;
        }
        // A testbed's root outlives many restarts, and a long-running one
        // keeps a fresh timestamp for a month.
        self.publish_tuf(&super::tuf::RepoOptions {
            root_lifetime: jiff::SignedDuration::from_hours(24 * 3650),
            timestamp_lifetime: jiff::SignedDuration::from_hours(24 * 30),
            ..Default::default()
        })
    }

    /// Publish the trusted root and signing config through the TUF
    /// repository in `<state>/tuf`, at the next metadata version.
    fn publish_tuf(&self, options: &super::tuf::RepoOptions) -> Result<(), String> {
        let dir = self.dir.join("tuf");
        let next = super::tuf::published_version(&dir)?.unwrap_or(0) + 1;
        let s = self.services();
        let root = serde_json::to_vec_pretty(&s.trusted_root()).map_err(|e| e.to_string())?;
        let config = serde_json::to_vec_pretty(&s.signing_config(1)).map_err(|e| e.to_string())?;
        super::tuf::write_repository(
            &dir,
            &self.keys.tuf,
            &[
                ("trusted_root.json", &root),
                ("signing_config.v0.2.json", &config),
            ],
            self.clock.now(),
            &options.clone().with_version(next),
        )
    }

    fn persist_log(&self, version: LogVersion) -> Result<(), String> {
        let (name, log) = match version {
            LogVersion::V1 => ("rekor-v1.json", &self.keys.rekor_v1),
            LogVersion::V2 => ("rekor-v2.json", &self.keys.rekor_v2),
        };
        let path = self.dir.join(name);
        let json = serde_json::to_vec(log.entries()).map_err(|e| e.to_string())?;
        write_atomic(&path, &json).map_err(|e| io_err(&path, e))
    }
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// A JSON answer before faults are applied.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    content_type: &'static str,
    headers: Vec<(header::HeaderName, String)>,
}

impl Answer {
    fn json(status: StatusCode, v: &Value) -> Self {
        Self {
            status,
            body: serde_json::to_vec(v).unwrap_or_default(),
            content_type: "application/json",
            headers: Vec::new(),
        }
    }

    fn error(status: u16, message: impl Into<String>) -> Self {
        Self::json(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            &json!({"code": status, "message": message.into()}),
        )
    }

    fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl From<Rejection> for Answer {
    fn from(r: Rejection) -> Self {
        Answer::error(r.status, r.message)
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut resp = (self.status, self.body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        for (name, value) in self.headers {
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(name, v);
            }
        }
        resp
    }
}

/// Run `handler` for `endpoint`, applying any transport faults around it
/// and passing content faults in.
async fn serve(
    state: &Shared,
    endpoint: Endpoint,
    handler: impl FnOnce(&mut State, &[Fault]) -> Answer,
) -> Answer {
    let faults = lock(state).faults.on_request(endpoint);
    for f in &faults {
        match f {
            Fault::Status(code) => {
                return Answer::error(*code, format!("injected fault: HTTP {code}"));
            }
            Fault::Delay(ms) => tokio::time::sleep(std::time::Duration::from_millis(*ms)).await,
            _ => {}
        }
    }
    let mut answer = handler(&mut lock(state), &faults);
    if faults.contains(&Fault::Truncate) {
        let half = answer.body.len() / 2;
        answer.body.truncate(half);
    }
    if faults.contains(&Fault::Malformed) {
        answer.body = b"<html>this is not JSON</html>".to_vec();
    }
    answer
}

fn parse_json(body: &[u8]) -> Result<Value, Answer> {
    serde_json::from_slice(body)
        .map_err(|e| Answer::error(400, format!("request body is not JSON: {e}")))
}

// ---------------------------------------------------------------------------
// OIDC
// ---------------------------------------------------------------------------

async fn oidc_discovery(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Oidc, |s, _| {
        Answer::json(StatusCode::OK, &s.keys.oidc.discovery(&s.url))
    })
    .await
}

async fn oidc_jwks(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Oidc, |s, _| {
        Answer::json(StatusCode::OK, &s.keys.oidc.jwks())
    })
    .await
}

/// The form fields of an `application/x-www-form-urlencoded` body.
fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    fn decode(s: &str) -> String {
        let bytes = s.replace('+', " ").into_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let Ok(b) =
                    u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// GitHub Actions' OIDC token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`):
/// any bearer token is accepted (the runner's request token), and the
/// answer is a GitHub-shaped token for the requested audience.
async fn github_actions_token(
    AxState(st): AxState<Shared>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Answer {
    serve(&st, Endpoint::Oidc, |s, _| {
        if bearer(&headers).is_none_or(|b| b.is_empty()) {
            return Answer::error(
                401,
                "missing the runner's request token (Authorization: Bearer)",
            );
        }
        let mut spec = TokenSpec::github("https://token.actions.githubusercontent.com");
        spec.audience = q
            .get("audience")
            .cloned()
            .unwrap_or_else(|| "sigstore".into());
        let token = s.keys.oidc.mint(&spec.claims(s.now()), JwsAlg::RS256);
        Answer::json(StatusCode::OK, &json!({"count": 1, "value": token}))
    })
    .await
}

/// The email a device login on the testbed signs in as.
pub const DEVICE_LOGIN_EMAIL: &str = "device-user@keyless-testbed.example";

async fn oidc_device_code(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::Oidc, |s, _| {
        let f = form(&body);
        if f.get("client_id").is_none_or(|c| c.is_empty()) {
            return Answer::json(StatusCode::BAD_REQUEST, &json!({"error": "invalid_client"}));
        }
        if s.devices.len() >= 1000 {
            return Answer::json(StatusCode::TOO_MANY_REQUESTS, &json!({"error": "slow_down"}));
        }
        let mut code = [0u8; 16];
        let _ = aws_lc_rs::rand::fill(&mut code);
        let device_code = super::rekor::hex_encode(&code);
        let user_code = format!("{}-{}", &device_code[..4], &device_code[4..8]).to_uppercase();
        s.devices.insert(device_code.clone(), 0);
        Answer::json(
            StatusCode::OK,
            &json!({
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": format!("{}/oauth/device", s.url),
                "verification_uri_complete": format!("{}/oauth/device?user_code={user_code}", s.url),
                "expires_in": 300,
                "interval": 1,
            }),
        )
    })
    .await
}

/// The token endpoint, for the device grant: the first poll is still
/// pending, the second is "approved" by the testbed's simulated user.
async fn oidc_token(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::Oidc, |s, _| {
        let f = form(&body);
        if f.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:device_code") {
            return Answer::json(StatusCode::BAD_REQUEST, &json!({"error": "unsupported_grant_type"}));
        }
        let Some(polls) = f.get("device_code").and_then(|c| s.devices.get_mut(c)) else {
            return Answer::json(StatusCode::BAD_REQUEST, &json!({"error": "invalid_grant"}));
        };
        *polls += 1;
        if *polls < 2 {
            return Answer::json(StatusCode::BAD_REQUEST, &json!({"error": "authorization_pending"}));
        }
        if let Some(c) = f.get("device_code") {
            s.devices.remove(c);
        }
        let mut spec = TokenSpec::gitlab(&s.url);
        spec.kind = super::oidc::TokenKind::Email;
        spec.email = DEVICE_LOGIN_EMAIL.into();
        let id_token = s.keys.oidc.mint(&spec.claims(s.now()), JwsAlg::ES256);
        Answer::json(
            StatusCode::OK,
            &json!({"access_token": "testbed-access-token", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}),
        )
    })
    .await
}

// ---------------------------------------------------------------------------
// Fulcio
// ---------------------------------------------------------------------------

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(str::to_string)
}

fn audience_has_sigstore(aud: Option<&Value>) -> bool {
    match aud {
        Some(Value::String(s)) => s == "sigstore",
        Some(Value::Array(a)) => a.iter().any(|v| v == "sigstore"),
        _ => false,
    }
}

fn signing_cert(s: &mut State, faults: &[Fault], headers: &HeaderMap, body: &[u8]) -> Answer {
    let req = match parse_json(body) {
        Ok(v) => v,
        Err(a) => return a,
    };
    let Some(token) = req["credentials"]["oidcIdentityToken"]
        .as_str()
        .map(str::to_string)
        .or_else(|| bearer(headers))
    else {
        return Answer::error(
            401,
            "no identity token (credentials.oidcIdentityToken or Authorization: Bearer)",
        );
    };
    let claims = match s.keys.oidc.verify_signature(&token) {
        Ok(c) => c,
        Err(e) => return Answer::error(401, e.to_string()),
    };
    let now = s.now();
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if iss != s.url && !s.trusted_issuers.iter().any(|t| t == iss) {
        return Answer::error(
            401,
            format!("tokens from issuer {iss:?} are not accepted by this CA"),
        );
    }
    if !audience_has_sigstore(claims.get("aud")) {
        return Answer::error(401, "token audience must include \"sigstore\"");
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => {}
        _ => return Answer::error(401, "token has expired"),
    }
    if claims
        .get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|nbf| nbf > now + 60)
    {
        return Answer::error(401, "token is not yet valid");
    }
    let Some(sub) = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Answer::error(401, "token has no sub claim");
    };
    // Email identities come only from the testbed's own (interactive) issuer,
    // CI identities from the CI issuers it was told to trust, as Fulcio ties
    // each issuer to one identity type.
    let email_identity = claims.contains_key("email")
        && !claims.contains_key("project_path")
        && !claims.contains_key("job_workflow_ref");
    if email_identity != (iss == s.url) {
        return Answer::error(
            401,
            format!(
                "issuer {iss:?} does not issue {} identities here",
                if email_identity { "email" } else { "CI" }
            ),
        );
    }
    // The proof of possession signs the issuer's challenge claim: the email
    // for email issuers, `sub` for CI providers (Fulcio's challengeClaim).
    let challenge = if email_identity {
        claims
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or_default()
    } else {
        sub
    };

    // The subject key, with proof that the caller holds its private half.
    let spki = if let Some(pk) = req.get("publicKeyRequest") {
        let Some(pem) = pk["publicKey"]["content"].as_str() else {
            return Answer::error(400, "publicKeyRequest.publicKey.content is required");
        };
        let key = match sigstore_types::DerPublicKey::from_pem(pem) {
            Ok(k) => k,
            Err(e) => return Answer::error(400, format!("public key: {e}")),
        };
        let Some(pop) = pk["proofOfPossession"]
            .as_str()
            .and_then(|p| B64.decode(p).ok())
        else {
            return Answer::error(400, "publicKeyRequest.proofOfPossession must be base64");
        };
        let Ok(alg) = sigstore_crypto::KeyAlgorithm::from_spki(&key) else {
            return Answer::error(400, "unsupported public key algorithm");
        };
        if sigstore_crypto::verify_signature(
            &key,
            challenge.as_bytes(),
            &sigstore_types::SignatureBytes::new(pop),
            alg.default_signing_scheme(),
        )
        .is_err()
        {
            return Answer::error(
                400,
                "proof of possession does not verify over the token subject",
            );
        }
        key.as_bytes().to_vec()
    } else if let Some(csr) = req["certificateSigningRequest"].as_str() {
        match csr_public_key(csr) {
            Ok(k) => k,
            Err(e) => return Answer::error(400, e),
        }
    } else {
        return Answer::error(
            400,
            "publicKeyRequest or certificateSigningRequest is required",
        );
    };
    let identity = match identity_from_claims(&claims) {
        Ok(i) => i,
        Err(e) => return Answer::error(400, e),
    };
    let (not_before, rogue_sct) = if faults.contains(&Fault::ExpiredCert) {
        (now - 2 * LEAF_VALIDITY_SECONDS, None)
    } else if faults.contains(&Fault::UntrustedSct) {
        (now, Some(&s.keys.rogue))
    } else {
        (now, None)
    };
    let leaf = match s.keys.fulcio.issue(
        &identity,
        &spki,
        not_before,
        LEAF_VALIDITY_SECONDS,
        rogue_sct,
    ) {
        Ok(l) => l,
        Err(e) => return Answer::error(400, e),
    };
    let mut chain = vec![pem_encode("CERTIFICATE", &leaf)];
    chain.extend(s.keys.fulcio.chain_pem());
    Answer::json(
        StatusCode::CREATED,
        &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}),
    )
}

/// The subject key of a base64 PEM CSR whose self-signature verifies.
fn csr_public_key(b64_pem: &str) -> Result<Vec<u8>, String> {
    use der::{Decode, Encode};
    let pem_text = B64
        .decode(b64_pem)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| b64_pem.to_string());
    let der_bytes = pem_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let der_bytes = B64
        .decode(der_bytes.trim())
        .map_err(|e| format!("CSR is not PEM: {e}"))?;
    let csr = x509_cert::request::CertReq::from_der(&der_bytes)
        .map_err(|e| format!("CSR does not parse: {e}"))?;
    let spki = csr
        .info
        .public_key
        .to_der()
        .map_err(|e| format!("CSR key: {e}"))?;
    let info = csr.info.to_der().map_err(|e| format!("CSR: {e}"))?;
    let key = sigstore_types::DerPublicKey::new(spki.clone());
    let alg =
        sigstore_crypto::KeyAlgorithm::from_spki(&key).map_err(|e| format!("CSR key: {e}"))?;
    let sig = csr
        .signature
        .as_bytes()
        .ok_or("CSR signature has unused bits")?;
    sigstore_crypto::verify_signature(
        &key,
        &info,
        &sigstore_types::SignatureBytes::new(sig.to_vec()),
        alg.default_signing_scheme(),
    )
    .map_err(|_| "CSR signature does not verify (no proof of possession)".to_string())?;
    Ok(spki)
}

async fn fulcio_signing_cert(
    AxState(st): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    serve(&st, Endpoint::Fulcio, |s, f| {
        signing_cert(s, f, &headers, &body)
    })
    .await
}

async fn fulcio_trust_bundle(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Fulcio, |s, _| {
        Answer::json(
            StatusCode::OK,
            &json!({"chains": [{"certificates": s.keys.fulcio.chain_pem()}]}),
        )
    })
    .await
}

async fn fulcio_configuration(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Fulcio, |s, _| {
        let mut issuers = vec![json!({"issuerUrl": s.url, "audience": "sigstore", "challengeClaim": "email", "issuerType": "email"})];
        for i in &s.trusted_issuers {
            issuers.push(json!({"issuerUrl": i, "audience": "sigstore", "challengeClaim": "sub", "issuerType": "ci-provider"}));
        }
        Answer::json(StatusCode::OK, &json!({"issuers": issuers}))
    })
    .await
}

// ---------------------------------------------------------------------------
// Rekor
// ---------------------------------------------------------------------------

fn answer_faults<'a>(s: &'a State, faults: &[Fault]) -> AnswerFaults<'a> {
    AnswerFaults {
        checkpoint_forger: faults
            .contains(&Fault::WrongCheckpointKey)
            .then_some(&s.keys.rogue),
        set_forger: faults
            .contains(&Fault::WrongSetKey)
            .then_some(&s.keys.rogue),
        wrong_proof: faults.contains(&Fault::WrongProof),
    }
}

fn log_mut(s: &mut State, v: LogVersion) -> &mut TransparencyLog {
    match v {
        LogVersion::V1 => &mut s.keys.rekor_v1,
        LogVersion::V2 => &mut s.keys.rekor_v2,
    }
}

fn add_entry(s: &mut State, faults: &[Fault], version: LogVersion, c: Canonical) -> Answer {
    let now = s.now();
    let entry = LoggedEntry {
        body: B64.encode(&c.body),
        integrated_time: now,
        kind: c.kind.to_string(),
        version: c.version.to_string(),
        artifact_sha256: c.artifact_sha256,
        verifier_spki: c.verifier_spki.map(|k| B64.encode(k)),
    };
    let (index, duplicate) = match log_mut(s, version).append(c.body, entry) {
        Ok(i) => (i, faults.contains(&Fault::Duplicate)),
        Err(existing) => (existing, true),
    };
    if let Err(e) = s.persist_log(version) {
        return Answer::error(500, e);
    }
    let af = answer_faults(s, faults);
    match version {
        LogVersion::V1 => {
            let log = &s.keys.rekor_v1;
            let uuid = log.uuid(index);
            let location = format!("{}/api/v1/log/entries/{uuid}", s.url);
            if duplicate {
                // Rekor v1: a JSON error naming the existing entry, which the
                // Location header points to.
                return Answer::error(
                    409,
                    format!("An equivalent entry already exists in the transparency log with UUID {uuid}"),
                )
                .with_header(header::LOCATION, location);
            }
            Answer::json(StatusCode::CREATED, &log.v1_entry_json(index, af))
                .with_header(header::ETAG, uuid)
                .with_header(header::LOCATION, location)
        }
        LogVersion::V2 => {
            if duplicate {
                // rekor-tiles: a gRPC AlreadyExists status.
                return Answer::json(
                    StatusCode::CONFLICT,
                    &json!({"code": 6, "message": "an equivalent entry already exists in the log", "details": []}),
                )
                .with_header(header::HeaderName::from_static("x-log-index"), index.to_string());
            }
            Answer::json(
                StatusCode::CREATED,
                &s.keys.rekor_v2.v2_entry_json(index, af),
            )
        }
    }
}

/// Validate, canonicalize and log a proposed entry on one of the logs.
async fn create_entry(
    st: &Shared,
    endpoint: Endpoint,
    version: LogVersion,
    canonicalize: fn(&Value) -> Result<Canonical, Rejection>,
    body: &[u8],
) -> Answer {
    serve(st, endpoint, |s, f| match parse_json(body) {
        Ok(request) => match canonicalize(&request) {
            Ok(c) => add_entry(s, f, version, c),
            Err(r) => r.into(),
        },
        Err(a) => a,
    })
    .await
}

async fn rekor_v1_create(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    create_entry(
        &st,
        Endpoint::RekorV1,
        LogVersion::V1,
        canonicalize_v1,
        &body,
    )
    .await
}

async fn rekor_v2_create(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    create_entry(
        &st,
        Endpoint::RekorV2,
        LogVersion::V2,
        canonicalize_v2,
        &body,
    )
    .await
}

fn v1_entry(s: &State, faults: &[Fault], index: usize) -> Answer {
    if index >= s.keys.rekor_v1.entries().len() {
        return Answer::error(404, format!("no entry at log index {index}"));
    }
    Answer::json(
        StatusCode::OK,
        &s.keys
            .rekor_v1
            .v1_entry_json(index, answer_faults(s, faults)),
    )
}

#[derive(Deserialize)]
struct IndexQuery {
    #[serde(rename = "logIndex")]
    log_index: Option<String>,
}

async fn rekor_v1_by_index(AxState(st): AxState<Shared>, Query(q): Query<IndexQuery>) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        match q.log_index.as_deref().map(str::parse::<usize>) {
            Some(Ok(i)) => v1_entry(s, f, i),
            _ => Answer::error(400, "logIndex must be a non-negative integer"),
        }
    })
    .await
}

async fn rekor_v1_by_uuid(AxState(st): AxState<Shared>, UrlPath(uuid): UrlPath<String>) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        match s.keys.rekor_v1.index_of(&uuid) {
            Some(i) => v1_entry(s, f, i),
            None => Answer::error(404, format!("no entry with UUID {uuid}")),
        }
    })
    .await
}

async fn rekor_v1_retrieve(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        let req = match parse_json(&body) {
            Ok(v) => v,
            Err(a) => return a,
        };
        if req["entryUUIDs"].as_array().is_none() && req["logIndexes"].as_array().is_none() {
            return Answer::error(400, "expected an object with entryUUIDs and/or logIndexes");
        }
        // Rekor caps a retrieve at 10 items.
        let asked = req["entryUUIDs"].as_array().map_or(0, Vec::len)
            + req["logIndexes"].as_array().map_or(0, Vec::len);
        if asked > 10 {
            return Answer::error(422, format!("at most 10 entries per request, not {asked}"));
        }
        let mut indexes = Vec::new();
        for u in req["entryUUIDs"].as_array().into_iter().flatten() {
            if let Some(i) = u.as_str().and_then(|u| s.keys.rekor_v1.index_of(u)) {
                indexes.push(i);
            }
        }
        for i in req["logIndexes"].as_array().into_iter().flatten() {
            if let Some(i) = i.as_u64().and_then(|i| usize::try_from(i).ok())
                && i < s.keys.rekor_v1.entries().len()
            {
                indexes.push(i);
            }
        }
        let af = answer_faults(s, f);
        let out: Vec<Value> = indexes
            .into_iter()
            .map(|i| s.keys.rekor_v1.v1_entry_json(i, af))
            .collect();
        Answer::json(StatusCode::OK, &Value::Array(out))
    })
    .await
}

async fn rekor_v1_index_retrieve(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, _| {
        let req = match parse_json(&body) {
            Ok(v) => v,
            Err(a) => return a,
        };
        let log = &s.keys.rekor_v1;
        let matches: Vec<Value> = if let Some(h) = req["hash"].as_str() {
            let h = h.strip_prefix("sha256:").unwrap_or(h).to_ascii_lowercase();
            (0..log.entries().len())
                .filter(|i| log.entries()[*i].artifact_sha256.as_deref() == Some(h.as_str()))
                .map(|i| Value::String(log.uuid(i)))
                .collect()
        } else if let Some(content) = req["publicKey"]["content"].as_str() {
            let Some(spki) = public_key_query(content) else {
                return Answer::error(
                    400,
                    "publicKey.content must be a base64 PEM or DER key or certificate",
                );
            };
            let spki = B64.encode(spki);
            (0..log.entries().len())
                .filter(|i| log.entries()[*i].verifier_spki.as_deref() == Some(spki.as_str()))
                .map(|i| Value::String(log.uuid(i)))
                .collect()
        } else {
            return Answer::error(400, "search by hash or publicKey");
        };
        Answer::json(StatusCode::OK, &Value::Array(matches))
    })
    .await
}

fn public_key_query(content: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(content).ok()?;
    if let Ok(text) = std::str::from_utf8(&bytes) {
        if let Ok(c) = sigstore_types::DerCertificate::from_pem(text) {
            return cert_spki(c.as_bytes());
        }
        if let Ok(k) = sigstore_types::DerPublicKey::from_pem(text) {
            return Some(k.as_bytes().to_vec());
        }
    }
    cert_spki(&bytes).or(Some(bytes))
}

fn cert_spki(der_bytes: &[u8]) -> Option<Vec<u8>> {
    use der::{Decode, Encode};
    x509_cert::Certificate::from_der(der_bytes)
        .ok()?
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .ok()
}

/// The tree size and root the log admits to, after rollback/fork faults.
fn advertised_tree(s: &State, faults: &[Fault]) -> (u64, String) {
    let log = &s.keys.rekor_v1;
    let mut size = log.size();
    if faults.contains(&Fault::RolledBack) {
        size = size.saturating_sub(1);
    }
    let mut root = log.root_at(size).map(|r| r.to_hex()).unwrap_or_default();
    if faults.contains(&Fault::ForkedRoot) {
        root = sigstore_crypto::sha256(format!("fork {size}").as_bytes()).to_hex();
    }
    (size, root)
}

async fn rekor_v1_log_info(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        let (size, root) = advertised_tree(s, f);
        let log = &s.keys.rekor_v1;
        let mut checkpoint = log.checkpoint(size, answer_faults(s, f).checkpoint_forger);
        if f.contains(&Fault::ForkedRoot) {
            // Sign the forked root properly: the log itself equivocates.
            checkpoint = forked_checkpoint(log, size, &root);
        }
        Answer::json(
            StatusCode::OK,
            &json!({
                "rootHash": root,
                "treeSize": size,
                "signedTreeHead": checkpoint,
                "treeID": "1193050959916656506",
                "inactiveShards": [],
            }),
        )
    })
    .await
}

fn forked_checkpoint(log: &TransparencyLog, size: u64, root_hex: &str) -> String {
    // Reuse the log's own signer through a throwaway log with no entries:
    // simplest is to sign the note with the same origin directly.
    let root = sigstore_types::Sha256Hash::from_hex(root_hex)
        .unwrap_or_else(|_| sigstore_crypto::sha256(b""));
    log.checkpoint_for_root(size, &root)
}

#[derive(Deserialize)]
struct ProofQuery {
    #[serde(rename = "firstSize")]
    first_size: Option<String>,
    #[serde(rename = "lastSize")]
    last_size: Option<String>,
}

async fn rekor_v1_proof(AxState(st): AxState<Shared>, Query(q): Query<ProofQuery>) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, f| {
        let log = &s.keys.rekor_v1;
        let first = q.first_size.as_deref().map(str::parse::<u64>);
        let last = q
            .last_size
            .as_deref()
            .map(str::parse::<u64>)
            .unwrap_or(Ok(log.size()));
        let (Some(Ok(first)), Ok(last)) = (first, last) else {
            return Answer::error(400, "firstSize and lastSize must be integers");
        };
        let Some(mut hashes) = log.consistency(first, last) else {
            return Answer::error(400, format!("no consistency proof from {first} to {last} (tree size {})", log.size()));
        };
        if f.contains(&Fault::WrongProof) {
            match hashes.first_mut() {
                Some(h) => *h = sigstore_crypto::sha256(b"forged"),
                None => hashes.push(sigstore_crypto::sha256(b"forged")),
            }
        }
        let root = log.root_at(last).map(|r| r.to_hex()).unwrap_or_default();
        Answer::json(
            StatusCode::OK,
            &json!({"rootHash": root, "hashes": hashes.iter().map(|h| h.to_hex()).collect::<Vec<_>>()}),
        )
    })
    .await
}

async fn rekor_v1_public_key(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::RekorV1, |s, _| Answer {
        status: StatusCode::OK,
        body: pem_encode("PUBLIC KEY", &s.keys.rekor_v1.public_key_spki()).into_bytes(),
        content_type: "application/x-pem-file",
        headers: Vec::new(),
    })
    .await
}

// ---------------------------------------------------------------------------
// TSA
// ---------------------------------------------------------------------------

async fn tsa_timestamp(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::Tsa, |s, _| {
        s.tsa_serial += 1;
        let now = s.clock.now();
        match s.keys.tsa.respond(&body, now, s.tsa_serial) {
            // timestamp-authority answers 201 Created.
            Ok(der_bytes) => Answer {
                status: StatusCode::CREATED,
                body: der_bytes,
                content_type: "application/timestamp-reply",
                headers: Vec::new(),
            },
            Err(e) => Answer::error(400, e.to_string()),
        }
    })
    .await
}

async fn tsa_cert_chain(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Tsa, |s, _| Answer {
        status: StatusCode::OK,
        body: s.keys.tsa.chain_pem().into_bytes(),
        content_type: "application/pem-certificate-chain",
        headers: Vec::new(),
    })
    .await
}

// ---------------------------------------------------------------------------
// Trust material and admin
// ---------------------------------------------------------------------------

async fn trust_file(AxState(st): AxState<Shared>, UrlPath(name): UrlPath<String>) -> Answer {
    let s = lock(&st);
    let svc = s.services();
    let doc = match name.as_str() {
        "trusted_root.json" => svc.trusted_root(),
        "signing_config.json" => svc.signing_config(1),
        "signing_config_v2.json" => svc.signing_config(2),
        "trust_config.json" => svc.trust_config(1),
        "trust_config_v2.json" => svc.trust_config(2),
        _ => return Answer::error(404, format!("no trust file {name:?}")),
    };
    Answer::json(StatusCode::OK, &doc)
}

async fn admin_faults_add(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    let rules: Vec<FaultRule> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(a)) if a.is_empty() => return Answer::error(400, "no fault rules given"),
        Ok(Value::Array(a)) => match a.into_iter().map(serde_json::from_value).collect() {
            Ok(r) => r,
            Err(e) => return Answer::error(400, format!("fault rule: {e}")),
        },
        Ok(v) => match serde_json::from_value(v) {
            Ok(r) => vec![r],
            Err(e) => return Answer::error(400, format!("fault rule: {e}")),
        },
        Err(e) => return Answer::error(400, format!("request body is not JSON: {e}")),
    };
    if let Some(e) = rules.iter().find_map(|r| r.validate().err()) {
        return Answer::error(400, e);
    }
    let mut s = lock(&st);
    for r in rules {
        s.faults.add(r);
    }
    Answer::json(StatusCode::OK, &json!({"faults": s.faults.rules()}))
}

async fn admin_faults_clear(AxState(st): AxState<Shared>) -> Answer {
    let mut s = lock(&st);
    s.faults.clear();
    Answer::json(StatusCode::OK, &json!({"faults": []}))
}

async fn admin_faults_list(AxState(st): AxState<Shared>) -> Answer {
    let s = lock(&st);
    Answer::json(StatusCode::OK, &json!({"faults": s.faults.rules()}))
}

async fn tuf_file(AxState(st): AxState<Shared>, UrlPath(path): UrlPath<String>) -> Answer {
    serve(&st, Endpoint::Tuf, |s, _| {
        // Only plain relative names inside the repository directory.
        if path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
            || path.contains('\\')
        {
            return Answer::error(400, "bad TUF path");
        }
        let file = s.dir.join("tuf").join(&path);
        match std::fs::read(&file) {
            Ok(bytes) => Answer {
                status: StatusCode::OK,
                body: bytes,
                content_type: "application/octet-stream",
                headers: Vec::new(),
            },
            Err(_) => Answer::error(404, format!("no TUF file {path}")),
        }
    })
    .await
}

async fn not_found() -> Answer {
    Answer::error(404, "no such endpoint on the keyless testbed")
}

fn router(state: Shared) -> axum::Router {
    axum::Router::new()
        .route("/.well-known/openid-configuration", get(oidc_discovery))
        .route("/oauth/discovery/keys", get(oidc_jwks))
        .route("/oauth/device/code", post(oidc_device_code))
        .route("/oauth/token", post(oidc_token))
        .route("/github/actions-token", get(github_actions_token))
        .route("/api/v2/signingCert", post(fulcio_signing_cert))
        .route("/api/v2/trustBundle", get(fulcio_trust_bundle))
        .route("/api/v2/configuration", get(fulcio_configuration))
        .route(
            "/api/v1/log/entries",
            post(rekor_v1_create).get(rekor_v1_by_index),
        )
        .route("/api/v1/log/entries/retrieve", post(rekor_v1_retrieve))
        .route("/api/v1/log/entries/{uuid}", get(rekor_v1_by_uuid))
        .route("/api/v1/index/retrieve", post(rekor_v1_index_retrieve))
        .route("/api/v1/log", get(rekor_v1_log_info))
        .route("/api/v1/log/proof", get(rekor_v1_proof))
        .route("/api/v1/log/publicKey", get(rekor_v1_public_key))
        .route("/api/v2/log/entries", post(rekor_v2_create))
        .route("/api/v1/timestamp", post(tsa_timestamp))
        .route("/api/v1/timestamp/certchain", get(tsa_cert_chain))
        .route("/trust/{name}", get(trust_file))
        .route("/tuf/{*path}", get(tuf_file))
        .route(
            "/admin/faults",
            post(admin_faults_add)
                .delete(admin_faults_clear)
                .get(admin_faults_list),
        )
        .fallback(not_found)
        .with_state(state)
}

// ---------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------

/// A running testbed. Dropping it stops the server.
pub struct Testbed {
    url: String,
    dir: PathBuf,
    state: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Held for the testbed's lifetime (an OS file lock on `<state>/lock`).
    _lock: std::fs::File,
}

impl std::fmt::Debug for Testbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Testbed")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Testbed {
    /// Load or create the state in `options.state_dir`, bind, write the
    /// trust files for the bound URL, and serve on a background thread.
    pub fn start(options: TestbedOptions) -> Result<Self, String> {
        if !options.listen.ip().is_loopback() {
            return Err(format!(
                "the testbed only listens on loopback, not {}",
                options.listen.ip()
            ));
        }
        std::fs::create_dir_all(&options.state_dir).map_err(|e| io_err(&options.state_dir, e))?;
        // One testbed per state directory: two would both rewrite the logs.
        let lock_path = options.state_dir.join("lock");
        let lock_file = std::fs::File::create(&lock_path).map_err(|e| io_err(&lock_path, e))?;
        // A lock released a moment ago can still be held by a child that
        // another thread of this process forked and has not yet exec'd (the
        // descriptor is copied until exec closes it): wait a bounded second.
        let mut tries = 0;
        while lock_file.try_lock().is_err() {
            tries += 1;
            if tries == 50 {
                return Err(format!(
                    "another keyless-testbed is using {}",
                    options.state_dir.display()
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let listener = std::net::TcpListener::bind(options.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let url = format!("http://{addr}");
        let keys = Keys::load_or_create(&options.state_dir, options.clock.now().as_second())?;
        let mut faults = FaultTable::default();
        for f in &options.faults {
            faults.add(*f);
        }
        let state = State {
            devices: std::collections::HashMap::new(),
            url: url.clone(),
            dir: options.state_dir.clone(),
            keys,
            trusted_issuers: options.trusted_issuers.clone(),
            faults,
            clock: options.clock.clone(),
            tsa_serial: u128::from(options.clock.now().as_second().unsigned_abs()) << 16,
        };
        state.write_trust_files()?;
        let state = Arc::new(Mutex::new(state));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let thread = std::thread::Builder::new()
            .name("keyless-testbed".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })
            .map_err(|e| e.to_string())?;
        ready_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .map_err(|_| "testbed did not start within 30 s".to_string())??;
        Ok(Self {
            url,
            dir: options.state_dir,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
            _lock: lock_file,
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.dir
    }

    /// `trust_config.json` (Rekor v1) for this instance.
    pub fn trust_config_path(&self) -> PathBuf {
        self.dir.join("trust_config.json")
    }

    /// `trust_config_v2.json` (Rekor v2 + TSA) for this instance.
    pub fn trust_config_v2_path(&self) -> PathBuf {
        self.dir.join("trust_config_v2.json")
    }

    /// `trusted_root.json` for this instance.
    pub fn trusted_root_path(&self) -> PathBuf {
        self.dir.join("trusted_root.json")
    }

    /// The TUF repository's base URL.
    pub fn tuf_url(&self) -> String {
        format!("{}/tuf", self.url)
    }

    /// The initial TUF root (`1.root.json`) to bootstrap clients with.
    pub fn tuf_root(&self) -> Result<Vec<u8>, String> {
        super::tuf::root_json(&self.dir.join("tuf"), 1)
    }

    /// Re-publish the TUF repository at the next version with `options`
    /// (e.g. an expired or tampered timestamp role, for negative tests).
    pub fn republish_tuf(&self, options: &super::tuf::RepoOptions) -> Result<(), String> {
        lock(&self.state).publish_tuf(options)
    }

    /// Mint a token with the testbed's OIDC keys.
    pub fn mint(&self, spec: &TokenSpec, alg: JwsAlg) -> String {
        let s = lock(&self.state);
        s.keys.oidc.mint(&spec.claims(s.now()), alg)
    }

    /// Activate a fault.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.state).faults.add(rule);
    }

    /// How many requests `endpoint` has answered since the start.
    pub fn requests(&self, endpoint: Endpoint) -> u32 {
        lock(&self.state).faults.requests(endpoint)
    }

    /// Clear all faults.
    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    /// Block until the server stops (for the `serve` command).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Mint a token from the keys in `state_dir` without a running server.
pub fn mint_offline(
    state_dir: &Path,
    spec: &TokenSpec,
    alg: JwsAlg,
    now: i64,
) -> Result<String, String> {
    let path = state_dir.join("keys.json");
    let bytes = std::fs::read(&path).map_err(|e| {
        format!(
            "{}: {e} (start `keyless-testbed serve --state-dir {}` once first)",
            path.display(),
            state_dir.display()
        )
    })?;
    #[derive(Deserialize)]
    struct OnlyOidc {
        oidc: StoredOidc,
    }
    let s: OnlyOidc = serde_json::from_slice(&bytes).map_err(|e| io_err(&path, e))?;
    Ok(OidcIssuer::from_stored(&s.oidc)?.mint(&spec.claims(now), alg))
}
