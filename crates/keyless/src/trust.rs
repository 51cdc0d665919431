//! Trust material: which Fulcio CAs, CT logs, Rekor logs and TSAs to believe.
//!
//! Verification never needs the network: the production and staging trusted
//! roots are embedded (from `sigstore-trust-root`), and a deployment can pass
//! its own `trusted_root.json` or a ClientTrustConfig (trusted root plus
//! signing config, as sigstore-python's `--trust-config` reads).

use crate::error::{Error, FileKind, Result};
use crate::files::read_text_limited;
use sigstore_trust_root::{SigningConfig, SigstoreInstance, TrustedRoot};
use std::path::{Path, PathBuf};

/// The largest trust file keyless reads. Real trusted roots are ~10 KiB.
pub const MAX_TRUST_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Media type of a ClientTrustConfig document.
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

/// Media type prefix every trusted root carries.
const TRUSTED_ROOT_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
const TRUSTED_ROOT_MEDIA_TYPE_V02: &str = "application/vnd.dev.sigstore.trustedroot.v0.2+json";

/// Where trust material comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustSource {
    /// The embedded snapshot of Sigstore's public-good production root.
    Production,
    /// The embedded snapshot of Sigstore's public-good staging root.
    Staging,
    /// A `trusted_root.json` file.
    TrustedRootFile(PathBuf),
    /// A ClientTrustConfig JSON file (trusted root + signing config).
    TrustConfigFile(PathBuf),
}

impl std::fmt::Display for TrustSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrustSource::Production => f.write_str("embedded production trusted root"),
            TrustSource::Staging => f.write_str("embedded staging trusted root"),
            TrustSource::TrustedRootFile(p) | TrustSource::TrustConfigFile(p) => {
                write!(f, "{}", p.display())
            }
        }
    }
}

/// Loaded trust material.
#[derive(Debug, Clone)]
pub struct TrustMaterial {
    /// Where it came from, for messages.
    pub source: TrustSource,
    /// The file it was read from: a `--trusted-root`/`--trust-config` file,
    /// or the TUF-refreshed cache (`keyless trust update`); `None` for an
    /// embedded snapshot.
    pub path: Option<PathBuf>,
    /// The roots of trust used for verification.
    pub trusted_root: TrustedRoot,
    /// The services to sign with, when the source names them.
    pub signing_config: Option<SigningConfig>,
}

impl TrustMaterial {
    /// Load trust material from `source`, without touching the network.
    ///
    /// For production and staging, material that `keyless trust update`
    /// refreshed through TUF into the cache directory ([`cache_dir`]) is used
    /// when present; otherwise the embedded snapshot.
    pub fn load(source: &TrustSource) -> Result<Self> {
        Self::load_with_cache(source, cache_dir().as_deref())
    }

    /// [`TrustMaterial::load`] with the cache directory given (`None`: no
    /// cache), so a test reads no user's cache.
    fn load_with_cache(source: &TrustSource, cache: Option<&Path>) -> Result<Self> {
        if let Some(instance) = InstanceName::of(source)
            && let Some(dir) = cache
        {
            let dir = dir.join(instance.0);
            let root_path = dir.join("trusted_root.json");
            if root_path.is_file() {
                let text =
                    read_text_limited(&root_path, MAX_TRUST_FILE_BYTES, FileKind::TrustedRoot)?;
                let config_path = dir.join("signing_config.json");
                let signing_config = if config_path.is_file() {
                    let text = read_text_limited(
                        &config_path,
                        MAX_TRUST_FILE_BYTES,
                        FileKind::SigningConfig,
                    )?;
                    Some(SigningConfig::from_json(&text).map_err(|e| {
                        malformed(&config_path, FileKind::SigningConfig, e.to_string())
                    })?)
                } else {
                    None
                };
                return Ok(Self {
                    source: source.clone(),
                    trusted_root: parse_trusted_root(&root_path, &text)?,
                    signing_config,
                    path: Some(root_path),
                });
            }
        }
        Self::load_uncached(source)
    }

    /// Sign with the services of this signing config (v0.2) file instead of
    /// any the source named: `--signing-config` beside `--trusted-root`.
    pub fn with_signing_config_file(mut self, path: &Path) -> Result<Self> {
        let text = read_text_limited(path, MAX_TRUST_FILE_BYTES, FileKind::SigningConfig)?;
        self.signing_config = Some(
            SigningConfig::from_json(&text)
                .map_err(|e| malformed(path, FileKind::SigningConfig, e.to_string()))?,
        );
        Ok(self)
    }

