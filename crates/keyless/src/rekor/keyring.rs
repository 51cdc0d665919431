//! The keyring of trusted logs: the transparency logs a trust root names,
//! with their parsed keys, found by log ID, checkpoint key hint or URL.

use crate::error::{Error, Result};
use crate::trust::TrustMaterial;
use sigstore_crypto::VerificationKey;
use sigstore_types::{Sha256Hash, TimeRange};

/// One transparency log of the trust root, with its parsed key.
pub struct TrustedLog {
    /// The log ID: SHA-256 of the DER key (Rekor v1) or the C2SP signed-note
    /// key ID (Rekor v2). Its first four bytes are the checkpoint key hint.
    pub log_id: Sha256Hash,
    /// Where the trust root says the log is.
    pub base_url: String,
    pub(super) key: VerificationKey,
    valid_for: Option<TimeRange>,
}

impl std::fmt::Debug for TrustedLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedLog")
            .field("log_id", &self.log_id.to_hex())
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl TrustedLog {
    /// Whether the key's validity window has started by `time`. Expired keys
    /// stay usable for checkpoints, as the Sigstore clients keep them for
    /// historical material.
    fn started_by(&self, time: jiff::Timestamp) -> bool {
        self.valid_for.is_none_or(|v| v.has_started_by(time))
    }

    /// Whether the key was valid at `time` (an integrated time).
    pub(super) fn valid_at(&self, time: jiff::Timestamp) -> bool {
        self.valid_for.is_none_or(|v| v.contains(time))
    }

    fn key_hint(&self) -> [u8; 4] {
        let mut hint = [0u8; 4];
        hint.copy_from_slice(&self.log_id.as_bytes()[..4]);
        hint
    }
}

/// The transparency logs a trust root names, with their keys.
#[derive(Debug)]
pub struct TrustedLogs {
    logs: Vec<TrustedLog>,
}

impl TrustedLogs {
    /// The logs of `trust` whose keys sigstore-crypto supports.
    pub fn new(trust: &TrustMaterial) -> Result<Self> {
        let fail = |reason: String| Error::TrustMaterial {
            source_name: trust.source.to_string(),
            reason,
        };
        let mut logs: Vec<TrustedLog> = Vec::new();
        for tlog in &trust.trusted_root.tlogs {
            // A key type this build cannot check is skipped, as
            // sigstore-trust-root's own keyring does.
            let Ok(key) = VerificationKey::from_spki(&tlog.public_key.raw_bytes) else {
                continue;
            };
            let log_id = Sha256Hash::try_from(tlog.log_id.key_id.as_bytes())
                .map_err(|e| fail(format!("transparency log ID: {e}")))?;
            if logs.iter().any(|l| l.log_id == log_id) {
                return Err(fail(format!(
                    "transparency log ID {} appears twice",
                    log_id.to_hex()
                )));
            }
            logs.push(TrustedLog {
                log_id,
                base_url: tlog.base_url.trim_end_matches('/').to_string(),
                key,
                valid_for: tlog.public_key.valid_for,
            });
        }
        if logs.is_empty() {
            return Err(fail(
                "it names no transparency log with a usable key".into(),
            ));
        }
        Ok(Self { logs })
    }

    /// The log with this ID.
    pub fn by_id(&self, log_id: &Sha256Hash) -> Option<&TrustedLog> {
        self.logs.iter().find(|l| &l.log_id == log_id)
    }

    /// The logs the trust root places at `url`.
    pub(crate) fn at_url<'a>(&'a self, url: &'a str) -> impl Iterator<Item = &'a TrustedLog> {
        let url = url.trim_end_matches('/');
        self.logs
            .iter()
            .filter(move |l| l.base_url.trim_end_matches('/') == url)
    }

    /// The logs whose ID starts with `hint` and whose key had started being
    /// valid by `now` (four-byte hints may collide: all are returned).
    pub(super) fn by_hint(
        &self,
        hint: &[u8; 4],
        now: jiff::Timestamp,
    ) -> impl Iterator<Item = &TrustedLog> {
        self.logs
            .iter()
            .filter(move |l| &l.key_hint() == hint && l.started_by(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_logs_load_from_the_embedded_root() {
        let trust = TrustMaterial::load_uncached(&crate::trust::TrustSource::Production).unwrap();
        let logs = TrustedLogs::new(&trust).unwrap();
        assert!(!logs.logs.is_empty());
        let first = &logs.logs[0];
        assert!(logs.by_id(&first.log_id).is_some());
        assert!(first.base_url.starts_with("https://"));
    }
}
