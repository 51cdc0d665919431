//! A stand-in for PyPI, so that a release pipeline can publish with `twine
//! upload --attestations` and a consumer verify what pip would install,
//! from the index, offline:
//!
//! - `GET /simple/` and `GET /simple/<project>/`: the simple repository API,
//!   PEP 691 JSON (`Accept: application/vnd.pypi.simple.v1+json`, or
//!   `?format=` with that type) or PEP 503 HTML otherwise. Each file has
//!   `url`, `hashes.sha256`, `size` and `provenance` (PEP 740: the Integrity
//!   API URL, or null; HTML: `data-provenance`). A name that is not
//!   normalized (PEP 503) is redirected to the normalized one, as PyPI does.
//! - `GET /packages/<project>/<file>`: the files (PyPI serves them from
//!   another host; here the same origin).
//! - `GET /integrity/<project>/<version>/<file>/provenance`: the Integrity
//!   API (`application/vnd.pypi.integrity.v1+json`), 404 when the file has
//!   no provenance or is not a file of that project and version.
//! - `POST /legacy/`: the upload API `twine upload --attestations` talks to
//!   (see `upload`), storing the attestations as the file's provenance with
//!   the publisher derived from their certificate (see `publisher`).
//! - `GET /_/oidc/audience` and `POST /_/oidc/mint-token`: Trusted
//!   Publishing's token exchange (`{"token": OIDC}` -> `{"success": true,
//!   "token": API token}`), the only way PyPI accepts attestations. The
//!   stand-in checks that the OIDC token is a JWT for audience `pypi`, not
//!   its signature or a publisher configuration.
//!
//! Fault rules for endpoint `pypi` apply to every route (status, delay,
//! truncate, malformed). Files can be preloaded (recorded real provenance
//! served as is): [`Testbed::pypi_add`](super::Testbed::pypi_add) and
//! [`Testbed::pypi_preload`](super::Testbed::pypi_preload), or `serve
//! --pypi-preload DIR`.

pub(super) mod publisher;
mod store;
mod upload;

pub use publisher::provenance as provenance_from_attestations;

use super::http::{Answer, serve_with};
use super::state::Shared;
use crate::faults::Endpoint;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, RawQuery, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use store::{Store, normalize, parse_filename};

/// The Integrity API's media type.
const INTEGRITY_JSON: &str = "application/vnd.pypi.integrity.v1+json";
/// PEP 691's JSON media type.
const SIMPLE_JSON: &str = "application/vnd.pypi.simple.v1+json";

/// The stand-in's state: the files on disk, and the base URL its answers
/// name.
pub(super) struct Pypi {
    store: Store,
    url: String,
}

impl Pypi {
    pub(super) fn new(state_dir: &Path, url: &str) -> Arc<Self> {
        Arc::new(Self {
            store: Store::new(state_dir),
            url: url.to_string(),
        })
    }

    /// Store a file and its provenance (served as given: recorded or
    /// hostile answers alike).
    pub(super) fn add(
        &self,
        filename: &str,
        bytes: &[u8],
        provenance: Option<&[u8]>,
    ) -> Result<(), String> {
        self.store.put(filename, bytes, provenance)
    }

    /// Every distribution in `dir`, with `<file>.provenance` (served as is)
    /// or else `<file>.publish.attestation` (wrapped as PyPI would, the
    /// publisher from its certificate) beside it. How many were added.
    pub(super) fn preload(&self, dir: &Path) -> Result<usize, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut added = 0;
        for e in entries {
            let e = e.map_err(|e| format!("{}: {e}", dir.display()))?;
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if parse_filename(&name).is_none() || !e.path().is_file() {
                continue;
            }
            let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
            let bytes = read(&e.path())?;
            let prov_path = dir.join(format!("{name}.provenance"));
            let att_path = dir.join(format!("{name}.publish.attestation"));
            let provenance = if prov_path.is_file() {
                Some(read(&prov_path)?)
            } else if att_path.is_file() {
                let att: Value = serde_json::from_slice(&read(&att_path)?)
                    .map_err(|e| format!("{}: {e}", att_path.display()))?;
                let p = publisher::provenance(&[att])
                    .map_err(|e| format!("{}: {e}", att_path.display()))?;
                Some(p.to_string().into_bytes())
            } else {
                None
            };
            self.add(&name, &bytes, provenance.as_deref())?;
            added += 1;
        }
        Ok(added)
    }
}

