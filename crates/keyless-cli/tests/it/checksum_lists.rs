//! `keyless verify --from SUMS` against hostile lists: a line names to
//! keyless exactly the file it names to `sha256sum -c`, the files a list
//! names are hashed, and nothing a list names can block the run.

use crate::common::run;
use crate::verify_ux::{PROJECT, signed_dist};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// The signed file whose name the hostile lists imitate.
const REAL: &str = "hello-1.0.tar.gz";

fn hex_of(bytes: &[u8]) -> String {
    sigstore_crypto::sha256(bytes).to_hex()
}

/// `keyless verify gitlab --from <list> --json [extra]` against the bed.
fn verify_list(bed: &crate::common::bed::Bed, list: &Path, extra: &[&str]) -> crate::common::Run {
    run(crate::common::keyless()
        .args([
            "verify",
            "gitlab",
            "--json",
            "--project",
            PROJECT,
            "--tag",
            "v1.0",
        ])
        .arg("--trust-config")
        .arg(bed.tb.trust_config_path())
        .arg("--from")
        .arg(list)
        .args(extra))
}

/// The names `sha256sum -c` reports on (OK or FAILED) and those it
/// reports OK, run in the list's folder (so names mean the same to both).
fn coreutils_names(list: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let out = std::process::Command::new("sha256sum")
        .arg("-c")
        .arg(list.file_name().unwrap())
        .current_dir(list.parent().unwrap())
        .output()
        .expect("sha256sum (GNU coreutils) runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (mut checked, mut ok) = (BTreeSet::new(), BTreeSet::new());
    for line in stdout.lines() {
        assert!(!line.starts_with('\\'), "an escaped name: {line:?}");
        if let Some(name) = line.strip_suffix(": OK") {
            ok.insert(name.to_string());
            checked.insert(name.to_string());
        } else if let Some((name, _)) = line.rsplit_once(": FAILED") {
            checked.insert(name.to_string());
        }
    }
    (checked, ok)
}

/// The names keyless checked (not refused as lines) and verified, from its
/// JSON report, relative to the list's folder.
fn keyless_names(report: &serde_json::Value, dir: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut checked, mut ok) = (BTreeSet::new(), BTreeSet::new());
    let prefix = format!("{}/", dir.display());
    for r in report["results"].as_array().unwrap() {
        let input = r["input"].as_str().unwrap();
        let refused =
            r["failed_step"] == "input" && r["reason"].as_str().unwrap().contains("line ");
        if refused {
            continue;
        }
        let name = input.strip_prefix(&prefix).unwrap_or(input).to_string();
        if r["ok"] == true {
            ok.insert(name.clone());
        }
        checked.insert(name);
    }
    (checked, ok)
}

