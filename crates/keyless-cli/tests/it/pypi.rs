//! `keyless verify pypi` against a small index on 127.0.0.1 serving PyPI's
//! documented shapes (PEP 691 JSON pages, the Integrity API), with the
//! real GitLab-published attestation of gitlab_oidc_project 0.0.3
//! (verified against the embedded production root, offline).

use crate::common::serve::{Served, serve};
use crate::common::{Run, keyless, run, vectors};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

const SDIST: &str = "gitlab_oidc_project-0.0.3.tar.gz";
const SHA256: &str = "c1ca9b0d85df1606451098233018534497bf584362e10e4a8c21dfaea92c02a8";
const PROJECT: &str = "facutuesca/gitlab-oidc-project";
const PAGE: &str = "/simple/gitlab-oidc-project/";
const INTEGRITY: &str =
    "/integrity/gitlab-oidc-project/0.0.3/gitlab_oidc_project-0.0.3.tar.gz/provenance";

/// What the stand-in answers at a path.
#[derive(Clone)]
enum Answer {
    Json(Value),
    Redirect(String),
    Bytes(Vec<u8>),
}

/// An index answering `routes` (every other path: 404).
fn index(routes: Vec<(&str, Answer)>) -> Served {
    let routes: Arc<HashMap<String, Answer>> = Arc::new(
        routes
            .into_iter()
            .map(|(p, a)| (p.to_string(), a))
            .collect(),
    );
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let routes = routes.clone();
        async move {
            use axum::http::{StatusCode, header};
            use axum::response::IntoResponse;
            match routes.get(uri.path()) {
                Some(Answer::Json(v)) => (
                    [(header::CONTENT_TYPE, "application/vnd.pypi.simple.v1+json")],
                    v.to_string(),
                )
                    .into_response(),
                Some(Answer::Redirect(to)) => {
                    (StatusCode::FOUND, [(header::LOCATION, to.clone())]).into_response()
                }
                Some(Answer::Bytes(b)) => b.clone().into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    serve(app)
}

fn attestation() -> Value {
    let path = vectors("pypi-attestations").join(format!("{SDIST}.publish.attestation"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The Integrity API's answer for the real attestation, with `publisher`
/// as the index's claim.
fn provenance(publisher: Value) -> Value {
    json!({
        "version": 1,
        "attestation_bundles": [{"publisher": publisher, "attestations": [attestation()]}],
    })
}

fn gitlab_claim() -> Value {
    json!({"kind": "GitLab", "repository": PROJECT, "workflow_filepath": ".gitlab-ci.yml", "environment": null})
}

/// A PEP 691 page listing `files` as (name, sha256, provenance key).
fn page(files: &[(&str, &str, Option<Value>)]) -> Value {
    let files: Vec<Value> = files
        .iter()
        .map(|(name, sha, prov)| {
            let mut f = json!({"filename": name, "url": format!("../../files/{name}"), "hashes": {"sha256": sha}});
            if let Some(p) = prov {
                f["provenance"] = p.clone();
            }
            f
        })
        .collect();
    json!({"meta": {"api-version": "1.1"}, "name": "gitlab-oidc-project", "files": files})
}

/// The usual index: the sdist, its provenance from the Integrity API.
fn usual() -> Vec<(&'static str, Answer)> {
    vec![
        (PAGE, Answer::Json(page(&[(SDIST, SHA256, None)]))),
        (INTEGRITY, Answer::Json(provenance(gitlab_claim()))),
    ]
}

fn verify(index: &Served, args: &[&str]) -> Run {
    run(keyless()
        .args(["verify", "pypi", "--json", "--index-url"])
        .arg(format!("{}/simple/", index.url))
        .args(args))
}

fn only_file(r: &Run) -> Value {
    let doc = r.json();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{doc:#}");
    files[0].clone()
}

const EXPECT: [&str; 4] = ["--gitlab", PROJECT, "--config-path", ".gitlab-ci.yml"];

#[test]
fn a_release_verifies_from_the_integrity_api() {
    let index = index(usual());
    let mut args = vec!["gitlab-oidc-project==0.0.3"];
    args.extend(EXPECT);
    let r = verify(&index, &args);
    r.assert_code(0);
    let f = only_file(&r);
    assert_eq!(f["status"], "verified", "{f:#}");
    assert_eq!(f["file"], SDIST);
    assert_eq!(f["sha256"], SHA256);
    assert_eq!(f["attestation_identities"][0]["repository"], PROJECT);
    assert_eq!(
        f["attestation_identities"][0]["workflow_filepath"],
        ".gitlab-ci.yml"
    );
    // The same through the page's own provenance URL (relative, same origin).
    let index = crate::pypi::index(vec![
        (
            PAGE,
            Answer::Json(page(&[(SDIST, SHA256, Some(json!("/prov/sdist")))])),
        ),
        ("/prov/sdist", Answer::Json(provenance(gitlab_claim()))),
    ]);
    verify(&index, &args).assert_code(0);
}

#[test]
fn requirements_pins_must_name_files_of_the_release() {
    let index = index(usual());
    let dir = tempfile::tempdir().unwrap();
    let req = dir.path().join("requirements.txt");
    std::fs::write(
        &req,
        format!("gitlab-oidc-project==0.0.3 \\\n    --hash=sha256:{SHA256}\n"),
    )
    .unwrap();
    let mut args = vec!["-r", req.to_str().unwrap()];
    args.extend(EXPECT);
    let r = verify(&index, &args);
    r.assert_code(0);
    assert_eq!(only_file(&r)["status"], "verified");

    // A pin the index lists for no file of the release: a failure.
    let other = "ab".repeat(32);
    std::fs::write(
        &req,
        format!("gitlab-oidc-project==0.0.3 --hash=sha256:{other}\n"),
    )
    .unwrap();
    let r = verify(&index, &args);
    r.assert_code(1);
    let f = only_file(&r);
    assert_eq!(f["failed_step"], "artifact", "{f:#}");
    assert_eq!(f["file"], format!("sha256:{other}"));
    assert!(
        f["reason"].as_str().unwrap().contains("names no file"),
        "{f:#}"
    );
}

fn lock(dir: &std::path::Path, identity: &str) -> std::path::PathBuf {
    let path = dir.join("pylock.toml");
    std::fs::write(
        &path,
        format!(
            "lock-version = \"1.0\"\ncreated-by = \"test\"\n\n[[packages]]\nname = \"gitlab-oidc-project\"\nversion = \"0.0.3\"\nattestation-identities = [{identity}]\n\n[packages.sdist]\nname = \"{SDIST}\"\nhashes = {{sha256 = \"{SHA256}\"}}\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_lock_holds_each_package_to_its_attestation_identities() {
    let index = index(usual());
    let dir = tempfile::tempdir().unwrap();
    let good = lock(
        dir.path(),
        &format!(
            "{{kind = \"GitLab\", repository = \"{PROJECT}\", workflow_filepath = \".gitlab-ci.yml\"}}"
        ),
    );
    let r = verify(&index, &["--lock", good.to_str().unwrap()]);
    r.assert_code(0);
    assert_eq!(only_file(&r)["status"], "verified");

    for wrong in [
        "{kind = \"GitLab\", repository = \"facutuesca/other-project\"}",
        "{kind = \"GitLab\", repository = \"facutuesca/gitlab-oidc-project\", workflow_filepath = \"release.yml\"}",
        "{kind = \"GitLab\", repository = \"facutuesca/gitlab-oidc-project\", environment = \"pypi\"}",
        "{kind = \"GitHub\", repository = \"facutuesca/gitlab-oidc-project\", workflow = \"release.yml\"}",
    ] {
        let path = lock(dir.path(), wrong);
        let r = verify(&index, &["--lock", path.to_str().unwrap()]);
        r.assert_code(1);
        let f = only_file(&r);
        assert_eq!(f["failed_step"], "identity", "{wrong}: {f:#}");
    }
}

#[test]
fn the_index_publisher_claim_must_be_what_the_certificate_says() {
    for claim in [
        json!({"kind": "GitLab", "repository": "facutuesca/other", "workflow_filepath": ".gitlab-ci.yml"}),
        json!({"kind": "GitLab", "repository": PROJECT, "workflow_filepath": "other.yml"}),
        json!({"kind": "GitHub", "repository": PROJECT, "workflow": "release.yml"}),
    ] {
        let index = index(vec![
            (PAGE, Answer::Json(page(&[(SDIST, SHA256, None)]))),
            (INTEGRITY, Answer::Json(provenance(claim.clone()))),
        ]);
        // Trust on first use too: the claim is never taken as identity.
        for args in [&EXPECT[..], &["--print-identities"][..]] {
            let mut all = vec!["gitlab-oidc-project==0.0.3"];
            all.extend(args);
            let r = verify(&index, &all);
            r.assert_code(1);
            let f = only_file(&r);
            assert_eq!(f["failed_step"], "publisher", "{claim}: {f:#}");
        }
    }
}

#[test]
fn missing_provenance_fails_unless_allowed() {
    for routes in [
        // The Integrity API has none (404) ...
        vec![(PAGE, Answer::Json(page(&[(SDIST, SHA256, None)])))],
        // ... or the page says none.
        vec![(
            PAGE,
            Answer::Json(page(&[(SDIST, SHA256, Some(Value::Null))])),
        )],
    ] {
        let index = index(routes);
        let mut args = vec!["gitlab-oidc-project==0.0.3"];
        args.extend(EXPECT);
        let r = verify(&index, &args);
        r.assert_code(1);
        let f = only_file(&r);
        assert_eq!(f["failed_step"], "provenance", "{f:#}");
        assert!(
            f["hint"].as_str().unwrap().contains("--allow-missing"),
            "{f:#}"
        );
        args.extend(["--allow-missing", "GitLab_OIDC_Project"]);
        let r = verify(&index, &args);
        r.assert_code(0);
        assert_eq!(only_file(&r)["status"], "unattested");
    }
}

#[test]
fn provenance_for_another_file_or_digest_fails() {
    // The real attestation served for a wheel of the same release (same
    // digest, another name), and for the sdist listed with another digest.
    let wheel = "gitlab_oidc_project-0.0.3-py3-none-any.whl";
    let other = "cd".repeat(32);
    let index = index(vec![
        (
            PAGE,
            Answer::Json(page(&[
                (wheel, SHA256, Some(json!("/prov/x"))),
                (SDIST, &other, Some(json!("/prov/x"))),
            ])),
        ),
        ("/prov/x", Answer::Json(provenance(gitlab_claim()))),
    ]);
    let mut args = vec!["gitlab-oidc-project==0.0.3"];
    args.extend(EXPECT);
    let r = verify(&index, &args);
    r.assert_code(1);
    let doc = r.json();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{doc:#}");
    for f in files {
        assert_eq!(f["ok"], false, "{f:#}");
        assert_eq!(f["failed_step"], "artifact", "{f:#}");
    }
}

#[test]
fn a_provenance_url_on_another_origin_is_not_followed() {
    let elsewhere = index(vec![("/prov", Answer::Json(provenance(gitlab_claim())))]);
    let index = index(vec![(
        PAGE,
        Answer::Json(page(&[(
            SDIST,
            SHA256,
            Some(json!(format!("{}/prov", elsewhere.url))),
        )])),
    )]);
    let mut args = vec!["gitlab-oidc-project==0.0.3"];
    args.extend(EXPECT);
    let r = verify(&index, &args);
    r.assert_code(1);
    let f = only_file(&r);
    assert_eq!(f["failed_step"], "provenance", "{f:#}");
    assert!(
        f["reason"].as_str().unwrap().contains("another origin"),
        "{f:#}"
    );
}

#[test]
fn a_redirect_or_an_oversized_answer_is_an_index_error() {
    let mut args = vec!["gitlab-oidc-project==0.0.3"];
    args.extend(EXPECT);
    // The page redirects (to the same page elsewhere): not followed.
    let index = index(vec![(PAGE, Answer::Redirect("/other/".into()))]);
    let r = verify(&index, &args);
    r.assert_code(2);
    let f = only_file(&r);
    assert!(f["reason"].as_str().unwrap().contains("redirect"), "{f:#}");
    // The provenance answer is over its 4 MiB cap.
    let index = crate::pypi::index(vec![
        (PAGE, Answer::Json(page(&[(SDIST, SHA256, None)]))),
        (INTEGRITY, Answer::Bytes(vec![b' '; 4 * 1024 * 1024 + 1])),
    ]);
    let r = verify(&index, &args);
    r.assert_code(2);
    let f = only_file(&r);
    assert!(f["reason"].as_str().unwrap().contains("cap"), "{f:#}");
}

#[test]
fn index_strings_are_escaped_before_a_terminal() {
    let hostile = "facutuesca/x\u{1b}[2K\rOK   evil\u{202e}";
    let index = index(vec![
        (PAGE, Answer::Json(page(&[(SDIST, SHA256, None)]))),
        (
            INTEGRITY,
            Answer::Json(provenance(
                json!({"kind": "GitLab", "repository": hostile, "workflow_filepath": ".gitlab-ci.yml"}),
            )),
        ),
    ]);
    let r = run(keyless()
        .args([
            "verify",
            "pypi",
            "gitlab-oidc-project==0.0.3",
            "--index-url",
        ])
        .arg(format!("{}/simple/", index.url))
        .args(EXPECT));
    r.assert_code(1);
    assert!(
        !r.stdout.contains('\u{1b}') && !r.stdout.contains('\r'),
        "{:?}",
        r.stdout
    );
    assert!(!r.stdout.contains('\u{202e}'), "{:?}", r.stdout);
    assert!(r.stdout.contains("\\u{1b}[2K\\rOK   evil"), "{}", r.stdout);
    assert_eq!(r.lines_starting("FAIL "), 1, "{}", r.stdout);
    assert_eq!(r.lines_starting("OK "), 0, "{}", r.stdout);
}

#[test]
fn print_identities_shows_the_verified_publisher_as_a_lock_records_it() {
    let index = index(usual());
    let r = run(keyless()
        .args([
            "verify",
            "pypi",
            "gitlab-oidc-project==0.0.3",
            "--print-identities",
            "--index-url",
        ])
        .arg(format!("{}/simple/", index.url)));
    r.assert_code(0);
    assert!(
        r.stdout.contains(&format!(
            "gitlab-oidc-project==0.0.3: attestation-identities = [{{kind = \"GitLab\", repository = \"{PROJECT}\", workflow_filepath = \".gitlab-ci.yml\"}}]"
        )),
        "{}",
        r.stdout
    );
    // Without it, someone must be expected.
    let r = run(keyless()
        .args([
            "verify",
            "pypi",
            "gitlab-oidc-project==0.0.3",
            "--index-url",
        ])
        .arg(format!("{}/simple/", index.url)));
    r.assert_code(2);
    assert!(r.stderr.contains("no expected publisher"), "{}", r.stderr);
}

#[test]
fn plain_http_to_another_machine_is_refused() {
    let r = run(keyless().args([
        "verify",
        "pypi",
        "x==1",
        "--gitlab",
        "g/p",
        "--index-url",
        "http://pypi.example/simple/",
    ]));
    r.assert_code(2);
    assert!(r.stderr.contains("--allow-insecure-http"), "{}", r.stderr);
}

/// The testbed's PyPI stand-in serving the recorded real provenance: PyPI's
/// own Integrity API answer for pypi-attestations 0.0.19 (a GitHub
/// publisher) and the GitLab attestation, from a requirements file and a
/// lock, each package held to its own publisher (`--publishers`).
#[test]
fn the_stand_in_serves_real_provenance_that_verifies() {
    let bed = crate::common::bed::Bed::start();
    bed.tb.pypi_preload(&vectors("pypi-provenance")).unwrap();
    let sha = |name: &str| {
        sigstore_crypto::sha256(&std::fs::read(vectors("pypi-provenance").join(name)).unwrap())
            .to_hex()
    };
    let req = bed.write(
        "requirements.txt",
        format!(
            "pypi-attestations==0.0.19 --hash=sha256:{}\ngitlab-oidc-project==0.0.3 --hash=sha256:{SHA256}\n",
            sha("pypi_attestations-0.0.19.tar.gz")
        ),
    );
    let publishers = bed.write(
        "publishers.toml",
        format!(
            "[[packages]]\nname = \"pypi-attestations\"\nattestation-identities = [{{kind = \"GitHub\", repository = \"trailofbits/pypi-attestations\", workflow = \"release.yml\"}}]\n\n[[packages]]\nname = \"gitlab-oidc-project\"\nattestation-identities = [{{kind = \"GitLab\", repository = \"{PROJECT}\"}}]\n"
        ),
    );
    let r = run(keyless()
        .args([
            "verify",
            "pypi",
            "--json",
            "--index-url",
            &bed.tb.pypi_index_url(),
            "-r",
        ])
        .arg(&req)
        .arg("--publishers")
        .arg(&publishers));
    r.assert_code(0);
    let doc = r.json();
    assert_eq!(doc["files"].as_array().unwrap().len(), 2, "{doc:#}");
    assert_eq!(
        doc["files"][0]["attestation_identities"][0]["kind"], "GitHub",
        "{doc:#}"
    );
    // The policy file swapped: each package is held to its own publisher.
    let swapped = bed.write(
        "swapped.toml",
        "[[packages]]\nname = \"pypi-attestations\"\nattestation-identities = [{kind = \"GitLab\", repository = \"facutuesca/gitlab-oidc-project\"}]\n",
    );
    let r = run(keyless()
        .args([
            "verify",
            "pypi",
            "--json",
            "--index-url",
            &bed.tb.pypi_index_url(),
            "pypi-attestations==0.0.19",
            "--publishers",
        ])
        .arg(&swapped));
    r.assert_code(1);
    assert_eq!(only_file(&r)["failed_step"], "identity");
}
