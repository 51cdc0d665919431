//! OIDC issuer endpoints: discovery, JWKS, the device authorization grant
//! (RFC 8628) with its token endpoint, and a stand-in for GitHub Actions'
//! token endpoint.

use super::http::{Answer, bearer, serve};
use super::state::Shared;
use crate::faults::Endpoint;
use crate::oidc::{JwsAlg, TokenKind, TokenSpec};
use axum::body::Bytes;
use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use serde_json::json;
use std::collections::HashMap;

/// The email a device login on the testbed signs in as.
pub const DEVICE_LOGIN_EMAIL: &str = "device-user@keyless-testbed.example";

pub(super) async fn discovery(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Oidc, |s, _| {
        Answer::json(StatusCode::OK, &s.keys.oidc.discovery(&s.url))
    })
    .await
}

pub(super) async fn jwks(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Oidc, |s, _| {
        Answer::json(StatusCode::OK, &s.keys.oidc.jwks())
    })
    .await
}

/// The form fields of an `application/x-www-form-urlencoded` body.
fn form(body: &[u8]) -> HashMap<String, String> {
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
pub(super) async fn github_actions_token(
    AxState(st): AxState<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
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

pub(super) async fn device_code(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
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
        let device_code = crate::util::hex_encode(&code);
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
pub(super) async fn token(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::Oidc, |s, _| {
        let f = form(&body);
        if f.get("grant_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:grant-type:device_code")
        {
            return Answer::json(
                StatusCode::BAD_REQUEST,
                &json!({"error": "unsupported_grant_type"}),
            );
        }
        let Some(polls) = f.get("device_code").and_then(|c| s.devices.get_mut(c)) else {
            return Answer::json(StatusCode::BAD_REQUEST, &json!({"error": "invalid_grant"}));
        };
        *polls += 1;
        if *polls < 2 {
            return Answer::json(
                StatusCode::BAD_REQUEST,
                &json!({"error": "authorization_pending"}),
            );
        }
        if let Some(c) = f.get("device_code") {
            s.devices.remove(c);
        }
        let mut spec = TokenSpec::gitlab(&s.url);
        spec.kind = TokenKind::Email;
        spec.email = DEVICE_LOGIN_EMAIL.into();
        let id_token = s.keys.oidc.mint(&spec.claims(s.now()), JwsAlg::ES256);
        Answer::json(
            StatusCode::OK,
            &json!({"access_token": "testbed-access-token", "token_type": "Bearer", "expires_in": 300, "id_token": id_token}),
        )
    })
    .await
}
