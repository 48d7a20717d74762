//! `anesbench rescore RUN`: re-extract answers from stored responses and rewrite
//! `samples.jsonl` and `summary.json`, calling no model.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::exit;

#[derive(clap::Args)]
pub struct RescoreArgs {
    /// Run directory (holding manifest.json and samples.jsonl).
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
}

pub fn run(args: RescoreArgs) -> anyhow::Result<ExitCode> {
    let out = anesbench_run::rescore::rescore(&args.run)?;
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
