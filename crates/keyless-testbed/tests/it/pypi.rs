//! The PyPI stand-in: recorded real provenance served as is through the
//! PEP 691 index and the Integrity API; uploads as `twine upload
//! --attestations` sends them, with the attestations stored as provenance
//! (publisher from the certificate) and PyPI's refusals: no token, a file
//! name for another release, a digest that is not the file's, a file name
//! reused, an attestation for another file or digest.

use crate::common::{http, http_with_head, read_json, start, start_with, vectors};
use base64::Engine;
use serde_json::{Value, json};

const GITLAB_SDIST: &str = "gitlab_oidc_project-0.0.3.tar.gz";
const GITHUB_SDIST: &str = "pypi_attestations-0.0.19.tar.gz";
const JSON: &str = "text/plain\r\nAccept: application/vnd.pypi.simple.v1+json";

fn token_header() -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode("__token__:pypi-test-token");
    format!("Authorization: Basic {b64}")
}

fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

#[test]
fn recorded_provenance_is_served_through_the_index_and_the_integrity_api() {
    let bed = start();
    let url = bed.tb.url();
    let dir = vectors("pypi-provenance");
    assert_eq!(bed.tb.pypi_preload(&dir).unwrap(), 2);

    // PEP 691 JSON: the file, its sha256, and its Integrity API URL.
    let (status, head, body) = http_with_head(url, "GET", "/simple/pypi-attestations/", JSON, b"");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("application/vnd.pypi.simple.v1+json"),
        "{head}"
    );
    let index = body_json(&body);
    let sdist = std::fs::read(dir.join(GITHUB_SDIST)).unwrap();
    let sha = sigstore_crypto::sha256(&sdist).to_hex();
    let provenance_url =
        format!("{url}/integrity/pypi-attestations/0.0.19/{GITHUB_SDIST}/provenance");
    assert_eq!(
        index["files"],
        json!([{
            "filename": GITHUB_SDIST,
            "url": format!("{url}/packages/pypi-attestations/{GITHUB_SDIST}"),
            "hashes": {"sha256": sha},
            "size": sdist.len(),
            "yanked": false,
            "provenance": provenance_url,
        }])
    );
    assert_eq!(index["versions"], json!(["0.0.19"]));
    // The file, and the recorded answer byte for byte.
    let path = |u: &str| u.trim_start_matches(url).to_string();
    let (status, file) = http(
        url,
        "GET",
        &path(index["files"][0]["url"].as_str().unwrap()),
        "text/plain",
        b"",
    );
    assert_eq!((status, file), (200, sdist));
    let (status, head, prov) =
        http_with_head(url, "GET", &path(&provenance_url), "text/plain", b"");
    assert_eq!(status, 200);
    assert!(
        head.contains("application/vnd.pypi.integrity.v1+json"),
        "{head}"
    );
    assert_eq!(
        prov,
        std::fs::read(dir.join(format!("{GITHUB_SDIST}.provenance"))).unwrap()
    );

    // The real GitLab attestation, wrapped as PyPI does.
    let (status, prov) = http(
        url,
        "GET",
        &format!("/integrity/gitlab-oidc-project/0.0.3/{GITLAB_SDIST}/provenance"),
        "text/plain",
        b"",
    );
    assert_eq!(status, 200);
    let prov = body_json(&prov);
    let att = read_json(&dir.join(format!("{GITLAB_SDIST}.publish.attestation")));
    assert_eq!(
        prov,
        json!({"version": 1, "attestation_bundles": [{
            "publisher": {"kind": "GitLab", "repository": "facutuesca/gitlab-oidc-project",
                          "workflow_filepath": ".gitlab-ci.yml", "environment": null},
            "attestations": [att],
        }]})
    );

    // No answer for another version, another project, or a file unknown.
    for bad in [
        format!("/integrity/gitlab-oidc-project/0.0.4/{GITLAB_SDIST}/provenance"),
        format!("/integrity/pypi-attestations/0.0.3/{GITLAB_SDIST}/provenance"),
        "/integrity/gitlab-oidc-project/0.0.3/gitlab_oidc_project-0.0.3-py3-none-any.whl/provenance".into(),
    ] {
        assert_eq!(http(url, "GET", &bad, "text/plain", b"").0, 404, "{bad}");
    }
    // A file without provenance: `provenance` null, and a 404.
    bed.tb
        .pypi_add("gitlab_oidc_project-0.0.3-py3-none-any.whl", b"wheel", None)
        .unwrap();
    let (_, body) = http(url, "GET", "/simple/gitlab-oidc-project/", JSON, b"");
    let files = body_json(&body)["files"].clone();
    assert_eq!(
        files[0]["filename"],
        "gitlab_oidc_project-0.0.3-py3-none-any.whl"
    );
    assert_eq!(files[0]["provenance"], Value::Null);
    assert_eq!(
        http(url, "GET", "/integrity/gitlab-oidc-project/0.0.3/gitlab_oidc_project-0.0.3-py3-none-any.whl/provenance", "text/plain", b"").0,
        404
    );
    // HTML for clients that ask for it, with data-provenance.
    let (status, head, body) = http_with_head(
        url,
        "GET",
        "/simple/gitlab-oidc-project/",
        "text/plain\r\nAccept: text/html",
        b"",
    );
    assert_eq!(status, 200);
    assert!(head.contains("text/html"), "{head}");
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains(&format!("data-provenance=\"{url}/integrity/gitlab-oidc-project/0.0.3/{GITLAB_SDIST}/provenance\"")), "{html}");
    // A name that is not normalized is redirected, as PyPI does.
    let (status, head, _) = http_with_head(url, "GET", "/simple/Gitlab_OIDC.project/", JSON, b"");
    assert_eq!(status, 301);
    assert!(
        head.contains("location: /simple/gitlab-oidc-project/"),
        "{head}"
    );
    let (_, body) = http(url, "GET", "/simple/", JSON, b"");
    assert_eq!(
        body_json(&body)["projects"],
        json!([{"name": "gitlab-oidc-project"}, {"name": "pypi-attestations"}])
    );
}

