//! `keyless attest`'s in-toto forms: a predicate made into a statement over
//! the files (`--predicate FILE --type TYPE`), or a whole statement signed
//! as it is (`--statement FILE`).

use clap::Args;
use keyless::error::{Error, Result};
use keyless::statement::Statement;
use keyless::statement::subjects::{self, HashedFile};
use std::path::PathBuf;

/// The statement options of `keyless attest`.
#[derive(Debug, Args, Default)]
pub struct StatementArgs {
    /// Sign an in-toto Statement v1 carrying this predicate (JSON), one
    /// subject per PATH (its file name and sha256), in one DSSE bundle.
    #[arg(long, value_name = "FILE", conflicts_with = "statement")]
    pub predicate: Option<PathBuf>,

    /// The predicate type: a URI, or one of cosign's names: slsaprovenance1,
    /// slsaprovenance02 (= slsaprovenance), spdxjson, cyclonedx, vuln,
    /// openvex, link, custom (cosign's default, and ours).
    #[arg(long = "type", value_name = "TYPE", requires = "predicate")]
    pub predicate_type: Option<String>,

    /// Sign this in-toto statement (v1, or v0.1 as the GitLab runner writes
    /// it) byte for byte. Its subjects must be exactly the PATHs (same file
    /// name and sha256), or with no PATH the files they name relative to
    /// the statement's folder.
    #[arg(long, value_name = "FILE")]
    pub statement: Option<PathBuf>,

    /// With --statement: sign it without comparing its subjects with any
    /// file (you vouch for digests keyless did not see).
    #[arg(long, requires = "statement")]
    pub no_subject_check: bool,

    /// Write the statement's bundle here. Default:
    /// <first file>.intoto.sigstore.json (<statement>.intoto.sigstore.json
    /// when no file is checked).
    #[arg(long, value_name = "PATH")]
    pub bundle: Option<PathBuf>,
}

impl StatementArgs {
    /// Whether a statement form was asked for.
    pub fn is_statement(&self) -> bool {
        self.predicate.is_some() || self.statement.is_some()
    }

    /// The statement to sign, the file the run is reported under, and the
    /// bundle's path. `paths` are attest's PATHs.
    pub fn prepare(&self, paths: &[PathBuf]) -> Result<(Statement, PathBuf, PathBuf)> {
        let (statement, anchor) = if let Some(predicate) = &self.predicate {
            let type_uri = keyless::statement::predicate::resolve(
                self.predicate_type.as_deref().unwrap_or("custom"),
            )?;
            let predicate_value = Statement::read_predicate(predicate)?;
            let inputs = if paths.is_empty() {
                keyless::sign::select_inputs(&[PathBuf::from("dist")])?
            } else {
                keyless::sign::select_inputs(paths)?
            };
            let files = hash_all(&inputs)?;
            let named: Vec<(String, String)> = files
                .iter()
                .map(|f| {
                    let name = f
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (name, f.sha256.clone())
                })
                .collect();
            let statement = Statement::build(&named, &type_uri, predicate_value)
                .map_err(|p| Error::Usage(format!("the statement over these files: {p}")))?;
            (statement, files[0].path.clone())
        } else if let Some(path) = &self.statement {
            let statement = Statement::read(path)?;
            let inputs = if !paths.is_empty() {
                keyless::sign::select_inputs(paths)?
            } else if self.no_subject_check {
                Vec::new()
            } else {
                subjects::beside(path, &statement)
                    .map_err(|reason| Error::Usage(format!("{}: {reason}", path.display())))?
            };
            let files = hash_all(&inputs)?;
            if !self.no_subject_check {
                subjects::check_exact(&statement, &files).map_err(|reason| {
                    Error::Usage(format!(
                        "{}: {reason}; not signed (--no-subject-check signs it anyway)",
                        path.display()
                    ))
                })?;
            }
            let anchor = files
                .first()
                .map_or_else(|| path.clone(), |f| f.path.clone());
            (statement, anchor)
        } else {
            return Err(Error::Usage(
                "--predicate FILE or --statement FILE names what to sign".into(),
            ));
        };
        let bundle = self
            .bundle
            .clone()
            .unwrap_or_else(|| keyless::statement::default_bundle_path(&anchor));
        // The run's one input: the statement's file, or the first file.
        let reported = self.statement.clone().unwrap_or(anchor);
        Ok((statement, reported, bundle))
    }
}

fn hash_all(paths: &[PathBuf]) -> Result<Vec<HashedFile>> {
    paths
        .iter()
        .map(|p| {
            Ok(HashedFile {
                path: p.clone(),
                sha256: keyless::digest::sha256_file(p)?.to_hex(),
            })
        })
        .collect()
}
