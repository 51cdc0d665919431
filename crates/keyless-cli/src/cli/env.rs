//! Environment variables for the flags a pipeline sets once for every
//! verifying and auditing command (`KEYLESS_TRUST_CONFIG`, ...). A flag on
//! the command line always wins over its variable.
//!
//! Where clap's validation is not affected, the variable is clap's own
//! (`#[arg(env = ...)]`: `rekor --rekor-url`, `--timeout` and
//! `--rekor-version`). clap counts
//! a value from the environment as a flag given, though: a variable for one
//! of the exclusive trust flags would make `--staging` a conflict, and one
//! for `verify --rekor-url` (which requires `--signature`) would break every
//! other `verify`. Those variables are read here instead, after clap has
//! judged the command line alone, and only for a flag not given. Their help
//! text names them as clap names its own (`[env: NAME]`).

use std::ffi::OsString;

/// `--trust-config FILE`.
pub const TRUST_CONFIG: &str = "KEYLESS_TRUST_CONFIG";
/// `--trusted-root FILE`.
pub const TRUSTED_ROOT: &str = "KEYLESS_TRUSTED_ROOT";
/// `--rekor-url URL` of `keyless rekor` and of `keyless verify --signature`.
pub const REKOR_URL: &str = "KEYLESS_REKOR_URL";
/// `--timeout SECONDS` of `keyless rekor`.
pub const TIMEOUT: &str = "KEYLESS_TIMEOUT";
/// `--index-url URL` of `keyless verify pypi`.
pub const INDEX_URL: &str = "KEYLESS_INDEX_URL";
/// `--rekor-version 1|2` of `keyless sign`, `attest` and `rekor`.
pub const REKOR_VERSION: &str = "KEYLESS_REKOR_VERSION";

/// Reads a variable: the process environment, or a test's.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The process environment.
pub fn process(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// A variable's value. An empty one is a value, as clap takes it for its
/// own variables (and as `--flag ''` would be): it is refused where it is
/// used, rather than silently falling back to the default.
pub fn value(env: Env<'_>, name: &str) -> Option<OsString> {
    env(name)
}
