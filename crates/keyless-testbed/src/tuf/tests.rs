//! Tests of the TUF repository writer, through sigstore-rust's TUF client
//! against a static file server.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sigstore_trust_root::{
    SIGSTORE_PRODUCTION_TRUSTED_ROOT, SIGSTORE_STAGING_SIGNING_CONFIG,
    SIGSTORE_STAGING_TRUSTED_ROOT, SigningConfig, TrustedRoot, TufBootstrap, TufConfig,
    fetch_trust_material_at,
};

use super::*;
use crate::keys::KeyKind;
use serde::Serialize;

const TRUSTED_ROOT: &str = sigstore_trust_root::TRUSTED_ROOT_TARGET;
const SIGNING_CONFIG: &str = sigstore_trust_root::SIGNING_CONFIG_TARGET;

/// Far from the wall clock in both directions, so passing tests prove the
/// client validated at the injected time.
fn now() -> Timestamp {
    "2031-03-04T05:06:07.5Z".parse().unwrap()
}

fn staging_targets() -> [(&'static str, &'static [u8]); 2] {
    [
        (TRUSTED_ROOT, SIGSTORE_STAGING_TRUSTED_ROOT.as_bytes()),
        (SIGNING_CONFIG, SIGSTORE_STAGING_SIGNING_CONFIG.as_bytes()),
    ]
}

