//! The testbed's OIDC issuer: discovery document, JWKS, and identity tokens
//! shaped like GitLab CI's, GitHub Actions' or an interactive user's.

use super::keys::{KeyKind, StoredKey, TestKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// JWS algorithm of a minted token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JwsAlg {
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// RSA PKCS#1 v1.5 with SHA-256 (what GitLab.com signs with).
    RS256,
}

impl JwsAlg {
    fn name(self) -> &'static str {
        match self {
            JwsAlg::ES256 => "ES256",
            JwsAlg::RS256 => "RS256",
        }
    }
}

/// The issuer's signing keys.
#[derive(Debug)]
pub struct OidcIssuer {
    es256: TestKey,
    rs256: TestKey,
}

/// [`OidcIssuer`] as stored on disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredOidc {
    es256: StoredKey,
    rs256: StoredKey,
}

fn key_id(key: &TestKey) -> String {
    let digest = sigstore_crypto::sha256(&key.public_key_spki_der());
    B64URL.encode(&digest.as_bytes()[..12])
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid identity token: {0}")]
pub struct TokenError(pub String);

impl OidcIssuer {
    /// Fresh keys.
    pub fn generate() -> Self {
        Self {
            es256: TestKey::generate(KeyKind::EcdsaP256),
            rs256: TestKey::generate(KeyKind::Rsa2048),
        }
    }

    /// The stored form.
    pub fn to_stored(&self) -> StoredOidc {
        StoredOidc {
            es256: self.es256.to_stored(),
            rs256: self.rs256.to_stored(),
        }
    }

    /// Load the stored form.
    pub fn from_stored(s: &StoredOidc) -> Result<Self, String> {
        Ok(Self {
            es256: TestKey::from_stored(&s.es256)?,
            rs256: TestKey::from_stored(&s.rs256)?,
        })
    }

    fn key(&self, alg: JwsAlg) -> &TestKey {
        match alg {
            JwsAlg::ES256 => &self.es256,
            JwsAlg::RS256 => &self.rs256,
        }
    }

    /// `/.well-known/openid-configuration` for `issuer`.
    pub fn discovery(&self, issuer: &str) -> Value {
        json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/oauth/discovery/keys"),
            // Only the device authorization grant (RFC 8628) is served: a
            // headless test can complete it without a browser.
            "device_authorization_endpoint": format!("{issuer}/oauth/device/code"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "grant_types_supported": ["urn:ietf:params:oauth:grant-type:device_code"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"],
        })
    }

    /// The JWKS with both public keys.
    pub fn jwks(&self) -> Value {
        let ec = self.es256.public_key_raw();
        let (x, y) = (&ec[1..33], &ec[33..65]);
        let rsa = self.rs256.public_key_raw();
        let (n, e) = rsa_modulus_exponent(&rsa).expect("our own RSA key encodes");
        json!({"keys": [
            {"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": key_id(&self.es256),
             "x": B64URL.encode(x), "y": B64URL.encode(y)},
            {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": key_id(&self.rs256),
             "n": B64URL.encode(n), "e": B64URL.encode(e)},
        ]})
    }

    /// Sign `claims` as a compact JWS.
    pub fn mint(&self, claims: &Value, alg: JwsAlg) -> String {
        let key = self.key(alg);
        let header = json!({"alg": alg.name(), "kid": key_id(key), "typ": "JWT"});
        let signing_input = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(claims.to_string())
        );
        let sig = key.sign_jws(signing_input.as_bytes());
        format!("{signing_input}.{}", B64URL.encode(sig))
    }

    /// Check a token's signature against our keys and return its claims.
    /// Audience, issuer and times are the relying party's to check.
    pub fn verify_signature(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let err = |m: &str| TokenError(m.to_string());
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err("not a compact JWS (three dot-separated parts)"));
        };
        let header = json_part(h).ok_or_else(|| err("header is not base64url JSON"))?;
        let alg = match header["alg"].as_str() {
            Some("ES256") => JwsAlg::ES256,
            Some("RS256") => JwsAlg::RS256,
            other => return Err(TokenError(format!("unsupported alg {other:?}"))),
        };
        let key = self.key(alg);
        if header["kid"].as_str() != Some(key_id(key).as_str()) {
            return Err(err("signed by a key this issuer does not publish (kid)"));
        }
        let sig = B64URL
            .decode(s)
            .map_err(|_| err("signature is not base64url"))?;
        if !key.verify_jws(format!("{h}.{c}").as_bytes(), &sig) {
            return Err(err("signature does not verify against the issuer's JWKS"));
        }
        let claims = json_part(c).ok_or_else(|| err("claims are not base64url JSON"))?;
        match claims {
            Value::Object(map) => Ok(map),
            _ => Err(err("claims are not a JSON object")),
        }
    }
}

