//! The identity token a signer presents to Fulcio: where it comes from, and
//! the checks made before any network call.
//!
//! The token is a bearer credential. It is never printed, logged or written:
//! [`Token`]'s `Debug` shows only its claims summary, and errors never carry it.

use crate::error::{Error, FileKind, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value};
use std::io::Read;

/// Where the token was found (said in messages; never the token itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOrigin {
    /// `--identity-token` (a value, `@FILE` or `-`).
    Flag,
    /// The `SIGSTORE_ID_TOKEN` environment variable (GitLab `id_tokens`).
    Environment,
    /// GitHub Actions' ambient OIDC provider.
    GitHubActions,
    /// The interactive OAuth flow.
    Interactive,
}

impl std::fmt::Display for TokenOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenOrigin::Flag => "--identity-token",
            TokenOrigin::Environment => "SIGSTORE_ID_TOKEN",
            TokenOrigin::GitHubActions => "GitHub Actions",
            TokenOrigin::Interactive => "interactive login",
        })
    }
}

/// A decoded (not verified: Fulcio verifies it) identity token.
#[derive(Clone)]
pub struct Token {
    raw: sigstore_oidc::IdentityToken,
    claims: Map<String, Value>,
    origin: TokenOrigin,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("issuer", &self.issuer())
            .field("subject", &self.subject())
            .field("origin", &self.origin)
            .field("jwt", &"<redacted>")
            .finish()
    }
}

/// The GitLab YAML that provides a token, for the "no token" error.
pub const GITLAB_ID_TOKENS_YAML: &str = "  sign:\n    id_tokens:\n      SIGSTORE_ID_TOKEN:\n        aud: sigstore\n    script:\n      - keyless sign dist/";

fn token_error(origin: TokenOrigin, reason: impl std::fmt::Display) -> Error {
    Error::IdentityToken {
        origin: origin.to_string(),
        reason: reason.to_string(),
    }
}

impl Token {
    /// Decode a compact JWT. The token text never appears in an error.
    pub fn parse(jwt: &str, origin: TokenOrigin) -> Result<Self> {
        let jwt = jwt.trim();
        let payload = jwt
            .split('.')
            .nth(1)
            .filter(|_| jwt.split('.').count() == 3)
            .ok_or_else(|| token_error(origin, "not a JWT (three dot-separated parts)"))?;
        let claims: Map<String, Value> = B64URL
            .decode(payload.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| token_error(origin, "its claims are not base64url JSON"))?;
        let raw = sigstore_oidc::IdentityToken::from_jwt(jwt)
            .map_err(|e| token_error(origin, redact(&e.to_string(), jwt)))?;
        Ok(Self {
            raw,
            claims,
            origin,
        })
    }

    /// The JWT, for Fulcio only.
    pub(crate) fn identity_token(&self) -> &sigstore_oidc::IdentityToken {
        &self.raw
    }

    /// Where it came from.
    pub fn origin(&self) -> TokenOrigin {
        self.origin
    }

    fn claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// `iss`.
    pub fn issuer(&self) -> &str {
        self.claim("iss").unwrap_or_default()
    }

    /// `sub`.
    pub fn subject(&self) -> &str {
        self.claim("sub").unwrap_or_default()
    }

    /// The GitLab project path and ref (`refs/heads/...`/`refs/tags/...`),
    /// when this is a GitLab CI token.
    pub fn gitlab_project_and_ref(&self) -> Option<(String, String)> {
        let project = self.claim("project_path")?;
        let git_ref = self.claim("ref")?;
        let prefix = match self.claim("ref_type") {
            Some("tag") => "refs/tags/",
            _ => "refs/heads/",
        };
        Some((project.to_string(), format!("{prefix}{git_ref}")))
    }

