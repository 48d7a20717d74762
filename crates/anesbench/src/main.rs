//! The `anesbench` binary: argument parsing and dispatch only. Work lives in the
//! library crates; each subcommand has one file under `commands/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod exit;

/// Evaluate language models on AnesBench, the bilingual anesthesiology reasoning benchmark.
#[derive(Parser)]
#[command(name = "anesbench", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a model on a benchmark (default: the demo set with the embedded model).
    Eval(Box<commands::eval::EvalArgs>),
    /// Re-extract answers and re-summarise a run from its stored responses (no model calls).
    Rescore(commands::rescore::RescoreArgs),
    /// Combine shard runs (`--shard i/n`) that share settings into one run.
    Merge(commands::merge::MergeArgs),
    /// Add extracted answers to JSONL lines `{"options": {..}, "response": ".."}`.
    Extract(commands::extract::ExtractArgs),
    /// Inspect and validate benchmark sources.
    #[command(subcommand)]
    Data(commands::data::DataCommand),
    /// Write Markdown / HTML / CSV / JSON reports and figures for runs.
    Report(commands::report::ReportArgs),
    /// Rank runs, optionally beside the published AnesBench leaderboard.
    Leaderboard(commands::leaderboard::LeaderboardArgs),
    /// Paired comparison of two runs on their shared items (bootstrap CI, McNemar).
    Compare(commands::compare::CompareArgs),
    /// Convert AnesCorpus / AnesQA / AnesR1 files to LLaMA-Factory datasets.
    Convert(commands::convert::ConvertArgs),
    /// Find benchmark questions that appear in training data.
    Decontam(commands::decontam::DecontamArgs),
    /// Write a LLaMA-Factory training config with the study's published settings.
    TrainConfig(commands::train_config::TrainConfigArgs),
    /// Read-only web viewer for runs (or `--export DIR`: a static site; `--bench`: timings).
    View(commands::view::ViewArgs),
    /// Benchmarks that print throughput figures against a named peer.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval(a) => commands::eval::run(*a),
        Command::Rescore(a) => commands::rescore::run(a),
        Command::Merge(a) => commands::merge::run(a),
        Command::Extract(a) => commands::extract::run(a),
        Command::Data(c) => commands::data::run(c),
        Command::Report(a) => commands::report::run(a),
        Command::Leaderboard(a) => commands::leaderboard::run(a),
        Command::Compare(a) => commands::compare::run(a),
        Command::Convert(a) => commands::convert::run(a),
        Command::Decontam(a) => commands::decontam::run(a),
        Command::TrainConfig(a) => commands::train_config::run(a),
        Command::View(a) => commands::view::run(a),
        Command::Bench(c) => commands::bench::run(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit::FAILURE.into()
        }
    }
}
