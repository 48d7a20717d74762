//! `anesbench data stats|validate SOURCE`: counts per language x level x option count, and
//! a full validation report. Exit 0 when clean; 3 when records are bad (every problem is
//! printed); 1 when the source cannot be read.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anesbench_core::item::{Lang, Level};
use anesbench_core::load::{self, Dataset, FieldMapping, LoadError, LoadOptions};
use anyhow::{bail, Context};

use crate::exit;

#[derive(clap::Subcommand)]
pub enum DataCommand {
    /// Items per language x level x option count (table, or JSON with --json).
    Stats(StatsArgs),
    /// Check every record; exit 0 when clean, 3 listing every problem otherwise.
    Validate(ValidateArgs),
}

#[derive(clap::Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print JSON to stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Print the result (and every problem) as JSON to stdout.
    #[arg(long)]
    pub json: bool,
}

/// A benchmark source and how to read it; shared by every command that loads items.
#[derive(clap::Args, Clone, Debug)]
pub struct SourceArgs {
    /// `demo`, a JSON/JSONL/Parquet file, a folder of them, or hf:OWNER/NAME[@REVISION].
    pub source: String,
    /// Only this language (en|zh); also the language of files whose name does not say it.
    #[arg(long)]
    pub lang: Option<Lang>,
    /// Skip bad records with a warning instead of failing.
    #[arg(long)]
    pub lenient: bool,
    #[command(flatten)]
    pub mapping: MappingArgs,
}

/// Field mapping for MCQ sets in neither AnesBench schema; flags override the file.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct MappingArgs {
    /// Field mapping file (.toml or .json) with keys question, options, answer, ...
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Field holding the record id (default: FILESTEM:INDEX).
    #[arg(long, value_name = "FIELD")]
    pub id_field: Option<String>,
    /// Field holding the question text.
    #[arg(long, value_name = "FIELD")]
    pub question_field: Option<String>,
    /// Option fields in letter order (opa,opb,..), or one field holding a list or {A:..}.
    #[arg(long, value_name = "FIELDS", value_delimiter = ',')]
    pub option_fields: Vec<String>,
    /// Field holding the gold answer.
    #[arg(long, value_name = "FIELD")]
    pub answer_field: Option<String>,
    /// How the answer is written: letter, index0, index1 or text.
    #[arg(long, value_name = "KIND")]
    pub answer_kind: Option<String>,
    /// Field holding the level (1, 2, 3 or System 1 / 1.x / 2).
    #[arg(long, value_name = "FIELD")]
    pub level_field: Option<String>,
    /// Level of every item when the set has none.
    #[arg(long, value_name = "LEVEL")]
    pub default_level: Option<String>,
    /// Field holding the language (en / zh).
    #[arg(long, value_name = "FIELD")]
    pub lang_field: Option<String>,
    /// Field holding the number of options.
    #[arg(long, value_name = "FIELD")]
    pub choice_num_field: Option<String>,
}

impl MappingArgs {
    fn any_flag(&self) -> bool {
        self.id_field.is_some()
            || self.question_field.is_some()
            || !self.option_fields.is_empty()
            || self.answer_field.is_some()
            || self.answer_kind.is_some()
            || self.level_field.is_some()
            || self.default_level.is_some()
            || self.lang_field.is_some()
            || self.choice_num_field.is_some()
    }

    /// The mapping these flags describe, or `None` to detect the schema.
    pub fn resolve(&self) -> anyhow::Result<Option<FieldMapping>> {
        let mut m = match &self.mapping {
            Some(path) => FieldMapping::from_file(path)?,
            None if !self.any_flag() => return Ok(None),
            None => {
                let need = |v: &Option<String>, flag: &str| -> anyhow::Result<String> {
                    v.clone().with_context(|| {
                        format!("{flag} is required with other field-mapping flags")
                    })
                };
                if self.option_fields.is_empty() {
                    bail!("--option-fields is required with other field-mapping flags");
                }
                FieldMapping {
                    question: need(&self.question_field, "--question-field")?,
                    answer: need(&self.answer_field, "--answer-field")?,
                    options: self.option_fields.clone(),
                    ..FieldMapping::default()
                }
            }
        };
        let set = |dst: &mut Option<String>, v: &Option<String>| {
            if v.is_some() {
                dst.clone_from(v);
            }
        };
        if let Some(q) = &self.question_field {
            m.question.clone_from(q);
        }
        if let Some(a) = &self.answer_field {
            m.answer.clone_from(a);
        }
        if !self.option_fields.is_empty() {
            m.options.clone_from(&self.option_fields);
        }
        set(&mut m.id, &self.id_field);
        set(&mut m.answer_kind, &self.answer_kind);
        set(&mut m.level, &self.level_field);
        set(&mut m.default_level, &self.default_level);
        set(&mut m.lang, &self.lang_field);
        set(&mut m.choice_num, &self.choice_num_field);
        m.check()?;
        Ok(Some(m))
    }
}

impl SourceArgs {
    pub fn load_options(&self) -> anyhow::Result<LoadOptions> {
        Ok(LoadOptions {
            lang: self.lang,
            lenient: self.lenient,
            mapping: self.mapping.resolve()?,
        })
    }
}

pub fn run(cmd: DataCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        DataCommand::Stats(a) => stats(a),
        DataCommand::Validate(a) => validate(a),
    }
}