/// A `multipart/form-data` body as twine 7 sends it.
fn form(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "twine-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn uploads_with_attestations_become_provenance_and_pypis_refusals_hold() {
    let bed = start();
    let url = bed.tb.url();
    let dir = vectors("pypi-provenance");
    let sdist = std::fs::read(dir.join(GITLAB_SDIST)).unwrap();
    let sha = sigstore_crypto::sha256(&sdist).to_hex();
    let att = read_json(&dir.join(format!("{GITLAB_SDIST}.publish.attestation")));
    let upload = |fields: &[(&str, &str)], name: &str, bytes: &[u8], auth: bool| {
        let mut base = vec![
            (":action", "file_upload"),
            ("protocol_version", "1"),
            ("name", "gitlab-oidc-project"),
            ("version", "0.0.3"),
            ("filetype", "sdist"),
        ];
        base.extend_from_slice(fields);
        let (ct, body) = form(&base, Some((name, bytes)));
        let ct = if auth {
            format!("{ct}\r\n{}", token_header())
        } else {
            ct
        };
        let (status, body) = http(url, "POST", "/legacy/", &ct, &body);
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    let attestations = |a: &Value| json!([a]).to_string();
    let stored = || bed.tb.state_dir().join("pypi/gitlab-oidc-project").exists();

    // No token (or another user): refused, nothing stored.
    let (status, _) = upload(
        &[("attestations", &attestations(&att))],
        GITLAB_SDIST,
        &sdist,
        false,
    );
    assert_eq!(status, 403);
    assert!(!stored());
    // An attestation for another digest, or another file name: refused.
    let (status, msg) = upload(
        &[("attestations", &attestations(&att))],
        GITLAB_SDIST,
        b"other bytes",
        true,
    );
    assert_eq!(status, 400);
    assert!(
        msg.contains("subject does not match distribution digest"),
        "{msg}"
    );
    let renamed = "gitlab_oidc_project-0.0.3.zip";
    let (status, msg) = upload(
        &[("attestations", &attestations(&att))],
        renamed,
        &sdist,
        true,
    );
    assert_eq!(status, 400);
    assert!(
        msg.contains("subject does not match distribution name"),
        "{msg}"
    );
    // A file of another release than the form names; a wrong digest field.
    let (status, msg) = upload(&[], "gitlab_oidc_project-0.0.4.tar.gz", &sdist, true);
    assert_eq!(status, 400);
    assert!(msg.contains("Invalid filename"), "{msg}");
    let wrong = "0".repeat(64);
    let (status, msg) = upload(&[("sha256_digest", &wrong)], GITLAB_SDIST, &sdist, true);
    assert_eq!(status, 400);
    assert!(msg.contains("digest supplied does not match"), "{msg}");
    assert!(!stored(), "a refused upload stored something");

    // As twine sends it: stored, served, provenance with the publisher.
    let (status, msg) = upload(
        &[
            ("sha256_digest", &sha),
            ("attestations", &attestations(&att)),
        ],
        GITLAB_SDIST,
        &sdist,
        true,
    );
    assert_eq!(status, 200, "{msg}");
    let (_, body) = http(
        url,
        "GET",
        &format!("/integrity/gitlab-oidc-project/0.0.3/{GITLAB_SDIST}/provenance"),
        "text/plain",
        b"",
    );
    let prov = body_json(&body);
    assert_eq!(prov["attestation_bundles"][0]["attestations"], json!([att]));
    assert_eq!(
        prov["attestation_bundles"][0]["publisher"],
        json!({"kind": "GitLab", "repository": "facutuesca/gitlab-oidc-project",
               "workflow_filepath": ".gitlab-ci.yml", "environment": null})
    );
    // A file name is accepted once: other bytes under it are refused.
    let (status, msg) = upload(&[], GITLAB_SDIST, b"replaced", true);
    assert_eq!(status, 400);
    assert!(msg.contains("File already exists"), "{msg}");
    let (_, file) = http(
        url,
        "GET",
        &format!("/packages/gitlab-oidc-project/{GITLAB_SDIST}"),
        "text/plain",
        b"",
    );
    assert_eq!(file, sdist);
}

#[test]
fn pypi_faults_apply_to_the_index() {
    let bed = start_with(vec!["pypi=status:503".parse().unwrap()]);
    let (status, _) = http(bed.tb.url(), "GET", "/simple/", JSON, b"");
    assert_eq!(status, 503);
}

/// Trusted Publishing's token exchange: a JWT for audience `pypi` gets an
/// API token; another audience or a non-JWT gets PyPI's 422.
#[test]
fn trusted_publishing_exchanges_a_pypi_audience_token() {
    let bed = start();
    let url = bed.tb.url();
    let mut spec = keyless_testbed::TokenSpec::gitlab("https://gitlab.com");
    spec.audience = "pypi".into();
    let jwt = bed.tb.mint(&spec, keyless_testbed::JwsAlg::ES256);
    let (status, body) = http(url, "GET", "/_/oidc/audience", "text/plain", b"");
    assert_eq!(
        (status, body_json(&body)),
        (200, json!({"audience": "pypi"}))
    );
    let mint = |token: &str| {
        let (status, body) = http(
            url,
            "POST",
            "/_/oidc/mint-token",
            "application/json",
            json!({"token": token}).to_string().as_bytes(),
        );
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    let (status, body) = mint(&jwt);
    assert_eq!(status, 200, "{body}");
    let answer = body_json(body.as_bytes());
    assert!(
        answer["token"].as_str().unwrap().starts_with("pypi-"),
        "{answer}"
    );
    assert!(!body.contains(&jwt), "the OIDC token was echoed");
    let sigstore = bed.tb.mint(
        &keyless_testbed::TokenSpec::gitlab("https://gitlab.com"),
        keyless_testbed::JwsAlg::ES256,
    );
    for bad in [sigstore.as_str(), "not-a-jwt", ""] {
        let (status, body) = mint(bad);
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("Token request failed"), "{body}");
    }
}
