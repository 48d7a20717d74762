//! `anesbench train-config` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct TrainConfigArgs {}

pub fn run(_args: TrainConfigArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`train-config` is not implemented yet")
}
