//! `keyless trust update`.

use super::fail;
use crate::cli::TrustUpdateArgs;
use crate::render::trust as render;
use keyless::clock::{Clock, SystemClock};

/// `keyless trust update`: refresh the trust material through TUF into the
/// cache directory.
pub fn update(args: &TrustUpdateArgs) -> u8 {
    let Some(cache) = keyless::trust::cache_dir() else {
        return fail(
            "trust update",
            &keyless::Error::Usage("no cache directory: set KEYLESS_CACHE_DIR or HOME".into()),
        );
    };
    let result = args.repository().and_then(|repo| {
        keyless::trust::update_from_tuf(&repo, &cache, SystemClock.now(), args.offline)
            .map(|s| (repo, s))
    });
    match result {
        // The material is in place: a reader that went away changes nothing.
        Ok((repo, s)) => {
            super::write_stdout(render::update_text(&repo, &s).as_bytes()).exit_code(0)
        }
        Err(e) => fail("trust update", &e),
    }
}