    /// Pre-flight checks, before any network call: the audience must
    /// include `sigstore` and the token must not have expired at `now`.
    pub fn preflight(&self, now: jiff::Timestamp) -> Result<()> {
        let aud_ok = match self.claims.get("aud") {
            Some(Value::String(a)) => a == "sigstore",
            Some(Value::Array(a)) => a.iter().any(|v| v == "sigstore"),
            _ => false,
        };
        if !aud_ok {
            return Err(token_error(
                self.origin,
                format!(
                    "its audience is {}, not \"sigstore\"; in GitLab set `aud: sigstore` under id_tokens",
                    self.claims
                        .get("aud")
                        .map_or("missing".to_string(), Value::to_string)
                ),
            ));
        }
        let exp = self
            .claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| token_error(self.origin, "it has no exp claim"))?;
        if exp <= now.as_second() {
            let ago = now.as_second() - exp;
            return Err(token_error(
                self.origin,
                format!(
                    "it expired {ago} s ago; request a fresh token (GitLab tokens last as long as the job)"
                ),
            ));
        }
        if self.issuer().is_empty() {
            return Err(token_error(self.origin, "it has no iss claim"));
        }
        Ok(())
    }

    /// With `--oidc-issuer`: the token must come from that issuer. Fulcio
    /// certifies the token's own issuer, so an issuer flag that disagrees
    /// with it would otherwise be silently ignored (as cosign does when it
    /// is given a token); refusing says which of the two is wrong.
    pub fn check_issuer(&self, expected: &str) -> Result<()> {
        let norm = |s: &str| s.trim_end_matches('/').to_string();
        if norm(self.issuer()) == norm(expected) {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "--oidc-issuer {expected} contradicts the identity token from {}, whose issuer is {:?}: \
             Fulcio certifies the token's issuer; pass a token from {expected}, or drop --oidc-issuer",
            self.origin,
            self.issuer()
        )))
    }

    /// Who will sign, for the user: issuer, subject, and for GitLab the
    /// project and ref.
    pub fn describe(&self) -> String {
        let mut s = format!("{} as {}", self.issuer(), self.subject());
        if let Some((project, git_ref)) = self.gitlab_project_and_ref() {
            s = format!("GitLab project {project} at {git_ref} ({})", self.issuer());
        } else if let Some(email) = self.claim("email") {
            s = format!("{email} ({})", self.issuer());
        }
        s
    }
}

/// Replace any occurrence of the token in `text`.
pub fn redact(text: &str, token: &str) -> String {
    if token.len() < 8 {
        return text.to_string();
    }
    let mut out = text.replace(token, "<redacted token>");
    // A JWT's signature part alone is also secret-bearing context.
    if let Some(sig) = token.rsplit('.').next().filter(|s| s.len() >= 16) {
        out = out.replace(sig, "<redacted>");
    }
    out
}

/// How to find a token, first found wins.
#[derive(Clone, Default)]
pub struct TokenOptions {
    /// `--identity-token`: a token, `@FILE`, or `-` for standard input.
    pub flag: Option<String>,
    /// Disable the ambient GitHub Actions provider.
    pub no_ambient: bool,
    /// Allow the interactive OAuth flow (on a terminal).
    pub interactive: bool,
    /// Force the out-of-band (copy a code) variant of the interactive flow.
    pub oauth_out_of_band: bool,
    /// Use the OAuth 2.0 device authorization grant (RFC 8628) instead of a
    /// browser: print a URL and a code, and poll until the login completes.
    /// Works without a terminal (the code is read on another device).
    pub oauth_device: bool,
    /// The instance's OIDC URL for the interactive flow.
    pub oidc_url: Option<String>,
}

impl std::fmt::Debug for TokenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `flag` may hold the JWT itself.
        f.debug_struct("TokenOptions")
            .field("flag", &self.flag.as_ref().map(|_| "<redacted>"))
            .field("no_ambient", &self.no_ambient)
            .field("interactive", &self.interactive)
            .field("oauth_out_of_band", &self.oauth_out_of_band)
            .field("oauth_device", &self.oauth_device)
            .field("oidc_url", &self.oidc_url)
            .finish()
    }
}

