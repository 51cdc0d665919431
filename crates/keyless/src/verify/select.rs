//! Which inputs `keyless verify` verifies when the command line names
//! folders, or names evidence together with its artifacts: `keyless verify
//! dist/` and `keyless verify dist/*` must both verify what `keyless sign
//! dist/` wrote, although the shell's glob also matches the bundles.

use super::{BundleSource, Input};
use crate::error::{Error, Result};
use crate::inputs::{Seen, files_in, identity, is_dir, list};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Names of evidence: `<file><suffix>` is evidence about `<file>` (a
/// bundle, a PEP 740 attestation, a cosign-style signature or certificate).
/// Longer suffixes first, so `.sigstore.json` is not read as `.json`, nor
/// `<f>.intoto.sigstore.json` (a statement's bundle) as evidence about a
/// file `<f>.intoto`.
pub const EVIDENCE_SUFFIXES: [&str; 6] = [
    crate::statement::BUNDLE_SUFFIX,
    ".sigstore.json",
    ".publish.attestation",
    ".sigstore",
    ".sig",
    ".crt",
];

/// The evidence `keyless verify` looks for beside a file by itself.
const FOUND_BESIDE: [&str; 3] = [".sigstore.json", ".sigstore", ".publish.attestation"];

/// One input to verify, as the command line selects it.
#[derive(Debug)]
pub struct Selected {
    /// How reports name it when it is not a verifiable input: the argument,
    /// or the path of a file found in a folder.
    pub arg: String,
    /// What to verify, or why `arg` names nothing keyless can verify (a
    /// malformed digest).
    pub input: Result<Input>,
    /// The evidence to verify against, when the command line named this
    /// evidence instead of its artifact; `None` for the default lookup.
    pub evidence: Option<BundleSource>,
}

impl Selected {
    fn file(path: PathBuf) -> Self {
        Self {
            arg: path.display().to_string(),
            input: Ok(Input::File(path)),
            evidence: None,
        }
    }
}

/// Select what to verify from command-line arguments, in their order:
///
/// - A folder stands for its `*.whl` and `*.tar.gz` files (what `keyless
///   sign` signs in it) and every other regular file with evidence beside
///   it (`<f>.sigstore.json`, `<f>.sigstore`, `<f>.publish.attestation`),
///   sorted, not recursive. A folder with none of them is a usage error
///   naming it. A file reached again through a folder is verified once.
/// - A file or digest is taken as [`Input::parse`] reads it; a file named
///   twice is verified twice, as asked.
/// - With `evidence_by_name` (no `--bundle`, `--attestation` or
///   `--signature` names the evidence), an input that is itself evidence
///   (see [`EVIDENCE_SUFFIXES`]) about a file that exists beside it is not
///   verified as an artifact: dropped when that file is an input too (the
///   file is then verified against it if it is the only bundle or
///   attestation named for it and not what the file's own lookup finds),
///   else that file is verified in its place (against the named bundle or
///   attestation). An evidence file with no artifact beside it, or with
///   evidence of its own (someone signed it), stays an input.
pub fn select_inputs(args: &[String], evidence_by_name: bool) -> Result<Vec<Selected>> {
    // Each entry, and whether it came from a folder rather than by name.
    let mut entries: Vec<(Selected, bool)> = Vec::new();
    let mut empty_folders = Vec::new();
    for arg in args {
        match Input::parse(arg) {
            Ok(Input::File(path)) if is_dir(&path) => {
                let files = files_in(&path, |f| {
                    crate::attestation::is_distribution(f) || has_evidence(f)
                })?;
                if files.is_empty() {
                    empty_folders.push(path);
                }
                entries.extend(files.into_iter().map(|f| (Selected::file(f), true)));
            }
            input => entries.push((
                Selected {
                    arg: arg.clone(),
                    input,
                    evidence: None,
                },
                false,
            )),
        }
    }
    if !empty_folders.is_empty() {
        return Err(Error::Usage(format!(
            "nothing to verify in {}: no *.whl or *.tar.gz files, and no file with a bundle or attestation beside it",
            list(&empty_folders)
        )));
    }
    if evidence_by_name {
        entries = evidence_by_artifact(entries);
    }
    Ok(once_through_folders(entries))
}

/// Whether `<file>.sigstore.json`, `<file>.sigstore` or
/// `<file>.publish.attestation` exists.
fn has_evidence(file: &Path) -> bool {
    FOUND_BESIDE
        .iter()
        .any(|suffix| with_suffix(file, suffix).is_file())
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut s = file.as_os_str().to_os_string();
    s.push(suffix);
    s.into()
}

/// The artifact `path` is evidence about, and the suffix that says so.
fn artifact_of(path: &Path) -> Option<(PathBuf, &'static str)> {
    let name = path.file_name()?.to_str()?;
    let suffix = EVIDENCE_SUFFIXES.iter().find(|s| name.ends_with(**s))?;
    let artifact = &name[..name.len() - suffix.len()];
    (!artifact.is_empty()).then(|| (path.with_file_name(artifact), *suffix))
}

/// Evidence inputs replaced by (or merged into) the artifacts they are about.
fn evidence_by_artifact(entries: Vec<(Selected, bool)>) -> Vec<(Selected, bool)> {
    let mut inputs = Seen::default();
    for (s, _) in &entries {
        if let Ok(Input::File(p)) = &s.input {
            inputs.insert(p);
        }
    }
    // Evidence named for an artifact that is an input too: dropped as an
    // input below. When it is the only evidence named for that artifact and
    // not what the artifact's own lookup picks, the artifact is verified
    // against it: `verify a.tar.gz a.tar.gz.sigstore` must not check a
    // `.sigstore.json` lying beside it instead. With several (a glob over
    // all that `sign` wrote), the artifact's own lookup chooses.
    let mut named: HashMap<PathBuf, Vec<BundleSource>> = HashMap::new();
    for (s, _) in &entries {
        if let Ok(Input::File(path)) = &s.input
            && let Some((artifact, suffix)) = artifact_of(path)
            && artifact.is_file()
            && !has_evidence(path)
            && inputs.contains(&artifact)
            && let Some(source) = named_evidence(path, suffix)
        {
            named.entry(identity(&artifact)).or_default().push(source);
        }
    }
    entries
        .into_iter()
        .filter_map(|(mut s, from_folder)| {
            let Ok(Input::File(path)) = &s.input else {
                return Some((s, from_folder));
            };
            let Some((artifact, suffix)) = artifact_of(path) else {
                if s.evidence.is_none()
                    && !named.is_empty()
                    && let Some([source]) = named.get(&identity(path)).map(Vec::as_slice)
                    && *source != BundleSource::find_for(path)
                {
                    s.evidence = Some(source.clone());
                }
                return Some((s, from_folder));
            };
            if !artifact.is_file() || has_evidence(path) {
                return Some((s, from_folder));
            }
            if inputs.contains(&artifact) {
                return None;
            }
            // Named alone: verify the artifact against this very evidence.
            // A cosign-style .sig or .crt needs its partner, which only
            // --signature/--certificate give, so the artifact's own
            // evidence is looked up instead.
            Some((
                Selected {
                    evidence: named_evidence(path, suffix),
                    ..Selected::file(artifact)
                },
                true,
            ))
        })
        .collect()
}

/// `path` as the evidence its `suffix` says it is: a bundle or a PEP 740
/// attestation; `None` for a cosign-style `.sig` or `.crt`.
fn named_evidence(path: &Path, suffix: &str) -> Option<BundleSource> {
    match suffix {
        ".publish.attestation" => Some(BundleSource::Attestation(path.to_path_buf())),
        ".sigstore.json" | ".sigstore" | crate::statement::BUNDLE_SUFFIX => {
            Some(BundleSource::Bundle(path.to_path_buf()))
        }
        _ => None,
    }
}

/// Drop a file that a folder (or an evidence file) led to when it is
/// already an input; a file named twice on the command line stays twice.
fn once_through_folders(entries: Vec<(Selected, bool)>) -> Vec<Selected> {
    let (mut named, mut derived) = (Seen::default(), Seen::default());
    entries
        .into_iter()
        .filter(|(s, from_folder)| {
            let Ok(Input::File(path)) = &s.input else {
                return true;
            };
            // An artifact verified against named evidence is its own check.
            if s.evidence.is_some() {
                return true;
            }
            if *from_folder {
                !named.contains(path) && derived.insert(path)
            } else {
                named.insert(path);
                !derived.contains(path)
            }
        })
        .map(|(s, _)| s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder holding `files` (empty contents).
    fn folder(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            std::fs::write(dir.path().join(f), f).unwrap();
        }
        dir
    }

    fn arg(dir: &tempfile::TempDir, name: &str) -> String {
        dir.path().join(name).display().to_string()
    }

    /// (file name, name of the evidence named for it) of each selected input.
    fn names(selected: &[Selected]) -> Vec<(String, Option<String>)> {
        let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        selected
            .iter()
            .map(|s| match &s.input {
                Ok(Input::File(p)) => (name(p), s.evidence.as_ref().map(|e| name(e.path()))),
                Ok(Input::Digest(d)) => (d.to_hex(), None),
                Err(_) => (format!("error: {}", s.arg), None),
            })
            .collect()
    }

    fn plain(names: &[&str]) -> Vec<(String, Option<String>)> {
        names.iter().map(|n| (n.to_string(), None)).collect()
    }

    const SIGNED: [&str; 6] = [
        "x-1.0.tar.gz",
        "x-1.0.tar.gz.sigstore.json",
        "x-1.0-py3-none-any.whl",
        "x-1.0-py3-none-any.whl.sigstore.json",
        "notes.txt",
        "notes.txt.sigstore",
    ];

    #[test]
    fn a_folder_gives_its_distributions_and_every_file_with_evidence() {
        let dir = folder(&[&SIGNED[..], &["readme.md", "orphan.sigstore.json"]].concat());
        let selected = select_inputs(&[arg(&dir, "")], true).unwrap();
        assert_eq!(
            names(&selected),
            plain(&["notes.txt", "x-1.0-py3-none-any.whl", "x-1.0.tar.gz"])
        );
    }

    #[test]
    fn a_glob_over_artifacts_and_bundles_verifies_each_artifact_once() {
        let dir = folder(&SIGNED);
        let mut args: Vec<String> = SIGNED.iter().map(|f| arg(&dir, f)).collect();
        args.sort();
        let selected = select_inputs(&args, true).unwrap();
        assert_eq!(
            names(&selected),
            plain(&["notes.txt", "x-1.0-py3-none-any.whl", "x-1.0.tar.gz"])
        );
    }

    #[test]
    fn evidence_named_alone_stands_for_its_artifact_beside_it() {
        let dir = folder(&[&SIGNED[..], &["x-1.0.tar.gz.sig", "lone.sigstore.json"]].concat());
        let args = [
            arg(&dir, "x-1.0.tar.gz.sigstore.json"),
            arg(&dir, "notes.txt.sigstore"),
            arg(&dir, "x-1.0.tar.gz.sig"),
            arg(&dir, "lone.sigstore.json"),
        ];
        let selected = select_inputs(&args, true).unwrap();
        assert_eq!(
            names(&selected),
            vec![
                (
                    "x-1.0.tar.gz".into(),
                    Some("x-1.0.tar.gz.sigstore.json".into())
                ),
                ("notes.txt".into(), Some("notes.txt.sigstore".into())),
                // A .sig alone: the artifact, with its own bundle.
                ("x-1.0.tar.gz".into(), None),
                // No artifact beside it: still an input (and it will fail).
                ("lone.sigstore.json".into(), None),
            ]
        );
    }

    #[test]
    fn an_artifact_is_checked_against_the_one_bundle_named_with_it() {
        let dir = folder(&[&SIGNED[..], &["x-1.0.tar.gz.sigstore"]].concat());
        // Named with the legacy bundle: that one, not the .sigstore.json.
        let args = [
            arg(&dir, "x-1.0.tar.gz"),
            arg(&dir, "x-1.0.tar.gz.sigstore"),
        ];
        let selected = select_inputs(&args, true).unwrap();
        assert_eq!(
            names(&selected),
            vec![("x-1.0.tar.gz".into(), Some("x-1.0.tar.gz.sigstore".into()))]
        );
        // Named with what its own lookup finds anyway, or with both (a glob):
        // its own lookup.
        for extra in [
            &["x-1.0.tar.gz.sigstore.json"][..],
            &["x-1.0.tar.gz.sigstore.json", "x-1.0.tar.gz.sigstore"],
        ] {
            let mut args = vec![arg(&dir, "x-1.0.tar.gz")];
            args.extend(extra.iter().map(|e| arg(&dir, e)));
            let selected = select_inputs(&args, true).unwrap();
            assert_eq!(names(&selected), plain(&["x-1.0.tar.gz"]), "{extra:?}");
        }
    }

    #[test]
    fn a_statements_bundle_is_evidence_about_the_file_it_is_named_after() {
        let dir = folder(
            &[
                &SIGNED[..],
                &[
                    "x-1.0.tar.gz.intoto.sigstore.json",
                    "notes.txt.intoto.sigstore.json",
                ],
            ]
            .concat(),
        );
        // In a glob: evidence, not an artifact `x-1.0.tar.gz.intoto`.
        let mut args: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path().display().to_string())
            .collect();
        args.sort();
        let selected = select_inputs(&args, true).unwrap();
        assert_eq!(
            names(&selected),
            plain(&["notes.txt", "x-1.0-py3-none-any.whl", "x-1.0.tar.gz"])
        );
        // Named alone: its file, against it.
        let selected =
            select_inputs(&[arg(&dir, "x-1.0.tar.gz.intoto.sigstore.json")], true).unwrap();
        assert_eq!(
            names(&selected),
            vec![(
                "x-1.0.tar.gz".into(),
                Some("x-1.0.tar.gz.intoto.sigstore.json".into())
            )]
        );
    }

    #[test]
    fn evidence_is_taken_as_named_when_the_evidence_options_name_it() {
        let dir = folder(&SIGNED);
        let args = [arg(&dir, "x-1.0.tar.gz.sigstore.json")];
        let selected = select_inputs(&args, false).unwrap();
        assert_eq!(names(&selected), plain(&["x-1.0.tar.gz.sigstore.json"]));
    }

    #[test]
    fn signed_evidence_is_an_artifact_of_its_own() {
        let dir = folder(&[
            "a.txt",
            "a.txt.sigstore.json",
            "a.txt.sigstore.json.sigstore.json",
        ]);
        let args = [arg(&dir, "a.txt"), arg(&dir, "a.txt.sigstore.json")];
        let selected = select_inputs(&args, true).unwrap();
        assert_eq!(names(&selected), plain(&["a.txt", "a.txt.sigstore.json"]));
    }

    #[test]
    fn a_file_named_twice_stays_twice_but_a_folder_adds_it_once() {
        let dir = folder(&SIGNED);
        let wheel = arg(&dir, "x-1.0-py3-none-any.whl");
        let selected = select_inputs(&[wheel.clone(), arg(&dir, ""), wheel.clone()], true).unwrap();
        assert_eq!(
            names(&selected),
            plain(&[
                "x-1.0-py3-none-any.whl",
                "notes.txt",
                "x-1.0.tar.gz",
                "x-1.0-py3-none-any.whl"
            ])
        );
    }

    #[test]
    fn digests_and_missing_files_pass_through() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let selected =
            select_inputs(&[digest, "no/such.whl".into(), "sha256:abc".into()], true).unwrap();
        assert_eq!(
            names(&selected),
            vec![
                ("ab".repeat(32), None),
                ("such.whl".into(), None),
                ("error: sha256:abc".into(), None),
            ]
        );
    }

    #[test]
    fn a_folder_with_nothing_to_verify_is_a_usage_error_naming_it() {
        let dir = folder(&["readme.md", "lone.sigstore.json"]);
        let err = select_inputs(&[arg(&dir, "")], true).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err:?}");
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
    }
}
