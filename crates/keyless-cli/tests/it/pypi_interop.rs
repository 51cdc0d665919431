//! `keyless verify pypi` and pypi-attestations 0.0.30 (its own `verify
//! pypi` code, `tests/interop/pypi_index.py`) reach the same verdict on
//! every release the testbed's PyPI stand-in serves here: the recorded real
//! provenance (GitHub and GitLab publishers, public-good root), hostile
//! answers built from it (a publisher object that lies, provenance of
//! another file, a broken signature, none at all), and a release published
//! through the stand-in's upload API with `keyless attest` attestations
//! (testbed root). Each case is also pinned to its expected verdict, so a
//! lenient change on either side fails here.

use crate::common::bed::{Bed, tag_v1_0};
use crate::common::peers::{python_with_pypi_attestations, run_peer};
use crate::common::{keyless, keyless_with_token, read_json, run, vectors};
use base64::Engine;
use keyless_testbed::JwsAlg;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

const GITLAB_SDIST: &str = "gitlab_oidc_project-0.0.3.tar.gz";
const GITHUB_SDIST: &str = "pypi_attestations-0.0.19.tar.gz";

/// Who must have published a release.
#[derive(Clone, Copy)]
enum Expect<'a> {
    GitLab(&'a str),
    GitHub(&'a str),
}

impl Expect<'_> {
    fn keyless_args(self) -> Vec<String> {
        match self {
            Self::GitLab(p) => vec!["--gitlab".into(), p.into()],
            Self::GitHub(r) => vec!["--github".into(), r.into()],
        }
    }

    fn repository_url(self) -> String {
        match self {
            Self::GitLab(p) => format!("https://gitlab.com/{p}"),
            Self::GitHub(r) => format!("https://github.com/{r}"),
        }
    }
}

struct Verdicts {
    keyless: bool,
    peer: bool,
    out: String,
}

/// Both tools on `project==version` from the stand-in, for `expect`;
/// `trust` is the testbed's trust config, or `None` for public-good.
fn both(bed: &Bed, project: &str, version: &str, expect: Expect, trust: Option<&Path>) -> Verdicts {
    let index = bed.tb.pypi_index_url();
    let mut cmd = keyless();
    cmd.args(["verify", "pypi", "--json", "--index-url", &index])
        .arg(format!("{project}=={version}"))
        .args(expect.keyless_args());
    if let Some(t) = trust {
        cmd.arg("--trust-config").arg(t);
    }
    let k = run(&mut cmd);
    assert!(
        k.code == 0 || k.code == 1,
        "keyless verify pypi: exit {} (usage or network error)\n{}\n{}",
        k.code,
        k.stdout,
        k.stderr
    );
    let mut peer = Command::new(python_with_pypi_attestations());
    peer.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pypi_index.py"))
        .args([&index, project, version, &expect.repository_url()])
        .env("HOME", bed.path("peer-home"));
    if let Some(t) = trust {
        peer.arg(t);
    }
    let (peer_ok, peer_out) = run_peer(&mut peer);
    Verdicts {
        keyless: k.code == 0,
        peer: peer_ok,
        out: format!(
            "keyless (exit {}):\n{}{}\npypi-attestations:\n{peer_out}",
            k.code, k.stdout, k.stderr
        ),
    }
}

/// Both tools agree, and on `ok`.
#[track_caller]
fn agree(v: Verdicts, ok: bool, case: &str) {
    assert_eq!(v.keyless, v.peer, "{case}: the tools disagree\n{}", v.out);
    assert_eq!(v.keyless, ok, "{case}: expected ok={ok}\n{}", v.out);
}

fn real(name: &str) -> PathBuf {
    vectors("pypi-provenance").join(name)
}

