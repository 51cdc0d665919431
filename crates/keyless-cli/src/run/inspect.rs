//! `keyless inspect`.

use super::fail_json;
use crate::cli::InspectArgs;
use crate::render::inspect as render;
use keyless::trust::{TrustMaterial, TrustSource};

/// `keyless inspect`: print what the file claims, naming logs from the
/// selected trust material, production and staging.
pub fn run(args: &InspectArgs) -> u8 {
    let mut roots = Vec::new();
    for source in [
        args.trust.source(),
        TrustSource::Production,
        TrustSource::Staging,
    ] {
        match TrustMaterial::load(&source) {
            Ok(t) => roots.push(t.trusted_root),
            Err(e) => return fail_json("inspect", args.json, &e),
        }
    }
    match keyless::inspect::inspect(&args.file, &roots) {
        Ok(i) => {
            let out = if args.json {
                render::json(&i)
            } else {
                render::text(&args.file, &i)
            };
            super::write_stdout(out.as_bytes()).exit_code(0)
        }
        Err(e) => fail_json("inspect", args.json, &e),
    }
}
