//! `anesbench merge RUN... --out DIR`: combine shard runs that share settings and dataset.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::exit;

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Shard run directories (`eval --shard i/n`), two or more.
    #[arg(value_name = "RUN", required = true, num_args = 2..)]
    pub runs: Vec<PathBuf>,
    /// New run directory for the merged run.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let out = anesbench_run::merge::merge(&args.runs, &args.out)?;
    if !out.missing_shards.is_empty() {
        eprintln!(
            "warning: shards {:?} were not given; the merged run covers only part of the benchmark",
            out.missing_shards
        );
    }
    print!("{}", anesbench_run::table::render(&out.summary));
    eprintln!(
        "merged {} runs, {} samples, into {}",
        args.runs.len(),
        out.samples,
        out.dir.display()
    );
    Ok(ExitCode::from(exit::SUCCESS))
}