    /// Load trust material from `source`, ignoring the TUF cache.
    pub fn load_uncached(source: &TrustSource) -> Result<Self> {
        let fail = |reason: String| Error::TrustMaterial {
            source_name: source.to_string(),
            reason,
        };
        match source {
            TrustSource::Production | TrustSource::Staging => {
                let instance = if *source == TrustSource::Production {
                    SigstoreInstance::PublicGood
                } else {
                    SigstoreInstance::Staging
                };
                let trusted_root = instance
                    .embedded_trusted_root()
                    .map_err(|e| fail(e.to_string()))?;
                let signing_config = instance
                    .embedded_signing_config()
                    .map_err(|e| fail(e.to_string()))?;
                Ok(Self {
                    source: source.clone(),
                    trusted_root,
                    signing_config,
                    path: None,
                })
            }
            TrustSource::TrustedRootFile(path) => {
                let text = read_text_limited(path, MAX_TRUST_FILE_BYTES, FileKind::TrustedRoot)?;
                Ok(Self {
                    source: source.clone(),
                    trusted_root: parse_trusted_root(path, &text)?,
                    signing_config: None,
                    path: Some(path.clone()),
                })
            }
            TrustSource::TrustConfigFile(path) => {
                let text =
                    read_text_limited(path, MAX_TRUST_FILE_BYTES, FileKind::ClientTrustConfig)?;
                parse_client_trust_config(path, &text)
            }
        }
    }
}

fn malformed(path: &Path, what: FileKind, reason: impl Into<String>) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        what,
        reason: reason.into(),
    }
}

fn parse_trusted_root(path: &Path, text: &str) -> Result<TrustedRoot> {
    let root = TrustedRoot::from_json(text)
        .map_err(|e| malformed(path, FileKind::TrustedRoot, e.to_string()))?;
    check_trusted_root_media_type(path, &root)?;
    Ok(root)
}

fn check_trusted_root_media_type(path: &Path, root: &TrustedRoot) -> Result<()> {
    if root.media_type != TRUSTED_ROOT_MEDIA_TYPE && root.media_type != TRUSTED_ROOT_MEDIA_TYPE_V02
    {
        return Err(malformed(
            path,
            FileKind::TrustedRoot,
            format!("unknown mediaType {:?}", root.media_type),
        ));
    }
    Ok(())
}

/// Parse a ClientTrustConfig. Protobuf JSON allows both the camelCase and
/// the original snake_case field names, and real files use both
/// (sigstore-python's test assets say `signing_config`), so both are read.
fn parse_client_trust_config(path: &Path, text: &str) -> Result<TrustMaterial> {
    const WHAT: FileKind = FileKind::ClientTrustConfig;
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| malformed(path, WHAT, e.to_string()))?;
    let field = |camel: &str, snake: &str| doc.get(camel).or_else(|| doc.get(snake));
    match field("mediaType", "media_type").and_then(|v| v.as_str()) {
        Some(CLIENT_TRUST_CONFIG_MEDIA_TYPE) => {}
        other => return Err(malformed(path, WHAT, not_a_trust_config(other))),
    }
    let root_json = field("trustedRoot", "trusted_root")
        .ok_or_else(|| malformed(path, WHAT, "it has no trustedRoot"))?;
    let trusted_root: TrustedRoot = serde_json::from_value(root_json.clone())
        .map_err(|e| malformed(path, WHAT, format!("trustedRoot: {e}")))?;
    check_trusted_root_media_type(path, &trusted_root)?;
    let signing_config = field("signingConfig", "signing_config")
        .map(|v| {
            SigningConfig::from_json(&v.to_string())
                .map_err(|e| malformed(path, WHAT, format!("signingConfig: {e}")))
        })
        .transpose()?;
    Ok(TrustMaterial {
        source: TrustSource::TrustConfigFile(path.to_path_buf()),
        trusted_root,
        signing_config,
        path: Some(path.to_path_buf()),
    })
}

