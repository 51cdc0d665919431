//! Choosing the Fulcio, Rekor and TSA to sign with, by the signing-config
//! v0.2 rules: drop services outside their validity window or with an
//! unsupported major API version, keep one per operator (the highest
//! version), then apply the selector. Services named explicitly (cosign's
//! `--fulcio-url`, `--rekor-url`, `--timestamp-server-url`, `--oidc-issuer`)
//! replace the config's choice of that service only; the trust root stays
//! the instance's, so a service it does not describe fails verification.

use crate::error::{Error, Result};
pub use crate::net::check_url;
use sigstore_trust_root::{ServiceEndpoint, ServiceSelector, SigningConfig};

/// Major API versions keyless speaks.
const FULCIO_VERSIONS: &[u32] = &[1];
const REKOR_VERSIONS: &[u32] = &[1, 2];
const TSA_VERSIONS: &[u32] = &[1];

/// The services one signing run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// Fulcio base URL.
    pub fulcio: String,
    /// Rekor base URL.
    pub rekor: String,
    /// Rekor major API version (1 or 2).
    pub rekor_version: u32,
    /// TSA URL (the full `/api/v1/timestamp` URL), when one is configured.
    pub tsa: Option<String>,
    /// OIDC issuer for interactive login.
    pub oidc: Option<String>,
}

/// Services named explicitly, each replacing the signing config's choice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Fulcio base URL (`--fulcio-url`).
    pub fulcio: Option<String>,
    /// Rekor base URL (`--rekor-url`); its API version is the forced one,
    /// else 1.
    pub rekor: Option<String>,
    /// The TSA's full timestamp URL (`--timestamp-server-url`).
    pub tsa: Option<String>,
    /// The OIDC provider for interactive and device logins (`--oidc-issuer`).
    pub oidc: Option<String>,
    /// Accept plain `http://` to another machine in these URLs
    /// (`--allow-insecure-http`); see [`check_url`].
    pub allow_insecure_http: bool,
}

impl Overrides {
    /// Whether nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

fn valid_at(e: &ServiceEndpoint, now: jiff::Timestamp) -> bool {
    e.valid_for.start <= now && e.valid_for.end.is_none_or(|end| now < end)
}

/// Valid endpoints of a supported version, one per operator (its highest
/// version; endpoints without an operator count as one operator), in the
/// order the config lists the operators.
fn eligible<'a>(
    endpoints: &'a [ServiceEndpoint],
    versions: &[u32],
    now: jiff::Timestamp,
) -> Vec<&'a ServiceEndpoint> {
    let mut best: Vec<&ServiceEndpoint> = Vec::new();
    for e in endpoints
        .iter()
        .filter(|e| valid_at(e, now) && versions.contains(&e.major_api_version))
    {
        match best.iter_mut().find(|b| b.operator == e.operator) {
            Some(b) if e.major_api_version > b.major_api_version => *b = e,
            Some(_) => {}
            None => best.push(e),
        }
    }
    best
}

/// Apply a v0.2 selector to a single-service signer: `ANY` takes the first,
/// `ALL` and `EXACT` are satisfiable only when they ask for one service.
fn select_one<'a>(
    what: &str,
    candidates: &[&'a ServiceEndpoint],
    selector: ServiceSelector,
    count: Option<u32>,
) -> Result<Option<&'a ServiceEndpoint>> {
    let needed = match selector {
        ServiceSelector::All => candidates.len(),
        ServiceSelector::Exact => count.unwrap_or(1) as usize,
        _ => usize::from(!candidates.is_empty()),
    };
    if needed > 1 {
        return Err(Error::SigningConfig {
            reason: format!(
                "the signing config asks for {needed} {what} services ({selector:?}); keyless signs with one"
            ),
        });
    }
    if needed == 1 && candidates.is_empty() {
        return Err(Error::SigningConfig {
            reason: format!("the signing config lists no usable {what}"),
        });
    }
    Ok(candidates.first().copied())
}