/// Find the token: `--identity-token`, `SIGSTORE_ID_TOKEN`, GitHub Actions,
/// then (on a terminal) the interactive flow.
pub fn resolve(options: &TokenOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Token> {
    if let Some(flag) = &options.flag {
        let text = if flag == "-" {
            let mut s = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut s)
                .map_err(|e| {
                    token_error(TokenOrigin::Flag, format!("reading standard input: {e}"))
                })?;
            s
        } else if let Some(path) = flag.strip_prefix('@') {
            crate::files::read_text_limited(
                std::path::Path::new(path),
                64 * 1024,
                FileKind::IdentityToken,
            )?
        } else {
            flag.clone()
        };
        return Token::parse(&text, TokenOrigin::Flag);
    }
    if let Some(t) = env("SIGSTORE_ID_TOKEN").filter(|t| !t.trim().is_empty()) {
        return Token::parse(&t, TokenOrigin::Environment);
    }
    if !options.no_ambient
        && env("ACTIONS_ID_TOKEN_REQUEST_URL").is_some()
        && env("ACTIONS_ID_TOKEN_REQUEST_TOKEN").is_some()
    {
        let runtime = crate::net::current_thread_runtime()?;
        let found = runtime
            .block_on(sigstore_oidc::IdentityToken::detect_ambient())
            .map_err(|e| token_error(TokenOrigin::GitHubActions, e))?;
        if let Some(t) = found {
            return Token::parse(t.expose_secret(), TokenOrigin::GitHubActions);
        }
    }
    if options.oauth_device {
        let url = options
            .oidc_url
            .clone()
            .ok_or_else(|| Error::SigningConfig {
                reason: "the signing config names no OIDC provider for a device login".into(),
            })?;
        return device_flow(&url, &mut std::io::stderr());
    }
    if options.interactive {
        let url = options
            .oidc_url
            .clone()
            .ok_or_else(|| Error::SigningConfig {
                reason: "the signing config names no OIDC provider for interactive login".into(),
            })?;
        let runtime = crate::net::current_thread_runtime()?;
        // keyless's client (no redirects); sigstore-oidc reads the token
        // answer itself (capped at 1 MiB), bounded in time by the OIDC
        // request timeout.
        let client = sigstore_oidc::oauth::OAuthClient::with_http_client(
            sigstore_oidc::oauth::OAuthConfig::dex(&url),
            crate::net::http_client(crate::net::answer::OIDC_REQUEST_TIMEOUT)?,
        );
        let t = runtime
            .block_on(client.authenticate_with_options(
                sigstore_oidc::oauth::DefaultAuthCallback,
                sigstore_oidc::oauth::AuthOptions::new().with_force_oob(options.oauth_out_of_band),
            ))
            .map_err(|e| token_error(TokenOrigin::Interactive, e))?;
        return Token::parse(t.expose_secret(), TokenOrigin::Interactive);
    }
    Err(Error::Usage(format!(
        "no identity token: pass --identity-token, or in GitLab CI give the job an id_token:\n{GITLAB_ID_TOKENS_YAML}"
    )))
}

