//! `anesbench extract`: add extracted answers to stored generations from any tool.
//!
//! Reads JSONL lines `{"options": {"A": "...", ...}, "response": "..."}` and writes each
//! line back with `"answer"` (a letter or null) and `"answer_rule"` appended; every other
//! field is kept, in its order. A line may carry `"finish_reason"`: `"length"` marks a reply
//! cut at the token limit, which is read for answer statements only. A line with a
//! `"gold"` letter is also scored: the summary on stderr then gives the accuracy over
//! those lines, their no-answer count, and how often each extraction rule fired.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anesbench_core::extract::{extract_ended, Ending, Extraction};
use anyhow::{bail, Context};
use serde_json::{Map, Value};

use crate::exit;

const SHAPE_HINT: &str =
    r#"each line must look like {"options": {"A": "...", "B": "..."}, "response": "..."}"#;

#[derive(clap::Args)]
pub struct ExtractArgs {
    /// JSONL file of responses; `-` or nothing reads standard input.
    #[arg(value_name = "INPUT.jsonl")]
    pub input: Option<PathBuf>,
    /// Write here instead of standard output (written whole, or not at all on error).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Field holding reasoning kept apart from the response (e.g. `reasoning_content`);
    /// read only when the response itself is empty.
    #[arg(long, value_name = "NAME")]
    pub reasoning_field: Option<String>,
}

pub fn run(args: ExtractArgs) -> anyhow::Result<ExitCode> {
    let stdin_name = Path::new("-");
    let input = args.input.as_deref().unwrap_or(stdin_name);
    let name = if input == stdin_name {
        "<stdin>".to_string()
    } else {
        input.display().to_string()
    };
    let reader: Box<dyn BufRead> = if input == stdin_name {
        Box::new(io::stdin().lock())
    } else {
        Box::new(BufReader::new(
            File::open(input).with_context(|| format!("cannot open {name}"))?,
        ))
    };
    let counts = match &args.output {
        None => {
            let mut out = BufWriter::new(io::stdout().lock());
            let counts = process(reader, &mut out, &name, args.reasoning_field.as_deref())?;
            out.flush()?;
            counts
        }
        Some(path) => {
            // A bad line stops the work; the temporary file keeps a half-written OUT from
            // looking like a finished one.
            let tmp = path.with_extension("jsonl.partial");
            let file =
                File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
            let mut out = BufWriter::new(file);
            let result = process(reader, &mut out, &name, args.reasoning_field.as_deref())
                .and_then(|c| out.flush().map(|_| c).map_err(Into::into));
            match result {
                Ok(c) => {
                    std::fs::rename(&tmp, path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    c
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(e);
                }
            }
        }
    };
    eprintln!(
        "extracted {} lines from {name}: {} answered, {} no answer, {} ambiguous",
        counts.lines, counts.answered, counts.no_answer, counts.ambiguous
    );
    if counts.graded > 0 {
        eprintln!(
            "scored {} lines with a `gold` field: accuracy {:.1}% ({}/{}), {} no answer (counted wrong)",
            counts.graded,
            100.0 * counts.correct as f64 / counts.graded as f64,
            counts.correct,
            counts.graded,
            counts.graded_no_answer
        );
    }
    if !counts.rules.is_empty() {
        let mut rules: Vec<(&String, &u64)> = counts.rules.iter().collect();
        rules.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        eprintln!(
            "rules: {}",
            rules
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(ExitCode::from(exit::SUCCESS))
}

#[derive(Default)]
struct Counts {
    lines: u64,
    answered: u64,
    no_answer: u64,
    ambiguous: u64,
    /// Lines with a `gold` letter, and how many of them were right / had no answer.
    graded: u64,
    correct: u64,
    graded_no_answer: u64,
    rules: std::collections::BTreeMap<String, u64>,
}

fn process(
    reader: impl BufRead,
    out: &mut impl Write,
    name: &str,
    reasoning_field: Option<&str>,
) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let line = line.with_context(|| format!("{name} line {n}: cannot read"))?;
        if line.trim().is_empty() {
            continue;
        }
        let mut record: Map<String, Value> = match serde_json::from_str(&line) {
            Ok(Value::Object(m)) => m,
            Ok(_) => bail!("{name} line {n}: not a JSON object ({SHAPE_HINT})"),
            Err(e) => bail!("{name} line {n}: invalid JSON: {e} ({SHAPE_HINT})"),
        };
        let options = options(&record)
            .map_err(|e| anyhow::anyhow!("{name} line {n}: field `options`: {e} ({SHAPE_HINT})"))?;
        let response = text_field(&record, "response")
            .map_err(|e| anyhow::anyhow!("{name} line {n}: field `response`: {e} ({SHAPE_HINT})"))?
            .ok_or_else(|| {
                anyhow::anyhow!("{name} line {n}: field `response` is missing ({SHAPE_HINT})")
            })?;
        let ending = Ending::from_finish_reason(
            text_field(&record, "finish_reason")
                .map_err(|e| anyhow::anyhow!("{name} line {n}: field `finish_reason`: {e}"))?
                .flatten(),
        );
        let reasoning = match reasoning_field {
            None => None,
            Some(field) => text_field(&record, field)
                .map_err(|e| anyhow::anyhow!("{name} line {n}: field `{field}`: {e}"))?
                .flatten(),
        };
        let gold = gold(&record, options.len())
            .map_err(|e| anyhow::anyhow!("{name} line {n}: field `gold`: {e}"))?;
        let found = extract_ended(response, reasoning, &options, ending);
        count(&mut counts, &found);
        if let Some(g) = gold {
            counts.graded += 1;
            match found.answer {
                Some(a) if a == g => counts.correct += 1,
                Some(_) => {}
                None => counts.graded_no_answer += 1,
            }
        }
        record.insert(
            "answer".into(),
            found
                .answer
                .map_or(Value::Null, |c| Value::String(c.to_string())),
        );
        record.insert("answer_rule".into(), Value::String(found.rule));
        serde_json::to_writer(&mut *out, &record)?;
        out.write_all(b"\n")?;
    }
    Ok(counts)
}

/// The `gold` letter of a line, if it has one: `"B"` (or `"b"`), within its options.
fn gold(record: &Map<String, Value>, options: usize) -> Result<Option<char>, String> {
    let v = match record.get("gold") {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let s = v
        .as_str()
        .ok_or_else(|| format!("expected an option letter, got {}", kind(v)))?;
    let mut c = s.trim().chars();
    match (c.next().map(|c| c.to_ascii_uppercase()), c.next()) {
        (Some(l @ 'A'..='Z'), None) if ((l as u8 - b'A') as usize) < options => Ok(Some(l)),
        _ => Err(format!(
            "`{s}` is not one of the {options} option letters (A-{})",
            (b'A' + options.saturating_sub(1) as u8) as char
        )),
    }
}

fn count(counts: &mut Counts, found: &Extraction) {
    counts.lines += 1;
    *counts.rules.entry(found.rule.clone()).or_default() += 1;
    match (found.answer, found.rule.as_str()) {
        (Some(_), _) => counts.answered += 1,
        (None, "ambiguous") => counts.ambiguous += 1,
        (None, _) => counts.no_answer += 1,
    }
}

/// `None` when absent, `Some(None)` when null, `Some(Some(text))` when a string.
fn text_field<'a>(
    record: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<Option<&'a str>>, String> {
    match record.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s))),
        Some(other) => Err(format!("expected a string or null, found {}", kind(other))),
    }
}

