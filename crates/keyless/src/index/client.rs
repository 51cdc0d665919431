//! The package index client: project pages and provenance, fetched
//! concurrently on keyless's one HTTP client (no redirects, capped
//! answers), the whole run within one deadline.

use super::integrity::{INTEGRITY_JSON, Provenance};
use super::publisher::Expected;
use super::simple::{IndexFile, ProjectPage, SIMPLE_JSON, is_release_file};
use super::{FileOutcome, FileReport, Selection, Wanted};
use crate::error::{Error, Result};
use crate::failure::{Failure, Step};
use crate::net::answer::{self, Cap};
use futures_util::StreamExt;
use sigstore_rekor::reqwest::Url;
use sigstore_types::Sha256Hash;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// PyPI's simple index, the default `--index-url`.
pub const PYPI_SIMPLE: &str = "https://pypi.org/simple/";

/// A PEP 691 index that serves PEP 740 provenance.
#[derive(Debug)]
pub struct IndexClient {
    base: Url,
    http: crate::net::HttpClient,
    timeout: Duration,
}

/// A file of a release, with its provenance as the index served it.
#[derive(Debug)]
pub struct Fetched {
    /// The project (normalized).
    pub project: String,
    /// The release.
    pub version: String,
    /// The file's name on the index.
    pub filename: String,
    /// Its SHA-256 as the index lists it (and any pin names).
    pub sha256: Sha256Hash,
    /// Who must have published it.
    pub expected: Expected,
    /// The provenance; `None` when the index has none for the file (a 404,
    /// or `"provenance": null`); a [`Failure`] when it points elsewhere.
    pub provenance: Result<Option<Provenance>>,
}

/// What resolving one request gave: a file to verify, or a report already
/// (a pin naming no file, a project the index does not have).
#[derive(Debug)]
pub enum Resolved {
    /// A file and its provenance.
    File(Fetched),
    /// A verdict or error reached without verifying anything.
    Report(FileReport),
}

impl IndexClient {
    /// A client for the simple index at `index_url` (checked as every
    /// service URL: https, or http to this machine unless
    /// `allow_insecure_http`); `timeout` bounds a whole [`Self::resolve`].
    pub fn new(index_url: &str, allow_insecure_http: bool, timeout: Duration) -> Result<Self> {
        // An index URL may carry credentials (pip's own often do): say so
        // without repeating them.
        if let Ok(u) = Url::parse(index_url)
            && (!u.username().is_empty() || u.password().is_some())
        {
            return Err(Error::Usage(
                "--index-url: credentials do not belong in the index URL (keyless sends none, and reads public provenance)".into(),
            ));
        }
        let checked = crate::net::check_url("--index-url", index_url, allow_insecure_http)?;
        let base = Url::parse(&format!("{checked}/"))
            .map_err(|e| Error::Usage(format!("--index-url {index_url:?}: {e}")))?;
        Ok(Self {
            base,
            http: crate::net::http_client(timeout)?,
            timeout,
        })
    }

    /// The index, as messages name it.
    pub fn service(&self) -> String {
        format!("package index {}", self.base)
    }

    fn index_error(&self, reason: String, status: Option<u16>) -> Error {
        Error::Index {
            service: self.service(),
            status,
            reason,
        }
    }

    /// GET `url` accepting `accept`, through `cap`, retried within the
    /// run's deadline: the body, or `None` for a 404.
    async fn get(&self, url: Url, accept: &'static str, cap: Cap) -> Result<Option<Vec<u8>>> {
        let what = format!("GET {url}");
        let result =
            crate::net::retry_observed(&what, self.timeout, &crate::net::ignore_retries, || {
                answer::exchange(self.http.get(url.clone()).header("Accept", accept), cap)
            })
            .await;
        match result {
            Ok(body) => Ok(Some(body)),
            Err((_, Some(404))) => Ok(None),
            Err((reason, status)) => Err(self.index_error(reason, status)),
        }
    }

