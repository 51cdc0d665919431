//! Many inputs in one run: `--bundle` once per input, paired in order (so a
//! batch of digests verifies in one process), `--from` a checksum list, and
//! `--jobs`, which changes nothing in the report.

use crate::common::{count_lines_starting, run};
use crate::verify_ux::{inputs_of, signed_dist, verify_gitlab};
use std::io::Write;
use std::path::{Path, PathBuf};

const FILES: [&str; 3] = [
    "hello-1.0-py3-none-any.whl",
    "hello-1.0.tar.gz",
    "notes.txt",
];

fn digest_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    format!("sha256:{}", sigstore_crypto::sha256(&bytes).to_hex())
}

fn bundle_of(dist: &Path, name: &str) -> PathBuf {
    dist.join(format!("{name}.sigstore.json"))
}

#[test]
fn digests_verify_in_one_run_each_against_its_own_bundle() {
    let (bed, dist) = signed_dist();
    let mut args: Vec<PathBuf> = Vec::new();
    for name in FILES {
        args.extend(["--bundle".into(), bundle_of(&dist, name)]);
        args.push(digest_of(&dist.join(name)).into());
    }
    let r = verify_gitlab(&bed, &args, &["--json"]);
    r.assert_code(0);
    let report = r.json();
    for (i, name) in FILES.iter().enumerate() {
        assert_eq!(report["results"][i]["ok"], true, "{}", r.stdout);
        assert_eq!(
            report["results"][i]["bundle"],
            bundle_of(&dist, name).display().to_string()
        );
    }

    // Paired in order: the same bundles rotated by one fail every input.
    let mut rotated = args.clone();
    for i in 0..FILES.len() {
        rotated[i * 3 + 1] = bundle_of(&dist, FILES[(i + 1) % FILES.len()]);
    }
    let r = verify_gitlab(&bed, &rotated, &[]);
    r.assert_code(1);
    assert_eq!(r.lines_starting("FAIL "), 3, "{}", r.stdout);
}

