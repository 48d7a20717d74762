//! `anesbench train-config`: a LLaMA-Factory YAML with the study's settings as defaults.

use std::path::PathBuf;
use std::process::ExitCode;

use anesbench_data::train_config::{Stage, TrainConfig};

#[derive(clap::Args)]
pub struct TrainConfigArgs {
    /// `pt` (continued pre-training) or `sft`.
    #[arg(long)]
    stage: Stage,
    /// Model path or hub name (`model_name_or_path`).
    #[arg(long)]
    model: String,
    /// Dataset name(s) as registered in dataset_info.json (comma-separated).
    #[arg(long)]
    dataset: String,
    /// Override or add a key: `--set learning_rate=2e-5 --set template=qwen`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: TrainConfigArgs) -> anyhow::Result<ExitCode> {
    let mut config = TrainConfig::study_defaults(a.stage, &a.model, &a.dataset);
    for s in &a.set {
        match config.set(s) {
            Ok(Some(warning)) => eprintln!("warning: {warning}"),
            Ok(None) => {}
            // A malformed --set is a bad command line.
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(crate::exit::USAGE));
            }
        }
    }
    let yaml = config.to_yaml();
    match &a.out {
        Some(p) => {
            std::fs::write(p, yaml).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            eprintln!("wrote {}", p.display());
        }
        None => print!("{yaml}"),
    }
    Ok(ExitCode::SUCCESS)
}
