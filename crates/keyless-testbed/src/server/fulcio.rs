//! Fulcio endpoints: `signingCert` (token and proof-of-possession checks,
//! then a leaf from the CA), `trustBundle` and `configuration`.

use super::http::{Answer, bearer, parse_json, serve};
use super::state::{Shared, State};
use crate::ca::{LEAF_VALIDITY_SECONDS, identity_from_claims};
use crate::faults::{Endpoint, Fault};
use crate::keys::pem_encode;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

fn audience_has_sigstore(aud: Option<&Value>) -> bool {
    match aud {
        Some(Value::String(s)) => s == "sigstore",
        Some(Value::Array(a)) => a.iter().any(|v| v == "sigstore"),
        _ => false,
    }
}

/// Check the request's identity token and key, and issue a leaf for them.
fn issue(s: &mut State, faults: &[Fault], headers: &HeaderMap, body: &[u8]) -> Answer {
    let req = match parse_json(body) {
        Ok(v) => v,
        Err(a) => return a,
    };
    let Some(token) = req["credentials"]["oidcIdentityToken"]
        .as_str()
        .map(str::to_string)
        .or_else(|| bearer(headers))
    else {
        return Answer::error(
            401,
            "no identity token (credentials.oidcIdentityToken or Authorization: Bearer)",
        );
    };
    let claims = match s.keys.oidc.verify_signature(&token) {
        Ok(c) => c,
        Err(e) => return Answer::error(401, e.to_string()),
    };
    let now = s.now();
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if iss != s.url && !s.trusted_issuers.iter().any(|t| t == iss) {
        return Answer::error(
            401,
            format!("tokens from issuer {iss:?} are not accepted by this CA"),
        );
    }
    if !audience_has_sigstore(claims.get("aud")) {
        return Answer::error(401, "token audience must include \"sigstore\"");
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now => {}
        _ => return Answer::error(401, "token has expired"),
    }
    if claims
        .get("nbf")
        .and_then(Value::as_i64)
        .is_some_and(|nbf| nbf > now + 60)
    {
        return Answer::error(401, "token is not yet valid");
    }
    let Some(sub) = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Answer::error(401, "token has no sub claim");
    };
    // Email identities come only from the testbed's own (interactive) issuer,
    // CI identities from the CI issuers it was told to trust, as Fulcio ties
    // each issuer to one identity type.
    let email_identity = claims.contains_key("email")
        && !claims.contains_key("project_path")
        && !claims.contains_key("job_workflow_ref");
    if email_identity != (iss == s.url) {
        return Answer::error(
            401,
            format!(
                "issuer {iss:?} does not issue {} identities here",
                if email_identity { "email" } else { "CI" }
            ),
        );
    }
    // The proof of possession signs the issuer's challenge claim: the email
    // for email issuers, `sub` for CI providers (Fulcio's challengeClaim).
    let challenge = if email_identity {
        claims
            .get("email")
            .and_then(Value::as_str)
            .unwrap_or_default()
    } else {
        sub
    };

    // The subject key, with proof that the caller holds its private half.
    let spki = if let Some(pk) = req.get("publicKeyRequest") {
        let Some(pem) = pk["publicKey"]["content"].as_str() else {
            return Answer::error(400, "publicKeyRequest.publicKey.content is required");
        };
        let key = match sigstore_types::DerPublicKey::from_pem(pem) {
            Ok(k) => k,
            Err(e) => return Answer::error(400, format!("public key: {e}")),
        };
        let Some(pop) = pk["proofOfPossession"]
            .as_str()
            .and_then(|p| B64.decode(p).ok())
        else {
            return Answer::error(400, "publicKeyRequest.proofOfPossession must be base64");
        };
        let Ok(alg) = sigstore_crypto::KeyAlgorithm::from_spki(&key) else {
            return Answer::error(400, "unsupported public key algorithm");
        };
        if sigstore_crypto::verify_signature(
            &key,
            challenge.as_bytes(),
            &sigstore_types::SignatureBytes::new(pop),
            alg.default_signing_scheme(),
        )
        .is_err()
        {
            return Answer::error(
                400,
                "proof of possession does not verify over the token subject",
            );
        }
        key.as_bytes().to_vec()
    } else if let Some(csr) = req["certificateSigningRequest"].as_str() {
        match csr_public_key(csr) {
            Ok(k) => k,
            Err(e) => return Answer::error(400, e),
        }
    } else {
        return Answer::error(
            400,
            "publicKeyRequest or certificateSigningRequest is required",
        );
    };
    let identity = match identity_from_claims(&claims) {
        Ok(i) => i,
        Err(e) => return Answer::error(400, e),
    };
    let (not_before, rogue_sct) = if faults.contains(&Fault::ExpiredCert) {
        (now - 2 * LEAF_VALIDITY_SECONDS, None)
    } else if faults.contains(&Fault::UntrustedSct) {
        (now, Some(&s.keys.rogue))
    } else {
        (now, None)
    };
    let leaf = match s.keys.fulcio.issue(
        &identity,
        &spki,
        not_before,
        LEAF_VALIDITY_SECONDS,
        rogue_sct,
    ) {
        Ok(l) => l,
        Err(e) => return Answer::error(400, e),
    };
    let mut chain = vec![pem_encode("CERTIFICATE", &leaf)];
    chain.extend(s.keys.fulcio.chain_pem());
    // Fulcio's v2 API is grpc-gateway: success is 200 (only the legacy v1
    // `signingCert` answers 201), and Go clients refuse any other status.
    Answer::json(
        StatusCode::OK,
        &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}),
    )
}

