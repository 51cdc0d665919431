//! A statement's subjects against the files it is signed for (`keyless
//! attest --statement`): a signer must not vouch, under its own identity,
//! for digests it never saw: a statement handed over by an earlier job (the
//! runner's provenance, say) could name files other than those being
//! released, or stale digests of them.

use super::Statement;
use std::path::{Path, PathBuf};

/// A file to attest and its SHA-256 (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashedFile {
    /// The file as named.
    pub path: PathBuf,
    /// Its SHA-256.
    pub sha256: String,
}

fn file_name(p: &Path) -> Option<&std::ffi::OsStr> {
    p.file_name()
}

/// Check that `statement`'s subjects are exactly `files`: every subject is
/// named like one of them (same file name: the runner names subjects by
/// their path in the job, `dist/x.whl`) and has that file's SHA-256, and
/// every file is such a subject. The first mismatch, for a person.
pub fn check_exact(statement: &Statement, files: &[HashedFile]) -> Result<(), String> {
    let mut covered = vec![false; files.len()];
    for (index, subject) in statement.subjects.iter().enumerate() {
        let Some(name) = &subject.name else {
            return Err(format!(
                "subject {index} has no name, so no file to compare it with"
            ));
        };
        // A digest keyless does not compute is one it cannot check, yet
        // other verifiers accept a file by it (sigstore-go takes sha512 as
        // well as sha256): signed, it would vouch for whatever file has it.
        if let Some(other) = subject.digest.keys().find(|k| *k != "sha256") {
            return Err(format!(
                "subject {name:?} also names a {other:?} digest, which keyless does not check (other verifiers would accept a file by it): remove it, or pass --no-subject-check"
            ));
        }
        let wanted = file_name(Path::new(name));
        let candidates: Vec<usize> = (0..files.len())
            .filter(|&i| wanted.is_some() && file_name(&files[i].path) == wanted)
            .collect();
        if candidates.is_empty() {
            return Err(format!("subject {name:?} is none of the files given"));
        }
        let digest = subject.sha256();
        match candidates
            .iter()
            .find(|&&i| digest.as_deref() == Some(files[i].sha256.as_str()))
        {
            Some(&i) => covered[i] = true,
            None => {
                let file = &files[candidates[0]];
                // The file's own digest is not shown: a subject may lead
                // to a file the signer should not publish a hash of.
                return Err(format!(
                    "subject {name:?} has sha256 {}, but {} has another",
                    digest.as_deref().unwrap_or("(none)"),
                    file.path.display(),
                ));
            }
        }
    }
    if let Some(i) = covered.iter().position(|c| !c) {
        return Err(format!(
            "{} is not a subject of the statement",
            files[i].path.display()
        ));
    }
    Ok(())
}

/// The files a statement at `statement_path` names, found by subject name
/// relative to its folder (where the runner writes its metadata, next to
/// the paths it names). A name that would leave that folder (absolute, or
/// with `..`) is refused: the statement, not the signer, would choose what
/// is read.
pub fn beside(statement_path: &Path, statement: &Statement) -> Result<Vec<PathBuf>, String> {
    let dir = statement_path.parent().unwrap_or(Path::new(""));
    statement
        .subjects
        .iter()
        .enumerate()
        .map(|(index, subject)| {
            let name = subject
                .name
                .as_deref()
                .ok_or_else(|| format!("subject {index} has no name, so no file to find"))?;
            let relative = Path::new(name);
            if name.is_empty()
                || relative.is_absolute()
                || relative.components().any(|c| {
                    !matches!(
                        c,
                        std::path::Component::Normal(_) | std::path::Component::CurDir
                    )
                })
            {
                return Err(format!(
                    "subject {name:?} is not a path inside the statement's folder"
                ));
            }
            let path = dir.join(relative);
            if !path.is_file() {
                return Err(format!(
                    "subject {name:?}: no such file next to the statement ({})",
                    path.display()
                ));
            }
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(subjects: &[(&str, &str)]) -> Statement {
        let subjects: Vec<(String, String)> = subjects
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .collect();
        Statement::build(&subjects, "https://example.com/p", serde_json::Value::Null).unwrap()
    }

    fn file(path: &str, sha: &str) -> HashedFile {
        HashedFile {
            path: path.into(),
            sha256: sha.into(),
        }
    }

    #[test]
    fn subjects_must_be_exactly_the_files() {
        let (a, b) = ("aa".repeat(32), "bb".repeat(32));
        let statement = st(&[("dist/a.whl", &a), ("dist/b.tar.gz", &b)]);
        let files = [file("out/a.whl", &a), file("b.tar.gz", &b)];
        check_exact(&statement, &files).unwrap();
        // A file the statement does not cover.
        let err = check_exact(
            &statement,
            &[files[0].clone(), files[1].clone(), file("c", &a)],
        );
        assert!(err.unwrap_err().contains("c is not a subject"));
        // A subject naming no file given.
        let err = check_exact(&statement, &files[..1]).unwrap_err();
        assert!(
            err.contains("dist/b.tar.gz") && err.contains("none of the files"),
            "{err}"
        );
        // A stale digest; the file's own is not shown.
        let err = check_exact(&statement, &[file("a.whl", &b), files[1].clone()]).unwrap_err();
        assert!(
            err.contains("has sha256") && err.contains("has another"),
            "{err}"
        );
        // Another digest beside the right sha256: sigstore-go would accept
        // any file with that sha512 by the signed statement.
        let mut two = statement.clone();
        two.subjects[0]
            .digest
            .insert("sha512".into(), "cc".repeat(64));
        let err = check_exact(&two, &files).unwrap_err();
        assert!(err.contains("\"sha512\" digest"), "{err}");
    }

    #[test]
    fn subjects_are_found_inside_the_statements_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::write(dir.path().join("dist/a.whl"), "a").unwrap();
        let at = dir.path().join("artifacts-metadata.json");
        let found = beside(&at, &st(&[("dist/a.whl", &"aa".repeat(32))])).unwrap();
        assert_eq!(found, [dir.path().join("dist/a.whl")]);
        for name in ["../a.whl", "/etc/passwd", "dist/../../x", ""] {
            let err = beside(&at, &st(&[(name, &"aa".repeat(32))])).unwrap_err();
            assert!(err.contains("not a path inside"), "{name}: {err}");
        }
        assert!(
            beside(&at, &st(&[("dist/none", &"aa".repeat(32))]))
                .unwrap_err()
                .contains("no such file")
        );
    }
}
