//! `anesbench leaderboard` (not implemented yet).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct LeaderboardArgs {}

pub fn run(_args: LeaderboardArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`leaderboard` is not implemented yet")
}
