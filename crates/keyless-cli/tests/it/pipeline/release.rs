//! What delivers keyless to a job and a release to its consumers: the
//! install script, the consumer's download helper and the release pipeline
//! of keyless itself.

use super::*;

#[test]
fn the_install_script_installs_only_a_binary_with_the_pinned_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_keyless"));
    let url = format!("file://{}", binary.display());
    let sha = keyless::digest::sha256_file(binary).unwrap().to_hex();
    let install = |sha: &str, to: &Path| {
        Command::new("sh")
            .arg(repo_root().join("scripts/install-keyless.sh"))
            .args([url.as_str(), sha])
            .arg(to)
            .output()
            .unwrap()
    };

    // Another SHA-256: refused, nothing installed.
    let last = if sha.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &sha[..63]);
    let refused = dir.path().join("refused");
    let out = install(&wrong, &refused);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "has SHA-256 {sha}, expected {wrong}: not installed"
        )),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!refused.exists(), "nothing may be installed");
    // Not a SHA-256 at all: a usage error.
    assert_eq!(install("abc", &refused).status.code(), Some(2));

    // The pinned one: installed, and it runs. A link planted under a fixed
    // temporary name is left alone (the install picks a fresh name), not
    // written through.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "victim").unwrap();
    std::os::unix::fs::symlink(&victim, bin.join(".keyless.new")).unwrap();
    let out = install(&sha, &bin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("keyless "));
    assert_eq!(
        std::fs::read(bin.join("keyless")).unwrap(),
        std::fs::read(binary).unwrap()
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "victim");
    let mut names: Vec<_> = std::fs::read_dir(&bin)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [".keyless.new", "keyless"],
        "no temporary file left behind"
    );
}

/// The install script's URL is data: an https or file URL, fetched as
/// written. A URL starting with `-` was a curl option (`-K cfg` read a
/// config naming another file, whose SHA-256 the attacker chose), `http://`
/// reached curl, and `[1-2]` or `{a,b}` fetched several files into one.
#[test]
fn the_install_script_fetches_only_an_https_or_file_url_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = |name: &str, says: &str| {
        let path = d.join(name);
        std::fs::write(&path, format!("#!/bin/sh\necho {says}\n")).unwrap();
        path
    };
    let install = |url: &str, sha: &str, to: &Path| {
        let out = Command::new("sh")
            .arg(repo_root().join("scripts/install-keyless.sh"))
            .args([url, sha])
            .arg(to)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), stderr)
    };
    let sha = |path: &Path| keyless::digest::sha256_file(path).unwrap().to_hex();
    let refused = "URL must start with https:// (or file:///)";

    // `-K cfg`: a curl config naming another file (and its SHA-256 is the
    // one given). Refused before curl runs; nothing installed or written.
    let evil = script("evil", "evil");
    let cfg = d.join("cfg");
    std::fs::write(
        &cfg,
        format!(
            "url = \"file://{}\"\noutput = \"{}\"\n",
            evil.display(),
            d.join("unchecked").display()
        ),
    )
    .unwrap();
    let bin = d.join("bin");
    let (code, stderr) = install(&format!("-K{}", cfg.display()), &sha(&evil), &bin);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(refused), "{stderr}");
    assert!(!bin.exists() && !d.join("unchecked").exists());

    // Plain http (and any other scheme): refused by the script itself.
    for url in [
        "http://127.0.0.1:9/keyless",
        "ftp://127.0.0.1:9/keyless",
        "file:relative",
    ] {
        let (code, stderr) = install(url, &sha(&evil), &bin);
        assert_eq!(code, Some(2), "{url}: {stderr}");
        assert!(stderr.contains(refused), "{url}: {stderr}");
    }
    assert!(!bin.exists());

    // Globs are literal: the file named `keyless[1-2]` is the one fetched,
    // not keyless1 then keyless2 into one temporary file.
    for (literal, expanded) in [
        ("keyless[1-2]", ["keyless1", "keyless2"]),
        ("keyless{a,b}", ["keylessa", "keylessb"]),
    ] {
        let wanted = script(literal, "keyless wanted");
        for other in expanded {
            script(other, "keyless other");
        }
        let to = d.join(format!("bin-{}", &literal[7..8]));
        let url = format!("file://{}", wanted.display());
        let (code, stderr) = install(&url, &sha(&wanted), &to);
        assert_eq!(code, Some(0), "{url}: {stderr}");
        assert_eq!(
            std::fs::read(to.join("keyless")).unwrap(),
            std::fs::read(&wanted).unwrap()
        );
    }

    // A .curlrc (a repository's, under a HOME or CURL_HOME in the checkout)
    // adds no download and no output: curl runs with -q.
    let wanted = script("wanted", "keyless wanted");
    let home = d.join("home");
    std::fs::create_dir(&home).unwrap();
    std::fs::write(
        home.join(".curlrc"),
        format!(
            "url = \"file://{}\"\noutput = \"{}\"\n",
            evil.display(),
            d.join("written-by-curlrc").display()
        ),
    )
    .unwrap();
    let to = d.join("bin-curlrc");
    let out = Command::new("sh")
        .arg(repo_root().join("scripts/install-keyless.sh"))
        .arg(format!("file://{}", wanted.display()))
        .arg(sha(&wanted))
        .arg(&to)
        .env("CURL_HOME", &home)
        .env("HOME", &home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!d.join("written-by-curlrc").exists());

    // DIR/keyless a symlink to a folder: `mv` would put the binary there,
    // outside DIR. Refused, nothing written in either folder.
    let to = d.join("bin-link");
    let elsewhere = d.join("elsewhere");
    std::fs::create_dir_all(&to).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, to.join("keyless")).unwrap();
    let (code, stderr) = install(&format!("file://{}", wanted.display()), &sha(&wanted), &to);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("folder or a symbolic link"), "{stderr}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(&to).unwrap().count(), 1);
}

