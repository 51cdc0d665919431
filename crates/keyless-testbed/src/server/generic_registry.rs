//! A stand-in for GitLab's generic package registry, so that a pipeline's
//! publish and consumer jobs can run against the testbed:
//! `PUT|GET /api/v4/projects/<project>/packages/generic/<name>/<version>/<file>`
//! (https://docs.gitlab.com/user/packages/generic_packages/).
//!
//! - `<project>` is a numeric ID or a URL-encoded path (`group%2Fproject`);
//!   the stand-in keeps no table between the two, so a release published
//!   under one is found under the same one only.
//! - `<name>`, `<version>` and `<file>` are checked against GitLab's own
//!   patterns (`Gitlab::Regex.generic_package_name_regex`,
//!   `generic_package_version_regex`, `generic_package_file_name_regex`),
//!   so a pipeline that passes here does not fail on GitLab for a name it
//!   refuses.
//! - Both methods need a credential, as for a private project: a
//!   `JOB-TOKEN`, `PRIVATE-TOKEN` or `DEPLOY-TOKEN` header, or HTTP basic
//!   auth (`gitlab-ci-token:$CI_JOB_TOKEN`). Any non-empty value: this
//!   stands in for the API, not for its access control.
//! - With [`TestbedOptions::redirect_package_downloads`](super::TestbedOptions)
//!   a GET answers `302` to a second loopback origin, as GitLab redirects
//!   downloads to object storage. That origin refuses (and counts) any
//!   request carrying a credential: a client that follows the redirect must
//!   not send the job token to another host.
//!
//! Files live under `<state>/generic-packages/<project>/<name>/<version>/`,
//! written atomically, file I/O off the async workers.

use super::http::Answer;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The path segments of one package file, as routed (percent-decoded).
type FilePath = (String, String, String, String);

/// The registry's state: where files live, where downloads are redirected.
pub(super) struct Registry {
    dir: PathBuf,
    /// The object storage origin's base URL, when downloads redirect there.
    storage_url: Option<String>,
    served: AtomicU32,
    refused: AtomicU32,
}

/// What the object storage stand-in answered since the testbed started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ObjectStorageRequests {
    /// Downloads served.
    pub served: u32,
    /// Requests refused because they carried a credential (a token that
    /// followed a redirect to another host).
    pub with_credentials: u32,
}

impl Registry {
    pub(super) fn new(state_dir: &std::path::Path, storage_url: Option<String>) -> Arc<Self> {
        Arc::new(Self {
            dir: state_dir.join("generic-packages"),
            storage_url,
            served: AtomicU32::new(0),
            refused: AtomicU32::new(0),
        })
    }

    pub(super) fn storage_requests(&self) -> ObjectStorageRequests {
        ObjectStorageRequests {
            served: self.served.load(Ordering::SeqCst),
            with_credentials: self.refused.load(Ordering::SeqCst),
        }
    }

    /// Where `(project, name, version, file)` is stored, if each segment is
    /// one GitLab accepts (which also rules out traversal).
    fn stored(&self, (project, name, version, file): &FilePath) -> Option<PathBuf> {
        let project_ok = project.split('/').all(project_segment);
        (project_ok && package_name(name) && package_version(version) && package_name(file)).then(
            || {
                let mut path = self.dir.clone();
                path.extend(project.split('/'));
                path.join(name).join(version).join(file)
            },
        )
    }
}

/// A project ID, or one segment of a project's path.
fn project_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `generic_package_name_regex` (= `generic_package_file_name_regex`):
/// `\A[A-Za-z0-9\.\_\-\+]+\z`; `.` and `..` are refused by GitLab's path
/// traversal check.
fn package_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}

/// `generic_package_version_regex` (= `maven_version_regex`):
/// `\A(?!.*\.\.)[\w+.-]+\z`.
fn package_version(s: &str) -> bool {
    !s.is_empty()
        && !s.contains("..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '.' | '-'))
}

/// Whether the request carries a GitLab credential: a token header, or
/// basic auth with a non-empty password.
fn has_credential(headers: &HeaderMap) -> bool {
    let token_header = ["job-token", "private-token", "deploy-token"]
        .iter()
        .any(|h| headers.get(*h).is_some_and(|v| !v.is_empty()));
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| B64.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|pair| pair.split_once(':').is_some_and(|(_, pw)| !pw.is_empty()));
    token_header || basic
}

/// Any header that would authenticate anywhere.
fn carries_any_credential(headers: &HeaderMap) -> bool {
    [
        "authorization",
        "job-token",
        "private-token",
        "deploy-token",
        "cookie",
    ]
    .iter()
    .any(|h| headers.contains_key(*h))
}

/// The registry's routes (own state, merged into the testbed's router).
pub(super) fn routes<S: Clone + Send + Sync + 'static>(registry: Arc<Registry>) -> axum::Router<S> {
    axum::Router::new()
        .route(
            "/api/v4/projects/{project}/packages/generic/{name}/{version}/{file}",
            axum::routing::get(get)
                .put(put)
                .layer(axum::extract::DefaultBodyLimit::max(64 << 20)),
        )
        .with_state(registry)
}