/// The JSON in a base64url part of a compact JWS.
fn json_part(part: &str) -> Option<Value> {
    B64URL
        .decode(part)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// n and e of a PKCS#1 RSAPublicKey.
fn rsa_modulus_exponent(pkcs1: &[u8]) -> Option<(&[u8], &[u8])> {
    use der::{Decode, Reader, SliceReader};
    let mut reader = SliceReader::new(pkcs1).ok()?;
    reader
        .sequence(|r| {
            let n = der::asn1::UintRef::decode(r)?;
            let e = der::asn1::UintRef::decode(r)?;
            Ok((n.as_bytes(), e.as_bytes()))
        })
        .ok()
}

/// What kind of workload a token describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A GitLab CI job (`id_tokens`).
    GitLab,
    /// A GitHub Actions job.
    GitHub,
    /// A person who logged in interactively (email identity).
    Email,
}

/// The claims of a token to mint; every field has a realistic default.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// The workload shape.
    pub kind: TokenKind,
    /// `iss`. Fulcio trusts it only if the testbed was told to.
    pub issuer: String,
    /// `aud` (Sigstore requires `sigstore`).
    pub audience: String,
    /// Lifetime from `now`, in seconds (negative: already expired).
    pub expires_in: i64,
    /// GitLab `project_path` (`group/[subgroup/]project`) or GitHub `repository`.
    pub project: String,
    /// Branch name, unless `tag` is set.
    pub git_ref: String,
    /// Tag name: makes `ref_type` `tag`.
    pub tag: Option<String>,
    /// GitLab `pipeline_source` / GitHub `event_name`.
    pub pipeline_source: String,
    /// `runner_environment`: `gitlab-hosted`/`self-hosted` (GitHub: `github-hosted`).
    pub runner_environment: String,
    /// CI configuration file path.
    pub config_path: String,
    /// Commit SHA.
    pub sha: String,
    /// GitLab `environment` (deployment environment), if any.
    pub environment: Option<String>,
    /// Email for [`TokenKind::Email`].
    pub email: String,
    /// Further claims that override or extend the generated set.
    pub overrides: Map<String, Value>,
}

impl TokenSpec {
    /// A GitLab CI token for `issuer` with realistic defaults.
    pub fn gitlab(issuer: &str) -> Self {
        Self {
            kind: TokenKind::GitLab,
            issuer: issuer.to_string(),
            audience: "sigstore".into(),
            expires_in: 300,
            project: "keyless-demo/hello-py".into(),
            git_ref: "main".into(),
            tag: None,
            pipeline_source: "push".into(),
            runner_environment: "gitlab-hosted".into(),
            config_path: ".gitlab-ci.yml".into(),
            sha: "0f6c9b3d7e2a4c1b8d5e6f7a8b9c0d1e2f3a4b5c".into(),
            environment: None,
            email: "dev@example.com".into(),
            overrides: Map::new(),
        }
    }

    /// A GitHub Actions token for `issuer` (normally
    /// `https://token.actions.githubusercontent.com`).
    pub fn github(issuer: &str) -> Self {
        Self {
            kind: TokenKind::GitHub,
            config_path: ".github/workflows/release.yml".into(),
            runner_environment: "github-hosted".into(),
            ..Self::gitlab(issuer)
        }
    }