#[test]
fn bundles_and_inputs_of_different_counts_are_a_usage_error() {
    let (bed, dist) = signed_dist();
    let args: Vec<PathBuf> = vec![
        dist.join(FILES[0]),
        dist.join(FILES[1]),
        "--bundle".into(),
        bundle_of(&dist, FILES[0]),
    ];
    let r = verify_gitlab(&bed, &args, &[]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("2 input(s) and 1 --bundle"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// `<dist>/SHA256SUMS` as `sha256sum` writes it for `FILES`.
fn checksum_list(dist: &Path) -> String {
    FILES
        .iter()
        .map(|name| {
            let digest = digest_of(&dist.join(name));
            format!("{}  {name}\n", digest.trim_start_matches("sha256:"))
        })
        .collect()
}

#[test]
fn a_checksum_list_verifies_each_line_by_name_against_the_bundle_beside_it() {
    let (bed, dist) = signed_dist();
    let list = dist.join("SHA256SUMS");
    std::fs::write(&list, checksum_list(&dist)).unwrap();
    let from = ["--from".as_ref(), list.as_os_str()];
    let r = run(crate::common::keyless()
        .args([
            "verify",
            "gitlab",
            "--project",
            "keyless-demo/hello-py",
            "--tag",
            "v1.0",
        ])
        .arg("--trust-config")
        .arg(bed.tb.trust_config_path())
        .args(from)
        .arg("--json"));
    r.assert_code(0);
    // Reported by the names the list gives, in its order.
    assert_eq!(inputs_of(&r.json()), FILES, "{}", r.stdout);

    // A wrong digest fails its line only (the file beside it is hashed);
    // with --ignore-missing a name with no file is verified by its digest
    // against the bundle beside the name; standard input works as a file
    // does (names relative to here).
    let hex_of = |name: &str| digest_of(&dist.join(name)).replace("sha256:", "");
    std::fs::copy(
        bundle_of(&dist, FILES[0]),
        dist.join("renamed.whl.sigstore.json"),
    )
    .unwrap();
    let text = format!(
        "{}  {}\n{}  {}\n{}  {}\n{}  {}\n",
        hex_of(FILES[0]),
        dist.join("renamed.whl").display(),
        hex_of(FILES[1]),
        dist.join(FILES[1]).display(),
        hex_of(FILES[2]),
        dist.join(FILES[2]).display(),
        "00".repeat(32),
        dist.join(FILES[2]).display(),
    );
    let mut child = crate::common::keyless_process()
        .args([
            "verify",
            "gitlab",
            "--project",
            "keyless-demo/hello-py",
            "--tag",
            "v1.0",
        ])
        .arg("--trust-config")
        .arg(bed.tb.trust_config_path())
        .args(["--from", "-", "--ignore-missing"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count_lines_starting(&stdout, "OK   "), 3, "{stdout}");
    assert_eq!(count_lines_starting(&stdout, "FAIL "), 1, "{stdout}");
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with("FAIL ") && last.contains("notes.txt"),
        "{stdout}"
    );
    let first = stdout.lines().next().unwrap();
    assert!(
        first.contains("renamed.whl") && first.contains("no such file"),
        "{stdout}"
    );
    assert!(last.contains("not the"), "{stdout}");
}

/// A line that is not one is an error of its own, naming the list's line;
/// the others are still checked.
#[test]
fn a_malformed_checksum_line_is_an_error_naming_its_line() {
    let (bed, dist) = signed_dist();
    let list = dist.join("SHA256SUMS");
    std::fs::write(&list, checksum_list(&dist) + "md5sum-output  x\n").unwrap();
    let r = run(crate::common::keyless()
        .args([
            "verify",
            "gitlab",
            "--any-ref",
            "--project",
            "keyless-demo/hello-py",
        ])
        .arg("--trust-config")
        .arg(bed.tb.trust_config_path())
        .arg("--from")
        .arg(&list));
    r.assert_code(2);
    assert_eq!(r.lines_starting("OK   "), 3, "{}", r.stdout);
    let last = r.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("FAIL ") && last.contains("SHA256SUMS:4") && last.contains("line 4"),
        "{}",
        r.stdout
    );
}

#[test]
fn any_number_of_jobs_gives_the_same_report_in_input_order() {
    let (bed, dist) = signed_dist();
    // Twelve inputs, one failing (a missing file) in the middle.
    let mut inputs: Vec<PathBuf> = Vec::new();
    for i in 0..12 {
        inputs.push(if i == 5 {
            dist.join("missing.whl")
        } else {
            dist.join(FILES[i % FILES.len()])
        });
    }
    let one = verify_gitlab(&bed, &inputs, &["--jobs", "1"]);
    one.assert_code(2);
    assert_eq!(one.stdout.lines().count(), 12, "{}", one.stdout);
    assert!(one.stdout.lines().nth(5).unwrap().contains("missing.whl"));
    for jobs in ["2", "5"] {
        let many = verify_gitlab(&bed, &inputs, &["--jobs", jobs]);
        assert_eq!(many.code, one.code);
        assert_eq!(many.stdout, one.stdout, "--jobs {jobs}");
        assert_eq!(many.stderr, one.stderr, "--jobs {jobs}");
    }
}

/// A PEP 740 attestation's statement names its file: a checksum list's
/// line must give that name, as a file input must be that file. The real
/// GitLab attestation, beside the name the list gives.
#[test]
fn a_listed_name_must_be_the_one_a_pep_740_attestation_names() {
    let real = crate::common::vectors("pypi-attestations");
    let dir = tempfile::tempdir().unwrap();
    let sdist = real.join("gitlab_oidc_project-0.0.3.tar.gz");
    let digest = digest_of(&sdist);
    let hex = digest.strip_prefix("sha256:").unwrap();
    let attestation =
        std::fs::read(real.join("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation")).unwrap();
    for name in [
        "gitlab_oidc_project-0.0.3.tar.gz",
        "gitlab_oidc_project-0.0.4.tar.gz",
    ] {
        std::fs::write(
            dir.path().join(format!("{name}.publish.attestation")),
            &attestation,
        )
        .unwrap();
        std::fs::copy(&sdist, dir.path().join(name)).unwrap();
    }
    let verify = |name: &str| {
        let list = dir.path().join("SHA256SUMS");
        std::fs::write(&list, format!("{hex}  {name}\n")).unwrap();
        run(crate::common::keyless()
            .args(["verify", "gitlab", "--json", "--from"])
            .arg(&list)
            .args([
                "--project",
                "facutuesca/gitlab-oidc-project",
                "--branch",
                "main",
            ]))
    };
    let r = verify("gitlab_oidc_project-0.0.3.tar.gz");
    r.assert_code(0);
    // The same digest and attestation, listed as another release's file.
    let r = verify("gitlab_oidc_project-0.0.4.tar.gz");
    r.assert_code(1);
    let result = &r.json()["results"][0];
    assert_eq!(result["failed_step"], "artifact", "{result:#}");
    assert!(
        result["input"]
            .as_str()
            .unwrap()
            .ends_with("gitlab_oidc_project-0.0.4.tar.gz"),
        "{result:#}"
    );
}

/// A bare digest names no file, so a PEP 740 attestation (which binds a
/// file name) cannot be held to it: no verdict, rather than a check of the
/// statement's subject against itself (issue 19). The real GitLab
/// attestation, which verifies for its file.
#[test]
fn a_bare_digest_is_not_checked_against_a_pep_740_attestation() {
    let real = crate::common::vectors("pypi-attestations");
    let sdist = real.join("gitlab_oidc_project-0.0.3.tar.gz");
    let attestation = real.join("gitlab_oidc_project-0.0.3.tar.gz.publish.attestation");
    let verify = |input: &std::ffi::OsStr| {
        run(crate::common::keyless()
            .args(["verify", "gitlab", "--json", "--attestation"])
            .arg(&attestation)
            .arg(input)
            .args([
                "--project",
                "facutuesca/gitlab-oidc-project",
                "--branch",
                "main",
            ]))
    };
    verify(sdist.as_os_str()).assert_code(0);
    let r = verify(digest_of(&sdist).as_ref());
    r.assert_code(2);
    let result = &r.json()["results"][0];
    assert_eq!(result["ok"], false, "{result:#}");
    assert_eq!(result["failed_step"], "input", "{result:#}");
    assert!(
        result["reason"].as_str().unwrap().contains("names none"),
        "{result:#}"
    );
}

/// `keyless verify --from SUMS | head -1`: once the reader is gone nothing
/// more is printed, but every line is still checked, so a later failure is
/// still the exit status and still in the JUnit report.
#[test]
fn a_closed_stdout_stops_the_printing_not_the_checks() {
    let (bed, dist) = signed_dist();
    let hex = |name: &str| digest_of(&dist.join(name)).replace("sha256:", "");
    // The last line's digest is another file's: it fails.
    let list = dist.join("SHA256SUMS");
    std::fs::write(
        &list,
        format!(
            "{}  {}\n{}  {}\n{}  {}\n",
            hex(FILES[0]),
            FILES[0],
            hex(FILES[1]),
            FILES[1],
            hex(FILES[0]),
            FILES[2]
        ),
    )
    .unwrap();
    let junit = bed.path("report.xml");
    let r = crate::common::run_with_closed_stdout(
        crate::common::keyless_process()
            .args(["verify", "gitlab", "--from"])
            .arg(&list)
            .args([
                "--project",
                crate::verify_ux::PROJECT,
                "--tag",
                "v1.0",
                "--trust-config",
            ])
            .arg(bed.tb.trust_config_path())
            .arg("--junit")
            .arg(&junit),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
}