/// Why a document with media type `media_type` is not a ClientTrustConfig,
/// naming what it is when that is a Sigstore document people mix up with
/// one (a bundle given to --trust-config, say).
fn not_a_trust_config(media_type: Option<&str>) -> String {
    let expected = format!("expected mediaType {CLIENT_TRUST_CONFIG_MEDIA_TYPE}");
    let Some(media_type) = media_type else {
        return format!("it has no mediaType; {expected}");
    };
    let what = if media_type.starts_with("application/vnd.dev.sigstore.bundle") {
        Some("a Sigstore bundle")
    } else if media_type.starts_with("application/vnd.dev.sigstore.trustedroot") {
        Some("a trusted root (pass it with --trusted-root)")
    } else if media_type.starts_with("application/vnd.dev.sigstore.signingconfig") {
        Some("a signing config")
    } else {
        None
    };
    // The value is the file's, shown quoted and escaped: untrusted text.
    match what {
        Some(what) => format!("it is {what} ({media_type:?}), not a ClientTrustConfig"),
        None => format!("its mediaType is {media_type:?}; {expected}"),
    }
}

/// The cache directory keyless keeps TUF-refreshed trust material in:
/// `$KEYLESS_CACHE_DIR`, else `$XDG_CACHE_HOME/keyless`, else
/// `$HOME/.cache/keyless`.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("KEYLESS_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("keyless"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("keyless"))
}

/// The cache subdirectory of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceName(pub String);

impl InstanceName {
    fn of(source: &TrustSource) -> Option<Self> {
        match source {
            TrustSource::Production => Some(Self("production".into())),
            TrustSource::Staging => Some(Self("staging".into())),
            _ => None,
        }
    }

    /// The name for a custom TUF repository: `custom-<12 hex of its URL's SHA-256>`.
    pub fn custom(url: &str) -> Self {
        let h = sigstore_crypto::sha256(url.trim_end_matches('/').as_bytes()).to_hex();
        Self(format!("custom-{}", &h[..12]))
    }
}

/// A TUF repository to refresh trust material from.
#[derive(Debug, Clone)]
pub struct TufRepository {
    /// The cache subdirectory it refreshes.
    pub name: InstanceName,
    /// The repository's base URL.
    pub url: String,
    /// The trusted initial `root.json` bytes.
    pub root: Vec<u8>,
}

impl TufRepository {
    /// Sigstore public-good production, bootstrapped from the embedded root.
    pub fn production() -> Self {
        let i = SigstoreInstance::PublicGood;
        Self {
            name: InstanceName("production".into()),
            url: i.tuf_url().into(),
            root: i.tuf_root().to_vec(),
        }
    }

    /// Sigstore public-good staging, bootstrapped from the embedded root.
    pub fn staging() -> Self {
        let i = SigstoreInstance::Staging;
        Self {
            name: InstanceName("staging".into()),
            url: i.tuf_url().into(),
            root: i.tuf_root().to_vec(),
        }
    }

    /// Another repository, bootstrapped from a root you trust.
    pub fn custom(url: &str, root_path: &Path) -> Result<Self> {
        let root = std::fs::read(root_path).map_err(|source| Error::Read {
            path: root_path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            name: InstanceName::custom(url),
            url: url.trim_end_matches('/').to_string(),
            root,
        })
    }
}

/// What `keyless trust update` did.
#[derive(Debug, Clone)]
pub struct UpdateSummary {
    /// Directory the material was written to.
    pub dir: PathBuf,
    /// Certificate authorities, transparency logs, CT logs, TSAs in the root.
    pub counts: [usize; 4],
}

/// Refresh `repo`'s trusted root and signing config through TUF (metadata
/// checked at `now`), and store them under `cache/<name>/`. With `offline`,
/// only the local TUF cache is used: no network at all.
pub fn update_from_tuf(
    repo: &TufRepository,
    cache: &Path,
    now: jiff::Timestamp,
    offline: bool,
) -> Result<UpdateSummary> {
    use sigstore_trust_root::{TufBootstrap, TufConfig};
    let dir = cache.join(&repo.name.0);
    let fail = |reason: String| Error::TrustMaterial {
        source_name: format!("TUF repository {}", repo.url),
        reason,
    };
    // Offline, TUF re-verifies what an online run stored; without that
    // there is nothing to verify (and nothing should be created).
    let tuf_cache = dir.join("tuf");
    if offline && !tuf_cache.join("timestamp.json").is_file() {
        return Err(Error::NoTufCache {
            repository: repo.url.clone(),
            dir: tuf_cache,
        });
    }
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let mut config = TufConfig::custom(repo.url.clone(), TufBootstrap::trusted(&repo.root))
        .with_cache_dir(tuf_cache)
        .with_http_client(crate::net::tuf_http_client()?);
    if offline {
        config = config.offline();
    }
    let runtime = crate::net::current_thread_runtime()?;
    let (root, signing) = runtime
        .block_on(sigstore_trust_root::fetch_trust_material_at(config, now))
        .map_err(|e| fail(e.to_string()))?;
    check_trusted_root_media_type(&dir.join("trusted_root.json"), &root)?;
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        crate::files::write_atomic(&path, text.as_bytes()).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })
    };
    write(
        "trusted_root.json",
        pretty(&root).map_err(|e| fail(e.to_string()))?,
    )?;
    write(
        "signing_config.json",
        pretty(&signing).map_err(|e| fail(e.to_string()))?,
    )?;
    Ok(UpdateSummary {
        dir,
        counts: [
            root.certificate_authorities.len(),
            root.tlogs.len(),
            root.ctlogs.len(),
            root.timestamp_authorities.len(),
        ],
    })
}