    /// The claim set, at `now` (Unix seconds).
    pub fn claims(&self, now: i64) -> Value {
        let mut c = Map::new();
        let host = self
            .issuer
            .split("://")
            .nth(1)
            .unwrap_or(&self.issuer)
            .trim_end_matches('/')
            .to_string();
        let (ref_type, ref_name) = match &self.tag {
            Some(tag) => ("tag", tag.as_str()),
            None => ("branch", self.git_ref.as_str()),
        };
        let ref_path = format!(
            "refs/{}/{ref_name}",
            if ref_type == "tag" { "tags" } else { "heads" }
        );
        let id = |s: &str| {
            // Stable numeric ids derived from names, as GitLab's are stable.
            let d = sigstore_crypto::sha256(s.as_bytes());
            let mut b = [0u8; 4];
            b.copy_from_slice(&d.as_bytes()[..4]);
            u64::from(u32::from_be_bytes(b) % 90_000_000 + 10_000_000)
        };
        c.insert("iss".into(), json!(self.issuer));
        c.insert("aud".into(), json!(self.audience));
        c.insert("iat".into(), json!(now));
        c.insert("nbf".into(), json!(now - 5));
        c.insert("exp".into(), json!(now + self.expires_in));
        c.insert(
            "jti".into(),
            json!(format!("{:x}", id(&format!("{now}{}", self.project)))),
        );
        match self.kind {
            TokenKind::GitLab => {
                let namespace = self
                    .project
                    .rsplit_once('/')
                    .map_or(self.project.as_str(), |(ns, _)| ns);
                let pipeline_id = id(&format!("pipeline {now}"));
                let job_id = id(&format!("job {now}"));
                c.insert(
                    "sub".into(),
                    json!(format!(
                        "project_path:{}:ref_type:{ref_type}:ref:{ref_name}",
                        self.project
                    )),
                );
                c.insert("namespace_id".into(), json!(id(namespace).to_string()));
                c.insert("namespace_path".into(), json!(namespace));
                c.insert("project_id".into(), json!(id(&self.project).to_string()));
                c.insert("project_path".into(), json!(self.project));
                c.insert("project_visibility".into(), json!("public"));
                c.insert("user_id".into(), json!("4242"));
                c.insert("user_login".into(), json!("release-bot"));
                c.insert("user_email".into(), json!("release-bot@example.com"));
                c.insert("user_access_level".into(), json!("maintainer"));
                c.insert("pipeline_id".into(), json!(pipeline_id.to_string()));
                c.insert("pipeline_source".into(), json!(self.pipeline_source));
                c.insert("job_id".into(), json!(job_id.to_string()));
                c.insert("ref".into(), json!(ref_name));
                c.insert("ref_type".into(), json!(ref_type));
                c.insert("ref_path".into(), json!(ref_path));
                c.insert("ref_protected".into(), json!("true"));
                if let Some(env) = &self.environment {
                    c.insert("environment".into(), json!(env));
                    c.insert("environment_protected".into(), json!("true"));
                    c.insert("deployment_tier".into(), json!("production"));
                }
                c.insert("runner_id".into(), json!(id("runner") % 100_000));
                c.insert("runner_environment".into(), json!(self.runner_environment));
                c.insert("sha".into(), json!(self.sha));
                c.insert(
                    "ci_config_ref_uri".into(),
                    json!(format!(
                        "{host}/{}//{}@{ref_path}",
                        self.project, self.config_path
                    )),
                );
                c.insert("ci_config_sha".into(), json!(self.sha));
            }
            TokenKind::GitHub => {
                let workflow_ref = format!("{}/{}@{ref_path}", self.project, self.config_path);
                c.insert(
                    "sub".into(),
                    json!(format!("repo:{}:ref:{ref_path}", self.project)),
                );
                c.insert("repository".into(), json!(self.project));
                c.insert("repository_id".into(), json!(id(&self.project).to_string()));
                let owner = self.project.split('/').next().unwrap_or_default();
                c.insert("repository_owner".into(), json!(owner));
                c.insert("repository_owner_id".into(), json!(id(owner).to_string()));
                c.insert("repository_visibility".into(), json!("public"));
                c.insert("ref".into(), json!(ref_path));
                c.insert("ref_type".into(), json!(ref_type));
                c.insert("sha".into(), json!(self.sha));
                c.insert("event_name".into(), json!(self.pipeline_source));
                c.insert("workflow_ref".into(), json!(workflow_ref));
                c.insert("workflow_sha".into(), json!(self.sha));
                c.insert("job_workflow_ref".into(), json!(workflow_ref));
                c.insert("job_workflow_sha".into(), json!(self.sha));
                c.insert("runner_environment".into(), json!(self.runner_environment));
                c.insert(
                    "run_id".into(),
                    json!(id(&format!("run {now}")).to_string()),
                );
                c.insert("run_attempt".into(), json!("1"));
            }
            TokenKind::Email => {
                c.insert("sub".into(), json!(format!("user-{}", id(&self.email))));
                c.insert("email".into(), json!(self.email));
                c.insert("email_verified".into(), json!(true));
            }
        }
        for (k, v) in &self.overrides {
            c.insert(k.clone(), v.clone());
        }
        Value::Object(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_tampered_ones_do_not() {
        let issuer = OidcIssuer::generate();
        let claims = TokenSpec::gitlab("https://gitlab.com").claims(1_700_000_000);
        for alg in [JwsAlg::ES256, JwsAlg::RS256] {
            let token = issuer.mint(&claims, alg);
            let got = issuer.verify_signature(&token).unwrap();
            assert_eq!(got["project_path"], "keyless-demo/hello-py");
            assert_eq!(
                got["ci_config_ref_uri"],
                "gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/heads/main"
            );
            // Swap the claims for others: the signature must no longer verify.
            let mut parts: Vec<&str> = token.split('.').collect();
            let forged = B64URL.encode(json!({"sub": "attacker"}).to_string());
            parts[1] = &forged;
            assert!(
                issuer.verify_signature(&parts.join(".")).is_err(),
                "{alg:?}"
            );
            // Another issuer's keys do not verify it.
            assert!(OidcIssuer::generate().verify_signature(&token).is_err());
        }
    }

    #[test]
    fn jwks_keys_verify_tokens_independently() {
        // Rebuild the EC key from the JWKS alone and check a token with it,
        // as a relying party would.
        let issuer = OidcIssuer::generate();
        let token = issuer.mint(&json!({"sub": "x"}), JwsAlg::ES256);
        let jwks = issuer.jwks();
        let k = &jwks["keys"][0];
        let mut point = vec![4u8];
        point.extend(B64URL.decode(k["x"].as_str().unwrap()).unwrap());
        point.extend(B64URL.decode(k["y"].as_str().unwrap()).unwrap());
        let (input, sig) = token.rsplit_once('.').unwrap();
        let key = aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED,
            point,
        );
        assert!(
            key.verify(input.as_bytes(), &B64URL.decode(sig).unwrap())
                .is_ok()
        );
        assert_eq!(jwks["keys"][1]["e"], "AQAB");
    }

    #[test]
    fn tag_tokens_say_tag() {
        let mut spec = TokenSpec::gitlab("https://gitlab.example.com");
        spec.tag = Some("v1.0".into());
        let c = spec.claims(0);
        assert_eq!(c["ref_type"], "tag");
        assert_eq!(c["ref_path"], "refs/tags/v1.0");
        assert_eq!(
            c["ci_config_ref_uri"],
            "gitlab.example.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/tags/v1.0"
        );
        assert_eq!(
            c["sub"],
            "project_path:keyless-demo/hello-py:ref_type:tag:ref:v1.0"
        );
    }

    #[test]
    fn garbage_tokens_are_refused_without_panic() {
        let issuer = OidcIssuer::generate();
        for t in [
            "",
            "a",
            "a.b",
            "a.b.c",
            "a.b.c.d",
            "....",
            "eyJhbGciOiJub25lIn0.e30.",
        ] {
            assert!(issuer.verify_signature(t).is_err(), "{t:?}");
        }
    }
}
