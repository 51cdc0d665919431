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
    /// The pattern as written, unanchored: whether it matches part of a
    /// value it failed to match in full says what to suggest.
    unanchored: regex::Regex,
    /// Whether a person wrote it (an option), so a failure may suggest how
    /// to write it; false for patterns keyless builds itself.
    written: bool,
}

impl RegexMatcher {
    /// Compile `pattern`, anchored to match the whole value.
    pub fn new(pattern: &str) -> Result<Self> {
        let invalid =
            |e: regex::Error| Error::Usage(format!("invalid regular expression {pattern:?}: {e}"));
        // Compile the pattern as written first, so an error points into the
        // user's text rather than into the anchors added around it.
        let unanchored = regex::Regex::new(pattern).map_err(invalid)?;
        let regex = regex::Regex::new(&format!(r"\A(?:{pattern})\z")).map_err(invalid)?;
        Ok(Self {
            pattern: pattern.to_string(),
            regex,
            unanchored,
            written: true,
        })
    }

    /// A pattern keyless builds itself (a preset's): a failure to match it
    /// suggests no rewriting.
    pub(crate) fn built(pattern: &str) -> Result<Self> {
        Ok(Self {
            written: false,
            ..Self::new(pattern)?
        })
    }

    /// For a value this pattern does not match in full but matches part
    /// of: the pattern with `.*` added on the side(s) where the value has
    /// more, which does match it in full. `None` otherwise.
    fn widened_for(&self, value: &str) -> Option<String> {
        if !self.written || self.is_match(value) {
            return None;
        }
        let found = self.unanchored.find(value)?;
        // A top-level alternation must not bind to the added `.*`.
        let body = if self.pattern.contains('|') {
            format!("(?:{})", self.pattern)
        } else {
            self.pattern.clone()
        };
        let widened = format!(
            "{}{body}{}",
            if found.start() > 0 { ".*" } else { "" },
            if found.end() < value.len() { ".*" } else { "" }
        );
        // Suggest only what is known to work.
        Self::new(&widened)
            .ok()
            .filter(|re| re.is_match(value))
            .map(|_| widened)
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

    /// When the claim [`IdentityPolicy::check`] refuses first is the
    /// issuer or identity, matched by a written regexp that matches part
    /// of the value: which, and the widened pattern that would accept it.
    pub(crate) fn anchored_miss(&self, cert: &CertificateInfo) -> Option<AnchoredMiss> {
        let miss = |claim, matcher: &ValueMatcher, value: &str| match matcher {
            ValueMatcher::Regex(re) => re.widened_for(value).map(|suggestion| AnchoredMiss {
                claim,
                pattern: re.pattern.clone(),
                suggestion,
            }),
            ValueMatcher::Exact(_) => None,
        };
        let issuer = cert.issuer.as_deref()?;
        if !self.issuer.matches(issuer) {
            return miss(Claim::Issuer, &self.issuer, issuer);
        }
        let san = cert.identity.as_ref()?.as_str();
        if !self.identity.matches(san) {
            return miss(Claim::Identity, &self.identity, san);
        }
        None
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

/// Which certificate claim a policy matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The SAN (`--certificate-identity-regexp`).
    Identity,
    /// The OIDC issuer (`--certificate-oidc-issuer-regexp`).
    Issuer,
}

/// A regexp that failed only because keyless anchors it: it matches part of
/// the certificate's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchoredMiss {
    /// The claim it was matched against.
    pub claim: Claim,
    /// The pattern as written.
    pub pattern: String,
    /// The pattern with `.*` where the value has more; it matches the
    /// value in full.
    pub suggestion: String,
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
    fn a_partial_match_suggests_the_widened_pattern() {
        let san = "https://gitlab.com/g/p//.gitlab-ci.yml@refs/tags/v1.0";
        let widened = |p: &str| RegexMatcher::new(p).unwrap().widened_for(san);
        assert_eq!(widened("g/p").as_deref(), Some(".*g/p.*"));
        assert_eq!(
            widened("https://gitlab.com/g/p").as_deref(),
            Some("https://gitlab.com/g/p.*")
        );
        assert_eq!(
            widened("refs/tags/v1.0").as_deref(),
            Some(".*refs/tags/v1.0")
        );
        assert_eq!(widened("nope|g/p").as_deref(), Some(".*(?:nope|g/p).*"));
        // A full match, no match at all, or a pattern keyless built: nothing.
        assert_eq!(widened(".*"), None);
        assert_eq!(widened("gitlab\\.example"), None);
        assert_eq!(RegexMatcher::built("g/p").unwrap().widened_for(san), None);
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
