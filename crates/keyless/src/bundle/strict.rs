//! The bundle's JSON, read as strictly as the protobuf-specs JSON mapping
//! and the strictest Sigstore clients read it, before `sigstore-types`
//! (which, as serde does by default, ignores what it does not know).
//!
//! The bundle's media type, its member names and its enum spellings are not
//! signed. Whatever keyless accepts and the other clients refuse is room for
//! a bundle that means one thing to keyless and another (or nothing) to the
//! next verifier, so keyless refuses:
//!
//! - a member no message of the bundle schema (protobuf-specs
//!   `sigstore_bundle.proto` and the messages it uses) has: sigstore-go's
//!   protojson and sigstore-python refuse it too;
//! - a message that is not a JSON object, a repeated field that is not an
//!   array (serde would read a struct from an array);
//! - an enum value spelled otherwise than its protobuf name (`"sha2_256"`
//!   for `SHA2_256`), as sigstore-go and sigstore-python do;
//! - a verification material the bundle's version does not have: a single
//!   `certificate` in v0.1/v0.2, a `x509CertificateChain` in v0.3
//!   (protobuf-specs: the chain is for v0.1 and v0.2, the certificate for
//!   v0.3 and later), as sigstore-python does. A v0.3 bundle relabelled
//!   v0.1 is therefore refused whole, before its (unsigned) version could
//!   change what is required of it.

use serde_json::Value;

/// What a JSON member holds.
#[derive(Debug)]
enum Field {
    /// A string, number or boolean (checked by the parser behind).
    Scalar,
    /// One of these names.
    Enum(&'static [&'static str]),
    /// A message.
    Message(&'static Message),
    /// An array of messages.
    Messages(&'static Message),
    /// An array of scalars.
    Scalars,
}

/// A protobuf message: its JSON member names.
#[derive(Debug)]
struct Message {
    name: &'static str,
    fields: &'static [(&'static str, Field)],
}

/// `HashAlgorithm` names sigstore-types can verify (protobuf-specs
/// `sigstore_common.proto` also has SHA3 ones, which it cannot).
const HASH_ALGORITHMS: &[&str] = &["SHA2_256", "SHA2_384", "SHA2_512"];

const RAW_BYTES: Message = Message {
    name: "X509Certificate",
    fields: &[("rawBytes", Field::Scalar)],
};
const CHAIN: Message = Message {
    name: "X509CertificateChain",
    fields: &[("certificates", Field::Messages(&RAW_BYTES))],
};
const PUBLIC_KEY: Message = Message {
    name: "PublicKeyIdentifier",
    fields: &[("hint", Field::Scalar)],
};
const LOG_ID: Message = Message {
    name: "LogId",
    fields: &[("keyId", Field::Scalar)],
};
const KIND_VERSION: Message = Message {
    name: "KindVersion",
    fields: &[("kind", Field::Scalar), ("version", Field::Scalar)],
};
const PROMISE: Message = Message {
    name: "InclusionPromise",
    fields: &[("signedEntryTimestamp", Field::Scalar)],
};
const CHECKPOINT: Message = Message {
    name: "Checkpoint",
    fields: &[("envelope", Field::Scalar)],
};
const PROOF: Message = Message {
    name: "InclusionProof",
    fields: &[
        ("logIndex", Field::Scalar),
        ("rootHash", Field::Scalar),
        ("treeSize", Field::Scalar),
        ("hashes", Field::Scalars),
        ("checkpoint", Field::Message(&CHECKPOINT)),
    ],
};
const ENTRY: Message = Message {
    name: "TransparencyLogEntry",
    fields: &[
        ("logIndex", Field::Scalar),
        ("logId", Field::Message(&LOG_ID)),
        ("kindVersion", Field::Message(&KIND_VERSION)),
        ("integratedTime", Field::Scalar),
        ("inclusionPromise", Field::Message(&PROMISE)),
        ("inclusionProof", Field::Message(&PROOF)),
        ("canonicalizedBody", Field::Scalar),
    ],
};
const RFC3161: Message = Message {
    name: "RFC3161SignedTimestamp",
    fields: &[("signedTimestamp", Field::Scalar)],
};
const TIMESTAMPS: Message = Message {
    name: "TimestampVerificationData",
    fields: &[("rfc3161Timestamps", Field::Messages(&RFC3161))],
};
const MATERIAL: Message = Message {
    name: "VerificationMaterial",
    fields: &[
        ("publicKey", Field::Message(&PUBLIC_KEY)),
        ("x509CertificateChain", Field::Message(&CHAIN)),
        ("certificate", Field::Message(&RAW_BYTES)),
        ("tlogEntries", Field::Messages(&ENTRY)),
        ("timestampVerificationData", Field::Message(&TIMESTAMPS)),
    ],
};
const DIGEST: Message = Message {
    name: "HashOutput",
    fields: &[
        ("algorithm", Field::Enum(HASH_ALGORITHMS)),
        ("digest", Field::Scalar),
    ],
};
const MESSAGE_SIGNATURE: Message = Message {
    name: "MessageSignature",
    fields: &[
        ("messageDigest", Field::Message(&DIGEST)),
        ("signature", Field::Scalar),
    ],
};
const DSSE_SIGNATURE: Message = Message {
    name: "Signature",
    fields: &[("sig", Field::Scalar), ("keyid", Field::Scalar)],
};
const ENVELOPE: Message = Message {
    name: "Envelope",
    fields: &[
        ("payload", Field::Scalar),
        ("payloadType", Field::Scalar),
        ("signatures", Field::Messages(&DSSE_SIGNATURE)),
    ],
};
const BUNDLE: Message = Message {
    name: "Bundle",
    fields: &[
        ("mediaType", Field::Scalar),
        ("verificationMaterial", Field::Message(&MATERIAL)),
        ("messageSignature", Field::Message(&MESSAGE_SIGNATURE)),
        ("dsseEnvelope", Field::Message(&ENVELOPE)),
    ],
};

