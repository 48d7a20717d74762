//! `anesbench rescore RUN`: re-extract answers from stored responses and rewrite
//! `samples.jsonl` and `summary.json`, calling no model.

use std::path::PathBuf;
use std::process::ExitCode;

use anesbench_core::vote::Aggregation;

use crate::exit;

#[derive(clap::Args)]
pub struct RescoreArgs {
    /// Run directory (holding manifest.json and samples.jsonl).
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
    /// Per-item decision for runs of several samples per item: `majority` (vote),
    /// `likelihood` (the sample with the highest mean token log-probability), or
    /// `reward:AGG:SEL` (reward-model scores: step rewards aggregated by AGG = last, min,
    /// prod or mean; SEL = max (best candidate) or weighted (scores summed per letter))
    /// [default: the run's own strategy].
    #[arg(long, value_name = "RULE", value_parser = parse_aggregate)]
    pub aggregate: Option<Aggregation>,
}

fn parse_aggregate(s: &str) -> Result<Aggregation, String> {
    Aggregation::parse(s)
}

pub fn run(args: RescoreArgs) -> anyhow::Result<ExitCode> {
    let out = anesbench_run::rescore::rescore_with(&args.run, args.aggregate)?;
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    print!("{}", anesbench_run::table::render(&out.summary));
    eprintln!(
        "rescored {} samples in {} ({} changed)",
        out.samples,
        out.dir.display(),
        out.changed
    );
    Ok(ExitCode::from(exit::SUCCESS))
}