/// The object storage origin's routes.
pub(super) fn storage_routes(registry: Arc<Registry>) -> axum::Router {
    axum::Router::new()
        .route(
            "/objects/{project}/{name}/{version}/{file}",
            axum::routing::get(storage_get),
        )
        .with_state(registry)
}

/// Upload (or replace) a package file.
async fn put(
    AxState(reg): AxState<Arc<Registry>>,
    UrlPath(path): UrlPath<FilePath>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    if !has_credential(&headers) {
        return unauthorized();
    }
    let Some(file) = reg.stored(&path) else {
        return bad_path();
    };
    let written = tokio::task::spawn_blocking(move || {
        file.parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| keyless::files::write_atomic(&file, &body))
    })
    .await;
    match written {
        Ok(Ok(())) => Answer::json(
            StatusCode::CREATED,
            &serde_json::json!({"message": "201 Created"}),
        ),
        Ok(Err(e)) => Answer::error(500, format!("cannot store the file: {e}")),
        Err(e) => Answer::error(500, format!("cannot store the file: {e}")),
    }
}

/// Download a package file, or redirect to object storage for it.
async fn get(
    AxState(reg): AxState<Arc<Registry>>,
    UrlPath(path): UrlPath<FilePath>,
    headers: HeaderMap,
) -> Answer {
    if !has_credential(&headers) {
        return unauthorized();
    }
    let Some(file) = reg.stored(&path) else {
        return bad_path();
    };
    let exists = {
        let file = file.clone();
        tokio::task::spawn_blocking(move || file.is_file())
            .await
            .unwrap_or(false)
    };
    match &reg.storage_url {
        Some(storage) if exists => {
            let (project, name, version, file) = &path;
            let location = format!(
                "{storage}/objects/{}/{name}/{version}/{file}",
                project.replace('/', "%2F")
            );
            // The body names the target too, as servers' redirects do.
            Answer::bytes(
                StatusCode::FOUND,
                "text/plain",
                location.clone().into_bytes(),
            )
            .with_header(header::LOCATION, location)
        }
        _ => read(file).await,
    }
}

/// Object storage: a download by a URL the registry handed out. It must
/// arrive without any credential (a pre-signed URL is the credential).
async fn storage_get(
    AxState(reg): AxState<Arc<Registry>>,
    UrlPath(path): UrlPath<FilePath>,
    headers: HeaderMap,
) -> Answer {
    if carries_any_credential(&headers) {
        reg.refused.fetch_add(1, Ordering::SeqCst);
        return Answer::error(
            400,
            "object storage: a credential was sent to another host (only the pre-signed URL may authorize a download)",
        );
    }
    let Some(file) = reg.stored(&path) else {
        return bad_path();
    };
    let answer = read(file).await;
    reg.served.fetch_add(1, Ordering::SeqCst);
    answer
}

async fn read(file: PathBuf) -> Answer {
    match tokio::task::spawn_blocking(move || std::fs::read(file)).await {
        Ok(Ok(bytes)) => Answer::bytes(StatusCode::OK, "application/octet-stream", bytes),
        _ => Answer::error(404, "404 Not Found"),
    }
}

fn unauthorized() -> Answer {
    Answer::error(
        401,
        "401 Unauthorized: send JOB-TOKEN, PRIVATE-TOKEN or DEPLOY-TOKEN, or basic auth",
    )
}

fn bad_path() -> Answer {
    Answer::error(
        400,
        "project, package_name, package_version or file_name is invalid",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_versions_and_projects_follow_gitlabs_patterns() {
        for ok in [
            "hello-py",
            "hello_py-1.0.tar.gz.sigstore.json",
            "a+b",
            "A.1",
        ] {
            assert!(package_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a~b", "a b", "a\\b", "ä"] {
            assert!(!package_name(bad), "{bad:?}");
        }
        for ok in ["1.0", "1.0.0-rc1", "1.2g", "1+build_2", "d50d836e"] {
            assert!(package_version(ok), "{ok}");
        }
        for bad in ["", "1..0", "..", "1/0", "1~rc", "v 1"] {
            assert!(!package_version(bad), "{bad:?}");
        }
        let reg = Registry::new(std::path::Path::new("/state"), None);
        let file =
            |p: &str| reg.stored(&(p.into(), "hello-py".into(), "1.0".into(), "f.whl".into()));
        assert_eq!(
            file("group/sub/project"),
            Some(PathBuf::from(
                "/state/generic-packages/group/sub/project/hello-py/1.0/f.whl"
            ))
        );
        assert!(file("42").is_some());
        for bad in ["", "../x", "a//b", "a/./b", "/abs"] {
            assert!(file(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn credentials() {
        let with = |name: &'static str, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, value.parse().unwrap());
            h
        };
        assert!(has_credential(&with("job-token", "t")));
        let basic = format!("Basic {}", B64.encode("gitlab-ci-token:t"));
        assert!(has_credential(&with("authorization", &basic)));
        let empty = format!("Basic {}", B64.encode("gitlab-ci-token:"));
        assert!(!has_credential(&with("authorization", &empty)));
        assert!(!has_credential(&HeaderMap::new()));
        assert!(carries_any_credential(&with("authorization", &empty)));
        assert!(!carries_any_credential(&HeaderMap::new()));
    }
}
