//! Predicate types: the one table of the names `--type` takes, spelled and
//! meaning what they do in cosign 3 (`cmd/cosign/cli/options/predicate.go`),
//! so that `--type slsaprovenance1` asks the same of a statement whichever
//! tool is used.

use crate::error::{Error, Result};

/// SLSA provenance v1.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// SLSA provenance v0.2.
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";

/// `--type` names and the predicate type each stands for.
pub const ALIASES: &[(&str, &str)] = &[
    // cosign's default type for a predicate of no named kind.
    ("custom", "https://cosign.sigstore.dev/attestation/v1"),
    ("slsaprovenance", SLSA_PROVENANCE_V02),
    ("slsaprovenance02", SLSA_PROVENANCE_V02),
    ("slsaprovenance1", SLSA_PROVENANCE_V1),
    ("spdx", "https://spdx.dev/Document"),
    ("spdxjson", "https://spdx.dev/Document"),
    ("cyclonedx", "https://cyclonedx.org/bom"),
    ("link", "https://in-toto.io/Link/v1"),
    ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
    ("openvex", "https://openvex.dev/ns"),
];

/// The predicate type `--type TYPE` names: an alias from [`ALIASES`], or
/// an absolute URI taken as is (as cosign takes one).
pub fn resolve(name: &str) -> Result<String> {
    if let Some((_, uri)) = ALIASES.iter().find(|(alias, _)| *alias == name) {
        return Ok((*uri).to_string());
    }
    if is_absolute_uri(name) {
        return Ok(name.to_string());
    }
    Err(Error::Usage(format!(
        "--type {name:?} is neither a predicate type URI nor one of {}",
        ALIASES
            .iter()
            .map(|(a, _)| *a)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// `scheme:rest`, the scheme as RFC 3986 spells it, no spaces or controls.
fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_uris() {
        assert_eq!(resolve("slsaprovenance1").unwrap(), SLSA_PROVENANCE_V1);
        assert_eq!(resolve("slsaprovenance").unwrap(), SLSA_PROVENANCE_V02);
        assert_eq!(resolve("slsaprovenance02").unwrap(), SLSA_PROVENANCE_V02);
        assert_eq!(
            resolve("custom").unwrap(),
            "https://cosign.sigstore.dev/attestation/v1"
        );
        assert_eq!(resolve("openvex").unwrap(), "https://openvex.dev/ns");
        assert_eq!(
            resolve("https://example.com/p/v1").unwrap(),
            "https://example.com/p/v1"
        );
        for bad in ["slsa", "", "not a uri", "https://x y", ":x", "1x:y"] {
            assert!(matches!(resolve(bad), Err(Error::Usage(_))), "{bad:?}");
        }
    }
}
