//! Admin endpoints: add, list and clear fault rules at `/admin/faults`.
//! They answer outside fault injection, so faults cannot lock them out.

use super::http::{Answer, parse_json};
use super::state::{Shared, lock};
use crate::faults::FaultRule;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Add one rule (a JSON object) or several (a non-empty array).
pub(super) async fn add_faults(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    let request = match parse_json(&body) {
        Ok(v) => v,
        Err(a) => return a,
    };
    let rules: Vec<FaultRule> = match request {
        Value::Array(a) if a.is_empty() => return Answer::error(400, "no fault rules given"),
        Value::Array(a) => match a.into_iter().map(serde_json::from_value).collect() {
            Ok(r) => r,
            Err(e) => return Answer::error(400, format!("fault rule: {e}")),
        },
        v => match serde_json::from_value(v) {
            Ok(r) => vec![r],
            Err(e) => return Answer::error(400, format!("fault rule: {e}")),
        },
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

pub(super) async fn clear_faults(AxState(st): AxState<Shared>) -> Answer {
    let mut s = lock(&st);
    s.faults.clear();
    Answer::json(StatusCode::OK, &json!({"faults": []}))
}

pub(super) async fn list_faults(AxState(st): AxState<Shared>) -> Answer {
    let s = lock(&st);
    Answer::json(StatusCode::OK, &json!({"faults": s.faults.rules()}))
}
