//! Trust material: which Fulcio CAs, CT logs, Rekor logs and TSAs to believe.
//!
//! Verification never needs the network: the production and staging trusted
//! roots are embedded (from `sigstore-trust-root`), and a deployment can pass
//! its own `trusted_root.json` or a ClientTrustConfig (trusted root plus
//! signing config, as sigstore-python's `--trust-config` reads).

use crate::error::{Error, Result};
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
    /// The roots of trust used for verification.
    pub trusted_root: TrustedRoot,
    /// The services to sign with, when the source names them.
    pub signing_config: Option<SigningConfig>,
}

impl TrustMaterial {
    /// Load trust material from `source`, without touching the network.
    pub fn load(source: &TrustSource) -> Result<Self> {
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
                })
            }
            TrustSource::TrustedRootFile(path) => {
                let text = read_text_limited(path, MAX_TRUST_FILE_BYTES, "trusted root")?;
                Ok(Self {
                    source: source.clone(),
                    trusted_root: parse_trusted_root(path, &text)?,
                    signing_config: None,
                })
            }
            TrustSource::TrustConfigFile(path) => {
                let text = read_text_limited(path, MAX_TRUST_FILE_BYTES, "client trust config")?;
                parse_client_trust_config(path, &text)
            }
        }
    }
}

fn malformed(path: &Path, what: &'static str, reason: impl Into<String>) -> Error {
    Error::Malformed {
        path: path.to_path_buf(),
        what,
        reason: reason.into(),
    }
}

fn parse_trusted_root(path: &Path, text: &str) -> Result<TrustedRoot> {
    let root =
        TrustedRoot::from_json(text).map_err(|e| malformed(path, "trusted root", e.to_string()))?;
    check_trusted_root_media_type(path, &root)?;
    Ok(root)
}

fn check_trusted_root_media_type(path: &Path, root: &TrustedRoot) -> Result<()> {
    if root.media_type != TRUSTED_ROOT_MEDIA_TYPE && root.media_type != TRUSTED_ROOT_MEDIA_TYPE_V02
    {
        return Err(malformed(
            path,
            "trusted root",
            format!("unknown mediaType {:?}", root.media_type),
        ));
    }
    Ok(())
}

/// Parse a ClientTrustConfig. Protobuf JSON allows both the camelCase and
/// the original snake_case field names, and real files use both
/// (sigstore-python's test assets say `signing_config`), so both are read.
fn parse_client_trust_config(path: &Path, text: &str) -> Result<TrustMaterial> {
    const WHAT: &str = "client trust config";
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| malformed(path, WHAT, e.to_string()))?;
    let field = |camel: &str, snake: &str| doc.get(camel).or_else(|| doc.get(snake));
    match field("mediaType", "media_type").and_then(|v| v.as_str()) {
        Some(CLIENT_TRUST_CONFIG_MEDIA_TYPE) => {}
        other => {
            return Err(malformed(
                path,
                WHAT,
                format!("mediaType is {other:?}, expected {CLIENT_TRUST_CONFIG_MEDIA_TYPE:?}"),
            ));
        }
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_load_with_signing_configs() {
        for source in [TrustSource::Production, TrustSource::Staging] {
            let m = TrustMaterial::load(&source).unwrap();
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
