//! The generic package registry stand-in: a PUT with a job token stores a
//! file that a GET with one returns; a request without one is refused, no
//! path segment can leave the registry's folder, names and versions follow
//! GitLab's patterns, and in redirect mode downloads go to an object
//! storage origin that refuses credentials.

use crate::common::{http, start};
use keyless_testbed::{ObjectStorageRequests, Testbed, TestbedOptions};

const FILE: &str = "/api/v4/projects/42/packages/generic/hello/1.0/hello-1.0.tar.gz.sigstore.json";

#[test]
fn a_job_token_upload_is_served_back_and_nothing_else_is_stored() {
    let bed = start();
    let url = bed.tb.url();
    // The helper's content type line carries the extra header.
    let with_token = "application/octet-stream\r\nJOB-TOKEN: job-token-value";
    let get = |path: &str| http(url, "GET", path, with_token, b"");
    assert_eq!(get(FILE).0, 404);
    assert_eq!(
        http(url, "GET", FILE, "text/plain", b"").0,
        401,
        "a GET without a token is refused"
    );
    let (status, _) = http(url, "PUT", FILE, "application/octet-stream", b"bundle");
    assert_eq!(status, 401, "a PUT without a token is refused");
    assert_eq!(get(FILE).0, 404);
    let (status, body) = http(url, "PUT", FILE, with_token, b"bundle");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    assert_eq!(get(FILE), (200, b"bundle".to_vec()));
    // Replaced by a second upload, as GitLab does for the same file name.
    assert_eq!(http(url, "PUT", FILE, with_token, b"other").0, 201);
    assert_eq!(get(FILE), (200, b"other".to_vec()));
    // Encoded traversal segments are refused, before any file is touched.
    for bad in ["%2E%2E", "a%2Fb", ".", "a~b"] {
        let path = format!("/api/v4/projects/42/packages/generic/{bad}/1.0/x");
        assert_eq!(http(url, "PUT", &path, with_token, b"x").0, 400, "{bad}");
    }
    // Versions as GitLab's pattern has them (no `..`, no `~`).
    for bad in ["1..0", "1~rc1", "%2E%2E"] {
        let path = format!("/api/v4/projects/42/packages/generic/hello/{bad}/x");
        assert_eq!(http(url, "PUT", &path, with_token, b"x").0, 400, "{bad}");
    }
    for bad in ["..%2Fx", "%2E%2E%2Fx"] {
        let path = format!("/api/v4/projects/{bad}/packages/generic/hello/1.0/x");
        assert_eq!(http(url, "PUT", &path, with_token, b"x").0, 400, "{bad}");
    }
    let stored = bed.tb.state_dir().join("generic-packages");
    let mut names: Vec<_> = walk(&stored);
    names.sort();
    assert_eq!(names, ["42/hello/1.0/hello-1.0.tar.gz.sigstore.json"]);
}

#[test]
fn redirected_downloads_reach_object_storage_only_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = TestbedOptions::new(dir.path());
    options.redirect_package_downloads = true;
    let tb = Testbed::start(options).unwrap();
    let url = tb.url();
    let with_token = "application/octet-stream\r\nJOB-TOKEN: job-token-value";
    // A project by its URL-encoded path.
    let file = "/api/v4/projects/keyless-demo%2Fhello-py/packages/generic/hello-py/1.0/f.whl";
    assert_eq!(http(url, "PUT", file, with_token, b"wheel").0, 201);
    assert!(
        tb.state_dir()
            .join("generic-packages/keyless-demo/hello-py/hello-py/1.0/f.whl")
            .is_file()
    );
    let (status, location) = http(url, "GET", file, with_token, b"");
    assert_eq!(status, 302);
    let location = String::from_utf8(location).unwrap();
    let rest = location.strip_prefix("http://127.0.0.1:").unwrap();
    let (port, path) = rest.split_once('/').unwrap();
    let storage = format!("http://127.0.0.1:{port}");
    assert_ne!(storage, url, "object storage is another origin");
    // Followed without the token: served.
    assert_eq!(
        http(&storage, "GET", &format!("/{path}"), "text/plain", b""),
        (200, b"wheel".to_vec())
    );
    // The token sent along: refused and counted.
    assert_eq!(
        http(&storage, "GET", &format!("/{path}"), with_token, b"").0,
        400
    );
    let basic = "text/plain\r\nAuthorization: Basic Z2l0bGFiLWNpLXRva2VuOnQ=";
    assert_eq!(
        http(&storage, "GET", &format!("/{path}"), basic, b"").0,
        400
    );
    assert_eq!(
        tb.object_storage_requests(),
        ObjectStorageRequests {
            served: 1,
            with_credentials: 2
        }
    );
    // Basic auth with the job token works at the registry, as on GitLab.
    assert_eq!(http(url, "GET", file, basic, b"").0, 302);
    // A file that does not exist is a 404 at the registry, not a redirect.
    let missing = file.replace("f.whl", "g.whl");
    assert_eq!(http(url, "GET", &missing, with_token, b"").0, 404);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            let base = p.file_name().unwrap().to_string_lossy().into_owned();
            out.extend(walk(&p).into_iter().map(|n| format!("{base}/{n}")));
        } else {
            out.push(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    out
}
