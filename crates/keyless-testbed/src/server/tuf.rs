//! Trust material endpoints: the TUF repository under `/tuf/` and the plain
//! trust files (trusted root, signing and trust configs) under `/trust/`.

use super::http::{Answer, serve};
use super::state::{Shared, lock};
use crate::faults::Endpoint;
use axum::extract::{Path as UrlPath, State as AxState};
use axum::http::StatusCode;

/// A trust file for the current URL. No faults apply here.
pub(super) async fn trust_file(
    AxState(st): AxState<Shared>,
    UrlPath(name): UrlPath<String>,
) -> Answer {
    let s = lock(&st);
    match s.services().trust_file(&name) {
        Some(doc) => Answer::json(StatusCode::OK, &doc),
        None => Answer::error(404, format!("no trust file {name:?}")),
    }
}

pub(super) async fn tuf_file(
    AxState(st): AxState<Shared>,
    UrlPath(path): UrlPath<String>,
) -> Answer {
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
            Ok(bytes) => Answer::bytes(StatusCode::OK, "application/octet-stream", bytes),
            Err(_) => Answer::error(404, format!("no TUF file {path}")),
        }
    })
    .await
}