#[derive(Clone)]
struct Ctx {
    pypi: Arc<Pypi>,
    shared: Shared,
}

/// The stand-in's routes (own state, merged into the testbed's router).
pub(super) fn routes<S: Clone + Send + Sync + 'static>(
    pypi: Arc<Pypi>,
    shared: Shared,
) -> axum::Router<S> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/simple/", get(index))
        .route("/simple/{project}", get(project_no_slash))
        .route("/simple/{project}/", get(project))
        .route("/packages/{project}/{file}", get(file))
        .route(
            "/integrity/{project}/{version}/{file}/provenance",
            get(integrity),
        )
        .route("/_/oidc/audience", get(oidc_audience))
        .route("/_/oidc/mint-token", post(mint_token))
        .route(
            "/legacy/",
            post(legacy_upload).layer(axum::extract::DefaultBodyLimit::max(64 << 20)),
        )
        .with_state(Ctx { pypi, shared })
}

/// `answer`, computed off the async workers, with the `pypi` faults applied.
async fn faulted(ctx: &Ctx, work: impl FnOnce(&Pypi) -> Answer + Send + 'static) -> Answer {
    let pypi = ctx.pypi.clone();
    let answer = tokio::task::spawn_blocking(move || work(&pypi))
        .await
        .unwrap_or_else(|e| Answer::error(500, e.to_string()));
    serve_with(&ctx.shared, Endpoint::Pypi, || Ok(answer), |_, _, a| a).await
}

/// Whether the client asked for PEP 691 JSON.
fn wants_json(headers: &HeaderMap, query: Option<&str>) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let by_query = query.is_some_and(|q| {
        q.split('&').any(|kv| {
            kv == format!("format={}", SIMPLE_JSON.replace('+', "%2B"))
                || kv == format!("format={SIMPLE_JSON}")
        })
    });
    by_query
        || accept.split(',').any(|m| {
            let mut it = m.split(';');
            let ty = it.next().unwrap_or("").trim();
            let q_zero = it.any(|p| matches!(p.trim(), "q=0" | "q=0.0"));
            ty == SIMPLE_JSON && !q_zero
        })
}

fn simple_json(v: &Value) -> Answer {
    Answer::bytes(StatusCode::OK, SIMPLE_JSON, v.to_string().into_bytes())
}

fn html(body: String) -> Answer {
    Answer::bytes(
        StatusCode::OK,
        "text/html; charset=utf-8",
        body.into_bytes(),
    )
}

/// Minimal HTML escaping for attribute values and text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn index(AxState(ctx): AxState<Ctx>, headers: HeaderMap, RawQuery(q): RawQuery) -> Answer {
    let json = wants_json(&headers, q.as_deref());
    faulted(&ctx, move |p| {
        let projects = p.store.projects();
        if json {
            return simple_json(&json!({
                "meta": {"api-version": "1.3"},
                "projects": projects.iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
            }));
        }
        let links: String = projects
            .iter()
            .map(|n| format!("<a href=\"/simple/{0}/\">{0}</a>\n", esc(n)))
            .collect();
        html(format!(
            "<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n"
        ))
    })
    .await
}

async fn project_no_slash(UrlPath(project): UrlPath<String>) -> Answer {
    redirect(&format!("/simple/{}/", normalize(&project)))
}

fn redirect(location: &str) -> Answer {
    Answer::bytes(
        StatusCode::MOVED_PERMANENTLY,
        "text/plain",
        location.as_bytes().to_vec(),
    )
    .with_header(header::LOCATION, location.to_string())
}

