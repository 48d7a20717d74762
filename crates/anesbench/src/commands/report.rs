//! `anesbench report`: Markdown / HTML / CSV / JSON reports and figures for runs.

use std::path::PathBuf;
use std::process::ExitCode;

use anesbench_report::formats::Format;
use anesbench_report::size::SizeMap;
use anesbench_report::write::{write_report, ReportOptions};
use anesbench_report::RunDir;
use anyhow::Context;

use crate::exit;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// Run directories (as `anesbench eval` wrote them, e.g. runs/<name>).
    #[arg(required_unless_present = "pairs", value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// Output folder [default: RUN/report for one run, ./report for several].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Comma-separated formats: md, html, csv, json.
    #[arg(long, default_value = "md,html,csv,json")]
    pub format: String,
    /// Accepted for old scripts: every figure is now always written as SVG, PDF and
    /// 300-dpi PNG, at one- and two-column width.
    #[arg(long, hide = true)]
    pub png: bool,
    /// Model sizes for names that carry none: TSV `model<TAB>billions` or a JSON object.
    #[arg(long, value_name = "FILE")]
    pub sizes: Option<PathBuf>,
    /// Rank and draw incomplete runs (interrupted, errors) and subsets (--limit, --shard,
    /// filters) beside full runs; without it they are listed apart, unranked.
    #[arg(long)]
    pub include_incomplete: bool,
    /// Base-vs-derived pairs, one `base -> derived : label` per line; names are run
    /// directory names, run labels or models as the published leaderboard spells them.
    /// `published` uses the shipped pairs of published models (R1 distillations,
    /// medical fine-tunes).
    #[arg(long, value_name = "FILE")]
    pub pairs: Option<PathBuf>,
}

/// The `--sizes FILE` map shared by `report` and `leaderboard`.
pub(super) fn load_sizes(path: Option<&std::path::Path>) -> anyhow::Result<Option<SizeMap>> {
    path.map(SizeMap::load).transpose().context("--sizes")
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let formats = Format::parse_list(&args.format)?;
    let sizes = load_sizes(args.sizes.as_deref())?;
    let out_dir = match (&args.out, args.runs.as_slice()) {
        (Some(o), _) => o.clone(),
        (None, [one]) => one.join("report"),
        (None, _) => PathBuf::from("report"),
    };
    let runs = open_runs(&args.runs)?;
    let written = write_report(
        &runs,
        sizes.as_ref(),
        &ReportOptions {
            out_dir,
            formats,
            include_incomplete: args.include_incomplete,
            pairs: args.pairs.clone(),
        },
    )?;
    for p in written {
        println!("{}", p.display());
    }
    Ok(exit::SUCCESS.into())
}

/// Open run directories, printing what was tolerated to stderr.
pub fn open_runs(paths: &[PathBuf]) -> anyhow::Result<Vec<RunDir>> {
    paths
        .iter()
        .map(|p| {
            let r = RunDir::open(p)?;
            for w in &r.warnings {
                eprintln!("warning: {w}");
            }
            Ok(r)
        })
        .collect()
}