fn stats(args: StatsArgs) -> anyhow::Result<ExitCode> {
    let opts = args.source.load_options()?;
    let ds = match load::load(&args.source.source, &opts) {
        Ok(ds) => ds,
        Err(e) => return report_failure(e),
    };
    for w in &ds.warnings {
        eprintln!("warning: {w}");
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &stats_json(&ds))?;
        writeln!(out)?;
    } else {
        write_table(&mut out, &ds)?;
    }
    Ok(ExitCode::from(exit::SUCCESS))
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut opts = args.source.load_options()?;
    // validate reports every problem; --lenient only changes what stats and eval keep.
    opts.lenient = false;
    match load::load(&args.source.source, &opts) {
        Ok(ds) => {
            let b = ds.breakdown();
            if args.json {
                let v = serde_json::json!({"ok": true, "problems": [], "stats": stats_json(&ds)});
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                let per_lang: Vec<String> = b
                    .by_lang
                    .iter()
                    .map(|(l, c)| format!("{l} {}", c.total))
                    .collect();
                println!(
                    "ok: {} items ({}) {}; fingerprint {}",
                    b.total,
                    per_lang.join(", "),
                    match ds.files.len() {
                        0 => "built in".to_string(),
                        n => format!("in {}", files_phrase(n)),
                    },
                    ds.fingerprint
                );
            }
            Ok(ExitCode::from(exit::SUCCESS))
        }
        Err(e) if args.json && e.is_invalid_data() => {
            let problems: Vec<serde_json::Value> = match &e {
                LoadError::Invalid { problems, .. } => problems
                    .iter()
                    .map(|p| {
                        let mut v = serde_json::to_value(p).unwrap_or_default();
                        v["text"] = p.to_string().into();
                        v
                    })
                    .collect(),
                other => vec![serde_json::json!({"text": other.to_string()})],
            };
            let v = serde_json::json!({"ok": false, "problems": problems});
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::from(exit::PARTIAL))
        }
        Err(e) => report_failure(e),
    }
}

/// Bad data: every problem to stdout, a count and hint to stderr, exit 3. Unreadable
/// source: an error (exit 1).
fn report_failure(e: LoadError) -> anyhow::Result<ExitCode> {
    match &e {
        LoadError::Invalid { problems, records } => {
            let mut out = std::io::stdout().lock();
            for p in problems {
                writeln!(out, "{p}")?;
            }
            eprintln!(
                "error: {} problem(s) in {records} record(s) or file(s)\nhint: fix them, or pass --lenient to skip bad records",
                problems.len()
            );
            Ok(ExitCode::from(exit::PARTIAL))
        }
        LoadError::Empty { .. } => {
            println!("{e}");
            eprintln!("error: {e}");
            Ok(ExitCode::from(exit::PARTIAL))
        }
        _ => Err(anyhow::Error::new(e)),
    }
}

fn stats_json(ds: &Dataset) -> serde_json::Value {
    let b = ds.breakdown();
    serde_json::json!({
        "source": ds.source,
        "fingerprint": ds.fingerprint,
        "files": ds.files,
        "skipped": ds.skipped,
        "total": b.total,
        "languages": b.by_lang,
    })
}

fn write_table(out: &mut impl Write, ds: &Dataset) -> std::io::Result<()> {
    let b = ds.breakdown();
    let mut opt_counts: Vec<usize> = b
        .by_lang
        .values()
        .flat_map(|c| c.by_options.keys().copied())
        .collect();
    opt_counts.sort_unstable();
    opt_counts.dedup();
    writeln!(
        out,
        "source: {}  ({}, fingerprint {})",
        ds.source,
        files_phrase(ds.files.len()),
        &ds.fingerprint[..16]
    )?;
    if ds.skipped > 0 {
        writeln!(out, "skipped under --lenient: {}", ds.skipped)?;
    }
    let mut header = format!("{:<5} {:<11}", "lang", "level");
    for n in &opt_counts {
        header.push_str(&format!(" {:>6}", format!("{n} opt")));
    }
    header.push_str(&format!(" {:>7}", "total"));
    writeln!(out, "{header}")?;
    for (lang, c) in &b.by_lang {
        for level in Level::ALL.iter().map(|l| Some(*l)).chain([None]) {
            let (name, row, total) = match level {
                Some(l) => (
                    l.name(),
                    c.cells.get(l.key()),
                    c.by_level.get(l.key()).copied().unwrap_or(0),
                ),
                None => ("total", None, c.total),
            };
            let mut line = format!("{:<5} {:<11}", lang.code(), name);
            for n in &opt_counts {
                let v = match level {
                    Some(_) => row.and_then(|r| r.get(n)).copied().unwrap_or(0),
                    None => c.by_options.get(n).copied().unwrap_or(0),
                };
                line.push_str(&format!(" {v:>6}"));
            }
            line.push_str(&format!(" {total:>7}"));
            writeln!(out, "{line}")?;
        }
    }
    writeln!(
        out,
        "{:<5} {:<11} {:>w$}",
        "all",
        "total",
        b.total,
        w = 7 * opt_counts.len() + 7
    )?;
    Ok(())
}

/// `1 file`, `3 files`; the built-in demo set has no file.
fn files_phrase(n: usize) -> String {
    match n {
        0 => "built-in set, no file".into(),
        1 => "1 file".into(),
        n => format!("{n} files"),
    }
}