/// The device authorization grant (RFC 8628) against the OIDC provider at
/// `issuer`: instructions go to `out`; polling is bounded by the grant's
/// lifetime (at most 15 minutes).
pub fn device_flow(issuer: &str, out: &mut dyn std::io::Write) -> Result<Token> {
    let origin = TokenOrigin::Interactive;
    let fail = |reason: String| token_error(origin, reason);
    let client = crate::net::http_client(crate::net::answer::OIDC_REQUEST_TIMEOUT)?;
    let form_post = |url: String, body: String| {
        client
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
    };
    let json_of = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).unwrap_or_default();
    // "(HTTP 404)", with why a redirect is not followed: said when an
    // answer is not what the flow needs.
    let status_of = |status: u16| format!("(HTTP {status}){}", crate::net::redirect_hint(status));
    let read = |url: &str, request| {
        let url = url.to_string();
        async move {
            // Any status: the token endpoint says "authorization_pending" with 400.
            crate::net::answer::send_and_read(request, crate::net::answer::OIDC)
                .await
                .map_err(|e| fail(format!("{url}: {e}")))
        }
    };
    let runtime = crate::net::current_thread_runtime()?;
    runtime.block_on(async {
        let discovery_url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let request = client.get(&discovery_url);
        let (status, discovery) = read(&discovery_url, request).await?;
        let discovery = json_of(&discovery);
        let (Some(device_url), Some(token_url)) = (
            discovery["device_authorization_endpoint"].as_str(),
            discovery["token_endpoint"].as_str(),
        ) else {
            return Err(fail(format!(
                "{issuer} offers no device authorization endpoint {}",
                status_of(status)
            )));
        };
        // The endpoints the provider names pass the issuer's URL check: no
        // plain http to another machine unless the issuer itself is http
        // (which only --allow-insecure-http or this machine permits).
        let insecure = issuer.starts_with("http://");
        let device_url = crate::net::check_url("the provider's device_authorization_endpoint", device_url, insecure)?;
        let token_url = crate::net::check_url("the provider's token_endpoint", token_url, insecure)?;
        let request = form_post(device_url.clone(), "client_id=sigstore&scope=openid+email".into());
        let (status, grant) = read(&device_url, request).await?;
        let grant = client_grant(grant).map_err(|e| fail(format!("{e} {}", status_of(status))))?;
        let _ = writeln!(
            out,
            "To sign, open {} and enter the code {}",
            grant.verification_uri, grant.user_code
        );
        let deadline = std::time::Instant::now()
            + std::time::Duration::from_secs(grant.expires_in.min(900));
        let mut interval = grant.interval.max(1);
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=sigstore&device_code={}",
            grant.device_code
        );
        while std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_secs(interval)).await;
            let request = form_post(token_url.clone(), body.clone());
            let (status, answer) = read(&token_url, request).await?;
            let answer = json_of(&answer);
            match (answer["id_token"].as_str(), answer["error"].as_str()) {
                (Some(jwt), _) => return Token::parse(jwt, origin),
                (None, Some("authorization_pending")) => {}
                (None, Some("slow_down")) => interval += 5,
                (None, Some(e)) => return Err(fail(format!("the login failed: {e} {}", status_of(status)))),
                (None, None) => {
                    return Err(fail(format!(
                        "the token endpoint answered neither a token nor an error {}",
                        status_of(status)
                    )));
                }
            }
        }
        Err(fail("the device login was not completed in time".into()))
    })
}

struct DeviceGrant {
    device_code: String,
    user_code: String,
    verification_uri: String,
    expires_in: u64,
    interval: u64,
}