/// The child's output once it ends; after 30 s it is killed and the test
/// fails with `hung` (a run blocked on a FIFO must not block the suite).
fn wait_bounded(mut child: std::process::Child, hung: &str) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("{hung}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The decoy attack of issue 19: the list's line names, to coreutils, a
/// decoy that holds the signed bytes (and has the bundle beside it), while
/// the file the user installs, `hello-1.0.tar.gz`, holds other bytes. Both
/// tools used to pass. Now keyless refuses every such line or reads the same
/// name as coreutils (and hashes the file), and never passes the real name
/// or a look-alike of it.
#[test]
fn sha256sum_and_keyless_agree_on_every_name_of_a_hostile_list() {
    let (bed, dist) = signed_dist();
    let signed = std::fs::read(dist.join(REAL)).unwrap();
    let bundle = std::fs::read(dist.join(format!("{REAL}.sigstore.json"))).unwrap();
    let h = hex_of(&signed);
    let decoys = [
        format!("{REAL} "),
        format!(" {REAL}"),
        format!("{REAL}\t"),
        format!("{REAL} {REAL}.sigstore.json"),
        format!("*{REAL}"),
        format!("{REAL}\u{a0}"),
        format!("{REAL}\u{200b}"),
    ];
    let hostile = [
        format!("{h}  {REAL} \n"),
        format!("{h}   {REAL}\n"),
        format!("{h}  {REAL}\t\n"),
        format!("{h}  *{REAL}\n"),
        format!("{h}  {REAL}\u{a0}\n"),
        format!("{h}  {REAL}\u{200b}\n"),
        // A one-space first line (naming another file): coreutils then
        // reads `  x` as ` x`.
        format!("{h} notes.txt\n{h}  {REAL}\n"),
        format!("{h}\tnotes.txt\n{h}  {REAL}\n"),
        // Leading white space, a tab after the digest, CRLF: coreutils
        // reads the real name, which holds other bytes.
        format!("  {h}  {REAL}\n"),
        format!("{h}\t {REAL}\n"),
        format!("{h}  {REAL}\r\n"),
        format!("{h} *{REAL}\n"),
        format!("{h}  {REAL} {REAL}.sigstore.json\n"),
    ];
    for (i, text) in hostile.iter().enumerate() {
        let dir = bed.path(&format!("hostile-{i}"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join(REAL), b"other bytes").unwrap();
        std::fs::write(dir.join(format!("{REAL}.sigstore.json")), &bundle).unwrap();
        for decoy in &decoys {
            std::fs::write(dir.join(decoy), &signed).unwrap();
            std::fs::write(dir.join(format!("{decoy}.sigstore.json")), &bundle).unwrap();
        }
        let list = dir.join("SHA256SUMS");
        std::fs::write(&list, text).unwrap();
        let r = verify_list(&bed, &list, &[]);
        // The old bundle column: now part of the name, to both tools, so
        // the report names the decoy in full, never as the real file.
        let visible = text.contains(".sigstore.json");
        assert!(visible || r.code != 0, "{text:?} passed:\n{}", r.stdout);
        let (k_checked, k_ok) = keyless_names(&r.json(), &dir);
        let (c_checked, c_ok) = coreutils_names(&list);
        // Every name keyless read, coreutils read too; what keyless
        // verified, coreutils found intact.
        assert!(
            k_checked.is_subset(&c_checked) && k_ok.is_subset(&c_ok),
            "{text:?}: keyless read {k_checked:?} (verified {k_ok:?}), sha256sum -c read {c_checked:?} (OK {c_ok:?})\n{}",
            r.stdout
        );
        // Never the real name with the signed bytes elsewhere.
        assert!(!k_ok.contains(REAL), "{text:?}: {}", r.stdout);
    }

    // Honest lists: the same names to both tools, a space inside a name
    // and the binary marker included, and both pass.
    let dir = bed.path("honest");
    std::fs::create_dir(&dir).unwrap();
    for name in [REAL, "hello 1.0.tar.gz"] {
        std::fs::write(dir.join(name), &signed).unwrap();
        std::fs::write(dir.join(format!("{name}.sigstore.json")), &bundle).unwrap();
    }
    let list = dir.join("SHA256SUMS");
    std::fs::write(&list, format!("{h}  hello 1.0.tar.gz\n{h} *{REAL}\r\n")).unwrap();
    let r = verify_list(&bed, &list, &[]);
    r.assert_code(0);
    let (k_checked, k_ok) = keyless_names(&r.json(), &dir);
    let (c_checked, c_ok) = coreutils_names(&list);
    assert_eq!(k_checked, c_checked);
    assert_eq!(k_ok, c_ok);
    assert_eq!(k_ok.len(), 2, "{}", r.stdout);
}

/// keyless hashes each listed file, as `sha256sum -c` does: a file
/// swapped after signing fails at the artifact step, though its line's
/// digest verifies (and its own digest is not reported: a list naming
/// `/etc/passwd` must not learn it). A missing file is an error, as it is to
/// `sha256sum -c`; `--ignore-missing` verifies such a line by its digest and
/// says the file was not there; `--digest-only` reads no file.
#[test]
fn a_listed_file_is_hashed_and_a_missing_one_fails_unless_told() {
    let (bed, dist) = signed_dist();
    let h = hex_of(&std::fs::read(dist.join(REAL)).unwrap());
    std::fs::copy(
        dist.join(format!("{REAL}.sigstore.json")),
        dist.join("absent.tar.gz.sigstore.json"),
    )
    .unwrap();
    std::fs::write(dist.join(REAL), b"swapped after signing").unwrap();
    let list = dist.join("SHA256SUMS");
    std::fs::write(&list, format!("{h}  {REAL}\n{h}  absent.tar.gz\n")).unwrap();

    let r = verify_list(&bed, &list, &[]);
    r.assert_code(2);
    let report = r.json();
    let swapped = &report["results"][0];
    assert_eq!(swapped["ok"], false, "{swapped:#}");
    assert_eq!(swapped["failed_step"], "artifact", "{swapped:#}");
    assert_eq!(swapped["file"], "hashed", "{swapped:#}");
    assert_eq!(swapped["sha256"], serde_json::Value::Null, "{swapped:#}");
    assert!(
        !r.stdout.contains(&hex_of(b"swapped after signing")),
        "{}",
        r.stdout
    );
    let absent = &report["results"][1];
    assert_eq!(absent["failed_step"], "input", "{absent:#}");
    assert!(
        absent["reason"].as_str().unwrap().ends_with("no such file"),
        "{absent:#}"
    );
    assert!(
        absent["hint"]
            .as_str()
            .unwrap()
            .contains("--ignore-missing"),
        "{absent:#}"
    );

    let r = verify_list(&bed, &list, &["--ignore-missing"]);
    r.assert_code(1);
    let absent = &r.json()["results"][1];
    assert_eq!(absent["ok"], true, "{absent:#}");
    assert_eq!(absent["file"], "absent", "{absent:#}");

    let r = verify_list(&bed, &list, &["--digest-only"]);
    r.assert_code(0);
    for result in r.json()["results"].as_array().unwrap() {
        assert_eq!(result["file"], "not read", "{result:#}");
    }

    // The text line says an absent file was not read.
    let r = run(crate::common::keyless()
        .args(["verify", "gitlab", "--project", PROJECT, "--tag", "v1.0"])
        .arg("--trust-config")
        .arg(bed.tb.trust_config_path())
        .arg("--ignore-missing")
        .arg("--from")
        .arg(&list));
    r.assert_code(1);
    let absent = r.stdout.lines().nth(1).unwrap();
    assert!(
        absent.starts_with("OK ") && absent.contains("no such file"),
        "{}",
        r.stdout
    );
}

/// A symlink to nothing is not a missing file: `/proc/self/cwd/evil.whl`
/// resolves to nothing for keyless run from elsewhere, and to the evil file
/// for the installer run in the download folder. Refused, even with
/// `--ignore-missing`.
#[test]
fn a_symlink_to_nothing_is_not_an_absent_file() {
    let (bed, dist) = signed_dist();
    let h = hex_of(&std::fs::read(dist.join(REAL)).unwrap());
    std::fs::copy(
        dist.join(format!("{REAL}.sigstore.json")),
        dist.join("pkg.tar.gz.sigstore.json"),
    )
    .unwrap();
    std::fs::write(dist.join("evil.tar.gz"), b"evil").unwrap();
    std::os::unix::fs::symlink("/proc/self/cwd/evil.tar.gz", dist.join("pkg.tar.gz")).unwrap();
    let list = dist.join("SHA256SUMS");
    std::fs::write(&list, format!("{h}  pkg.tar.gz\n")).unwrap();
    for extra in [&[][..], &["--ignore-missing"][..]] {
        let r = verify_list(&bed, &list, extra);
        r.assert_code(2);
        let result = &r.json()["results"][0];
        assert!(
            result["reason"]
                .as_str()
                .unwrap()
                .ends_with("a symbolic link to nothing"),
            "{extra:?}: {result:#}"
        );
    }
}

/// The list itself comes with the files: a FIFO or a symlink to a device
/// is refused unread. A pipe the user hands over is read, its names taken
/// relative to the working folder (not `/dev/fd` or `/dev`).
#[test]
fn a_list_that_is_not_a_file_is_refused_and_a_pipe_names_files_here() {
    let (bed, dist) = signed_dist();
    let mkfifo = |path: &Path| {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    };
    mkfifo(&dist.join("FIFO-SUMS"));
    std::os::unix::fs::symlink("/dev/zero", dist.join("ZERO-SUMS")).unwrap();
    for list in ["FIFO-SUMS", "ZERO-SUMS"] {
        let child = crate::common::keyless_process()
            .args(["verify", "gitlab", "--project", PROJECT, "--tag", "v1.0"])
            .arg("--trust-config")
            .arg(bed.tb.trust_config_path())
            .arg("--from")
            .arg(dist.join(list))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = wait_bounded(child, &format!("keyless blocked on the list {list}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{list}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{list}: {stderr}");
    }
    let h = hex_of(&std::fs::read(dist.join(REAL)).unwrap());
    let list = dist.join("SHA256SUMS");
    std::fs::write(&list, format!("{h}  {REAL}\n")).unwrap();
    let r = run(crate::common::keyless()
        .current_dir(&dist)
        .args([
            "verify",
            "gitlab",
            "--json",
            "--project",
            PROJECT,
            "--tag",
            "v1.0",
        ])
        .arg("--trust-config")
        .arg(bed.tb.trust_config_path())
        .args(["--from", "/dev/stdin"])
        .pipe_stdin(&list)
        .unwrap());
    r.assert_code(0);
    assert_eq!(r.json()["results"][0]["input"], REAL);
}

/// Hints go to stderr; a stderr that is gone (`2> >(head -c 10)`) must
/// neither hang the run (a panic while workers wait for the window) nor
/// change its verdict.
#[test]
fn a_closed_stderr_neither_hangs_nor_changes_the_verdict() {
    let (bed, dist) = signed_dist();
    // 300 failing lines, each with a hint: more than a window of them.
    let list = dist.join("SHA256SUMS");
    let text: String = (0..300)
        .map(|i| format!("{}  missing-{i}.tar.gz\n", "ab".repeat(32)))
        .collect();
    std::fs::write(&list, text).unwrap();
    let mut child = crate::common::keyless_process()
        .args([
            "verify",
            "gitlab",
            "--project",
            PROJECT,
            "--tag",
            "v1.0",
            "--jobs",
            "2",
        ])
        .arg("--trust-config")
        .arg(bed.tb.trust_config_path())
        .arg("--from")
        .arg(&list)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little of stderr, then close it.
    let mut stderr = child.stderr.take().unwrap();
    let mut some = [0u8; 10];
    std::io::Read::read_exact(&mut stderr, &mut some).unwrap();
    drop(stderr);
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("keyless hung once its stderr was gone");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(2), "{status:?}");
}

/// A FIFO with no writer blocks `open(2)`: named by a list as a file or
/// met as the bundle beside a listed name, it is refused unread, and the
/// run ends.
#[test]
fn fifos_a_list_leads_to_are_refused_without_blocking() {
    let (bed, dist) = signed_dist();
    let mkfifo = |path: &Path| {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    };
    let h = hex_of(&std::fs::read(dist.join(REAL)).unwrap());
    mkfifo(&dist.join("pipe.tar.gz"));
    std::fs::copy(
        dist.join(format!("{REAL}.sigstore.json")),
        dist.join("pipe.tar.gz.sigstore.json"),
    )
    .unwrap();
    std::fs::copy(dist.join(REAL), dist.join("other.tar.gz")).unwrap();
    mkfifo(&dist.join("other.tar.gz.sigstore.json"));
    let list = dist.join("SHA256SUMS");
    std::fs::write(
        &list,
        format!("{h}  pipe.tar.gz\n{h}  other.tar.gz\n{h}  {REAL}\n"),
    )
    .unwrap();

    for extra in [&[][..], &["--digest-only"][..]] {
        let child = crate::common::keyless_process()
            .args([
                "verify",
                "gitlab",
                "--json",
                "--project",
                PROJECT,
                "--tag",
                "v1.0",
            ])
            .arg("--trust-config")
            .arg(bed.tb.trust_config_path())
            .arg("--from")
            .arg(&list)
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = wait_bounded(child, &format!("keyless blocked on a FIFO ({extra:?})"));
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let results = report["results"].as_array().unwrap();
        let reason = |i: usize| {
            results[i]["reason"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        if extra.is_empty() {
            assert!(reason(0).contains("not a regular file"), "{report:#}");
            assert!(reason(0).contains("pipe.tar.gz"), "{report:#}");
        } else {
            // Not read: verified by its digest against the bundle beside it.
            assert_eq!(results[0]["ok"], true, "{report:#}");
        }
        assert!(reason(1).contains("not a regular file"), "{report:#}");
        assert!(
            reason(1).contains("other.tar.gz.sigstore.json"),
            "{report:#}"
        );
        assert_eq!(results[2]["ok"], true, "{report:#}");
    }
}