/// Choose services from `config` at `now`, optionally forcing the Rekor
/// major version.
pub fn select(
    config: &SigningConfig,
    force_rekor_version: Option<u32>,
    now: jiff::Timestamp,
) -> Result<Services> {
    choose(
        Some(config),
        &Overrides::default(),
        force_rekor_version,
        now,
    )
}

/// Choose services at `now`: each one `overrides` names (checked with
/// [`check_url`]), else the one `config` selects. An explicit Rekor speaks
/// the forced major version, else 1 (a URL does not say which API it
/// serves). Rekor v2 needs a TSA, wherever each came from.
pub fn choose(
    config: Option<&SigningConfig>,
    overrides: &Overrides,
    force_rekor_version: Option<u32>,
    now: jiff::Timestamp,
) -> Result<Services> {
    if let Some(v) = force_rekor_version
        && !REKOR_VERSIONS.contains(&v)
    {
        return Err(Error::Usage(format!(
            "--rekor-version {v}: keyless speaks Rekor 1 and 2"
        )));
    }
    let config_for = |flag: &str| {
        config.ok_or_else(|| {
            Error::Usage(format!(
                "there is no signing config to choose a service from: pass {flag}"
            ))
        })
    };
    let fulcio = match &overrides.fulcio {
        Some(url) => check_url("--fulcio-url", url, overrides.allow_insecure_http)?,
        None => select_fulcio(config_for("--fulcio-url")?, now)?,
    };
    let (rekor, rekor_version) = match &overrides.rekor {
        Some(url) => (
            check_url("--rekor-url", url, overrides.allow_insecure_http)?,
            force_rekor_version.unwrap_or(1),
        ),
        None => select_rekor(config_for("--rekor-url")?, force_rekor_version, now)?,
    };
    let tsa = match (&overrides.tsa, config) {
        (Some(url), _) => Some(check_url(
            "--timestamp-server-url",
            url,
            overrides.allow_insecure_http,
        )?),
        (None, Some(config)) => select_tsa(config, now)?,
        (None, None) => None,
    };
    if rekor_version == 2 && tsa.is_none() {
        return Err(Error::SigningConfig {
            reason: "Rekor v2 gives no signed time, so it needs a TSA, and the signing config lists none (or pass --timestamp-server-url)"
                .into(),
        });
    }
    let oidc = match &overrides.oidc {
        Some(url) => Some(check_url(
            "--oidc-issuer",
            url,
            overrides.allow_insecure_http,
        )?),
        None => config.and_then(|c| {
            c.oidc_urls
                .iter()
                .find(|e| valid_at(e, now))
                .map(|e| e.url.clone())
        }),
    };
    // What the signing config chose passes the same check as a flag (which
    // also trims a trailing '/'): a config file given by hand could name
    // http:// or ftp:// services.
    let allow = overrides.allow_insecure_http;
    let from_config = |what: &str, url: String| {
        check_url(&format!("the signing config's {what} URL"), &url, allow)
    };
    let fulcio = from_config("Fulcio", fulcio)?;
    let rekor = from_config("Rekor", rekor)?;
    let tsa = tsa.map(|u| from_config("TSA", u)).transpose()?;
    let oidc = oidc.map(|u| from_config("OIDC", u)).transpose()?;
    Ok(Services {
        fulcio,
        rekor,
        rekor_version,
        tsa,
        oidc,
    })
}

fn select_fulcio(config: &SigningConfig, now: jiff::Timestamp) -> Result<String> {
    eligible(&config.ca_urls, FULCIO_VERSIONS, now)
        .first()
        .map(|e| e.url.clone())
        .ok_or_else(|| Error::SigningConfig {
            reason: "the signing config lists no Fulcio valid now (major version 1)".into(),
        })
}

