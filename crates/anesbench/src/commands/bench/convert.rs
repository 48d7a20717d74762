//! `anesbench bench convert` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchConvertArgs {}

pub fn run(_args: BenchConvertArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`bench convert` is not implemented yet")
}
