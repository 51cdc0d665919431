//! Trust material the testbed publishes: `trusted_root.json`,
//! `signing_config.json` (v0.2) and `trust_config.json` (ClientTrustConfig).

use super::ca::FulcioCa;
use super::keys::KeyKind;
use super::rekor::TransparencyLog;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

/// A key (or CA) of the trusted root, named for `--valid-until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrustedKey {
    /// The Fulcio CA (its certificate chain).
    Fulcio,
    /// The CT log Fulcio's SCTs come from.
    CtLog,
    /// The Rekor v1 log's key (SETs and checkpoints).
    RekorV1,
    /// The Rekor v2 log's key (checkpoints).
    RekorV2,
    /// The TSA (its certificate chain).
    Tsa,
}

impl TrustedKey {
    /// Every key, in the order of [`TrustedKey::name`]'s names.
    pub const ALL: [Self; 5] = [
        Self::Fulcio,
        Self::CtLog,
        Self::RekorV1,
        Self::RekorV2,
        Self::Tsa,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fulcio => "fulcio",
            Self::CtLog => "ct-log",
            Self::RekorV1 => "rekor-v1",
            Self::RekorV2 => "rekor-v2",
            Self::Tsa => "tsa",
        }
    }
}

/// `KEY=TIME`: the trusted root gives `KEY`'s validity window an end
/// (`validFor.end`, RFC 3339), as Sigstore does when it retires a key.
/// Material the key signed after TIME must then fail verification; what it
/// signed before stays valid. A TIME before the window's start makes the
/// trusted root itself invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEnd {
    /// Whose window ends.
    pub key: TrustedKey,
    /// When.
    pub end: jiff::Timestamp,
}

impl std::str::FromStr for KeyEnd {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (name, time) = s
            .split_once('=')
            .ok_or_else(|| format!("{s:?} is not KEY=TIME"))?;
        let key = TrustedKey::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                let names: Vec<_> = TrustedKey::ALL.iter().map(|k| k.name()).collect();
                format!("no key {name:?}; keys: {}", names.join(", "))
            })?;
        let end = time
            .parse()
            .map_err(|e| format!("{time:?} is not an RFC 3339 time: {e}"))?;
        Ok(Self { key, end })
    }
}

/// Everything the documents describe.
pub struct Services<'a> {
    /// Base URL of the testbed (`http://127.0.0.1:PORT`).
    pub url: &'a str,
    /// When the instance became valid (RFC 3339).
    pub valid_from: String,
    /// Keys whose validity window ends (the last end named for a key wins).
    pub ends: &'a [KeyEnd],
    /// Fulcio.
    pub ca: &'a FulcioCa,
    /// Rekor v1.
    pub rekor_v1: &'a TransparencyLog,
    /// Rekor v2.
    pub rekor_v2: &'a TransparencyLog,
    /// The TSA's chain (leaf first), DER, when a TSA runs.
    pub tsa_chain: Option<Vec<Vec<u8>>>,
}

/// The trust files the testbed writes to its state directory and serves
/// under `/trust/`.
pub const TRUST_FILES: [&str; 5] = [
    "trusted_root.json",
    "signing_config.json",
    "signing_config_v2.json",
    "trust_config.json",
    "trust_config_v2.json",
];

fn cert_chain(ders: &[&[u8]]) -> Value {
    json!({"certificates": ders.iter().map(|d| json!({"rawBytes": B64.encode(d)})).collect::<Vec<_>>()})
}

fn tlog(url: &str, log: &TransparencyLog, valid_for: Value) -> Value {
    let key_details = match log.key_kind() {
        KeyKind::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        KeyKind::Ed25519 => "PKIX_ED25519",
        KeyKind::Rsa2048 => "PKIX_RSA_PKCS1V15_2048_SHA256",
    };
    json!({
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": B64.encode(log.public_key_spki()),
            "keyDetails": key_details,
            "validFor": valid_for,
        },
        "logId": {"keyId": B64.encode(log.log_id())},
    })
}

impl Services<'_> {
    /// `key`'s validity window: from the instance's start, to its end if
    /// one is named.
    fn valid_for(&self, key: TrustedKey) -> Value {
        let mut window = json!({"start": self.valid_from});
        if let Some(e) = self.ends.iter().rev().find(|e| e.key == key) {
            window["end"] = json!(e.end.to_string());
        }
        window
    }

    /// The trusted root (media type v0.1, as public-good Sigstore serves).
    pub fn trusted_root(&self) -> Value {
        let ca = self.ca;
        let mut root = json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [
                tlog(self.url, self.rekor_v1, self.valid_for(TrustedKey::RekorV1)),
                tlog(self.url, self.rekor_v2, self.valid_for(TrustedKey::RekorV2)),
            ],
            "certificateAuthorities": [{
                "subject": {"organization": "keyless-testbed", "commonName": "keyless-testbed Fulcio"},
                "uri": self.url,
                "certChain": cert_chain(&[ca.intermediate_der(), ca.root_der()]),
                "validFor": self.valid_for(TrustedKey::Fulcio),
            }],
            "ctlogs": [{
                "baseUrl": self.url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": B64.encode(ca.ct_public_key()),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": self.valid_for(TrustedKey::CtLog),
                },
                "logId": {"keyId": B64.encode(ca.ct_log_id())},
            }],
            "timestampAuthorities": [],
        });
        if let Some(chain) = &self.tsa_chain {
            let refs: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
            root["timestampAuthorities"] = json!([{
                "subject": {"organization": "keyless-testbed", "commonName": "keyless-testbed TSA"},
                "uri": format!("{}/api/v1/timestamp", self.url),
                "certChain": cert_chain(&refs),
                "validFor": self.valid_for(TrustedKey::Tsa),
            }]);
        }
        root
    }

    /// The signing config (v0.2). `rekor_version` picks which log is listed:
    /// v1 like public-good production today, or v2 like staging.
    pub fn signing_config(&self, rekor_version: u32) -> Value {
        let svc = |url: String, major: u32| {
            json!({
                "url": url,
                "majorApiVersion": major,
                "validFor": {"start": self.valid_from},
                "operator": "keyless-testbed",
            })
        };
        let mut tsa_urls = Vec::new();
        if self.tsa_chain.is_some() {
            tsa_urls.push(svc(format!("{}/api/v1/timestamp", self.url), 1));
        }
        json!({
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [svc(self.url.to_string(), 1)],
            "oidcUrls": [svc(self.url.to_string(), 1)],
            "rekorTlogUrls": [svc(self.url.to_string(), rekor_version)],
            "tsaUrls": tsa_urls,
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"},
        })
    }

    /// The document of trust file `name` (one of [`TRUST_FILES`]).
    pub fn trust_file(&self, name: &str) -> Option<Value> {
        Some(match name {
            "trusted_root.json" => self.trusted_root(),
            "signing_config.json" => self.signing_config(1),
            "signing_config_v2.json" => self.signing_config(2),
            "trust_config.json" => self.trust_config(1),
            "trust_config_v2.json" => self.trust_config(2),
            _ => return None,
        })
    }

    /// A ClientTrustConfig combining both.
    pub fn trust_config(&self, rekor_version: u32) -> Value {
        json!({
            "mediaType": keyless::trust::CLIENT_TRUST_CONFIG_MEDIA_TYPE,
            "trustedRoot": self.trusted_root(),
            "signingConfig": self.signing_config(rekor_version),
        })
    }
}
