//! `anesbench merge` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct MergeArgs {}

pub fn run(_args: MergeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`merge` is not implemented yet")
}
