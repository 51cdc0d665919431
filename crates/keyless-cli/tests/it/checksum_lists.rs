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
        // A one-space first line: coreutils then reads `  x` as ` x`.
        format!("{h} {REAL}\n{h}  {REAL}\n"),
        format!("{h}\t{REAL}\n{h}  {REAL}\n"),
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

/// Where the listed file exists, keyless hashes it, as `sha256sum -c`
/// would: a file swapped after signing fails at the artifact step, though
/// its line's digest verifies. `--digest-only` reads no file; a name with
/// no file is verified by its digest, and the report says the file was
/// not there.
#[test]
fn a_listed_file_is_hashed_unless_digest_only_and_an_absent_one_is_said() {
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
    r.assert_code(1);
    let report = r.json();
    let swapped = &report["results"][0];
    assert_eq!(swapped["ok"], false, "{swapped:#}");
    assert_eq!(swapped["failed_step"], "artifact", "{swapped:#}");
    assert_eq!(swapped["file"], "hashed", "{swapped:#}");
    assert_eq!(swapped["sha256"], hex_of(b"swapped after signing"));
    let absent = &report["results"][1];
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
        let mut child = crate::common::keyless_process()
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
        // Bounded: 30 s, then the test fails (and the child is killed).
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(30) {
                child.kill().unwrap();
                panic!("keyless blocked on a FIFO ({extra:?})");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
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