fn select_rekor(
    config: &SigningConfig,
    force_rekor_version: Option<u32>,
    now: jiff::Timestamp,
) -> Result<(String, u32)> {
    let rekor_versions: Vec<u32> = match force_rekor_version {
        Some(v) => vec![v],
        None => REKOR_VERSIONS.to_vec(),
    };
    let rekors = eligible(&config.rekor_tlog_urls, &rekor_versions, now);
    let rekor = select_one(
        "Rekor",
        &rekors,
        config.rekor_tlog_config.selector,
        config.rekor_tlog_config.count,
    )?
    .ok_or_else(|| Error::SigningConfig {
        reason: match force_rekor_version {
            Some(v) => format!(
                "the signing config lists no Rekor v{v} valid now (name a v{v} log with --rekor-url)"
            ),
            None => "the signing config lists no Rekor valid now".into(),
        },
    })?;
    Ok((rekor.url.clone(), rekor.major_api_version))
}

fn select_tsa(config: &SigningConfig, now: jiff::Timestamp) -> Result<Option<String>> {
    let tsas = eligible(&config.tsa_urls, TSA_VERSIONS, now);
    Ok(select_one(
        "TSA",
        &tsas,
        config.tsa_config.selector,
        config.tsa_config.count,
    )?
    .map(|e| e.url.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(rekors: &str, tsa: &str, rekor_cfg: &str) -> SigningConfig {
        SigningConfig::from_json(&format!(
            r#"{{"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": [{{"url": "https://fulcio", "majorApiVersion": 1, "validFor": {{"start": "2020-01-01T00:00:00Z"}}}}],
            "rekorTlogUrls": [{rekors}], "tsaUrls": [{tsa}], "rekorTlogConfig": {rekor_cfg}, "tsaConfig": {{"selector": "ANY"}}}}"#
        ))
        .unwrap()
    }

    fn svc(url: &str, v: u32, op: &str, start: &str, end: Option<&str>) -> String {
        let end = end.map_or(String::new(), |e| format!(r#", "end": "{e}""#));
        format!(
            r#"{{"url": "{url}", "majorApiVersion": {v}, "operator": "{op}", "validFor": {{"start": "{start}"{end}}}}}"#
        )
    }

    fn now() -> jiff::Timestamp {
        "2026-06-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn highest_valid_version_wins_and_can_be_forced() {
        let rekors = [
            svc("https://r1", 1, "a", "2020-01-01T00:00:00Z", None),
            svc("https://r2", 2, "a", "2025-01-01T00:00:00Z", None),
            svc("https://r3", 3, "a", "2025-01-01T00:00:00Z", None),
        ]
        .join(",");
        let tsa = svc(
            "https://tsa/api/v1/timestamp",
            1,
            "t",
            "2020-01-01T00:00:00Z",
            None,
        );
        let c = config(&rekors, &tsa, r#"{"selector": "ANY"}"#);
        let s = select(&c, None, now()).unwrap();
        assert_eq!(
            (s.rekor.as_str(), s.rekor_version),
            ("https://r2", 2),
            "v3 is unsupported"
        );
        assert_eq!(select(&c, Some(1), now()).unwrap().rekor, "https://r1");
        assert!(select(&c, Some(7), now()).is_err());
    }

    #[test]
    fn any_keeps_the_config_order_of_operators() {
        let rekors = [
            svc("https://first-v1", 1, "first", "2020-01-01T00:00:00Z", None),
            svc(
                "https://second-v2",
                2,
                "second",
                "2020-01-01T00:00:00Z",
                None,
            ),
        ]
        .join(",");
        let tsa = svc("https://tsa", 1, "t", "2020-01-01T00:00:00Z", None);
        let c = config(&rekors, &tsa, r#"{"selector": "ANY"}"#);
        assert_eq!(select(&c, None, now()).unwrap().rekor, "https://first-v1");
        assert_eq!(
            select(&c, Some(2), now()).unwrap().rekor,
            "https://second-v2"
        );
    }

    #[test]
    fn expired_and_future_services_are_skipped() {
        let rekors = [
            svc(
                "https://old",
                1,
                "a",
                "2020-01-01T00:00:00Z",
                Some("2026-01-01T00:00:00Z"),
            ),
            svc("https://future", 1, "b", "2027-01-01T00:00:00Z", None),
            svc("https://now", 1, "c", "2025-01-01T00:00:00Z", None),
        ]
        .join(",");
        let c = config(&rekors, "", r#"{"selector": "ANY"}"#);
        let s = select(&c, None, now()).unwrap();
        assert_eq!(s.rekor, "https://now");
        assert_eq!(s.tsa, None);
    }

    #[test]
    fn selectors_asking_for_several_logs_are_refused() {
        let rekors = [
            svc("https://a", 1, "a", "2020-01-01T00:00:00Z", None),
            svc("https://b", 1, "b", "2020-01-01T00:00:00Z", None),
        ]
        .join(",");
        let all = config(&rekors, "", r#"{"selector": "ALL"}"#);
        assert!(
            select(&all, None, now())
                .unwrap_err()
                .to_string()
                .contains("signs with one")
        );
        let exact2 = config(&rekors, "", r#"{"selector": "EXACT", "count": 2}"#);
        assert!(select(&exact2, None, now()).is_err());
        let exact1 = config(&rekors, "", r#"{"selector": "EXACT", "count": 1}"#);
        assert!(select(&exact1, None, now()).is_ok());
        // ALL over one operator's two versions is one service.
        let same_op = [
            svc("https://a1", 1, "a", "2020-01-01T00:00:00Z", None),
            svc("https://a2", 2, "a", "2020-01-01T00:00:00Z", None),
        ]
        .join(",");
        let tsa = svc("https://tsa", 1, "t", "2020-01-01T00:00:00Z", None);
        assert_eq!(
            select(
                &config(&same_op, &tsa, r#"{"selector": "ALL"}"#),
                None,
                now()
            )
            .unwrap()
            .rekor,
            "https://a2"
        );
    }

    #[test]
    fn explicit_services_replace_the_configs_choice_only() {
        let rekors = svc("https://r2", 2, "a", "2020-01-01T00:00:00Z", None);
        let tsa = svc(
            "https://tsa/api/v1/timestamp",
            1,
            "t",
            "2020-01-01T00:00:00Z",
            None,
        );
        let c = config(&rekors, &tsa, r#"{"selector": "ANY"}"#);
        let fulcio_only = Overrides {
            fulcio: Some("https://fulcio.example/".into()),
            ..Default::default()
        };
        let s = choose(Some(&c), &fulcio_only, None, now()).unwrap();
        assert_eq!(s.fulcio, "https://fulcio.example");
        assert_eq!((s.rekor.as_str(), s.rekor_version), ("https://r2", 2));
        // An explicit Rekor is v1 unless a version is forced.
        let rekor = Overrides {
            rekor: Some("https://rekor.example".into()),
            ..Default::default()
        };
        let s = choose(Some(&c), &rekor, None, now()).unwrap();
        assert_eq!(
            (s.rekor.as_str(), s.rekor_version),
            ("https://rekor.example", 1)
        );
        assert_eq!(
            choose(Some(&c), &rekor, Some(2), now())
                .unwrap()
                .rekor_version,
            2
        );
        assert_eq!(s.tsa.as_deref(), Some("https://tsa/api/v1/timestamp"));
        // Without a config every service must be named; v2 still needs a TSA.
        let all = Overrides {
            fulcio: Some("https://f".into()),
            rekor: Some("https://r".into()),
            ..Default::default()
        };
        assert_eq!(choose(None, &all, None, now()).unwrap().tsa, None);
        assert!(choose(None, &all, Some(2), now()).is_err());
        let e = choose(None, &rekor, None, now()).unwrap_err().to_string();
        assert!(e.contains("--fulcio-url"), "{e}");
    }

    #[test]
    fn rekor_v2_requires_a_tsa() {
        let rekors = svc("https://r2", 2, "a", "2020-01-01T00:00:00Z", None);
        let e = select(&config(&rekors, "", r#"{"selector": "ANY"}"#), None, now()).unwrap_err();
        assert!(e.to_string().contains("needs a TSA"), "{e}");
    }
}
