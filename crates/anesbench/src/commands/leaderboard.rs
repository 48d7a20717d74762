//! `anesbench leaderboard`: rank runs, optionally beside the published AnesBench models,
//! and draw the model-scale figure.

use std::path::PathBuf;
use std::process::ExitCode;

use anesbench_report::leaderboard::{
    rank_with, to_csv, to_json, to_markdown, to_table, LeaderRow, RankBy,
};
use anesbench_report::model::Report;
use anesbench_report::plots::{render_to_file, scale_analysis, FigureKind};
use anesbench_report::points::ModelPoint;
use anesbench_report::published::{published, PUBLISHED_SOURCE};

use crate::exit;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TableFormat {
    Table,
    Md,
    Csv,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum By {
    Overall,
    En,
    Zh,
    Average,
}

#[derive(clap::Args)]
pub struct LeaderboardArgs {
    /// Run directories to rank.
    #[arg(value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// Add the 51 models of the published leaderboard (English AnesBench, Chinese AMCQA).
    #[arg(long)]
    pub published: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
    /// Ranking key [default: en with --published (comparable with the published
    /// AnesBench scores), else overall].
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// Draw the model-scale figure (accuracy per level against size) to FILE (.svg, .pdf or
    /// .png; PDF and PNG are 7 in wide, PNG at 300 dpi).
    #[arg(long, value_name = "FILE")]
    pub figure: Option<PathBuf>,
    /// Model sizes for names that carry none: TSV `model<TAB>billions` or a JSON object.
    #[arg(long, value_name = "FILE")]
    pub sizes: Option<PathBuf>,
    /// Rank incomplete runs (interrupted, errors) and subsets (--limit, --shard, filters)
    /// beside full runs; without it they are listed last, unranked, with the reason.
    #[arg(long)]
    pub include_incomplete: bool,
}

pub fn run(args: LeaderboardArgs) -> anyhow::Result<ExitCode> {
    if args.runs.is_empty() && !args.published {
        anyhow::bail!("nothing to rank (hint: give run directories, --published, or both)");
    }
    let sizes = super::report::load_sizes(args.sizes.as_deref())?;
    let by = match args.by {
        Some(By::Overall) => RankBy::Overall,
        Some(By::En) => RankBy::En,
        Some(By::Zh) => RankBy::Zh,
        Some(By::Average) => RankBy::Average,
        None if args.published => RankBy::En,
        None => RankBy::Overall,
    };
    let runs = super::report::open_runs(&args.runs)?;
    let report = Report::with_incomplete(&runs, sizes.as_ref(), args.include_incomplete);
    let mut rows: Vec<LeaderRow> = report.runs.iter().map(LeaderRow::from_run).collect();
    // The figure sets runs beside each other: only those that are ranked.
    let mut points: Vec<ModelPoint> = report
        .runs
        .iter()
        .filter(|r| r.rank.is_some())
        .map(|r| ModelPoint::from_run_lang(r, "en"))
        .collect();
    if args.published {
        let p = published();
        rows.extend(
            p.iter()
                .map(|e| LeaderRow::from_published(e, sizes.as_ref())),
        );
        points.extend(
            p.iter()
                .map(|e| ModelPoint::from_published(e, sizes.as_ref())),
        );
        eprintln!("published: {PUBLISHED_SOURCE}; AMCQA (zh) is a different Chinese set from AnesBench zh");
    }
    let rows = rank_with(rows, by, args.include_incomplete);
    let text = match args.format {
        TableFormat::Table => to_table(&rows),
        TableFormat::Md => to_markdown(&rows),
        TableFormat::Csv => to_csv(&rows),
        TableFormat::Json => to_json(&rows, by),
    };
    print!("{text}");
    if let Some(path) = &args.figure {
        render_to_file(FigureKind::Scale, &points, path)?;
        eprintln!("figure: {}", path.display());
        for line in scale_analysis(&points).describe() {
            eprintln!("  {line}");
        }
    }
    Ok(exit::SUCCESS.into())
}
