//! `anesbench decontam`: which benchmark questions appear in training data.

use std::path::PathBuf;
use std::process::ExitCode;

use anesbench_core::load::{load, LoadOptions};
use anesbench_data::decontam::{scan, BenchIndex, DecontamOptions};

#[derive(clap::Args)]
pub struct DecontamArgs {
    /// Training files or directories (.parquet, .jsonl, .json); every text value is scanned.
    #[arg(long, num_args = 1.., required = true)]
    train: Vec<PathBuf>,
    /// Benchmark source (`demo`, a file or directory, `hf:OWNER/NAME`).
    #[arg(long)]
    bench: String,
    /// N-gram size in words (Chinese: characters).
    #[arg(long, default_value_t = 13)]
    n: usize,
    /// Flag an item when at least this fraction of its n-grams is found; drop a row
    /// (--write-clean) when it alone holds this fraction of some item's n-grams.
    #[arg(long, default_value_t = 0.2)]
    threshold: f64,
    /// Write the JSON report here (default: stdout).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Copy the training files here without the offending rows.
    #[arg(long)]
    write_clean: Option<PathBuf>,
    /// Places listed per flagged item.
    #[arg(long, default_value_t = 10)]
    max_locations: usize,
    #[arg(long, default_value_t = 2048)]
    batch_rows: usize,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(a: DecontamArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(a.n >= 1, "--n must be at least 1");
    anyhow::ensure!(
        (0.0..=1.0).contains(&a.threshold) && a.threshold > 0.0,
        "--threshold must be in (0, 1]"
    );
    let dataset = load(&a.bench, &LoadOptions::default())?;
    let index = BenchIndex::new(dataset.items, a.n);
    let report = scan(
        &index,
        &DecontamOptions {
            train: a.train,
            threshold: a.threshold,
            write_clean: a.write_clean,
            batch_rows: a.batch_rows.max(1),
            quiet: a.quiet,
            max_locations: a.max_locations,
        },
    )?;
    let text = serde_json::to_string_pretty(&report)?;
    match &a.report {
        Some(p) => {
            std::fs::write(p, text + "\n").map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        }
        None => println!("{text}"),
    }
    if !a.quiet {
        eprintln!(
            "scanned {} rows ({:.1} MB) in {:.2} s ({:.1} MB/s); {} of {} items flagged at n={} threshold {} ({} shorter than n checked by exact match, {} too short to check); {}",
            report.rows_scanned,
            report.bytes_scanned as f64 / 1e6,
            report.seconds,
            report.bytes_scanned as f64 / 1e6 / report.seconds.max(1e-9),
            report.flagged.len(),
            report.items,
            report.n,
            report.threshold,
            report.items_exact_match,
            report.items_too_short,
            dropped_phrase(report.rows_dropped, report.clean_dir.as_deref())
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What happened to the offending rows: dropped from the clean copies, or (without
/// `--write-clean`, when nothing is written) would be.
fn dropped_phrase(rows: u64, clean_dir: Option<&std::path::Path>) -> String {
    let rows_word = if rows == 1 { "row" } else { "rows" };
    match clean_dir {
        Some(d) => format!("{rows} {rows_word} dropped from the clean copies in {}", d.display()),
        None => format!("{rows} {rows_word} would be dropped (nothing written; --write-clean DIR writes clean copies)"),
    }
}
