//! Who must have signed: the identity policy applied to a verified certificate.
//!
//! A policy is checked only after every cryptographic step has passed (see
//! [`super::Step`]); before that the certificate's claims are unauthenticated.

use crate::error::{Error, FileKind, Result};
use sigstore_crypto::CertificateInfo;

/// How one certificate value (SAN or issuer) must look.
#[derive(Debug, Clone)]
pub enum ValueMatcher {
    /// The value equals this string exactly.
    Exact(String),
    /// The value matches this regular expression in full.
    Regex(RegexMatcher),
}

/// A regular expression that must match a whole value.
///
/// cosign's `--certificate-identity-regexp` is unanchored (Go's
/// `MatchString`), so `https://gitlab.com/g/p` also accepts
/// `https://gitlab.com/g/p-evil/...`. keyless anchors the pattern at both
/// ends; write `.*` explicitly where a prefix match is meant.
#[derive(Debug, Clone)]
pub struct RegexMatcher {
    pattern: String,
    regex: regex::Regex,
}

impl RegexMatcher {
    /// Compile `pattern`, anchored to match the whole value.
    pub fn new(pattern: &str) -> Result<Self> {
        let invalid =
            |e: regex::Error| Error::Usage(format!("invalid regular expression {pattern:?}: {e}"));
        // Compile the pattern as written first, so an error points into the
        // user's text rather than into the anchors added around it.
        regex::Regex::new(pattern).map_err(invalid)?;
        let regex = regex::Regex::new(&format!(r"\A(?:{pattern})\z")).map_err(invalid)?;
        Ok(Self {
            pattern: pattern.to_string(),
            regex,
        })
    }

    /// Whether `value` matches in full.
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

impl ValueMatcher {
    /// The matcher an exact-value option and a regexp option describe
    /// (exact wins; the CLI makes them exclusive), or `None` for neither.
    pub fn from_options(exact: Option<&str>, regexp: Option<&str>) -> Result<Option<Self>> {
        Ok(match (exact, regexp) {
            (Some(exact), _) => Some(ValueMatcher::Exact(exact.to_string())),
            (None, Some(re)) => Some(ValueMatcher::Regex(RegexMatcher::new(re)?)),
            (None, None) => None,
        })
    }

    /// Whether `value` satisfies this matcher.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            ValueMatcher::Exact(expected) => value == expected,
            ValueMatcher::Regex(re) => re.is_match(value),
        }
    }
}

impl std::fmt::Display for ValueMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueMatcher::Exact(s) => write!(f, "{s:?}"),
            ValueMatcher::Regex(re) => write!(f, "a match for /{}/", re.pattern),
        }
    }
}

/// A Fulcio extension the certificate must carry, with a matching value.
#[derive(Debug, Clone)]
pub struct ExtensionRequirement {
    /// Which extension.
    pub extension: &'static crate::cert::Extension,
    /// Its required value.
    pub expected: ValueMatcher,
}