fn pretty<T: serde::Serialize>(v: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_load_with_signing_configs() {
        // An empty cache, not the user's: the embedded snapshots are what
        // is loaded, whatever `keyless trust update` left on this machine.
        let cache = tempfile::tempdir().unwrap();
        for source in [TrustSource::Production, TrustSource::Staging] {
            let m = TrustMaterial::load_with_cache(&source, Some(cache.path())).unwrap();
            assert_eq!(m.path, None, "{source}: not the embedded snapshot");
            assert!(!m.trusted_root.certificate_authorities.is_empty());
            assert!(!m.trusted_root.tlogs.is_empty());
            assert!(m.signing_config.is_some(), "{source}");
        }
    }

    #[test]
    fn trust_config_with_wrong_media_type_is_refused() {
        let root = sigstore_trust_root::SIGSTORE_STAGING_TRUSTED_ROOT;
        let doc = format!(r#"{{"mediaType":"application/json","trustedRoot":{root}}}"#);
        let err = parse_client_trust_config(Path::new("t.json"), &doc).unwrap_err();
        assert!(err.to_string().contains("mediaType"), "{err}");
    }

    #[test]
    fn a_bundle_as_trust_config_is_named_as_one() {
        let doc = r#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}"#;
        let err = parse_client_trust_config(Path::new("b.json"), doc).unwrap_err();
        assert_eq!(
            err.to_string(),
            "b.json: not a valid client trust config: it is a Sigstore bundle (\"application/vnd.dev.sigstore.bundle.v0.3+json\"), not a ClientTrustConfig"
        );
        assert!(err.hint().unwrap().contains("--trust-config"));
        let err = parse_client_trust_config(Path::new("n.json"), "{}").unwrap_err();
        assert!(!err.to_string().contains("None"), "{err}");
        assert!(err.to_string().contains("no mediaType"), "{err}");
    }

    #[test]
    fn offline_without_a_tuf_cache_says_so_and_creates_nothing() {
        let cache = tempfile::tempdir().unwrap();
        let err = update_from_tuf(
            &TufRepository::staging(),
            cache.path(),
            jiff::Timestamp::now(),
            true,
        )
        .unwrap_err();
        assert!(matches!(err, Error::NoTufCache { .. }), "{err:?}");
        assert!(err.hint().unwrap().contains("without --offline"));
        assert!(!cache.path().join("staging").exists());
    }

    #[test]
    fn trust_config_reads_both_field_spellings() {
        let root = sigstore_trust_root::SIGSTORE_STAGING_TRUSTED_ROOT;
        for key in ["trustedRoot", "trusted_root"] {
            let doc =
                format!(r#"{{"mediaType":"{CLIENT_TRUST_CONFIG_MEDIA_TYPE}","{key}":{root}}}"#);
            let m = parse_client_trust_config(Path::new("t.json"), &doc).unwrap();
            assert!(!m.trusted_root.tlogs.is_empty());
            assert!(m.signing_config.is_none());
        }
    }

    #[test]
    fn trusted_root_with_unknown_media_type_is_refused() {
        let root = sigstore_trust_root::SIGSTORE_STAGING_TRUSTED_ROOT
            .replace("trustedroot+json;version=0.1", "trustedroot+json;version=9");
        let err = parse_trusted_root(Path::new("r.json"), &root).unwrap_err();
        assert!(err.to_string().contains("unknown mediaType"), "{err}");
    }
}