fn client_grant(bytes: impl AsRef<[u8]>) -> std::result::Result<DeviceGrant, String> {
    let v: Value =
        serde_json::from_slice(bytes.as_ref()).map_err(|e| format!("device grant: {e}"))?;
    let text = |k: &str| {
        v[k].as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("device grant has no {k}"))
    };
    Ok(DeviceGrant {
        device_code: text("device_code")?,
        user_code: text("user_code")?,
        verification_uri: v["verification_uri_complete"]
            .as_str()
            .map(str::to_string)
            .map_or_else(|| text("verification_uri"), Ok)?,
        expires_in: v["expires_in"].as_u64().unwrap_or(300),
        interval: v["interval"].as_u64().unwrap_or(5),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: Value) -> String {
        format!(
            "{}.{}.{}",
            B64URL.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            B64URL.encode(claims.to_string()),
            B64URL.encode([7u8; 64])
        )
    }

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000).unwrap()
    }

    #[test]
    fn preflight_checks_audience_and_expiry() {
        let ok = jwt(
            serde_json::json!({"iss": "https://gitlab.com", "sub": "project_path:g/p:ref_type:branch:ref:main",
            "aud": "sigstore", "exp": 1_700_000_100, "project_path": "g/p", "ref": "main", "ref_type": "branch"}),
        );
        let t = Token::parse(&ok, TokenOrigin::Environment).unwrap();
        t.preflight(now()).unwrap();
        assert_eq!(
            t.gitlab_project_and_ref(),
            Some(("g/p".into(), "refs/heads/main".into()))
        );
        assert!(
            t.describe()
                .contains("GitLab project g/p at refs/heads/main")
        );

        let wrong_aud = jwt(
            serde_json::json!({"iss": "i", "sub": "s", "aud": ["other"], "exp": 1_700_000_100}),
        );
        let e = Token::parse(&wrong_aud, TokenOrigin::Flag)
            .unwrap()
            .preflight(now())
            .unwrap_err();
        assert!(e.to_string().contains("aud: sigstore"), "{e}");

        let expired = jwt(
            serde_json::json!({"iss": "i", "sub": "s", "aud": "sigstore", "exp": 1_699_999_000}),
        );
        let e = Token::parse(&expired, TokenOrigin::Flag)
            .unwrap()
            .preflight(now())
            .unwrap_err();
        assert!(e.to_string().contains("expired 1000 s ago"), "{e}");
    }

    #[test]
    fn an_oidc_issuer_flag_must_match_the_token() {
        let t = Token::parse(
            &jwt(serde_json::json!({"iss": "https://gitlab.com", "sub": "s", "aud": "sigstore", "exp": 2_000_000_000})),
            TokenOrigin::Environment,
        )
        .unwrap();
        t.check_issuer("https://gitlab.com/").unwrap();
        let e = t
            .check_issuer("https://oauth2.sigstore.dev/auth")
            .unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e:?}");
        let e = e.to_string();
        assert!(
            e.contains("SIGSTORE_ID_TOKEN") && e.contains("\"https://gitlab.com\""),
            "{e}"
        );
    }

    #[test]
    fn errors_and_debug_never_show_the_token() {
        let token = jwt(serde_json::json!({"iss": "i", "sub": "s", "aud": "sigstore", "exp": 1}));
        let t = Token::parse(&token, TokenOrigin::Flag).unwrap();
        let debug = format!("{t:?}");
        assert!(!debug.contains(&token) && !debug.contains(token.rsplit('.').next().unwrap()));
        let e = t.preflight(now()).unwrap_err().to_string();
        assert!(!e.contains(token.rsplit('.').next().unwrap()), "{e}");
        for bad in ["x", "a.b", "a.!!!.c"] {
            let e = Token::parse(bad, TokenOrigin::Flag)
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("identity token from --identity-token"), "{e}");
        }
    }

    #[test]
    fn the_device_flow_says_what_status_the_discovery_had() {
        use crate::net::answer::tests::serve_once;
        for (answer, said) in [
            (
                &b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot here\n"[..],
                "(HTTP 404)",
            ),
            (
                b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n",
                "(HTTP 302 is a redirect: keyless follows none",
            ),
        ] {
            let (url, server) = serve_once(answer);
            let e = device_flow(url.trim_end_matches('/'), &mut Vec::new())
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("offers no device authorization endpoint") && e.contains(said),
                "{e}"
            );
            server.join().unwrap();
        }
    }

    #[test]
    fn resolution_order_is_flag_then_environment() {
        let env_token = jwt(
            serde_json::json!({"iss": "env", "sub": "s", "aud": "sigstore", "exp": 2_000_000_000}),
        );
        let flag_token = jwt(
            serde_json::json!({"iss": "flag", "sub": "s", "aud": "sigstore", "exp": 2_000_000_000}),
        );
        let env = |k: &str| (k == "SIGSTORE_ID_TOKEN").then(|| env_token.clone());
        let t = resolve(&TokenOptions::default(), &env).unwrap();
        assert_eq!((t.issuer(), t.origin()), ("env", TokenOrigin::Environment));
        let opts = TokenOptions {
            flag: Some(flag_token),
            ..Default::default()
        };
        assert_eq!(resolve(&opts, &env).unwrap().issuer(), "flag");
        let none = resolve(&TokenOptions::default(), &|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            none.contains("SIGSTORE_ID_TOKEN:") && none.contains("aud: sigstore"),
            "{none}"
        );
    }
}
