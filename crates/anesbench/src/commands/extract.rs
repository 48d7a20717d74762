//! `anesbench extract` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ExtractArgs {}

pub fn run(_args: ExtractArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`extract` is not implemented yet")
}
