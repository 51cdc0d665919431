//! `keyless inspect`.

use super::fail;
use crate::cli::InspectArgs;
use crate::render::inspect as render;
use keyless::trust::{TrustMaterial, TrustSource};
use std::io::Write;

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
            Err(e) => return fail("inspect", &e),
        }
    }
    match keyless::inspect::inspect(&args.file, &roots) {
        Ok(i) => {
            let out = if args.json {
                render::json(&i)
            } else {
                render::text(&args.file, &i)
            };
            if writeln!(std::io::stdout(), "{out}").is_err() {
                return 2;
            }
            0
        }
        Err(e) => fail("inspect", &e),
    }
}
