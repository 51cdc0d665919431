//! Searching the log's index: what to search for, what was found, and
//! whether a listed entry holds what was searched for.

use super::entry;
use crate::error::{Error, FileKind, Result};
use sigstore_types::{DerPublicKey, Sha256Hash};
use std::path::Path;

/// What to search the log's index for.
#[derive(Debug, Clone)]
pub enum SearchQuery {
    /// Entries for an artifact with this SHA-256 digest.
    Sha256(Sha256Hash),
    /// Entries signed with this key, or a certificate for it.
    PublicKey {
        /// The PEM text as given (public key or certificate).
        pem: String,
        /// Its SubjectPublicKeyInfo, DER, to check the results against.
        spki: sigstore_types::DerPublicKey,
    },
}

impl SearchQuery {
    /// A search by artifact digest written as 64 hex digits (an optional
    /// `sha256:` prefix is allowed).
    pub fn sha256_hex(hex: &str) -> Result<Self> {
        let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Usage(format!(
                "{hex:?} is not a SHA-256 digest (64 hex digits)"
            )));
        }
        Sha256Hash::from_hex(&hex.to_ascii_lowercase())
            .map(SearchQuery::Sha256)
            .map_err(|e| Error::Usage(format!("{hex:?}: {e}")))
    }

    /// A search by the SHA-256 of a file, read as a stream.
    pub fn artifact(path: &Path) -> Result<Self> {
        crate::digest::sha256_file(path).map(SearchQuery::Sha256)
    }

    /// A search by a PEM public key or certificate file.
    pub fn public_key(path: &Path) -> Result<Self> {
        const WHAT: FileKind = FileKind::PublicKeyOrCertificate;
        let pem = crate::files::read_text_limited(path, 256 * 1024, WHAT)?;
        let malformed = |reason: String| Error::Malformed {
            path: path.to_path_buf(),
            what: WHAT,
            reason,
        };
        let spki = if pem.contains("-----BEGIN CERTIFICATE-----") {
            let cert = sigstore_types::DerCertificate::from_pem(&pem)
                .map_err(|e| malformed(e.to_string()))?;
            sigstore_crypto::parse_certificate_info(&cert)
                .map_err(|e| malformed(e.to_string()))?
                .public_key
        } else {
            sigstore_types::DerPublicKey::from_pem(&pem).map_err(|e| malformed(e.to_string()))?
        };
        Ok(SearchQuery::PublicKey { pem, spki })
    }

    /// How the query is shown.
    pub fn describe(&self) -> String {
        match self {
            SearchQuery::Sha256(d) => format!("sha256:{}", d.to_hex()),
            SearchQuery::PublicKey { spki, .. } => format!(
                "public key sha256:{}",
                sigstore_crypto::sha256(spki.as_bytes()).to_hex()
            ),
        }
    }
}

/// What a search found.
#[derive(Debug)]
pub struct SearchReport {
    /// The query, as shown.
    pub query: String,
    /// How many UUIDs the index listed.
    pub total: usize,
    /// The entries fetched (at most the limit), each verified.
    pub entries: Vec<entry::EntryReport>,
}

impl SearchReport {
    /// Whether every fetched entry verified and matched the query.
    pub fn all_ok(&self) -> bool {
        self.entries.iter().all(|e| e.verdict.is_ok())
    }
}

/// Why an entry the search index listed does not contain what was searched
/// for, when its body can tell. Rekor also indexes dsse and intoto entries
/// by their statements' subjects, which their bodies do not hold: those are
/// not second-guessed.
pub(super) fn mismatch(body: &[u8], query: &SearchQuery) -> Option<String> {
    let d = entry::describe(body);
    match query {
        SearchQuery::Sha256(want) => {
            let digest = d.digest.filter(|g| g.what == "artifact")?;
            (digest.algorithm != "sha256" || digest.hex != want.to_hex()).then(|| {
                format!(
                    "the entry is for {}:{}, not sha256:{}",
                    digest.algorithm,
                    digest.hex,
                    want.to_hex()
                )
            })
        }
        SearchQuery::PublicKey { spki, .. } => {
            let mut keys: Vec<DerPublicKey> = d
                .certificates
                .iter()
                .filter_map(|c| sigstore_crypto::parse_certificate_info(c).ok())
                .map(|i| i.public_key)
                .collect();
            keys.extend(d.public_keys);
            (!keys.is_empty() && !keys.contains(spki))
                .then(|| "no key or certificate in the entry is the one searched for".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_queries_validate_their_input() {
        assert!(SearchQuery::sha256_hex("zz").is_err());
        let hex = "AB".repeat(32);
        let SearchQuery::Sha256(d) = SearchQuery::sha256_hex(&format!("sha256:{hex}")).unwrap()
        else {
            panic!("a digest query")
        };
        assert_eq!(d.to_hex(), "ab".repeat(32));
    }
}
