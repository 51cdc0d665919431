//! The testbed's HTTP listener: every service on one 127.0.0.1 port, with
//! state (keys and log entries) kept in a state directory across restarts.
//!
//! This module starts and stops the server and routes requests. The state
//! is in `state`, the plumbing every service shares (fault application,
//! JSON answers) in `http`, and each service's handlers in a module named
//! after it: `oidc`, `fulcio`, `rekor_v1`, `rekor_v2`, `tsa`, `tuf` (with
//! the plain trust files), `generic_registry` and `pypi` (package indexes),
//! `admin` (faults) and `fill` (bulk entries for benchmarks).

mod admin;
mod fill;
mod fulcio;
mod generic_registry;
mod http;
mod oidc;
mod pypi;
mod rekor_v1;
mod rekor_v2;
mod state;
mod tsa;
mod tuf;

pub use fill::{FillReport, FillRequest};
pub use generic_registry::ObjectStorageRequests;
pub use oidc::DEVICE_LOGIN_EMAIL;
pub use pypi::provenance_from_attestations as pypi_provenance;

use crate::faults::{Endpoint, FaultRule, FaultTable};
use crate::material::KeyEnd;
use crate::oidc::{JwsAlg, OidcIssuer, StoredOidc, TokenSpec};
use axum::routing::{get, post};
use keyless::clock::{Clock, SystemClock};
use serde::Deserialize;
use state::{Keys, Shared, State, io_err, lock};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// How to run a testbed.
#[derive(Clone)]
pub struct TestbedOptions {
    /// Where keys, log entries and trust files live.
    pub state_dir: PathBuf,
    /// Address to listen on; port 0 picks a free one. Must be loopback.
    pub listen: SocketAddr,
    /// Issuers (besides the testbed's own URL) whose tokens Fulcio accepts
    /// when signed by the testbed's OIDC keys.
    pub trusted_issuers: Vec<String>,
    /// Faults active from the start.
    pub faults: Vec<FaultRule>,
    /// Where "now" comes from.
    pub clock: Arc<dyn Clock>,
    /// The generic package registry answers downloads with a redirect to
    /// an object storage stand-in on a second loopback port, as GitLab
    /// does; that origin refuses requests that carry a credential.
    pub redirect_package_downloads: bool,
    /// Keys whose validity window the trusted root ends (see
    /// [`Testbed::set_valid_until`] to change them while it runs).
    pub valid_until: Vec<KeyEnd>,
}

impl std::fmt::Debug for TestbedOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestbedOptions")
            .field("state_dir", &self.state_dir)
            .field("listen", &self.listen)
            .field("trusted_issuers", &self.trusted_issuers)
            .field("faults", &self.faults)
            .field(
                "redirect_package_downloads",
                &self.redirect_package_downloads,
            )
            .field("valid_until", &self.valid_until)
            .finish_non_exhaustive()
    }
}

/// Issuers Fulcio trusts by default besides the testbed itself: the testbed
/// impersonates them with its own keys, inside its own trust root only.
pub const DEFAULT_TRUSTED_ISSUERS: &[&str] = &[
    "https://gitlab.com",
    "https://token.actions.githubusercontent.com",
];

impl TestbedOptions {
    /// Defaults: an ephemeral loopback port, the default trusted issuers, no
    /// faults, the system clock.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        Self {
            state_dir: state_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            trusted_issuers: DEFAULT_TRUSTED_ISSUERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            faults: Vec::new(),
            clock: Arc::new(SystemClock),
            redirect_package_downloads: false,
            valid_until: Vec::new(),
        }
    }
}

fn router(
    state: Shared,
    packages: Arc<generic_registry::Registry>,
    pypi: Arc<pypi::Pypi>,
) -> axum::Router {
    axum::Router::new()
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/oauth/discovery/keys", get(oidc::jwks))
        .route("/oauth/device/code", post(oidc::device_code))
        .route("/oauth/token", post(oidc::token))
        .route("/github/actions-token", get(oidc::github_actions_token))
        .route("/api/v2/signingCert", post(fulcio::signing_cert))
        .route("/api/v2/trustBundle", get(fulcio::trust_bundle))
        .route("/api/v2/configuration", get(fulcio::configuration))
        .route(
            "/api/v1/log/entries",
            post(rekor_v1::create).get(rekor_v1::by_index),
        )
        .route("/api/v1/log/entries/retrieve", post(rekor_v1::retrieve))
        .route("/api/v1/log/entries/{uuid}", get(rekor_v1::by_uuid))
        .route("/api/v1/index/retrieve", post(rekor_v1::index_retrieve))
        .route("/api/v1/log", get(rekor_v1::log_info))
        .route("/api/v1/log/proof", get(rekor_v1::proof))
        .route("/api/v1/log/publicKey", get(rekor_v1::public_key))
        .route("/api/v2/log/entries", post(rekor_v2::create))
        .route("/checkpoint", get(rekor_v2::checkpoint))
        .route("/tile/{*path}", get(rekor_v2::tile))
        .route("/api/v1/timestamp", post(tsa::timestamp))
        .route("/api/v1/timestamp/certchain", get(tsa::cert_chain))
        .route("/trust/{name}", get(tuf::trust_file))
        .route("/tuf/{*path}", get(tuf::tuf_file))
        .merge(generic_registry::routes(packages))
        .merge(pypi::routes(pypi, state.clone()))
        .route(
            "/admin/faults",
            post(admin::add_faults)
                .delete(admin::clear_faults)
                .get(admin::list_faults),
        )
        .route("/admin/fill", post(admin::fill))
        .fallback(http::not_found)
        .with_state(state)
}

