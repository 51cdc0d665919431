//! A stand-in for GitLab's generic package registry, so that a pipeline's
//! publish and consumer jobs can run against the testbed:
//! `PUT|GET /api/v4/projects/<project>/packages/generic/<name>/<version>/<file>`
//! (https://docs.gitlab.com/user/packages/generic_packages/). A PUT must
//! carry a `JOB-TOKEN` or `PRIVATE-TOKEN` header, as GitLab requires (any
//! non-empty value: this registry stands in for the API, not for its
//! access control). Files live under `<state>/generic-packages/`.

use super::http::Answer;
use super::state::{Shared, lock};
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use std::path::PathBuf;

/// The path segments of one package file.
type FilePath = (String, String, String, String);

/// Where `(project, name, version, file)` is stored, if every segment is a
/// plain name (no traversal out of the registry's folder).
fn stored(st: &Shared, (project, name, version, file): &FilePath) -> Option<PathBuf> {
    let plain = |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0']);
    [project, name, version, file]
        .iter()
        .all(|s| plain(s))
        .then(|| {
            lock(st)
                .dir
                .join("generic-packages")
                .join(project)
                .join(name)
                .join(version)
                .join(file)
        })
}

/// Upload (or replace) a package file.
pub(super) async fn put(
    AxState(st): AxState<Shared>,
    UrlPath(path): UrlPath<FilePath>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let authenticated = ["job-token", "private-token"]
        .iter()
        .any(|h| headers.get(*h).is_some_and(|v| !v.is_empty()));
    if !authenticated {
        return Answer::error(401, "401 Unauthorized: send JOB-TOKEN or PRIVATE-TOKEN");
    }
    let Some(file) = stored(&st, &path) else {
        return Answer::error(400, "bad package path");
    };
    let written = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&file, &body));
    match written {
        Ok(()) => Answer::json(
            StatusCode::CREATED,
            &serde_json::json!({"message": "201 Created"}),
        ),
        Err(e) => Answer::error(500, format!("cannot store the file: {e}")),
    }
}

/// Download a package file.
pub(super) async fn get(AxState(st): AxState<Shared>, UrlPath(path): UrlPath<FilePath>) -> Answer {
    let Some(file) = stored(&st, &path) else {
        return Answer::error(400, "bad package path");
    };
    match std::fs::read(&file) {
        Ok(bytes) => Answer::bytes(StatusCode::OK, "application/octet-stream", bytes),
        Err(_) => Answer::error(404, "404 Not Found"),
    }
}
