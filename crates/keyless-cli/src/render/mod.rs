//! The renderers: the text and JSON the `keyless` commands print, and the
//! exit status each report maps to. They read the report types of the
//! `keyless` library and never change them.

pub mod escape;
pub mod inspect;
pub mod junit;
pub mod pypi;
pub mod rekor;
pub mod sign;
pub mod style;
pub mod trust;
pub mod verify;