#[test]
fn keyless_and_pypi_attestations_agree_on_recorded_and_hostile_provenance() {
    let bed = Bed::start();
    assert_eq!(bed.tb.pypi_preload(&vectors("pypi-provenance")).unwrap(), 2);
    let gitlab = Expect::GitLab("facutuesca/gitlab-oidc-project");
    let github = Expect::GitHub("trailofbits/pypi-attestations");
    let g = |expect, case, ok| {
        agree(
            both(&bed, "gitlab-oidc-project", "0.0.3", expect, None),
            ok,
            case,
        )
    };

    // The recorded releases, for their publishers and for others.
    g(gitlab, "real GitLab provenance", true);
    g(
        Expect::GitLab("facutuesca/other-project"),
        "GitLab, another project",
        false,
    );
    g(
        Expect::GitHub("facutuesca/gitlab-oidc-project"),
        "GitLab release, GitHub expected",
        false,
    );
    agree(
        both(&bed, "pypi-attestations", "0.0.19", github, None),
        true,
        "real GitHub provenance",
    );
    agree(
        both(
            &bed,
            "pypi-attestations",
            "0.0.19",
            Expect::GitHub("trailofbits/other"),
            None,
        ),
        false,
        "GitHub, another repository",
    );

    let sdist = std::fs::read(real(GITLAB_SDIST)).unwrap();
    let att = read_json(&real(&format!("{GITLAB_SDIST}.publish.attestation")));
    let serve = |provenance: Option<&Value>| {
        let bytes = provenance.map(|p| p.to_string().into_bytes());
        bed.tb
            .pypi_add(GITLAB_SDIST, &sdist, bytes.as_deref())
            .unwrap();
    };
    // The index's publisher object claims the expected project; the
    // certificate says otherwise.
    let mut lying = keyless_testbed::server::pypi_provenance(std::slice::from_ref(&att)).unwrap();
    lying["attestation_bundles"][0]["publisher"]["repository"] = json!("evil/project");
    serve(Some(&lying));
    g(
        Expect::GitLab("evil/project"),
        "a lying publisher object",
        false,
    );
    // Another file's provenance (the GitHub release's), for its publisher.
    let other: Value = read_json(&real(&format!("{GITHUB_SDIST}.provenance")));
    serve(Some(&other));
    g(github, "another file's provenance", false);
    // A signature that is not the certificate key's.
    let mut broken = att.clone();
    let sig = broken["envelope"]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    let mut raw = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 1;
    broken["envelope"]["signature"] = json!(base64::engine::general_purpose::STANDARD.encode(raw));
    serve(Some(
        &keyless_testbed::server::pypi_provenance(&[broken]).unwrap(),
    ));
    g(gitlab, "a broken signature", false);
    // No provenance at all.
    serve(None);
    g(gitlab, "no provenance", false);
    // And the genuine answer again.
    serve(Some(
        &keyless_testbed::server::pypi_provenance(&[att]).unwrap(),
    ));
    g(gitlab, "the genuine answer again", true);
}

/// A release published through the stand-in's upload API with the
/// attestations `keyless attest` writes: both tools accept it for the
/// project that published it, and refuse it for another.
#[test]
fn keyless_and_pypi_attestations_agree_on_a_release_published_with_attestations() {
    let bed = Bed::start();
    let trust = bed.tb.trust_config_path();
    let token = bed.tb.mint(&tag_v1_0(), JwsAlg::RS256);
    let wheel = bed.write("hello_py-1.0-py3-none-any.whl", b"a wheel");
    let sdist = bed.write("hello_py-1.0.tar.gz", b"an sdist");
    keyless_with_token(&token)
        .args(["attest", "--trust-config"])
        .arg(&trust)
        .args([&wheel, &sdist])
        .assert()
        .success();
    for file in [&wheel, &sdist] {
        let mut att = file.clone().into_os_string();
        att.push(".publish.attestation");
        let (status, body) = upload(&bed, file, &read_json(Path::new(&att)));
        assert_eq!(status, 200, "{body}");
    }
    let project = |p| Expect::GitLab(p);
    agree(
        both(
            &bed,
            "hello-py",
            "1.0",
            project("keyless-demo/hello-py"),
            Some(&trust),
        ),
        true,
        "published with attestations",
    );
    agree(
        both(
            &bed,
            "hello-py",
            "1.0",
            project("keyless-demo/fork"),
            Some(&trust),
        ),
        false,
        "another project",
    );
}

/// `POST /legacy/` as twine 7 sends it with `--attestations`.
fn upload(bed: &Bed, file: &Path, attestation: &Value) -> (u16, String) {
    use std::io::{Read, Write};
    let name = file.file_name().unwrap().to_str().unwrap();
    let bytes = std::fs::read(file).unwrap();
    let boundary = "keyless-interop-boundary";
    let mut body = Vec::new();
    for (k, v) in [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", "hello-py"),
        ("version", "1.0"),
        ("attestations", &json!([attestation]).to_string()),
    ] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{name}\"\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(&bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let addr = bed.tb.url().trim_start_matches("http://").to_string();
    let auth = base64::engine::general_purpose::STANDARD.encode("__token__:pypi-interop");
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /legacy/ HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, resp)
}