/// A running testbed. Dropping it stops the server.
pub struct Testbed {
    url: String,
    dir: PathBuf,
    state: Shared,
    packages: Arc<generic_registry::Registry>,
    pypi: Arc<pypi::Pypi>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Held for the testbed's lifetime (an OS file lock on `<state>/lock`).
    _lock: std::fs::File,
}

impl std::fmt::Debug for Testbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Testbed")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Testbed {
    /// Load or create the state in `options.state_dir`, bind, write the
    /// trust files for the bound URL, and serve on a background thread.
    pub fn start(options: TestbedOptions) -> Result<Self, String> {
        if !options.listen.ip().is_loopback() {
            return Err(format!(
                "the testbed only listens on loopback, not {}",
                options.listen.ip()
            ));
        }
        std::fs::create_dir_all(&options.state_dir).map_err(|e| io_err(&options.state_dir, e))?;
        // One testbed per state directory: two would both rewrite the logs.
        let lock_path = options.state_dir.join("lock");
        let lock_file = std::fs::File::create(&lock_path).map_err(|e| io_err(&lock_path, e))?;
        // A lock released a moment ago can still be held by a child that
        // another thread of this process forked and has not yet exec'd (the
        // descriptor is copied until exec closes it): wait a bounded second.
        let mut tries = 0;
        while lock_file.try_lock().is_err() {
            tries += 1;
            if tries == 50 {
                return Err(format!(
                    "another keyless-testbed is using {}",
                    options.state_dir.display()
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let listener = std::net::TcpListener::bind(options.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let url = format!("http://{addr}");
        // The object storage stand-in: another port, so another origin.
        let storage = if options.redirect_package_downloads {
            let l = std::net::TcpListener::bind(SocketAddr::from((options.listen.ip(), 0)))
                .map_err(|e| format!("cannot listen for object storage: {e}"))?;
            l.set_nonblocking(true).map_err(|e| e.to_string())?;
            let addr = l.local_addr().map_err(|e| e.to_string())?;
            Some((l, format!("http://{addr}")))
        } else {
            None
        };
        let packages = generic_registry::Registry::new(
            &options.state_dir,
            storage.as_ref().map(|(_, url)| url.clone()),
        );
        let storage_app =
            storage.map(|(l, _)| (l, generic_registry::storage_routes(packages.clone())));
        // A Rekor v2 log is named for the host clients reach it by (the
        // host of the trust root's `baseUrl`, without the port).
        let (keys, stored) = Keys::load_or_create(
            &options.state_dir,
            options.clock.now().as_second(),
            &addr.ip().to_string(),
        )?;
        let mut faults = FaultTable::default();
        for f in &options.faults {
            faults.add(*f);
        }
        // Every entry loaded (or created at genesis) is on disk.
        let stored = Arc::new(stored);
        let state = State {
            stored,
            in_flight: std::collections::HashMap::new(),
            devices: std::collections::HashMap::new(),
            url: url.clone(),
            dir: options.state_dir.clone(),
            keys,
            trusted_issuers: options.trusted_issuers.clone(),
            faults,
            clock: options.clock.clone(),
            tsa_serial: u128::from(options.clock.now().as_second().unsigned_abs()) << 16,
            valid_until: options.valid_until.clone(),
        };
        state.write_trust_files()?;
        let state = Arc::new(Mutex::new(state));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let pypi = pypi::Pypi::new(&options.state_dir, &url);
        let app = router(state.clone(), packages.clone(), pypi.clone());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let thread = std::thread::Builder::new()
            .name("keyless-testbed".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return;
                        }
                    };
                    if let Some((l, storage_app)) = storage_app {
                        match tokio::net::TcpListener::from_std(l) {
                            // Stops with the runtime, after the main server.
                            Ok(l) => drop(tokio::spawn(async move {
                                let _ = axum::serve(l, storage_app).await;
                            })),
                            Err(e) => {
                                let _ = ready_tx.send(Err(e.to_string()));
                                return;
                            }
                        }
                    }
                    let _ = ready_tx.send(Ok(()));
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })
            .map_err(|e| e.to_string())?;
        ready_rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .map_err(|_| "testbed did not start within 30 s".to_string())??;
        Ok(Self {
            url,
            dir: options.state_dir,
            state,
            packages,
            pypi,
            shutdown: Some(tx),
            thread: Some(thread),
            _lock: lock_file,
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.dir
    }

    /// `trust_config.json` (Rekor v1) for this instance.
    pub fn trust_config_path(&self) -> PathBuf {
        self.dir.join("trust_config.json")
    }

    /// `trust_config_v2.json` (Rekor v2 + TSA) for this instance.
    pub fn trust_config_v2_path(&self) -> PathBuf {
        self.dir.join("trust_config_v2.json")
    }

    /// `trusted_root.json` for this instance.
    pub fn trusted_root_path(&self) -> PathBuf {
        self.dir.join("trusted_root.json")
    }

    /// When every key's validity window in the trusted root starts (a
    /// minute before the state directory was first used).
    pub fn valid_from(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(lock(&self.state).keys.created)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// End the validity windows of `ends`' keys in the trusted root (and
    /// no others), as Sigstore does when it retires a key: the trust files
    /// are rewritten and republished through TUF. Keys and logs stay as
    /// they are, so material signed before still verifies against the
    /// previous trust files.
    pub fn set_valid_until(&self, ends: &[KeyEnd]) -> Result<(), String> {
        let mut s = lock(&self.state);
        s.valid_until = ends.to_vec();
        s.write_trust_files()
    }

    /// The TUF repository's base URL.
    pub fn tuf_url(&self) -> String {
        format!("{}/tuf", self.url)
    }

    /// The initial TUF root (`1.root.json`) to bootstrap clients with.
    pub fn tuf_root(&self) -> Result<Vec<u8>, String> {
        crate::tuf::root_json(&self.dir.join("tuf"), 1)
    }

    /// Re-publish the TUF repository at the next version with `options`
    /// (e.g. an expired or tampered timestamp role, for negative tests).
    pub fn republish_tuf(&self, options: &crate::tuf::RepoOptions) -> Result<(), String> {
        lock(&self.state).publish_tuf(options)
    }

    /// Mint a token with the testbed's OIDC keys.
    pub fn mint(&self, spec: &TokenSpec, alg: JwsAlg) -> String {
        let s = lock(&self.state);
        s.keys.oidc.mint(&spec.claims(s.now()), alg)
    }

    /// Activate a fault.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.state).faults.add(rule);
    }

    /// How many requests `endpoint` has answered since the start.
    pub fn requests(&self, endpoint: Endpoint) -> u32 {
        lock(&self.state).faults.requests(endpoint)
    }

    /// The most requests `endpoint` was serving at once since the start
    /// (a `delay` fault makes a client's concurrent requests overlap).
    pub fn most_in_flight(&self, endpoint: Endpoint) -> u32 {
        lock(&self.state)
            .in_flight
            .get(&endpoint)
            .map_or(0, |f| f.most)
    }

    /// What the generic package registry's object storage stand-in
    /// answered (see [`TestbedOptions::redirect_package_downloads`]).
    pub fn object_storage_requests(&self) -> ObjectStorageRequests {
        self.packages.storage_requests()
    }

    /// Append `request.count` valid entries to a log at once (see
    /// `POST /admin/fill`), stored before this returns.
    pub fn fill(&self, request: &FillRequest) -> Result<FillReport, String> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?
            .block_on(fill::fill_and_store(&self.state, request))
    }

    /// The PyPI stand-in's simple index, `<url>/simple/` (PEP 691 JSON or
    /// PEP 503 HTML; files with their Integrity API `provenance` URL).
    pub fn pypi_index_url(&self) -> String {
        format!("{}/simple/", self.url)
    }

    /// The PyPI stand-in's upload URL for `twine upload --repository-url`
    /// (user `__token__`, any non-empty password).
    pub fn pypi_upload_url(&self) -> String {
        format!("{}/legacy/", self.url)
    }

    /// Put a distribution file on the PyPI stand-in (replacing one of that
    /// name), with the Integrity API answer to serve for it, as given:
    /// recorded real provenance, or a hostile answer for a negative test.
    pub fn pypi_add(
        &self,
        filename: &str,
        bytes: &[u8],
        provenance: Option<&[u8]>,
    ) -> Result<(), String> {
        self.pypi.add(filename, bytes, provenance)
    }

    /// Put every distribution in `dir` on the PyPI stand-in, each with
    /// `<file>.provenance` beside it (served as is) or else
    /// `<file>.publish.attestation` (wrapped as PyPI does, the publisher
    /// derived from its certificate). Returns how many files were added.
    pub fn pypi_preload(&self, dir: &Path) -> Result<usize, String> {
        self.pypi.preload(dir)
    }

    /// Clear all faults.
    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    /// Block until the server stops (for the `serve` command).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Mint a token from the keys in `state_dir` without a running server.
pub fn mint_offline(
    state_dir: &Path,
    spec: &TokenSpec,
    alg: JwsAlg,
    now: i64,
) -> Result<String, String> {
    let path = state_dir.join("keys.json");
    let bytes = std::fs::read(&path).map_err(|e| {
        format!(
            "{}: {e} (start `keyless-testbed serve --state-dir {}` once first)",
            path.display(),
            state_dir.display()
        )
    })?;
    #[derive(Deserialize)]
    struct OnlyOidc {
        oidc: StoredOidc,
    }
    let s: OnlyOidc = serde_json::from_slice(&bytes).map_err(|e| io_err(&path, e))?;
    Ok(OidcIssuer::from_stored(&s.oidc)?.mint(&spec.claims(now), alg))
}
