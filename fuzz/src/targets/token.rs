//! Identity tokens as `keyless sign` reads them.

use super::{Seed, Target, now};
use keyless::sign::token::{Token, TokenOrigin, redact};
use serde_json::Value;

/// Identity tokens (JWT) as `keyless sign` reads them: parsing, the
/// pre-flight checks, the claims it shows, redaction. An input that is a
/// JSON object is used as the claims of a token with a fixed header and
/// signature; anything else as the token text.
pub struct TokenTarget {
    seeds: Vec<Seed>,
}

/// A compact JWT carrying `claims` (unsigned: keyless does not verify it,
/// Fulcio does).
pub fn jwt_with_claims(claims: &[u8]) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
    format!(
        "{}.{}.{}",
        B64URL.encode(br#"{"alg":"RS256","kid":"fuzz","typ":"JWT"}"#),
        B64URL.encode(claims),
        B64URL.encode(b"not a signature")
    )
}

impl TokenTarget {
    /// Its seeds: the claims of a GitLab CI, a GitHub Actions and an
    /// interactive token, and one token as text.
    pub fn load() -> Self {
        let gitlab = serde_json::json!({
            "iss": "https://gitlab.com", "aud": "sigstore", "sub": "project_path:keyless-demo/hello-py:ref_type:tag:ref:v1.0",
            "namespace_id": "1", "namespace_path": "keyless-demo", "project_id": "2", "project_path": "keyless-demo/hello-py",
            "project_visibility": "public", "user_id": "3", "user_login": "dev", "pipeline_id": "4", "pipeline_source": "push",
            "job_id": "5", "ref": "v1.0", "ref_type": "tag", "ref_path": "refs/tags/v1.0", "ref_protected": "true",
            "runner_id": 6, "runner_environment": "gitlab-hosted", "sha": "0123456789abcdef0123456789abcdef01234567",
            "ci_config_ref_uri": "gitlab.com/keyless-demo/hello-py//.gitlab-ci.yml@refs/tags/v1.0",
            "ci_config_sha": "0123456789abcdef0123456789abcdef01234567", "jti": "j", "iat": 1_900_000_000, "nbf": 1_900_000_000, "exp": 1_900_000_300
        });
        let github = serde_json::json!({
            "iss": "https://token.actions.githubusercontent.com", "aud": ["sigstore", "other"], "sub": "repo:o/r:ref:refs/heads/main",
            "repository": "o/r", "ref": "refs/heads/main", "workflow_ref": "o/r/.github/workflows/release.yml@refs/heads/main", "exp": 1_900_000_300
        });
        let email = serde_json::json!({
            "iss": "https://oauth2.sigstore.dev/auth", "aud": "sigstore", "sub": "1234", "email": "dev@example.com", "email_verified": true, "exp": 1_900_000_300
        });
        let mut seeds: Vec<Seed> = [
            ("gitlab claims", gitlab),
            ("github claims", github),
            ("email claims", email),
        ]
        .into_iter()
        .map(|(name, claims)| Seed {
            name: name.into(),
            data: claims.to_string().into_bytes(),
            context: 0,
        })
        .collect();
        seeds.push(Seed {
            name: "gitlab token".into(),
            data: jwt_with_claims(&seeds[0].data).into_bytes(),
            context: 0,
        });
        Self { seeds }
    }
}

impl Target for TokenTarget {
    fn name(&self) -> &'static str {
        "token"
    }
    fn seeds(&self) -> &[Seed] {
        &self.seeds
    }
    fn run(&self, _context: usize, data: &[u8]) -> String {
        let text = match serde_json::from_slice::<Value>(data) {
            Ok(Value::Object(_)) => jwt_with_claims(data),
            _ => String::from_utf8_lossy(data).into_owned(),
        };
        let Ok(token) = Token::parse(&text, TokenOrigin::Flag) else {
            return "refused".into();
        };
        let preflight = token.preflight(now());
        let _ = token.check_issuer("https://gitlab.com");
        let _ = token.gitlab_project_and_ref();
        let shown = token.describe();
        let _ = redact(&shown, &text);
        let _ = format!("{token:?}");
        match preflight {
            Ok(()) => "accepted".into(),
            Err(_) => "failed the pre-flight checks".into(),
        }
    }
}
