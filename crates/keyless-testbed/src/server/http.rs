//! Request plumbing every service shares: the JSON answer type, fault
//! application around a handler, and request parsing helpers.

use super::state::{Shared, State, lock};
use crate::faults::{Endpoint, Fault};
use crate::rekor::{Canonical, LogVersion, Rejection};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A JSON answer before faults are applied.
pub(super) struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    content_type: &'static str,
    headers: Vec<(header::HeaderName, String)>,
}

impl Answer {
    /// `body` as is, with `content_type`.
    pub(super) fn bytes(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status,
            body,
            content_type,
            headers: Vec::new(),
        }
    }

    pub(super) fn json(status: StatusCode, v: &Value) -> Self {
        Self::bytes(
            status,
            "application/json",
            serde_json::to_vec(v).unwrap_or_default(),
        )
    }

    /// The JSON error body every service answers with: `{code, message}`.
    pub(super) fn error(status: u16, message: impl Into<String>) -> Self {
        Self::json(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            &json!({"code": status, "message": message.into()}),
        )
    }

    pub(super) fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
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
pub(super) async fn serve(
    state: &Shared,
    endpoint: Endpoint,
    handler: impl FnOnce(&mut State, &[Fault]) -> Answer,
) -> Answer {
    serve_with(state, endpoint, || Ok(()), |s, f, ()| handler(s, f)).await
}

/// [`serve`], with the work that needs no state (`prepare`: parsing and
/// checking the request) done before the state is locked, so concurrent
/// requests wait on each other only for what they share. An `Err` from
/// `prepare` is the answer.
pub(super) async fn serve_with<P>(
    state: &Shared,
    endpoint: Endpoint,
    prepare: impl FnOnce() -> Result<P, Answer>,
    handler: impl FnOnce(&mut State, &[Fault], P) -> Answer,
) -> Answer {
    let faults = {
        let mut s = lock(state);
        let f = s.in_flight.entry(endpoint).or_default();
        f.now += 1;
        f.most = f.most.max(f.now);
        s.faults.on_request(endpoint)
    };
    let _served = Served { state, endpoint };
    for f in &faults {
        match f {
            Fault::Status(code) => {
                return Answer::error(*code, format!("injected fault: HTTP {code}"));
            }
            Fault::Delay(ms) => tokio::time::sleep(std::time::Duration::from_millis(*ms)).await,
            _ => {}
        }
    }
    let mut answer = match prepare() {
        Ok(prepared) => handler(&mut lock(state), &faults, prepared),
        Err(answer) => answer,
    };
    if faults.contains(&Fault::Truncate) {
        let half = answer.body.len() / 2;
        answer.body.truncate(half);
    }
    if faults.contains(&Fault::Malformed) {
        answer.body = b"<html>this is not JSON</html>".to_vec();
    }
    answer
}

/// A request of `endpoint` being served; no longer once dropped.
struct Served<'a> {
    state: &'a Shared,
    endpoint: Endpoint,
}

impl Drop for Served<'_> {
    fn drop(&mut self) {
        if let Some(f) = lock(self.state).in_flight.get_mut(&self.endpoint) {
            f.now -= 1;
        }
    }
}

/// The answer for any path no service serves.
pub(super) async fn not_found() -> Answer {
    Answer::error(404, "no such endpoint on the keyless testbed")
}

pub(super) fn parse_json(body: &[u8]) -> Result<Value, Answer> {
    serde_json::from_slice(body)
        .map_err(|e| Answer::error(400, format!("request body is not JSON: {e}")))
}

/// Validate and canonicalize the JSON `body` as a proposed entry (the
/// `prepare` step of a create request), or the answer for a bad request.
pub(super) fn canonical_proposed(
    canonicalize: fn(&Value) -> Result<Canonical, Rejection>,
    body: &[u8],
) -> Result<Canonical, Answer> {
    let request = parse_json(body)?;
    Ok(canonicalize(&request)?)
}

/// The entry to log for a create request: its canonical form, or with a
/// log-as-sent fault the request body exactly as sent (of kind `unknown`).
pub(super) fn as_sent_or(
    faults: &[Fault],
    body: &[u8],
    canonical: Result<Canonical, Answer>,
) -> Result<Canonical, Answer> {
    if !faults.contains(&Fault::LogAsSent) {
        return canonical;
    }
    Ok(Canonical {
        body: body.to_vec(),
        kind: "unknown",
        version: "0",
        artifact_sha256: None,
        verifier_spki: None,
    })
}

/// `answer` to a create request on the `version` log once the log is on
/// disk with the entry it names, or a 500 if the log cannot be written.
pub(super) async fn log_stored(st: &Shared, version: LogVersion, answer: Answer) -> Answer {
    match super::state::stored(st, version).await {
        Ok(()) => answer,
        Err(e) => Answer::error(500, e),
    }
}

/// The token of an `Authorization: Bearer` header.
pub(super) fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(str::to_string)
}