    /// A project's PEP 691 page.
    async fn project(&self, project: &str) -> Result<ProjectPage> {
        let url = self
            .base
            .join(&format!("{project}/"))
            .map_err(|e| Error::Usage(format!("project {project:?}: {e}")))?;
        let body = self
            .get(url.clone(), SIMPLE_JSON, answer::INDEX_PROJECT)
            .await?
            .ok_or_else(|| {
                self.index_error(
                    format!("no project {project} (HTTP 404 for {url})"),
                    Some(404),
                )
            })?;
        let page: ProjectPage = serde_json::from_slice(&body).map_err(|e| {
            self.index_error(format!("{url}: not a PEP 691 JSON project page: {e}"), None)
        })?;
        if !page.meta.api_version.starts_with("1.") {
            return Err(self.index_error(
                format!(
                    "{url}: API version {:?} (keyless reads 1.x)",
                    page.meta.api_version
                ),
                None,
            ));
        }
        Ok(page)
    }

    /// Where a file's provenance is: the URL its page gives (resolved
    /// against the page, and only on the index's own origin: an index
    /// that sends keyless elsewhere for provenance is refused), or, when
    /// the page does not say, the Integrity API on the index's origin.
    /// `None` when the page says it has none.
    fn provenance_url(
        &self,
        project: &str,
        version: &str,
        file: &IndexFile,
    ) -> Result<Option<Url>> {
        match &file.provenance {
            Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(link)) => {
                let page = self.base.join(&format!("{project}/")).ok();
                let url = page.and_then(|p| p.join(link).ok()).ok_or_else(|| {
                    Failure::new(
                        Step::Provenance,
                        format!("the index's provenance URL {link:?} is not a URL"),
                    )
                })?;
                if url.origin() != self.base.origin() {
                    return Err(Failure::new(
                        Step::Provenance,
                        format!(
                            "the index sends keyless to {} for provenance, another origin than the index's {}",
                            url.origin().ascii_serialization(),
                            self.base.origin().ascii_serialization()
                        ),
                    )
                    .into());
                }
                Ok(Some(url))
            }
            Some(other) => Err(self.index_error(
                format!(
                    "file {}: provenance is {other}, not a URL or null",
                    file.filename
                ),
                None,
            )),
            None => {
                let mut url = self.base.clone();
                url.set_path(&format!(
                    "/integrity/{project}/{version}/{}/provenance",
                    file.filename
                ));
                Ok(Some(url))
            }
        }
    }

    async fn provenance(&self, url: Option<Url>) -> Result<Option<Provenance>> {
        let Some(url) = url else { return Ok(None) };
        match self
            .get(url.clone(), INTEGRITY_JSON, answer::INDEX_PROVENANCE)
            .await?
        {
            None => Ok(None),
            Some(body) => Provenance::parse(&body)
                .map(Some)
                .map_err(|e| self.index_error(format!("{url}: {e}"), None)),
        }
    }

    /// Fetch what `wanted` asks for, `jobs` requests at a time: each
    /// project's page once, then the provenance of every selected file
    /// (each file once, however often it is asked for with the same
    /// expectation). In the order asked for.
    pub fn resolve(&self, wanted: &[Wanted], jobs: usize) -> Result<Vec<Resolved>> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime {
                what: "cannot start the async runtime",
                source: Box::new(e),
            })?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        runtime.block_on(async {
            tokio::time::timeout_at(deadline, self.resolve_all(wanted, jobs.max(1)))
                .await
                .unwrap_or_else(|_| {
                    Err(self.index_error(
                        format!("not done within --timeout {} s", self.timeout.as_secs()),
                        None,
                    ))
                })
        })
    }

    async fn resolve_all(&self, wanted: &[Wanted], jobs: usize) -> Result<Vec<Resolved>> {
        for w in wanted {
            if !w
                .project
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(Error::Usage(format!(
                    "{:?} is not a project name",
                    w.project
                )));
            }
        }
        let projects: BTreeSet<&str> = wanted.iter().map(|w| w.project.as_str()).collect();
        let pages: BTreeMap<&str, Result<ProjectPage>> = futures_util::stream::iter(
            projects
                .into_iter()
                .map(|p| async move { (p, self.project(p).await) }),
        )
        .buffer_unordered(jobs)
        .collect()
        .await;
        // Each request becomes its files (or a report), in order.
        let mut planned: Vec<std::result::Result<(Fetched, Option<Url>), FileReport>> = Vec::new();
        let mut seen = BTreeSet::new();
        for w in wanted {
            let page = match &pages[w.project.as_str()] {
                Ok(page) => page,
                Err(e) => {
                    planned.push(Err(report(
                        w,
                        &format!("{}=={}", w.project, w.version),
                        None,
                        FileOutcome::Error(clone_error(e)),
                    )));
                    continue;
                }
            };
            let release: Vec<&IndexFile> = page
                .files
                .iter()
                .filter(|f| is_release_file(&f.filename, &w.project, &w.version))
                .collect();
            let mut chosen: Vec<&IndexFile> = Vec::new();
            let missing = |what: String| {
                FileOutcome::Failed(Failure::new(
                    Step::Artifact,
                    format!("{what} ({})", w.origin),
                ))
            };
            match &w.files {
                Selection::All if release.is_empty() => planned.push(Err(report(
                    w,
                    &format!("{}=={}", w.project, w.version),
                    None,
                    missing(format!(
                        "the index lists no file of {}=={}",
                        w.project, w.version
                    )),
                ))),
                Selection::All => chosen = release.clone(),
                Selection::Named(names) => {
                    for name in names {
                        match release.iter().find(|f| &f.filename == name) {
                            Some(f) => chosen.push(f),
                            None => planned.push(Err(report(
                                w,
                                name,
                                None,
                                missing(format!(
                                    "the index lists no file {name:?} of {}=={}",
                                    w.project, w.version
                                )),
                            ))),
                        }
                    }
                }
                Selection::Pinned(pins) => {
                    for pin in pins {
                        // A pin must name a file of this release: a hash
                        // the index does not list for it is not what the
                        // provenance below speaks for.
                        match release.iter().find(|f| sha256_of(f) == Some(*pin)) {
                            Some(f) => chosen.push(f),
                            None => planned.push(Err(report(
                                w,
                                &format!("sha256:{}", pin.to_hex()),
                                Some(*pin),
                                missing(format!(
                                    "sha256:{} names no file of {}=={} on the index",
                                    pin.to_hex(),
                                    w.project,
                                    w.version
                                )),
                            ))),
                        }
                    }
                }
            }
            for f in chosen {
                // Keyed by the index's digest too: a page listing one name
                // twice with two hashes must not let a pin on the second
                // go unreported (each is verified, and one fails).
                if !seen.insert((
                    f.filename.clone(),
                    format!("{:?}", sha256_of(f)),
                    format!("{:?}", w.expected),
                )) {
                    continue;
                }
                let Some(sha256) = sha256_of(f) else {
                    planned.push(Err(report(
                        w,
                        &f.filename,
                        None,
                        FileOutcome::Error(self.index_error(
                            format!("file {} has no sha256 hash on the index", f.filename),
                            None,
                        )),
                    )));
                    continue;
                };
                let fetched = |provenance| Fetched {
                    project: w.project.clone(),
                    version: w.version.clone(),
                    filename: f.filename.clone(),
                    sha256,
                    expected: w.expected.clone(),
                    provenance,
                };
                planned.push(match self.provenance_url(&w.project, &w.version, f) {
                    Ok(url) => Ok((fetched(Ok(None)), url)),
                    Err(e) => Ok((fetched(Err(e)), None)),
                });
            }
        }
        // Every file's provenance, `jobs` at a time, back in order.
        let results: Vec<Resolved> =
            futures_util::stream::iter(planned.into_iter().map(|item| async move {
                match item {
                    Err(r) => Resolved::Report(r),
                    Ok((mut fetched, url)) => {
                        if fetched.provenance.is_ok() {
                            fetched.provenance = self.provenance(url).await;
                        }
                        Resolved::File(fetched)
                    }
                }
            }))
            .buffered(jobs)
            .collect()
            .await;
        Ok(results)
    }
}

/// A file's SHA-256 as the index lists it.
fn sha256_of(file: &IndexFile) -> Option<Sha256Hash> {
    let hex = file.hashes.get("sha256")?;
    (hex.len() == 64)
        .then(|| Sha256Hash::from_hex(&hex.to_ascii_lowercase()).ok())
        .flatten()
}

fn report(w: &Wanted, file: &str, sha256: Option<Sha256Hash>, outcome: FileOutcome) -> FileReport {
    FileReport {
        project: w.project.clone(),
        version: w.version.clone(),
        file: file.to_string(),
        sha256,
        outcome,
    }
}

/// A project's page error, for each request of that project.
fn clone_error(e: &Error) -> Error {
    match e {
        Error::Index {
            service,
            status,
            reason,
        } => Error::Index {
            service: service.clone(),
            status: *status,
            reason: reason.clone(),
        },
        Error::Usage(m) => Error::Usage(m.clone()),
        other => Error::Usage(other.to_string()),
    }
}