impl ExtensionRequirement {
    /// Parse `NAME=VALUE` or `OID=VALUE` (`--certificate-extension`).
    pub fn parse(spec: &str) -> Result<Self> {
        let (key, value) = spec.split_once('=').ok_or_else(|| {
            Error::Usage(format!(
                "--certificate-extension {spec:?} is not NAME=VALUE or OID=VALUE"
            ))
        })?;
        let extension = crate::cert::lookup(key).ok_or_else(|| {
            Error::Usage(format!(
                "unknown Fulcio extension {key:?}; use an OID 1.3.6.1.4.1.57264.1.N or one of: {}",
                crate::cert::EXTENSIONS
                    .iter()
                    .map(|e| e.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        Ok(Self {
            extension,
            expected: ValueMatcher::Exact(value.to_string()),
        })
    }

    fn check(&self, cert: &CertificateInfo) -> std::result::Result<(), String> {
        let e = self.extension;
        match crate::cert::value(cert, e.arc) {
            Some(found) if self.expected.matches(found) => Ok(()),
            Some(found) => Err(format!(
                "{} ({}) is {found:?}, expected {}",
                e.title, e.oid, self.expected
            )),
            None => Err(format!(
                "the certificate has no {} ({}), expected {}",
                e.title, e.oid, self.expected
            )),
        }
    }
}

/// The signer a keyless bundle must come from: certificate SAN, OIDC issuer,
/// and any Fulcio extensions.
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    identity: ValueMatcher,
    issuer: ValueMatcher,
    extensions: Vec<ExtensionRequirement>,
}

impl IdentityPolicy {
    /// Require the SAN to satisfy `identity` and the issuer to satisfy `issuer`.
    pub fn new(identity: ValueMatcher, issuer: ValueMatcher) -> Self {
        Self {
            identity,
            issuer,
            extensions: Vec::new(),
        }
    }

    /// Also require these Fulcio extensions.
    pub fn with_extensions(mut self, extensions: Vec<ExtensionRequirement>) -> Self {
        self.extensions.extend(extensions);
        self
    }

    /// Check a verified certificate's claims. The issuer is Fulcio's OID
    /// 1.3.6.1.4.1.57264.1.8, or the legacy .1.1 when .1.8 is absent.
    pub(crate) fn check(&self, cert: &CertificateInfo) -> std::result::Result<(), String> {
        // The issuer first: it says which instance's claims the rest are.
        match cert.issuer.as_deref() {
            Some(issuer) if self.issuer.matches(issuer) => {}
            Some(issuer) => {
                return Err(format!(
                    "OIDC issuer is {issuer:?}, expected {}",
                    self.issuer
                ));
            }
            None => return Err("certificate has no OIDC issuer extension".into()),
        }
        match cert.identity.as_ref().map(|s| s.as_str()) {
            Some(san) if self.identity.matches(san) => {}
            Some(san) => {
                return Err(format!(
                    "certificate identity (SAN) is {san:?}, expected {}",
                    self.identity
                ));
            }
            None => return Err("certificate has no email or URI identity".into()),
        }
        self.extensions.iter().try_for_each(|r| r.check(cert))
    }
}

/// What a bundle must prove besides its own integrity.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Policy {
    /// A keyless bundle whose certificate names this signer.
    Identity(IdentityPolicy),
    /// A bundle signed with this managed key (no certificate identity).
    PublicKey(sigstore_types::DerPublicKey),
}

impl Policy {
    /// A managed-key policy from a PEM public key file (cosign's `--key`).
    pub fn from_public_key_file(path: &std::path::Path) -> Result<Self> {
        let pem =
            crate::files::read_text_limited(path, MAX_PUBLIC_KEY_FILE_BYTES, FileKind::PublicKey)?;
        let key = sigstore_types::DerPublicKey::from_pem(&pem).map_err(|e| Error::Malformed {
            path: path.to_path_buf(),
            what: FileKind::PublicKey,
            reason: e.to_string(),
        })?;
        Ok(Policy::PublicKey(key))
    }
}

/// A PEM public key is a few hundred bytes; anything over this is the wrong file.
const MAX_PUBLIC_KEY_FILE_BYTES: u64 = 1024 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn regex_must_match_whole_value() {
        let re = RegexMatcher::new("https://gitlab.com/g/p").unwrap();
        assert!(re.is_match("https://gitlab.com/g/p"));
        assert!(!re.is_match("https://gitlab.com/g/p-evil//.gitlab-ci.yml@refs/heads/main"));
        assert!(!re.is_match("xhttps://gitlab.com/g/p"));
        // Alternation must not escape the anchors.
        let re = RegexMatcher::new("a|b").unwrap();
        assert!(!re.is_match("ab"));
        assert!(!re.is_match("a\n"));
    }

    #[test]
    fn invalid_regex_is_a_usage_error() {
        assert!(matches!(
            RegexMatcher::new("(unclosed"),
            Err(Error::Usage(_))
        ));
    }

    proptest! {
        #[test]
        fn literal_regex_accepts_only_itself(s in "[a-z:/.@]{1,20}", extra in "[a-z]{1,5}") {
            let re = RegexMatcher::new(&regex::escape(&s)).unwrap();
            prop_assert!(re.is_match(&s));
            let longer = format!("{s}{extra}");
            let prefixed = format!("{extra}{s}");
            prop_assert!(!re.is_match(&longer));
            prop_assert!(!re.is_match(&prefixed));
        }
    }
}
