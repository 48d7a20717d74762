//! `convert corpus|qa|r1`: stream input files to LLaMA-Factory datasets and register them.
//!
//! A reader thread decodes batches (bounded channel, so at most a few batches are in
//! memory) while this thread formats and writes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use anesbench_core::item::Lang;
use serde::Serialize;

use crate::corpus_fast;
use crate::dataset_info::{self, Layout};
use crate::error::DataError;
use crate::formats::{self, Record, Skip, Style};
use crate::progress::Progress;
use crate::reader::{self, ColumnSpec, FileKind, ReadOptions, RowBatch, Selection};
use crate::split::{self, Split};
use crate::writer::{OutFormat, RecordWriter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Corpus,
    Qa,
    R1,
}

impl Kind {
    fn default_prefix(self) -> &'static str {
        match self {
            Kind::Corpus => "anescorpus",
            Kind::Qa => "anesqa",
            Kind::R1 => "anesr1",
        }
    }
}

/// Which AnesR1 forms to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum R1Form {
    Sft,
    Rl,
    Both,
}

/// Column names given on the command line; `None` means "guess".
#[derive(Debug, Clone, Default)]
pub struct ColumnNames {
    pub text: Option<String>,
    pub question: Option<String>,
    pub answer: Option<String>,
    pub options: Option<String>,
    pub reasoning: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub kind: Kind,
    pub inputs: Vec<PathBuf>,
    pub split: Split,
    pub out_dir: PathBuf,
    pub format: OutFormat,
    pub instruction: Option<String>,
    pub sharegpt: bool,
    pub name: Option<String>,
    pub columns: ColumnNames,
    pub r1_form: R1Form,
    pub think_tags: bool,
    pub batch_rows: usize,
    pub quiet: bool,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SkipCounts {
    pub empty: u64,
    pub null: u64,
    pub malformed: u64,
}

impl SkipCounts {
    pub(crate) fn add(&mut self, s: Skip) {
        match s {
            Skip::Empty => self.empty += 1,
            Skip::Null => self.null += 1,
            Skip::Malformed => self.malformed += 1,
        }
    }
    pub fn total(&self) -> u64 {
        self.empty + self.null + self.malformed
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputReport {
    /// Name registered in `dataset_info.json`.
    pub dataset: String,
    pub file: PathBuf,
    pub written: u64,
    pub skipped: SkipCounts,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConvertReport {
    pub files: Vec<PathBuf>,
    pub rows_read: u64,
    pub bytes_read: u64,
    pub outputs: Vec<OutputReport>,
    pub dataset_info: PathBuf,
    pub seconds: f64,
}

/// Guessed column names per role; a `--*-col` flag replaces the guesses.
fn column_specs(kind: Kind, c: &ColumnNames) -> Vec<ColumnSpec> {
    let question = || {
        ColumnSpec::new(
            "question",
            &[
                "question",
                "Question",
                "instruction",
                "prompt",
                "problem",
                "query",
            ],
            true,
            "--question-col",
        )
        .with_override(c.question.as_deref())
    };
    let answer = |flag_guess: &[&str]| {
        ColumnSpec::new("answer", flag_guess, true, "--answer-col")
            .with_override(c.answer.as_deref())
    };
    match kind {
        Kind::Corpus => {
            vec![
                ColumnSpec::new("text", &["text", "content", "document"], true, "--text-col")
                    .with_override(c.text.as_deref()),
            ]
        }
        Kind::Qa => vec![
            question(),
            answer(&["answer", "Answer", "output", "response"]),
        ],
        Kind::R1 => vec![
            question(),
            ColumnSpec::new(
                "options",
                &["options", "choices", "option"],
                false,
                "--options-col",
            )
            .with_override(c.options.as_deref()),
            answer(&[
                "answer",
                "gold",
                "target",
                "label",
                "answer_idx",
                "correct_answer",
            ]),
            ColumnSpec::new(
                "reasoning",
                &[
                    "reasoning",
                    "cot",
                    "think",
                    "thinking",
                    "reasoning_content",
                    "rationale",
                    "explanation",
                    "solution",
                ],
                false,
                "--reasoning-col",
            )
            .with_override(c.reasoning.as_deref()),
            ColumnSpec::new("id", &["id", "qid", "question_id"], false, "--id-col")
                .with_override(c.id.as_deref()),
        ],
    }
}

/// One output file being written.
struct Output {
    dataset: String,
    layout: Layout,
    writer: RecordWriter,
    skipped: SkipCounts,
    make: Make,
}

/// Builds one output record from a row (or says why the row is skipped).
type Make = Box<dyn Fn(&reader::Row, Option<Lang>) -> Result<Record, Skip>>;

fn outputs(opts: &ConvertOptions) -> Result<Vec<Output>, DataError> {
    let prefix = opts
        .name
        .clone()
        .unwrap_or_else(|| opts.kind.default_prefix().to_string());
    let style = if opts.sharegpt {
        Style::ShareGpt
    } else {
        Style::Alpaca
    };
    let pair_layout = if opts.sharegpt {
        Layout::ShareGpt
    } else {
        Layout::Alpaca
    };
    let instr = opts.instruction.clone();
    let think = opts.think_tags;
    let mut plan: Vec<(String, Layout, Make)> = Vec::new();
    match opts.kind {
        Kind::Corpus => plan.push((
            prefix.clone(),
            Layout::Pretrain,
            Box::new(|r, _| formats::corpus(r)),
        )),
        Kind::Qa => plan.push((
            prefix.clone(),
            pair_layout,
            Box::new(move |r, _| formats::qa(r, style, instr.as_deref())),
        )),
        Kind::R1 => {
            if matches!(opts.r1_form, R1Form::Sft | R1Form::Both) {
                let i = instr.clone();
                plan.push((
                    format!("{prefix}_sft"),
                    pair_layout,
                    Box::new(move |r, l| formats::r1_sft(r, style, i.as_deref(), l, think)),
                ));
            }
            if matches!(opts.r1_form, R1Form::Rl | R1Form::Both) {
                let i = instr.clone();
                plan.push((
                    format!("{prefix}_rl"),
                    Layout::Verifiable,
                    Box::new(move |r, _| formats::r1_rl(r, i.as_deref())),
                ));
            }
        }
    }
    plan.into_iter()
        .map(|(stem, layout, make)| {
            let dataset = format!("{stem}_{}", opts.split.code());
            let path = opts
                .out_dir
                .join(format!("{dataset}.{}", opts.format.extension()));
            Ok(Output {
                dataset,
                layout,
                writer: RecordWriter::create(&path, opts.format)?,
                skipped: SkipCounts::default(),
                make,
            })
        })
        .collect()
}

enum Msg {
    Batch(usize, RowBatch),
    Done(Result<(), DataError>),
}

pub fn convert(opts: &ConvertOptions) -> Result<ConvertReport, DataError> {
    let start = std::time::Instant::now();
    let files = split::select(&split::expand_inputs(&opts.inputs)?, opts.split)?;
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| DataError::io(&opts.out_dir, e))?;
    let mut specs = column_specs(opts.kind, &opts.columns);
    // The SFT form needs the reasoning chain: a file without one should fail with its
    // column list rather than skip every row.
    if opts.kind == Kind::R1 && opts.r1_form != R1Form::Rl {
        specs[formats::R1_REASONING].required = true;
    }
    let selection = Selection::Columns(specs);
    let total: Option<u64> = files
        .iter()
        .map(|(p, _)| reader::parquet_row_count(p))
        .sum();
    let mut progress = Progress::new("convert", total, opts.quiet);
    let mut outs = outputs(opts)?;
    let read_opts = ReadOptions {
        batch_rows: opts.batch_rows,
        keep_raw: false,
    };
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let mut rows_read = 0u64;
    let mut bytes_read = 0u64;
    let all_parquet = paths
        .iter()
        .all(|p| matches!(reader::file_kind(p), Ok(FileKind::Parquet)));
    let result: Result<(), DataError> = if opts.kind == Kind::Corpus && all_parquet {
        let out = &mut outs[0];
        corpus_fast::run(
            &paths,
            &selection,
            &read_opts,
            &mut out.writer,
            opts.format,
            &mut progress,
        )
        .map(|t| {
            rows_read = t.rows;
            bytes_read = t.bytes;
            out.skipped = t.skipped;
        })
    } else {
        let (tx, rx) = sync_channel::<Msg>(4);
        std::thread::scope(|s| {
            s.spawn(|| {
                let tx = tx;
                let mut res = Ok(());
                for (i, p) in paths.iter().enumerate() {
                    let r = reader::read_file(p, &selection, &read_opts, &mut |b| {
                        tx.send(Msg::Batch(i, b))
                            .map_err(|_| DataError::Other("writer stopped".into()))
                    });
                    if let Err(e) = r {
                        res = Err(e);
                        break;
                    }
                }
                let _ = tx.send(Msg::Done(res));
            });
            let mut outcome = Ok(());
            for msg in rx.iter() {
                match msg {
                    Msg::Batch(i, batch) => {
                        let lang = files[i].1;
                        rows_read += batch.rows.len() as u64;
                        bytes_read += batch.bytes;
                        progress.inc(batch.rows.len() as u64, batch.bytes);
                        for row in &batch.rows {
                            for out in outs.iter_mut() {
                                match (out.make)(row, lang) {
                                    Ok(rec) => out.writer.write(&rec)?,
                                    Err(skip) => out.skipped.add(skip),
                                }
                            }
                        }
                    }
                    Msg::Done(r) => {
                        outcome = r;
                        break;
                    }
                }
            }
            outcome
        })
    };
    progress.finish();
    result?;
    let mut reports = Vec::new();
    let mut entries = Vec::new();
    for out in outs {
        let file = out.writer.path().to_path_buf();
        let written = out.writer.finish()?;
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        entries.push((
            out.dataset.clone(),
            dataset_info::entry(&file_name, out.layout),
        ));
        reports.push(OutputReport {
            dataset: out.dataset,
            file,
            written,
            skipped: out.skipped,
        });
    }
    let info = opts.out_dir.join("dataset_info.json");
    dataset_info::merge(&info, &entries)?;
    Ok(ConvertReport {
        files: files.into_iter().map(|(p, _)| p).collect(),
        rows_read,
        bytes_read,
        outputs: reports,
        dataset_info: info,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Human summary lines for stderr.
pub fn summary_lines(r: &ConvertReport) -> Vec<String> {
    let mut lines = vec![format!(
        "read {} rows ({:.1} MB of text) from {} file(s) in {:.2} s",
        r.rows_read,
        r.bytes_read as f64 / 1e6,
        r.files.len(),
        r.seconds
    )];
    for o in &r.outputs {
        let reasons: BTreeMap<&str, u64> = [
            ("empty", o.skipped.empty),
            ("null", o.skipped.null),
            ("malformed", o.skipped.malformed),
        ]
        .into_iter()
        .collect();
        lines.push(format!(
            "{}: wrote {} rows to {}, skipped {} ({})",
            o.dataset,
            o.written,
            o.file.display(),
            o.skipped.total(),
            reasons
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    lines.push(format!("registered in {}", r.dataset_info.display()));
    lines
}

/// The dataset names a report registered, e.g. for `train-config --dataset`.
pub fn dataset_names(r: &ConvertReport) -> Vec<&str> {
    r.outputs.iter().map(|o| o.dataset.as_str()).collect()
}

/// Kept for callers that only have a path: the language a file name names.
pub fn file_lang(path: &Path) -> Option<Lang> {
    split::lang_from_file_name(path)
}