/// The subject key of a base64 PEM CSR whose self-signature verifies.
fn csr_public_key(b64_pem: &str) -> Result<Vec<u8>, String> {
    use der::{Decode, Encode};
    let pem_text = B64
        .decode(b64_pem)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| b64_pem.to_string());
    let der_bytes = pem_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let der_bytes = B64
        .decode(der_bytes.trim())
        .map_err(|e| format!("CSR is not PEM: {e}"))?;
    let csr = x509_cert::request::CertReq::from_der(&der_bytes)
        .map_err(|e| format!("CSR does not parse: {e}"))?;
    let spki = csr
        .info
        .public_key
        .to_der()
        .map_err(|e| format!("CSR key: {e}"))?;
    let info = csr.info.to_der().map_err(|e| format!("CSR: {e}"))?;
    let key = sigstore_types::DerPublicKey::new(spki.clone());
    let alg =
        sigstore_crypto::KeyAlgorithm::from_spki(&key).map_err(|e| format!("CSR key: {e}"))?;
    let sig = csr
        .signature
        .as_bytes()
        .ok_or("CSR signature has unused bits")?;
    sigstore_crypto::verify_signature(
        &key,
        &info,
        &sigstore_types::SignatureBytes::new(sig.to_vec()),
        alg.default_signing_scheme(),
    )
    .map_err(|_| "CSR signature does not verify (no proof of possession)".to_string())?;
    Ok(spki)
}

pub(super) async fn signing_cert(
    AxState(st): AxState<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    serve(&st, Endpoint::Fulcio, |s, f| issue(s, f, &headers, &body)).await
}

pub(super) async fn trust_bundle(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Fulcio, |s, _| {
        Answer::json(
            StatusCode::OK,
            &json!({"chains": [{"certificates": s.keys.fulcio.chain_pem()}]}),
        )
    })
    .await
}

pub(super) async fn configuration(AxState(st): AxState<Shared>) -> Answer {
    serve(&st, Endpoint::Fulcio, |s, _| {
        // grpc-gateway marshals with EmitUnpopulated: every OIDCIssuer
        // field but the unset `wildcardIssuerUrl` of the oneof is present.
        let issuer = |url: &str, claim: &str, kind: &str| {
            json!({"issuerUrl": url, "audience": "sigstore", "challengeClaim": claim,
                "spiffeTrustDomain": "", "issuerType": kind, "subjectDomain": "",
                "skipEmailVerification": false})
        };
        let mut issuers = vec![issuer(&s.url, "email", "email")];
        for i in &s.trusted_issuers {
            issuers.push(issuer(i, "sub", "ci-provider"));
        }
        Answer::json(StatusCode::OK, &json!({"issuers": issuers}))
    })
    .await
}