/// Check `doc`, a bundle of media type `media_type` (a known one), against
/// the bundle schema; the first problem, naming where it is.
pub(super) fn check(doc: &Value, media_type: &str) -> Result<(), String> {
    check_message(doc, &BUNDLE, "")?;
    let material = &doc["verificationMaterial"];
    let v0_3 = media_type.ends_with("0.3") || media_type.contains("v0.3");
    match (v0_3, material.get("certificate"), material.get("x509CertificateChain")) {
        (false, Some(_), _) => Err(format!(
            "verificationMaterial.certificate is not part of a v{} bundle (v0.1 and v0.2 carry an x509CertificateChain); was the bundle relabelled?",
            version_of(media_type)
        )),
        (true, _, Some(_)) => Err(
            "verificationMaterial.x509CertificateChain is not part of a v0.3 bundle (it carries one certificate)".into(),
        ),
        _ => Ok(()),
    }
}

fn version_of(media_type: &str) -> &str {
    media_type.rsplit('=').next().map_or(media_type, |v| v)
}

fn check_message(value: &Value, message: &Message, at: &str) -> Result<(), String> {
    let here = |at: &str| {
        if at.is_empty() {
            "the bundle".to_string()
        } else {
            at.to_string()
        }
    };
    let Value::Object(members) = value else {
        return Err(format!(
            "{} must be a JSON object (a {} message)",
            here(at),
            message.name
        ));
    };
    for (name, value) in members {
        let path = if at.is_empty() {
            name.clone()
        } else {
            format!("{at}.{name}")
        };
        let Some((_, field)) = message.fields.iter().find(|(n, _)| n == name) else {
            return Err(format!(
                "unknown field {path:?}: a {} has no such member",
                message.name
            ));
        };
        // null is the default value in protobuf JSON: the parser behind
        // decides whether the member may be absent.
        if value.is_null() {
            continue;
        }
        match field {
            Field::Scalar => {}
            Field::Enum(names) => {
                if !value.as_str().is_some_and(|v| names.contains(&v)) {
                    return Err(format!(
                        "{path} is {value}, not one of {}",
                        names.join(", ")
                    ));
                }
            }
            Field::Message(inner) => check_message(value, inner, &path)?,
            Field::Messages(inner) => {
                let Value::Array(items) = value else {
                    return Err(format!("{path} must be an array"));
                };
                for (i, item) in items.iter().enumerate() {
                    check_message(item, inner, &format!("{path}[{i}]"))?;
                }
            }
            Field::Scalars => {
                if !value.is_array() {
                    return Err(format!("{path} must be an array"));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
    const V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

    fn v03() -> Value {
        json!({
            "mediaType": V03,
            "verificationMaterial": {
                "certificate": {"rawBytes": "AA=="},
                "tlogEntries": [{
                    "logIndex": "1", "logId": {"keyId": "AA=="},
                    "kindVersion": {"kind": "hashedrekord", "version": "0.0.1"},
                    "integratedTime": "1", "inclusionPromise": {"signedEntryTimestamp": "AA=="},
                    "inclusionProof": {"logIndex": "1", "rootHash": "AA==", "treeSize": "2",
                        "hashes": ["AA=="], "checkpoint": {"envelope": "x"}},
                    "canonicalizedBody": "AA=="
                }],
                "timestampVerificationData": {"rfc3161Timestamps": [{"signedTimestamp": "AA=="}]}
            },
            "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": "AA=="}, "signature": "AA=="}
        })
    }

    #[test]
    fn a_bundle_of_the_schema_passes() {
        check(&v03(), V03).unwrap();
        let mut dsse = v03();
        let m = dsse.as_object_mut().unwrap();
        m.remove("messageSignature");
        m.insert(
            "dsseEnvelope".into(),
            json!({"payload": "AA==", "payloadType": "t", "signatures": [{"sig": "AA==", "keyid": ""}]}),
        );
        check(&dsse, V03).unwrap();
    }

    #[test]
    fn unknown_fields_are_refused_wherever_they_are() {
        for pointer in [
            "",
            "/verificationMaterial",
            "/verificationMaterial/tlogEntries/0",
            "/verificationMaterial/tlogEntries/0/inclusionProof",
            "/verificationMaterial/tlogEntries/0/inclusionProof/checkpoint",
            "/messageSignature/messageDigest",
        ] {
            let mut doc = v03();
            doc.pointer_mut(pointer)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .insert("extra".into(), json!(1));
            let err = check(&doc, V03).unwrap_err();
            assert!(
                err.contains("unknown field") && err.contains("extra"),
                "{pointer}: {err}"
            );
        }
        // The proto's own snake_case spelling is not what sigstore-types
        // reads: refused rather than silently ignored.
        let mut doc = v03();
        let m = doc.as_object_mut().unwrap();
        let material = m.remove("verificationMaterial").unwrap();
        m.insert("verification_material".into(), material);
        assert!(
            check(&doc, V03)
                .unwrap_err()
                .contains("verification_material")
        );
    }

    #[test]
    fn enum_values_must_be_spelled_as_protobuf_names_them() {
        for alg in [
            json!("sha2_256"),
            json!("sha256"),
            json!(1),
            json!("SHA3_256"),
        ] {
            let mut doc = v03();
            doc["messageSignature"]["messageDigest"]["algorithm"] = alg.clone();
            let err = check(&doc, V03).unwrap_err();
            assert!(
                err.contains("messageSignature.messageDigest.algorithm"),
                "{alg}: {err}"
            );
        }
    }

    #[test]
    fn messages_must_be_objects_and_repeated_fields_arrays() {
        for (pointer, value) in [
            ("/verificationMaterial/timestampVerificationData", json!([])),
            ("/verificationMaterial/tlogEntries", json!({})),
            ("/verificationMaterial/tlogEntries/0/logId", json!("AA==")),
            (
                "/verificationMaterial/tlogEntries/0/inclusionProof/hashes",
                json!("AA=="),
            ),
        ] {
            let mut doc = v03();
            *doc.pointer_mut(pointer).unwrap() = value;
            assert!(check(&doc, V03).is_err(), "{pointer}");
        }
    }

    #[test]
    fn the_verification_material_must_be_the_one_of_the_version() {
        // A v0.3 bundle relabelled v0.1.
        let err = check(&v03(), V01).unwrap_err();
        assert!(err.contains("relabelled"), "{err}");
        // A chain under a v0.3 label.
        let mut doc = v03();
        let material = doc["verificationMaterial"].as_object_mut().unwrap();
        let cert = material.remove("certificate").unwrap();
        material.insert(
            "x509CertificateChain".into(),
            json!({"certificates": [cert]}),
        );
        assert!(
            check(&doc, V03)
                .unwrap_err()
                .contains("x509CertificateChain")
        );
        doc["mediaType"] = json!(V01);
        check(&doc, V01).unwrap();
    }
}
