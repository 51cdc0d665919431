//! The `keyless` command line: argument definitions (the source of the man
//! pages and completions), what each command runs, and the renderers it
//! prints with. All Sigstore logic lives in the `keyless` library; this
//! crate parses, calls it, renders and chooses exit codes.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod cli;
pub mod render;
pub mod run;
