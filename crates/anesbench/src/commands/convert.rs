//! `anesbench convert` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ConvertArgs {}

pub fn run(_args: ConvertArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`convert` is not implemented yet")
}
