//! `anesbench bench http` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchHttpArgs {}

pub fn run(_args: BenchHttpArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`bench http` is not implemented yet")
}
