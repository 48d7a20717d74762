//! `anesbench rescore` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RescoreArgs {}

pub fn run(_args: RescoreArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`rescore` is not implemented yet")
}