async fn project(
    AxState(ctx): AxState<Ctx>,
    UrlPath(project): UrlPath<String>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Answer {
    let normalized = normalize(&project);
    if normalized != project {
        return redirect(&format!("/simple/{normalized}/"));
    }
    let json = wants_json(&headers, q.as_deref());
    faulted(&ctx, move |p| {
        let files = p.store.list(&project);
        if files.is_empty() {
            return Answer::error(404, "404 Not Found");
        }
        let url = |f: &store::Listed| format!("{}/packages/{project}/{}", p.url, f.filename);
        let provenance = |f: &store::Listed| {
            f.has_provenance.then(|| {
                format!("{}/integrity/{project}/{}/{}/provenance", p.url, f.version, f.filename)
            })
        };
        if json {
            let mut versions: Vec<&str> = files.iter().map(|f| f.version.as_str()).collect();
            versions.dedup();
            return simple_json(&json!({
                "meta": {"api-version": "1.3"},
                "name": project,
                "versions": versions,
                "files": files.iter().map(|f| json!({
                    "filename": f.filename,
                    "url": url(f),
                    "hashes": {"sha256": f.sha256},
                    "size": f.size,
                    "yanked": false,
                    "provenance": provenance(f),
                })).collect::<Vec<_>>(),
            }));
        }
        let links: String = files
            .iter()
            .map(|f| {
                let prov = provenance(f)
                    .map(|u| format!(" data-provenance=\"{}\"", esc(&u)))
                    .unwrap_or_default();
                format!(
                    "<a href=\"{}#sha256={}\"{prov}>{}</a>\n",
                    esc(&url(f)),
                    f.sha256,
                    esc(&f.filename)
                )
            })
            .collect();
        html(format!(
            "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.3\"></head><body>\n<h1>Links for {}</h1>\n{links}</body></html>\n",
            esc(&project)
        ))
    })
    .await
}

async fn file(
    AxState(ctx): AxState<Ctx>,
    UrlPath((project, file)): UrlPath<(String, String)>,
) -> Answer {
    faulted(&ctx, move |p| {
        let bytes = parse_filename(&file)
            .filter(|(proj, _)| *proj == project)
            .and_then(|_| p.store.path(&file))
            .and_then(|path| std::fs::read(path).ok());
        match bytes {
            Some(b) => Answer::bytes(StatusCode::OK, "application/octet-stream", b),
            None => Answer::error(404, "404 Not Found"),
        }
    })
    .await
}

async fn integrity(
    AxState(ctx): AxState<Ctx>,
    UrlPath((project, version, file)): UrlPath<(String, String, String)>,
) -> Answer {
    faulted(&ctx, move |p| {
        // The file must be one of this project at this version: an answer
        // for another release's file under this URL would be provenance
        // for what the client did not ask about.
        let body = parse_filename(&file)
            .filter(|(proj, v)| *proj == normalize(&project) && *v == version)
            .filter(|_| p.store.exists(&file))
            .and_then(|_| p.store.provenance_path(&file))
            .and_then(|path| std::fs::read(path).ok());
        match body {
            Some(b) => Answer::bytes(StatusCode::OK, INTEGRITY_JSON, b),
            None => Answer::error(404, "404 Not Found: no provenance for this file"),
        }
    })
    .await
}

async fn legacy_upload(AxState(ctx): AxState<Ctx>, headers: HeaderMap, body: Bytes) -> Answer {
    if !upload::has_token(&headers) {
        return Answer::error(
            403,
            "Invalid or non-existent authentication information. Upload with user __token__ and an API token as the password.",
        );
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    faulted(&ctx, move |p| {
        let parts = match upload::parse_multipart(&content_type, &body) {
            Ok(parts) => parts,
            Err(e) => return Answer::error(400, e),
        };
        let (status, message) = upload::upload(p, parts);
        Answer::bytes(status, "text/plain", message.into_bytes())
    })
    .await
}

/// The audience PyPI wants in a Trusted Publishing OIDC token.
const AUDIENCE: &str = "pypi";

async fn oidc_audience() -> Answer {
    Answer::json(StatusCode::OK, &json!({"audience": AUDIENCE}))
}

/// Exchange a CI OIDC token for a short-lived API token, as PyPI's Trusted
/// Publishing does; 422 with PyPI's error shape when the token is not a JWT
/// for audience `pypi`. The OIDC token is never echoed.
async fn mint_token(body: Bytes) -> Answer {
    let aud_ok = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["token"].as_str().map(str::to_string))
        .and_then(|jwt| jwt.split('.').nth(1).map(str::to_string))
        .and_then(|payload| {
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).ok()
        })
        .and_then(|raw| serde_json::from_slice::<Value>(&raw).ok())
        .is_some_and(|claims| {
            claims["aud"] == AUDIENCE
                || claims["aud"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == AUDIENCE))
        });
    if !aud_ok {
        return Answer::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"message": "Token request failed", "errors": [
                {"code": "invalid-payload", "description": "the token is not a JWT for audience 'pypi'"}
            ]}),
        );
    }
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    Answer::json(
        StatusCode::OK,
        &json!({"success": true, "token": format!("pypi-testbed-{n:x}"), "expires": 900}),
    )
}