/// Two loopback origins for `ci/fetch_release.py`: a PyPI simple index that
/// requires the job token (basic auth) and redirects each file to an
/// "object storage" origin on another port, which refuses any request
/// carrying an Authorization header. `/evil/` serves an index whose file
/// name would escape the download folder.
const REDIRECTING_INDEX: &str = r#"
import base64, hashlib, http.server, json, sys, threading
DATA = b"the sdist bytes"
SHA = hashlib.sha256(DATA).hexdigest()
AUTH = "Basic " + base64.b64encode(b"gitlab-ci-token:job-token").decode()
class Storage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if "Authorization" in self.headers:
            self.send_error(400, "a credential reached object storage")
        else:
            self.send_response(200); self.end_headers(); self.wfile.write(DATA)
    def log_message(self, *a): pass
storage = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Storage)
class Index(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != AUTH:
            return self.send_error(401)
        if self.path.endswith("/simple/hello-py/"):
            name = "hello_py-1.0-..%2F..%2Fescaped.tar.gz" if self.path.startswith("/evil/") else "hello_py-1.0.tar.gz"
            body = f'<a href="/files/{name}#sha256={SHA}">{name}</a>'.encode()
            self.send_response(200); self.end_headers(); self.wfile.write(body)
        elif self.path.startswith("/files/"):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{storage.server_port}/objects/{self.path[7:]}")
            self.end_headers()
        else:
            self.send_error(404)
    def log_message(self, *a): pass
index = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
threading.Thread(target=storage.serve_forever, daemon=True).start()
print(index.server_port, flush=True)
index.serve_forever()
"#;

#[test]
fn fetch_release_sends_the_job_token_to_the_index_only_and_refuses_escaping_names() {
    let python = python_with("json");
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(&python)
        .args(["-c", REDIRECTING_INDEX])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.stdout.take().unwrap()),
        &mut port,
    )
    .unwrap();
    let port = port.trim().to_string();
    let fetch = |index: &str, dest: &Path| {
        Command::new(&python)
            .arg(repo_root().join("examples/gitlab-python/ci/fetch_release.py"))
            .args([index, "hello-py", "1.0"])
            .arg(dest)
            .env("CI_JOB_TOKEN", "job-token")
            .output()
            .unwrap()
    };

    // The index got the token (it answers 401 without), the redirected
    // download did not (object storage answers 400 with one).
    let dest = dir.path().join("a/downloaded");
    let out = fetch(&format!("http://127.0.0.1:{port}/simple"), &dest);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        std::fs::read(dest.join("hello_py-1.0.tar.gz")).unwrap(),
        b"the sdist bytes"
    );
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        1,
        "no temporary file left"
    );

    // A file name with `..` and `/`: refused, nothing written anywhere.
    let dest = dir.path().join("b/downloaded");
    let out = fetch(&format!("http://127.0.0.1:{port}/evil/simple"), &dest);
    let _ = server.kill();
    let _ = server.wait();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success());
    assert!(
        stderr.contains("refusing the file name 'hello_py-1.0-../../escaped.tar.gz'"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
    assert!(!dir.path().join("escaped.tar.gz").exists());
}

/// keyless's own release pipeline (the root `.gitlab-ci.yml`) cannot run
/// here (no GitLab, runner or registry): it is validated against GitLab's
/// CI schema (with the sign and attest components it includes), and its
/// jobs are checked to fit together with the Containerfile,
/// `.containerignore`, the install script's file name and the wheel .ci/run
/// tests (built once, by the same pinned tools).
#[test]
fn the_release_pipeline_is_valid_gitlab_ci_and_builds_the_image_from_the_published_binary() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    for file in [".gitlab-ci.yml", "Containerfile", ".containerignore"] {
        std::fs::copy(repo_root().join(file), repo.join(file)).unwrap();
    }
    super::copy_dir(&repo_root().join("templates"), &repo.join("templates"));
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(&repo)
            .args(["-c", "user.name=ci", "-c", "user.email=ci@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "release"]);
    git(&["tag", "0.1.0"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://gitlab.com/keyless/keyless.git",
    ]);
    let out = gitlab_ci_local()
        .current_dir(&repo)
        .env("HOME", dir.path().join("home"))
        .env("NO_COLOR", "1")
        .env("GCL_IGNORE_PREDEFINED_VARS", "CI_COMMIT_TAG")
        .args(["--variable", "CI_COMMIT_TAG=0.1.0", "--list-json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("json schema validated"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = &stdout[stdout.find('[').unwrap()..];
    let jobs: serde_json::Value = serde_json::from_str(json).unwrap();
    let names: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            // The included components first, as gitlab-ci-local lists them.
            "keyless-attest",
            "keyless-sign",
            "build-binary",
            "build-binary-aarch64",
            "checksums",
            "container-image",
            "publish-pypi",
            "publish-binary",
            "release"
        ]
    );
    // The jobs as GitLab would run them (`extends` and the components'
    // inputs resolved), one YAML block per job.
    let out = gitlab_ci_local()
        .current_dir(&repo)
        .env("HOME", dir.path().join("home"))
        .env("NO_COLOR", "1")
        .env("GCL_IGNORE_PREDEFINED_VARS", "CI_COMMIT_TAG")
        .args(["--variable", "CI_COMMIT_TAG=0.1.0", "--preview"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let preview = String::from_utf8_lossy(&out.stdout).into_owned();
    // Both architectures are the one build job; aarch64 on an arm64 runner.
    let maturin = "- maturin build --release --locked --zig --compatibility manylinux2014 -m crates/keyless-cli/Cargo.toml --out dist\n";
    for (name, arch) in [
        ("build-binary", "x86_64"),
        ("build-binary-aarch64", "aarch64"),
    ] {
        let job = top_level_block(&preview, name);
        assert!(
            job.contains("  stage: build\n")
                && job.contains(maturin)
                && job.contains(&format!("  variables:\n    ARCH: {arch}\n")),
            "{job}"
        );
    }
    assert!(
        top_level_block(&preview, "build-binary-aarch64")
            .contains("  tags:\n    - saas-linux-small-arm64\n")
    );
    // keyless signs its own release with its own components, in the image
    // this pipeline built, once the checksums are written.
    let needs = "  needs:\n    - job: checksums\n      artifacts: true\n      optional: false\n    - job: container-image\n";
    for name in ["keyless-attest", "keyless-sign"] {
        let job = top_level_block(&preview, name);
        assert!(
            job.contains("  image:\n    name: $CI_REGISTRY_IMAGE:$CI_COMMIT_TAG\n")
                && job.contains(needs),
            "{job}"
        );
    }
    // The sign component signs the binaries, SHA256SUMS and the wheels.
    let sign = top_level_block(&preview, "keyless-sign");
    assert!(
        sign.contains("    KEYLESS_INPUT_FILES: release/keyless-$CI_COMMIT_TAG-x86_64-linux release/keyless-$CI_COMMIT_TAG-aarch64-linux release/SHA256SUMS dist/\n"),
        "{sign}"
    );
    assert!(
        top_level_block(&preview, "keyless-attest").contains("    KEYLESS_INPUT_FILES: dist/\n")
    );
    // PyPI gets the wheels with keyless's attestations, by trusted publishing.
    let pypi = top_level_block(&preview, "publish-pypi");
    assert!(
        pypi.contains("    - job: keyless-attest\n")
            && pypi.contains("  id_tokens:\n    PYPI_ID_TOKEN:\n      aud: pypi\n")
            && pypi.contains("twine upload --non-interactive --attestations dist/*.whl"),
        "{pypi}"
    );

    // Job contents from the file itself (the expanded copy folds lines).
    let expanded = std::fs::read_to_string(repo_root().join(".gitlab-ci.yml")).unwrap();
    let image = top_level_block(&expanded, "container-image");
    // Built once, with the lock file and the tools .ci/run tests the wheel
    // with: maturin links with zig against glibc 2.17 and the released
    // binary is the wheel's, compared byte for byte. The image job builds
    // around that artifact (no cargo), passing its SHA-256 to the
    // Containerfile.
    let build = top_level_block(&expanded, ".build");
    assert!(
        build.contains("--require-hashes -r .ci/release-tools.txt")
            && build.contains(
                "maturin build --release --locked --zig --compatibility manylinux2014\n      -m crates/keyless-cli/Cargo.toml --out dist"
            )
            && build.contains("cp \"target/${ARCH}-unknown-linux-gnu/release/keyless\" \"${binary}\"")
            && build.contains("\"keyless-${CI_COMMIT_TAG}.data/scripts/keyless\" \"${binary}\"")
            && !build.contains("cargo build"),
        "{build}"
    );
    assert!(
        build.contains("binary=\"release/keyless-${CI_COMMIT_TAG}-${ARCH}-linux\""),
        "{build}"
    );
    let checksums = top_level_block(&expanded, "checksums");
    assert!(
        checksums.contains("sha256sum keyless-* > SHA256SUMS"),
        "{checksums}"
    );
    let binary = "release/keyless-${CI_COMMIT_TAG}-x86_64-linux";
    assert!(!image.contains("cargo"), "{image}");
    assert!(
        image.contains("needs: [checksums]")
            && image.contains(&format!("KEYLESS_BINARY={binary}"))
            && image.contains("KEYLESS_SHA256=${sha}")
            && image.contains("--digestfile"),
        "{image}"
    );
    let containerfile = std::fs::read_to_string(repo_root().join("Containerfile")).unwrap();
    assert!(
        containerfile.contains("COPY ${KEYLESS_BINARY} /usr/local/bin/keyless")
            && containerfile.contains("sha256sum -c -")
            && !containerfile.contains("cargo "),
        "{containerfile}"
    );
    let ignore = std::fs::read_to_string(repo_root().join(".containerignore")).unwrap();
    let rules: Vec<&str> = ignore
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(rules, ["*", "!release/"]);
    // The name the install script documents.
    let install = std::fs::read_to_string(repo_root().join("scripts/install-keyless.sh")).unwrap();
    assert!(install.contains("keyless-<version>-x86_64-linux"));
    let release = top_level_block(&expanded, "release");
    assert!(
        release.contains("  release:\n    tag_name: $CI_COMMIT_TAG\n"),
        "{release}"
    );
}

/// No token goes on a command line (where any process of the job can read
/// it in /proc): not the job token, nor the identity tokens (PyPI's, for
/// trusted publishing, and Sigstore's), nor the upload token PyPI mints
/// from one. curl and python get them on their standard input through
/// `printf` (a shell builtin), twine in its environment.
#[test]
fn no_job_puts_the_job_token_on_a_command_line() {
    let mut files = vec![
        repo_root().join(".gitlab-ci.yml"),
        repo_root().join("examples/gitlab-python/.gitlab-ci.yml"),
    ];
    for entry in std::fs::read_dir(repo_root().join("templates")).unwrap() {
        files.push(entry.unwrap().path());
    }
    let token_use =
        regex::Regex::new(r"\$\{?(CI_JOB_TOKEN|PYPI_ID_TOKEN|SIGSTORE_ID_TOKEN|token)\b").unwrap();
    // `token=$(printf ... | ...)`: the builtin again, its output captured.
    let captured = regex::Regex::new(r"^[a-z_]+=\$\(printf ").unwrap();
    let env_assignment = regex::Regex::new(r#"^([A-Z_]+=("[^"]*"|\S*)\s+)+\S"#).unwrap();
    let mut uses = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with('#') || !token_use.is_match(code) {
                continue;
            }
            uses += 1;
            let safe = code.starts_with("printf ")
                || captured.is_match(code)
                || env_assignment.is_match(code);
            assert!(
                safe,
                "{}:{}: a token on a command line: {code}",
                file.display(),
                n + 1
            );
        }
    }
    // The publishing and consuming jobs do use them (the job token three
    // times, PyPI's identity token and the token minted from it once each;
    // the example's PyPI exchange reads its token from the environment).
    assert!(uses >= 5, "{uses}");
}
