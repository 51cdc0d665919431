//! `keyless verify pypi`: resolve what was asked against the index, fetch
//! provenance, verify every file, print a line each (or the JSON report).

use crate::cli::VerifyPypiArgs;
use crate::render::pypi as render;
use keyless::error::Error;
use keyless::index::simple::{name_and_version, normalize};
use keyless::index::{
    Expected, FileOutcome, FileReport, IndexClient, PYPI_SIMPLE, Resolved, Selection, Wanted,
    inputs,
};
use keyless::trust::TrustMaterial;
use keyless::verify::Verifier;
use std::collections::BTreeSet;

const COMMAND: &str = "verify pypi";

/// Run `keyless verify pypi`; the exit status.
pub fn run(args: &VerifyPypiArgs) -> u8 {
    match plan(args) {
        Ok(wanted) => verify(args, &wanted),
        Err(e) => super::fail_json(COMMAND, args.json, &e),
    }
}

/// The releases and files asked for, each with who must have published it.
fn plan(args: &VerifyPypiArgs) -> keyless::Result<Vec<Wanted>> {
    let mut wanted = Vec::new();
    let mut releases = Vec::new();
    for spec in &args.releases {
        let (project, version) = inputs::parse_release(spec).map_err(Error::Usage)?;
        releases.push((project, version, spec.clone()));
    }
    // Each --file belongs to the release its name gives.
    let mut named: Vec<Vec<String>> = vec![Vec::new(); releases.len()];
    for file in &args.file {
        let owner = name_and_version(file).and_then(|(n, v)| {
            releases
                .iter()
                .position(|(p, ver, _)| *p == normalize(n) && ver.eq_ignore_ascii_case(v))
        });
        match owner {
            Some(i) => named[i].push(file.clone()),
            None => {
                return Err(Error::Usage(format!(
                    "--file {file:?} is a file of none of the releases given"
                )));
            }
        }
    }
    for ((project, version, spec), files) in releases.into_iter().zip(named) {
        wanted.push(Wanted {
            project,
            version,
            files: if files.is_empty() && args.file.is_empty() {
                Selection::All
            } else {
                Selection::Named(files)
            },
            publishers: None,
            expected: Expected::default(),
            origin: spec,
        });
    }
    // A release left without a --file of its own when others have them is
    // still verified whole.
    for w in &mut wanted {
        if w.files == Selection::Named(Vec::new()) {
            w.files = Selection::All;
        }
    }
    for path in &args.requirement {
        wanted.extend(inputs::read_requirements(path)?);
    }
    for path in &args.lock {
        wanted.extend(inputs::read_pylock(path)?);
    }
    let policy_file = args
        .publishers
        .as_deref()
        .map(inputs::read_publishers)
        .transpose()?;
    let everyone = args.publisher()?;
    let mut unknown = BTreeSet::new();
    for w in &mut wanted {
        let mut groups = Vec::new();
        groups.extend(everyone.clone().map(|p| vec![p]));
        groups.extend(w.publishers.clone());
        if let Some(listed) = policy_file.as_ref().and_then(|m| m.get(&w.project)) {
            groups.push(listed.clone());
        }
        if groups.is_empty() && !args.print_identities {
            unknown.insert(w.project.clone());
        }
        w.expected = Expected { all_of: groups };
    }
    if !unknown.is_empty() {
        return Err(Error::Usage(format!(
            "no expected publisher for {}: pass --gitlab or --github, a lock with attestation-identities, \
             --publishers FILE, or --print-identities to see who published them (trust on first use)",
            unknown.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(wanted)
}

fn verify(args: &VerifyPypiArgs, wanted: &[Wanted]) -> u8 {
    let fail = |e: &Error| super::fail_json(COMMAND, args.json, e);
    let index_url = args.index_url.as_deref().unwrap_or(PYPI_SIMPLE);
    let client = match IndexClient::new(
        index_url,
        args.allow_insecure_http,
        std::time::Duration::from_secs(args.timeout),
    ) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let verifier = match TrustMaterial::load(&args.trust.source()).and_then(|t| Verifier::new(&t)) {
        Ok(v) => v,
        Err(e) => return fail(&e),
    };
    let resolved = match client.resolve(wanted, usize::from(args.jobs)) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let allowed: BTreeSet<String> = args.allow_missing.iter().map(|n| normalize(n)).collect();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut reports: Vec<FileReport> = Vec::with_capacity(resolved.len());
    super::ordered::map_in_order(
        resolved,
        cores,
        |item| match item {
            Resolved::Report(r) => r,
            Resolved::File(f) => {
                let allow = allowed.contains(&f.project);
                keyless::index::verify(&verifier, f, allow)
            }
        },
        |r| {
            reports.push(r);
            true
        },
    );
    let code = exit_code(&reports);
    if args.json {
        let doc = render::json(&reports, code, &client.service());
        return super::write_stdout(super::json_text(&doc).as_bytes()).exit_code(code);
    }
    let mut lines = Vec::new();
    for r in &reports {
        let ok = matches!(r.outcome, FileOutcome::Verified { .. });
        if args.quiet && ok {
            continue;
        }
        lines.push(render::text_line(r));
        if args.print_identities
            && let Some(line) = render::identities_line(r)
        {
            lines.push(line);
        }
        if let Some(hint) = render::hint(r) {
            eprintln!("  hint: {}", crate::render::escape::printable(&hint));
        }
    }
    if lines.is_empty() {
        return code;
    }
    let text = crate::render::escape::printable_lines(&lines.join("\n"));
    super::write_stdout(text.as_bytes()).exit_code(code)
}

/// 2 if any file could not be checked, else 1 if any failed, else 0.
fn exit_code(reports: &[FileReport]) -> u8 {
    let any = |f: fn(&FileOutcome) -> bool| reports.iter().any(|r| f(&r.outcome));
    if any(|o| matches!(o, FileOutcome::Error(_))) {
        2
    } else if any(|o| matches!(o, FileOutcome::Failed(_))) {
        1
    } else {
        0
    }
}
