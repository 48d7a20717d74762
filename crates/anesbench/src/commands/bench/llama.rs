//! `anesbench bench llama` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchLlamaArgs {}

pub fn run(_args: BenchLlamaArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`bench llama` is not implemented yet")
}
