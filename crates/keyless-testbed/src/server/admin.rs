//! Admin endpoints: add, list and clear fault rules at `/admin/faults`;
//! append many entries to a log at once at `/admin/fill` (benchmarks).
//! They answer outside fault injection, so faults cannot lock them out.

use super::http::{Answer, parse_json};
use super::state::{Shared, lock};
use crate::faults::FaultRule;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Add one rule or several (a non-empty array of rules). A rule is written
/// as on the command line, either as a JSON string
/// (`"rekor-v1=status:503,after=3"`) or as `{"rule": "..."}`, or as the
/// structured form `GET /admin/faults` lists
/// (`{"endpoint": "rekor-v1", "fault": {"kind": "status", "arg": 503}}`).
pub(super) async fn add_faults(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    let request = match parse_json(&body) {
        Ok(v) => v,
        Err(a) => return a,
    };
    let rules: Result<Vec<FaultRule>, String> = match request {
        Value::Array(a) if a.is_empty() => return Answer::error(400, "no fault rules given"),
        Value::Array(a) => a.into_iter().map(rule).collect(),
        v => rule(v).map(|r| vec![r]),
    };
    let rules = match rules {
        Ok(r) => r,
        Err(e) => return Answer::error(400, format!("fault rule: {e}")),
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

/// One rule in any of the accepted forms.
fn rule(v: Value) -> Result<FaultRule, String> {
    const TEXT: &str = "ENDPOINT=FAULT[:ARG][,after=N][,times=N]";
    match v {
        Value::String(text) => text.parse(),
        // `{"rule": "..."}`, and nothing else beside it: a stray key would
        // be a setting silently ignored.
        Value::Object(o) if o.contains_key("rule") => match (o.len(), &o["rule"]) {
            (1, Value::String(text)) => text.parse(),
            (1, _) => Err(format!("\"rule\" must be a string {TEXT}")),
            _ => Err("an object with \"rule\" takes no other keys".into()),
        },
        v @ Value::Object(_) => serde_json::from_value(v).map_err(|e| {
            format!("{e} (or give the rule as a string {TEXT}, or as {{\"rule\": \"...\"}})")
        }),
        _ => Err(format!(
            "expected a string {TEXT}, {{\"rule\": \"...\"}} or a structured rule object"
        )),
    }
}

pub(super) async fn clear_faults(AxState(st): AxState<Shared>) -> Answer {
    let mut s = lock(&st);
    s.faults.clear();
    Answer::json(StatusCode::OK, &json!({"faults": []}))
}

pub(super) async fn list_faults(AxState(st): AxState<Shared>) -> Answer {
    let s = lock(&st);
    Answer::json(StatusCode::OK, &json!({"faults": s.faults.rules()}))
}

/// `POST /admin/fill` with a [`super::FillRequest`] (`{"log": "v1",
/// "count": 100000, "watched_every": 10000}`): the entries are appended
/// and stored before the answer, a [`super::FillReport`].
pub(super) async fn fill(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    let request: super::FillRequest = match parse_json(&body).and_then(|v| {
        serde_json::from_value(v).map_err(|e| Answer::error(400, format!("fill request: {e}")))
    }) {
        Ok(r) => r,
        Err(a) => return a,
    };
    match super::fill::fill_and_store(&st, &request).await {
        Ok(report) => Answer::json(
            StatusCode::OK,
            &serde_json::to_value(&report).unwrap_or_default(),
        ),
        Err(e) => Answer::error(400, e),
    }
}