/// A static file server for `dir` on 127.0.0.1, 404 for anything absent.
struct Server {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve_file(State(dir): State<Arc<PathBuf>>, uri: Uri) -> Response {
    let rel = uri.path().trim_start_matches('/');
    if rel.split('/').any(|s| s.is_empty() || s == "..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(dir.join(rel)).await {
        Ok(bytes) => bytes.into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Server {
    async fn start(dir: &Path) -> Self {
        let app = axum::Router::new()
            .fallback(serve_file)
            .with_state(Arc::new(dir.to_path_buf()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Self { url, stop, task }
    }

    /// A client configuration for this server: fixed bootstrap root, its
    /// own cache, no proxy, short timeouts.
    fn config(&self, root: &[u8], cache: &Path) -> TufConfig {
        let http = sigstore_trust_root::reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        TufConfig::custom(&self.url, TufBootstrap::trusted(root))
            .with_cache_dir(cache.to_path_buf())
            .with_http_client(http)
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("server stops within 5s")
            .expect("server task did not panic")
            .expect("server ran without I/O errors");
    }
}

/// Run a test body with a bound, so a hung client fails instead of
/// stalling the suite.
async fn bounded<F: std::future::Future<Output = ()>>(body: F) {
    tokio::time::timeout(Duration::from_secs(30), body)
        .await
        .expect("test finished within 30s");
}

fn json_of<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// The staging targets published with `keys` and `options` at `at`, served,
/// and an empty client cache.
struct Published {
    repo: tempfile::TempDir,
    cache: tempfile::TempDir,
    /// Root version 1, to bootstrap clients with.
    root: Vec<u8>,
    server: Server,
}

impl Published {
    async fn new(keys: &TufKeys, at: Timestamp, options: &RepoOptions) -> Self {
        let repo = tempfile::tempdir().unwrap();
        write_repository(repo.path(), keys, &staging_targets(), at, options).unwrap();
        let root = root_json(repo.path(), 1).unwrap();
        let server = Server::start(repo.path()).await;
        Self {
            repo,
            cache: tempfile::tempdir().unwrap(),
            root,
            server,
        }
    }

    /// A client of the server bootstrapped with root 1, using the cache.
    fn config(&self) -> TufConfig {
        self.server.config(&self.root, self.cache.path())
    }
}

#[tokio::test]
async fn client_fetches_trust_material_through_tuf() {
    bounded(async {
        let published = Published::new(&TufKeys::generate(), now(), &RepoOptions::default()).await;
        let cache = published.cache.path();
        let config = published.config();

        let trusted = TrustedRoot::from_tuf_at(config.clone(), now())
            .await
            .unwrap();
        let expected = TrustedRoot::from_json(SIGSTORE_STAGING_TRUSTED_ROOT).unwrap();
        assert_eq!(json_of(&trusted), json_of(&expected));
        // The client caches what it verified: exactly our bytes.
        assert_eq!(
            std::fs::read(cache.join("targets").join(TRUSTED_ROOT)).unwrap(),
            SIGSTORE_STAGING_TRUSTED_ROOT.as_bytes()
        );

        let signing = SigningConfig::from_tuf_at(config.clone(), now())
            .await
            .unwrap();
        let expected = SigningConfig::from_json(SIGSTORE_STAGING_SIGNING_CONFIG).unwrap();
        assert_eq!(json_of(&signing), json_of(&expected));
        assert_eq!(
            std::fs::read(cache.join("targets").join(SIGNING_CONFIG)).unwrap(),
            SIGSTORE_STAGING_SIGNING_CONFIG.as_bytes()
        );

        // Both in one session, from a fresh cache.
        let fresh = tempfile::tempdir().unwrap();
        let fresh_config = published.server.config(&published.root, fresh.path());
        let (trusted, signing) = fetch_trust_material_at(fresh_config, now()).await.unwrap();
        assert_eq!(
            json_of(&trusted),
            json_of(&TrustedRoot::from_json(SIGSTORE_STAGING_TRUSTED_ROOT).unwrap())
        );
        assert_eq!(json_of(&signing), json_of(&expected));
        published.server.stop().await;

        // With the server gone, the verified cache still serves offline.
        let offline = TrustedRoot::from_tuf_at(config.offline(), now())
            .await
            .unwrap();
        assert_eq!(json_of(&offline), json_of(&trusted));
    })
    .await;
}

#[tokio::test]
async fn expired_timestamp_is_rejected() {
    bounded(async {
        let options = RepoOptions::default().with_expired_timestamp();
        let published = Published::new(&TufKeys::generate(), now(), &options).await;
        let err = TrustedRoot::from_tuf_at(published.config(), now())
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("timestamp metadata expired"),
            "{err}"
        );
        published.server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn tampered_timestamp_is_rejected() {
    bounded(async {
        let options = RepoOptions::default().with_tampered_timestamp();
        let published = Published::new(&TufKeys::generate(), now(), &options).await;
        let err = SigningConfig::from_tuf_at(published.config(), now())
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("signature threshold not met for role timestamp"),
            "{err}"
        );
        published.server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn republished_targets_reach_a_cached_client() {
    bounded(async {
        let keys = TufKeys::generate();
        let v1 = RepoOptions::default();
        let published = Published::new(&keys, now(), &v1).await;
        let repo = published.repo.path();
        let config = published.config();

        let first = TrustedRoot::from_tuf_at(config.clone(), now())
            .await
            .unwrap();
        let staging = TrustedRoot::from_json(SIGSTORE_STAGING_TRUSTED_ROOT).unwrap();
        assert_eq!(json_of(&first), json_of(&staging));

        // New content at the same version is refused, not silently served
        // to some clients only.
        let production = [(TRUSTED_ROOT, SIGSTORE_PRODUCTION_TRUSTED_ROOT.as_bytes())];
        let err = write_repository(repo, &keys, &production, now(), &v1).unwrap_err();
        assert!(err.contains("higher RepoOptions::version"), "{err}");

        let later = now() + SignedDuration::from_hours(1);
        let v2 = RepoOptions::default().with_version(2);
        write_repository(repo, &keys, &production, later, &v2).unwrap();
        assert_eq!(published_version(repo).unwrap(), Some(2));
        let second = TrustedRoot::from_tuf_at(config, later).await.unwrap();
        let production = TrustedRoot::from_json(SIGSTORE_PRODUCTION_TRUSTED_ROOT).unwrap();
        assert_eq!(json_of(&second), json_of(&production));
        assert_ne!(json_of(&second), json_of(&staging));
        // Version 1 stays published for clients mid-update.
        assert!(repo.join("1.snapshot.json").exists());

        let err = write_repository(repo, &keys, &staging_targets(), later, &v1).unwrap_err();
        assert!(err.contains("rollback"), "{err}");
        published.server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn validation_time_is_the_injected_one() {
    bounded(async {
        // Published in 2020: expired for anyone validating at wall-clock time.
        let then: Timestamp = "2020-01-01T00:00:00Z".parse().unwrap();
        let published = Published::new(&TufKeys::generate(), then, &RepoOptions::default()).await;

        let at_then = TrustedRoot::from_tuf_at(published.config(), then).await;
        assert!(at_then.is_ok(), "{at_then:?}");

        // Two days later the one-day timestamp is stale, even with a
        // cache that held it.
        let later = then + SignedDuration::from_hours(48);
        let err = TrustedRoot::from_tuf_at(published.config(), later)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("timestamp metadata expired"),
            "{err}"
        );

        let fresh = tempfile::tempdir().unwrap();
        let err = TrustedRoot::from_tuf(published.server.config(&published.root, fresh.path()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
        published.server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn ed25519_keys_and_root_chain() {
    bounded(async {
        let repo = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let keys = TufKeys::generate_with(KeyKind::Ed25519).unwrap();
        write_repository(
            repo.path(),
            &keys,
            &staging_targets(),
            now(),
            &RepoOptions::default(),
        )
        .unwrap();
        let root_v1 = root_json(repo.path(), 1).unwrap();
        let options = RepoOptions::default().with_version(2).with_root_version(2);
        write_repository(repo.path(), &keys, &staging_targets(), now(), &options).unwrap();
        // Published roots never change.
        assert_eq!(root_json(repo.path(), 1).unwrap(), root_v1);
        let root_v2 = root_json(repo.path(), 2).unwrap();
        assert_eq!(
            std::fs::read(repo.path().join("root.json")).unwrap(),
            root_v2
        );

        let server = Server::start(repo.path()).await;
        let config = server.config(&root_v1, cache.path());
        let signing = SigningConfig::from_tuf_at(config, now()).await.unwrap();
        let expected = SigningConfig::from_json(SIGSTORE_STAGING_SIGNING_CONFIG).unwrap();
        assert_eq!(json_of(&signing), json_of(&expected));
        // The client walked from root 1 to root 2.
        assert_eq!(
            std::fs::read(cache.path().join("root.json")).unwrap(),
            root_v2
        );
        server.stop().await;
    })
    .await;
}

#[test]
fn layout_is_consistent_snapshot() {
    let repo = tempfile::tempdir().unwrap();
    let keys = TufKeys::generate();
    let targets: [(&str, &[u8]); 2] = [("a.json", b"A"), ("dir/b.json", b"B")];
    write_repository(repo.path(), &keys, &targets, now(), &RepoOptions::default()).unwrap();
    let mut files: Vec<String> = Vec::new();
    let mut stack = vec![repo.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(repo.path()).unwrap();
                files.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    let a = sha256_hex(b"A");
    let b = sha256_hex(b"B");
    let mut expected = vec![
        "1.root.json".to_string(),
        "1.snapshot.json".to_string(),
        "1.targets.json".to_string(),
        "root.json".to_string(),
        format!("targets/{a}.a.json"),
        format!("targets/dir/{b}.b.json"),
        "timestamp.json".to_string(),
    ];
    expected.sort();
    // No temporaries are left behind, and nothing else is published.
    assert_eq!(files, expected);

    let timestamp = std::fs::read(repo.path().join("timestamp.json")).unwrap();
    // Fractional seconds are dropped: now() is 05:06:07.5, plus one day.
    assert_eq!(
        signed_field(&timestamp, "expires"),
        Some(json!("2031-03-05T05:06:07Z"))
    );
}

#[test]
fn canonical_json_is_olpc_not_jcs() {
    let value = json!({ "b": [1, -2, true, null], "a": "pem\nline \"q\" \\ é\u{1}" });
    let expected = "{\"a\":\"pem\nline \\\"q\\\" \\\\ é\u{1}\",\"b\":[1,-2,true,null]}";
    assert_eq!(canonical_json(&value).unwrap(), expected.as_bytes());
    assert!(canonical_json(&json!({ "x": 1.5 })).is_err());
}

#[test]
fn keys_survive_storage_and_refuse_rsa() {
    let keys = TufKeys::generate();
    let text = serde_json::to_string(&keys.to_stored()).unwrap();
    let again = TufKeys::from_stored(&serde_json::from_str(&text).unwrap()).unwrap();
    let ids = |k: &TufKeys| {
        let ids = RoleIds::new(k).unwrap();
        [ids.root, ids.targets, ids.snapshot, ids.timestamp]
    };
    assert_eq!(ids(&keys), ids(&again));
    assert!(TufKeys::generate_with(KeyKind::Rsa2048).is_err());

    let mut stored = keys.to_stored();
    stored.snapshot = TestKey::generate(KeyKind::Rsa2048).to_stored();
    let err = TufKeys::from_stored(&stored).unwrap_err();
    assert!(err.starts_with("snapshot key: RSA"), "{err}");
}

#[test]
fn bad_input_is_refused_before_writing() {
    let keys = TufKeys::generate();
    for name in ["", "/abs", "a/../b", "a//b", "sp ace", "q?x", "./a"] {
        let repo = tempfile::tempdir().unwrap();
        let targets: [(&str, &[u8]); 1] = [(name, b"x")];
        let err = write_repository(repo.path(), &keys, &targets, now(), &RepoOptions::default())
            .unwrap_err();
        assert!(err.contains("target name"), "{name:?}: {err}");
        assert_eq!(
            std::fs::read_dir(repo.path()).unwrap().count(),
            0,
            "{name:?}"
        );
    }
    let repo = tempfile::tempdir().unwrap();
    let twice: [(&str, &[u8]); 2] = [("a", b"1"), ("a", b"2")];
    let err =
        write_repository(repo.path(), &keys, &twice, now(), &RepoOptions::default()).unwrap_err();
    assert!(err.contains("twice"), "{err}");
    let zero = RepoOptions::default().with_version(0);
    assert!(write_repository(repo.path(), &keys, &[], now(), &zero).is_err());

    // Other keys over a published repository would strand its clients.
    write_repository(repo.path(), &keys, &[], now(), &RepoOptions::default()).unwrap();
    let other = TufKeys::generate();
    let err = write_repository(
        repo.path(),
        &other,
        &[],
        now(),
        &RepoOptions::default().with_version(2),
    )
    .unwrap_err();
    assert!(err.contains("other keys"), "{err}");
}
