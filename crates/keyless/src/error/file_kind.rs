//! The kinds of file keyless reads: each names itself in messages and
//! chooses the hint for a file that is not what it should be.

/// What kind of file keyless expected to read: it names the file in
/// messages and chooses the hint for a file that is not what it should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileKind {
    /// A Sigstore bundle (`<file>.sigstore.json`).
    Bundle,
    /// A PEP 740 publish attestation.
    Attestation,
    /// What `keyless inspect` reads: a bundle, an attestation or a certificate.
    Inspectable,
    /// A `trusted_root.json`.
    TrustedRoot,
    /// A ClientTrustConfig (trusted root + signing config).
    ClientTrustConfig,
    /// A signing config (v0.2).
    SigningConfig,
    /// A PEM public key (`--key`).
    PublicKey,
    /// A PEM public key or certificate (`rekor search --public-key`).
    PublicKeyOrCertificate,
    /// A cosign-style base64 signature (`.sig`).
    Signature,
    /// A cosign-style PEM certificate (`.crt`).
    Certificate,
    /// A Rekor entry (`rekor verify-entry`).
    TransparencyLogEntry,
    /// The state file of `keyless rekor monitor`.
    MonitorState,
    /// A file holding an identity token (`--identity-token @FILE`).
    IdentityToken,
    /// A checksum list (`verify --from`, in `sha256sum`'s format).
    ChecksumList,
    /// An in-toto statement (`attest --statement`).
    Statement,
    /// A predicate (`attest --predicate`): JSON.
    Predicate,
    /// A pip requirements file with `--hash` pins (`verify pypi -r`).
    Requirements,
    /// A PEP 751 lock file (`pylock.toml`).
    PyLock,
    /// `verify pypi --publishers`: package names and their publishers.
    Publishers,
}

impl FileKind {
    /// The kind's name in messages ("Sigstore bundle", "trusted root", ...).
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Bundle => "Sigstore bundle",
            FileKind::Attestation => "PEP 740 attestation",
            FileKind::Inspectable => "bundle, PEP 740 attestation or certificate",
            FileKind::TrustedRoot => "trusted root",
            FileKind::ClientTrustConfig => "client trust config",
            FileKind::SigningConfig => "signing config",
            FileKind::PublicKey => "PEM public key",
            FileKind::PublicKeyOrCertificate => "PEM public key or certificate",
            FileKind::Signature => "base64 signature",
            FileKind::Certificate => "PEM certificate",
            FileKind::TransparencyLogEntry => "transparency log entry",
            FileKind::MonitorState => "monitor state file",
            FileKind::IdentityToken => "identity token file",
            FileKind::ChecksumList => "checksum list",
            FileKind::Statement => "in-toto statement",
            FileKind::Predicate => "predicate",
            FileKind::Requirements => "requirements file",
            FileKind::PyLock => "PEP 751 lock file",
            FileKind::Publishers => "publisher policy file",
        }
    }

    /// How to get a file of this kind right.
    pub(super) fn hint(self) -> &'static str {
        match self {
            FileKind::Bundle => {
                "a Sigstore bundle is a JSON document with a mediaType such as application/vnd.dev.sigstore.bundle.v0.3+json"
            }
            FileKind::Attestation => {
                "a PEP 740 attestation is the JSON `keyless attest` writes and PyPI serves (version 1, verification_material, envelope)"
            }
            FileKind::Inspectable => {
                "pass a Sigstore bundle, a PEM or DER certificate, or a PEP 740 attestation"
            }
            FileKind::TrustedRoot | FileKind::ClientTrustConfig => {
                "pass a trusted_root.json with --trusted-root or a ClientTrustConfig with --trust-config"
            }
            FileKind::SigningConfig => {
                "pass a signing config (media type application/vnd.dev.sigstore.signingconfig.v0.2+json) with --signing-config, or a ClientTrustConfig with --trust-config"
            }
            FileKind::PublicKey => {
                "pass a PEM public key (-----BEGIN PUBLIC KEY-----), as cosign's --key takes"
            }
            FileKind::PublicKeyOrCertificate => {
                "pass a PEM file (-----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----)"
            }
            FileKind::Signature => {
                "pass the base64 signature cosign sign-blob wrote (--output-signature, or keyless sign --legacy-outputs)"
            }
            FileKind::Certificate => {
                "pass the PEM certificate (or base64 of it) cosign sign-blob wrote (--output-certificate, or keyless sign --legacy-outputs)"
            }
            FileKind::TransparencyLogEntry => {
                "pass Rekor's answer for one entry ({\"<uuid>\": {...}}, e.g. from GET /api/v1/log/entries?logIndex=N) or one element of a bundle's verificationMaterial.tlogEntries"
            }
            FileKind::MonitorState => {
                "the file is written by `keyless rekor monitor`; pass another --state path to start monitoring afresh"
            }
            FileKind::IdentityToken => "the file must hold the JWT itself, as text",
            FileKind::Requirements => {
                "one NAME==VERSION per line with its --hash=sha256:<hex> pins, as `pip-compile --generate-hashes` or `uv pip compile --generate-hashes` writes it"
            }
            FileKind::PyLock => {
                "a PEP 751 pylock.toml (lock-version 1.x), as `uv export --format pylock.toml` or `pip lock` writes it; packages from an index, with sha256 hashes"
            }
            FileKind::Publishers => {
                "TOML: [[packages]] tables with name and attestation-identities (as in pylock.toml), e.g. attestation-identities = [{kind = \"GitLab\", repository = \"group/project\", workflow_filepath = \".gitlab-ci.yml\"}]"
            }
            FileKind::ChecksumList => {
                "one artifact per line, '<sha256 hex>  <name>' as sha256sum writes it (the name is the rest of the line); write the list with sha256sum, not by hand"
            }
            FileKind::Statement => {
                "an in-toto statement is a JSON object with _type https://in-toto.io/Statement/v1 (or v0.1), subject (name and digest of each file) and predicateType; to sign a bare predicate use --predicate FILE --type TYPE"
            }
            FileKind::Predicate => {
                "a predicate is JSON (the SLSA provenance, SBOM or other document the statement carries); to sign a whole statement use --statement FILE"
            }
        }
    }
}

impl std::fmt::Display for FileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
