//! `anesbench convert corpus|qa|r1`: AnesCorpus / AnesQA / AnesR1 files to LLaMA-Factory
//! datasets, registered in `dataset_info.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anesbench_data::convert::{self, ColumnNames, ConvertOptions, Kind, R1Form};
use anesbench_data::split::Split;
use anesbench_data::writer::OutFormat;

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum KindArg {
    /// AnesCorpus: pretrain records `{"text": ..}`.
    Corpus,
    /// AnesQA: question/answer pairs as alpaca (or sharegpt) records.
    Qa,
    /// AnesR1: MCQs with reasoning chains, as SFT records and/or `{prompt, answer}` for RL.
    R1,
}

#[derive(clap::ValueEnum, Clone, Copy)]
pub enum FormArg {
    Sft,
    Rl,
    Both,
}

#[derive(clap::Args)]
pub struct ConvertArgs {
    /// What the input is.
    #[arg(value_enum)]
    kind: KindArg,
    /// Input files or directories (.parquet, .jsonl, .json).
    #[arg(long, num_args = 1.., required = true)]
    input: Vec<PathBuf>,
    /// Files whose name carries this language token (`en`, `cn`/`zh`), or `all` files into one dataset.
    #[arg(long, default_value = "all")]
    split: Split,
    /// Output directory; `dataset_info.json` in it is created or merged.
    #[arg(long)]
    out: PathBuf,
    /// JSONL, or one JSON array (written as it goes).
    #[arg(long, default_value = "jsonl")]
    format: OutFormat,
    /// Instruction text: becomes the alpaca `instruction` and the question moves to `input`.
    #[arg(long)]
    instruction: Option<String>,
    /// Write sharegpt `conversations` instead of alpaca records (qa, r1 SFT form).
    #[arg(long)]
    sharegpt: bool,
    /// Dataset name prefix (default: anescorpus, anesqa, anesr1).
    #[arg(long)]
    name: Option<String>,
    /// AnesR1 forms to write.
    #[arg(long, value_enum, default_value = "both")]
    r1_form: FormArg,
    /// End the AnesR1 SFT reasoning without `<think>` tags.
    #[arg(long)]
    no_think_tags: bool,
    /// Column with the text (corpus); default: text, content, document.
    #[arg(long)]
    text_col: Option<String>,
    /// Column with the question; default: question, instruction, prompt, problem, query.
    #[arg(long)]
    question_col: Option<String>,
    /// Column with the answer; default: answer, output, response (qa); answer, gold, target, label (r1).
    #[arg(long)]
    answer_col: Option<String>,
    /// Column with the options (r1; list, letter-keyed object or text); default: options, choices.
    #[arg(long)]
    options_col: Option<String>,
    /// Column with the reasoning chain (r1); default: reasoning, cot, think, thinking, rationale, explanation.
    #[arg(long)]
    reasoning_col: Option<String>,
    /// Column with the id (r1, carried into the RL form); default: id.
    #[arg(long)]
    id_col: Option<String>,
    /// Rows per batch read (memory is bounded by a few batches).
    #[arg(long, default_value_t = 1024)]
    batch_rows: usize,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(a: ConvertArgs) -> anyhow::Result<ExitCode> {
    let opts = ConvertOptions {
        kind: match a.kind {
            KindArg::Corpus => Kind::Corpus,
            KindArg::Qa => Kind::Qa,
            KindArg::R1 => Kind::R1,
        },
        inputs: a.input,
        split: a.split,
        out_dir: a.out,
        format: a.format,
        instruction: a.instruction,
        sharegpt: a.sharegpt,
        name: a.name,
        columns: ColumnNames {
            text: a.text_col,
            question: a.question_col,
            answer: a.answer_col,
            options: a.options_col,
            reasoning: a.reasoning_col,
            id: a.id_col,
        },
        r1_form: match a.r1_form {
            FormArg::Sft => R1Form::Sft,
            FormArg::Rl => R1Form::Rl,
            FormArg::Both => R1Form::Both,
        },
        think_tags: !a.no_think_tags,
        batch_rows: a.batch_rows.max(1),
        quiet: a.quiet,
    };
    let report = convert::convert(&opts)?;
    if !a.quiet {
        for line in convert::summary_lines(&report) {
            eprintln!("{line}");
        }
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
