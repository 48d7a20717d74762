//! `anesbench compare`: paired comparison of two runs on their shared items.

use std::path::PathBuf;
use std::process::ExitCode;

use anesbench_report::compare::{compare_runs, CompareOptions, ItemScoring};

use crate::exit;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PerItem {
    /// The lowest-index sample of each item (normally sample 0).
    First,
    /// Majority vote over the item's samples (ties: the answer reached first).
    Majority,
}

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Run A.
    pub run_a: PathBuf,
    /// Run B (differences are A - B).
    pub run_b: PathBuf,
    /// Paired bootstrap resamples for the 95% interval.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub bootstrap: u32,
    /// Seed of the bootstrap (same seed, same interval).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How one outcome per item is taken from several samples.
    #[arg(long, value_enum, default_value = "first")]
    pub per_item: PerItem,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Compare a run that is not complete (interrupted, errors) on the items it has;
    /// without it such a run is refused.
    #[arg(long)]
    pub include_incomplete: bool,
}

pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    if args.bootstrap == 0 {
        anyhow::bail!("--bootstrap must be at least 1 (hint: 10000 is the default)");
    }
    let runs = super::report::open_runs(&[args.run_a.clone(), args.run_b.clone()])?;
    let opts = CompareOptions {
        resamples: args.bootstrap,
        seed: args.seed,
        scoring: match args.per_item {
            PerItem::First => ItemScoring::First,
            PerItem::Majority => ItemScoring::Majority,
        },
        include_incomplete: args.include_incomplete,
    };
    let c = compare_runs(&runs[0], &runs[1], &opts)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&c)?);
    } else {
        print!("{}", c.to_text());
    }
    Ok(exit::SUCCESS.into())
}
