//! The TUF signing keys: one per top-level role, their stored form, and
//! the key objects and IDs root metadata declares for them.

use super::canonical::canonical_json;
use crate::keys::{KeyKind, StoredKey, TestKey};
use crate::util::hex_encode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The four top-level TUF signing keys, one per role.
///
/// The same key may serve several roles (TUF allows it), but separate keys
/// are what [`TufKeys::generate`] produces, matching real deployments.
#[derive(Debug)]
pub struct TufKeys {
    /// Signs root metadata (and so authorizes all the other keys).
    pub root: TestKey,
    /// Signs targets metadata.
    pub targets: TestKey,
    /// Signs snapshot metadata.
    pub snapshot: TestKey,
    /// Signs timestamp metadata.
    pub timestamp: TestKey,
}

/// [`TufKeys`] as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredTufKeys {
    /// The root key.
    pub root: StoredKey,
    /// The targets key.
    pub targets: StoredKey,
    /// The snapshot key.
    pub snapshot: StoredKey,
    /// The timestamp key.
    pub timestamp: StoredKey,
}

impl TufKeys {
    /// Fresh ECDSA P-256 keys, the algorithm Sigstore's own TUF root uses.
    pub fn generate() -> Self {
        Self::fresh(KeyKind::EcdsaP256)
    }

    /// Fresh keys of `kind`; RSA is refused (see [`TufKeys::check`]).
    pub fn generate_with(kind: KeyKind) -> Result<Self, String> {
        supported(kind)?;
        Ok(Self::fresh(kind))
    }

    fn fresh(kind: KeyKind) -> Self {
        let k = || TestKey::generate(kind);
        Self {
            root: k(),
            targets: k(),
            snapshot: k(),
            timestamp: k(),
        }
    }

    /// Check every key can sign TUF metadata a client will accept.
    ///
    /// RSA is refused: [`TestKey`] signs RSASSA-PKCS1-v1_5, while TUF's RSA
    /// schemes (and sigstore-tuf) only know RSASSA-PSS.
    pub fn check(&self) -> Result<(), String> {
        for (role, key) in self.roles() {
            supported(key.kind()).map_err(|e| format!("{role} key: {e}"))?;
        }
        Ok(())
    }

    /// The stored form.
    pub fn to_stored(&self) -> StoredTufKeys {
        StoredTufKeys {
            root: self.root.to_stored(),
            targets: self.targets.to_stored(),
            snapshot: self.snapshot.to_stored(),
            timestamp: self.timestamp.to_stored(),
        }
    }

    /// Load the stored form, refusing keys TUF clients cannot verify.
    pub fn from_stored(stored: &StoredTufKeys) -> Result<Self, String> {
        let load = |role: &str, key: &StoredKey| {
            TestKey::from_stored(key).map_err(|e| format!("stored TUF {role} key: {e}"))
        };
        let keys = Self {
            root: load("root", &stored.root)?,
            targets: load("targets", &stored.targets)?,
            snapshot: load("snapshot", &stored.snapshot)?,
            timestamp: load("timestamp", &stored.timestamp)?,
        };
        keys.check()?;
        Ok(keys)
    }

    fn roles(&self) -> [(&'static str, &TestKey); 4] {
        [
            ("root", &self.root),
            ("targets", &self.targets),
            ("snapshot", &self.snapshot),
            ("timestamp", &self.timestamp),
        ]
    }
}

const RSA_REFUSED: &str = "RSA keys cannot sign TUF metadata here: they sign PKCS#1 v1.5, \
     but TUF only defines RSASSA-PSS schemes; use ECDSA P-256 or Ed25519";

fn supported(kind: KeyKind) -> Result<(), String> {
    match kind {
        KeyKind::EcdsaP256 | KeyKind::Ed25519 => Ok(()),
        KeyKind::Rsa2048 => Err(RSA_REFUSED.to_string()),
    }
}

/// Declared key IDs of the four roles.
pub(super) struct RoleIds {
    pub(super) root: String,
    pub(super) targets: String,
    pub(super) snapshot: String,
    pub(super) timestamp: String,
    /// Key ID -> TUF key object, as listed in root metadata.
    pub(super) keys: serde_json::Map<String, Value>,
}

impl RoleIds {
    pub(super) fn new(keys: &TufKeys) -> Result<Self, String> {
        let mut objects = serde_json::Map::new();
        let mut id = |key: &TestKey| -> Result<String, String> {
            let (id, object) = tuf_key(key)?;
            objects.insert(id.clone(), object);
            Ok(id)
        };
        Ok(Self {
            root: id(&keys.root)?,
            targets: id(&keys.targets)?,
            snapshot: id(&keys.snapshot)?,
            timestamp: id(&keys.timestamp)?,
            keys: objects,
        })
    }
}

/// The TUF key object for `key` and its key ID. sigstore-tuf treats declared
/// IDs as opaque, but we use the conventional one (SHA-256 of the canonical
/// key object) so other TUF tools agree.
fn tuf_key(key: &TestKey) -> Result<(String, Value), String> {
    let (keytype, scheme, public) = match key.kind() {
        KeyKind::EcdsaP256 => ("ecdsa", "ecdsa-sha2-nistp256", key.public_key_pem()),
        KeyKind::Ed25519 => ("ed25519", "ed25519", hex_encode(&key.public_key_raw())),
        KeyKind::Rsa2048 => return Err(RSA_REFUSED.to_string()),
    };
    let object = json!({ "keytype": keytype, "scheme": scheme, "keyval": { "public": public } });
    let id = super::sha256_hex(&canonical_json(&object)?);
    Ok((id, object))
}