/// Option texts in letter order, from `{"A": .., "B": ..}` (letters from A with no gap)
/// or a plain array.
fn options(record: &Map<String, Value>) -> Result<Vec<String>, String> {
    let texts: Vec<(char, &Value)> = match record.get("options") {
        None => return Err("missing".into()),
        Some(Value::Object(m)) => {
            let mut v = Vec::with_capacity(m.len());
            for (k, t) in m {
                let mut chars = k.trim().chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if c.is_ascii_alphabetic() => {
                        v.push((c.to_ascii_uppercase(), t))
                    }
                    _ => return Err(format!("key `{k}` is not an option letter")),
                }
            }
            v.sort_by_key(|(c, _)| *c);
            v
        }
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, t)| ((b'A' + i.min(25) as u8) as char, t))
            .collect(),
        Some(other) => {
            return Err(format!(
                "expected an object of letter -> text, found {}",
                kind(other)
            ))
        }
    };
    if texts.is_empty() {
        return Err("no options".into());
    }
    if texts.len() > 26 {
        return Err(format!("{} options; at most 26 letters exist", texts.len()));
    }
    let mut out = Vec::with_capacity(texts.len());
    for (i, (c, t)) in texts.into_iter().enumerate() {
        let want = (b'A' + i as u8) as char;
        if c != want {
            return Err(format!(
                "letters must run from A without gaps; expected `{want}`, found `{c}`"
            ));
        }
        match t {
            Value::String(s) => out.push(s.clone()),
            Value::Number(x) => out.push(x.to_string()),
            other => return Err(format!("option `{c}` must be text, found {}", kind(other))),
        }
    }
    Ok(out)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
