//! Fulcio: the certificates it issues carry the real GitLab extension set;
//! a CSR self-signed by the subject key is accepted and a forged one is not;
//! tokens for another audience, expired ones and ones from an untrusted
//! issuer are refused.

use crate::common::{
    b64, gitlab_token, post_json, read_json, sign_with_sigstore_rust, start, unb64, vectors,
};
use base64::Engine;
use keyless_testbed::{JwsAlg, TokenSpec};

/// (OID, critical, first byte of the value) for every extension of a certificate.
fn extension_shape(der_bytes: &[u8]) -> std::collections::BTreeSet<(String, bool, u8)> {
    use der::Decode;
    let cert = x509_cert::Certificate::from_der(der_bytes).unwrap();
    cert.tbs_certificate
        .extensions
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let value = e.extn_value.as_bytes();
            (
                e.extn_id.to_string(),
                e.critical,
                value.first().copied().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn testbed_gitlab_certificate_has_the_real_gitlab_extension_set() {
    let att = read_json(
        &vectors("pypi-attestations").join("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation"),
    );
    let real = unb64(
        att["verification_material"]["certificate"]
            .as_str()
            .unwrap(),
    );

    let bed = start();
    let token = gitlab_token(&bed.tb, JwsAlg::RS256);
    let bundle = sign_with_sigstore_rust(&bed.tb, &token, b"x");
    let ours = unb64(
        bundle["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap(),
    );

    let (real, ours) = (extension_shape(&real), extension_shape(&ours));
    assert_eq!(real.len(), 22, "{real:?}");
    assert_eq!(
        ours, real,
        "testbed and real GitLab certificates differ in extensions"
    );
}

/// Fulcio's CSR path: a CSR self-signed by the subject key is accepted (that
/// signature is the proof of possession); one signed by another key is not.
#[test]
fn fulcio_accepts_a_csr_and_refuses_a_forged_one() {
    let bed = start();
    let token = gitlab_token(&bed.tb, JwsAlg::ES256);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let request = |csr_pem: &str| {
        let body = serde_json::json!({
            "credentials": {"oidcIdentityToken": token},
            "certificateSigningRequest": b64().encode(csr_pem),
        });
        post_json(&bed.tb, "/api/v2/signingCert", &body)
    };
    let (status, resp) = request(&csr);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
    let resp: serde_json::Value = serde_json::from_slice(&resp).unwrap();
    let leaf = resp["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
        .as_str()
        .unwrap();
    let leaf = sigstore_types::DerCertificate::from_pem(leaf).unwrap();
    let info = sigstore_crypto::parse_certificate_info(&leaf).unwrap();
    use rcgen::PublicKeyData;
    assert_eq!(
        info.public_key.as_bytes(),
        key.subject_public_key_info().as_slice()
    );

    // Flip a byte of the CSR's signature: no proof of possession.
    let mut der = csr_der(&csr);
    let n = der.len();
    der[n - 3] ^= 1;
    let forged = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        b64().encode(&der)
    );
    let (status, resp) = request(&forged);
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&resp));
}

fn csr_der(pem: &str) -> Vec<u8> {
    let text: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    unb64(&text)
}

#[test]
fn fulcio_refuses_wrong_audience_expired_and_untrusted_issuer_tokens() {
    let bed = start();
    let mut cases = Vec::new();
    let mut spec = TokenSpec::gitlab("https://gitlab.com");
    spec.audience = "not-sigstore".into();
    cases.push((spec, "audience"));
    let mut spec = TokenSpec::gitlab("https://gitlab.com");
    spec.expires_in = -10;
    cases.push((spec, "expired"));
    cases.push((
        TokenSpec::gitlab("https://gitlab.evil.example"),
        "not accepted",
    ));
    for (spec, why) in cases {
        let token = bed.tb.mint(&spec, JwsAlg::RS256);
        let key = sigstore_crypto::KeyPair::generate_ecdsa_p256().unwrap();
        let sub = spec.claims(0)["sub"].as_str().unwrap().to_string();
        let pop = key.sign(sub.as_bytes()).unwrap();
        let body = serde_json::json!({
            "credentials": {"oidcIdentityToken": token},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": key.public_key_der().unwrap().to_pem()},
                "proofOfPossession": b64().encode(pop.as_bytes()),
            },
        });
        let (status, resp) = post_json(&bed.tb, "/api/v2/signingCert", &body);
        let text = String::from_utf8_lossy(&resp);
        assert_eq!(status, 401, "{why}: {text}");
        assert!(text.contains(why), "{why}: {text}");
    }
}
