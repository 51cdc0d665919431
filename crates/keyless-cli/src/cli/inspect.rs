//! `keyless inspect`.

use super::TrustArgs;
use clap::Args;
use std::path::PathBuf;

/// `keyless inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A bundle, a certificate (PEM or DER), or a PEP 740 attestation.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Also name logs from this trust material (production and staging are
    /// always known).
    #[command(flatten)]
    pub trust: TrustArgs,

    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
