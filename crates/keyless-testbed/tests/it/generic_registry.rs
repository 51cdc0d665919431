//! The generic package registry stand-in: a PUT with a job token stores a
//! file that a GET returns; a PUT without one is refused, and no path
//! segment can leave the registry's folder.

use crate::common::{get, http, start};

const FILE: &str = "/api/v4/projects/42/packages/generic/hello/1.0/hello-1.0.tar.gz.sigstore.json";

#[test]
fn a_job_token_upload_is_served_back_and_nothing_else_is_stored() {
    let bed = start();
    let url = bed.tb.url();
    // The helper's content type line carries the extra header.
    let with_token = "application/octet-stream\r\nJOB-TOKEN: job-token-value";
    assert_eq!(get(&bed.tb, FILE).0, 404);
    let (status, _) = http(url, "PUT", FILE, "application/octet-stream", b"bundle");
    assert_eq!(status, 401, "a PUT without a token is refused");
    assert_eq!(get(&bed.tb, FILE).0, 404);
    let (status, body) = http(url, "PUT", FILE, with_token, b"bundle");
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    assert_eq!(get(&bed.tb, FILE), (200, b"bundle".to_vec()));
    // Replaced by a second upload, as GitLab does for the same file name.
    assert_eq!(http(url, "PUT", FILE, with_token, b"other").0, 201);
    assert_eq!(get(&bed.tb, FILE), (200, b"other".to_vec()));
    // Encoded traversal segments are refused, before any file is touched.
    for bad in ["%2E%2E", "a%2Fb", "."] {
        let path = format!("/api/v4/projects/42/packages/generic/{bad}/1.0/x");
        assert_eq!(http(url, "PUT", &path, with_token, b"x").0, 400, "{bad}");
    }
    let stored = bed.tb.state_dir().join("generic-packages");
    let mut names: Vec<_> = walk(&stored);
    names.sort();
    assert_eq!(names, ["42/hello/1.0/hello-1.0.tar.gz.sigstore.json"]);
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
