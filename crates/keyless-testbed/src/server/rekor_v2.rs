//! Rekor v2 (rekor-tiles) endpoint: `POST /api/v2/log/entries`. The read
//! API (checkpoint and tiles) is not served.

use super::http::{Answer, log_proposed, serve};
use super::state::{Shared, State};
use crate::faults::{Endpoint, Fault};
use crate::rekor::{LogVersion, canonicalize_v2};
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{StatusCode, header};
use serde_json::json;

pub(super) async fn create(AxState(st): AxState<Shared>, body: Bytes) -> Answer {
    serve(&st, Endpoint::RekorV2, |s, f| {
        match log_proposed(s, f, LogVersion::V2, canonicalize_v2, &body) {
            Ok((index, duplicate)) => created(s, f, index, duplicate),
            Err(a) => a,
        }
    })
    .await
}

/// The answer to a create that logged (or found) the entry at `index`.
fn created(s: &State, faults: &[Fault], index: usize, duplicate: bool) -> Answer {
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
        &s.keys
            .rekor_v2
            .v2_entry_json(index, s.answer_faults(faults)),
    )
}
