//! `anesbench decontam` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DecontamArgs {}

pub fn run(_args: DecontamArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`decontam` is not implemented yet")
}
