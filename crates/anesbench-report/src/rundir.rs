//! Reading a run directory (`manifest.json`, `samples.jsonl`, `summary.json`) as the
//! runner leaves it, including while it is still being written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anesbench_core::manifest::RunInfo;
use anesbench_core::{Lang, SampleRecord, Summary};

use crate::error::{ReportError, Result};

/// One run as read from disk.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
    /// Directory name, the run's display name unless the manifest has no model.
    pub name: String,
    pub info: RunInfo,
    /// One record per (lang, id, sample), the last one written winning (a resumed run
    /// appends a retried sample after its failed attempt).
    pub records: Vec<SampleRecord>,
    pub summary: Summary,
    /// Problems that did not stop the read (torn last line, stale summary, ...).
    pub warnings: Vec<String>,
}

impl RunDir {
    /// Read a run directory. `summary.json` is only used when `samples.jsonl` is absent:
    /// the summary is otherwise recomputed from the samples, which are the truth.
    pub fn open(path: impl AsRef<Path>) -> Result<RunDir> {
        let path = path.as_ref().to_path_buf();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let mut warnings = Vec::new();
        let info = read_manifest(&path, &mut warnings)?;
        let samples = path.join("samples.jsonl");
        let summary_path = path.join("summary.json");
        let (records, summary) = if samples.is_file() {
            let records = read_samples(&samples, &mut warnings)?;
            let summary = Summary::from_records(&records);
            if let Some(stored) = read_summary(&summary_path)? {
                if stored.samples != summary.samples
                    || stored.overall.correct != summary.overall.correct
                {
                    warnings.push(format!(
                        "{}: stale ({} samples, samples.jsonl has {}); using the summary recomputed from samples.jsonl",
                        summary_path.display(),
                        stored.samples,
                        summary.samples
                    ));
                }
            }
            (records, summary)
        } else if let Some(stored) = read_summary(&summary_path)? {
            warnings.push(format!(
                "{}: missing; using summary.json (paired comparison needs the samples)",
                samples.display()
            ));
            (Vec::new(), stored)
        } else {
            return Err(ReportError::NotARun { path });
        };
        Ok(RunDir {
            path,
            name,
            info,
            records,
            summary,
            warnings,
        })
    }

    /// Name shown in tables and figures: the model, else the directory name.
    pub fn label(&self) -> &str {
        if self.info.model.is_empty() {
            &self.name
        } else {
            &self.info.model
        }
    }

    pub fn has_lang(&self, lang: Lang) -> bool {
        self.summary.lang(lang).is_some_and(|c| c.n > 0)
    }
}

fn read_manifest(dir: &Path, warnings: &mut Vec<String>) -> Result<RunInfo> {
    let p = dir.join("manifest.json");
    match std::fs::read_to_string(&p) {
        Ok(text) => RunInfo::from_manifest_json(&text)
            .map_err(|source| ReportError::Manifest { path: p, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warnings.push(format!(
                "{}: missing; settings unknown, the directory name stands for the model",
                p.display()
            ));
            Ok(RunInfo::default())
        }
        Err(e) => Err(ReportError::io(p, e)),
    }
}

fn read_summary(p: &Path) -> Result<Option<Summary>> {
    match std::fs::read_to_string(p) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| ReportError::Summary {
                path: p.into(),
                source,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ReportError::io(p, e)),
    }
}

/// Parse `samples.jsonl`. A broken *last* line is what a run killed mid-write leaves: it
/// is skipped with a warning. A broken line anywhere else is an error.
pub fn read_samples(p: &Path, warnings: &mut Vec<String>) -> Result<Vec<SampleRecord>> {
    let text = std::fs::read_to_string(p).map_err(|e| ReportError::io(p, e))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect();
    let mut by_key: BTreeMap<(Lang, String, u32), usize> = BTreeMap::new();
    let mut records: Vec<SampleRecord> = Vec::with_capacity(lines.len());
    let mut replaced = 0usize;
    for (pos, &(line, l)) in lines.iter().enumerate() {
        let r: SampleRecord = match serde_json::from_str(l) {
            Ok(r) => r,
            Err(source) if pos + 1 == lines.len() => {
                warnings.push(format!(
                    "{}: line {line}: torn last line skipped ({source})",
                    p.display()
                ));
                break;
            }
            Err(source) => {
                return Err(ReportError::Record {
                    path: p.into(),
                    line,
                    id: id_hint(l),
                    source,
                });
            }
        };
        match by_key.get(&r.key()) {
            Some(&i) => {
                records[i] = r;
                replaced += 1;
            }
            None => {
                by_key.insert(r.key(), records.len());
                records.push(r);
            }
        }
    }
    if replaced > 0 {
        warnings.push(format!(
            "{}: {replaced} sample(s) written more than once; the last one counts",
            p.display()
        ));
    }
    Ok(records)
}

fn id_hint(line: &str) -> String {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("id").map(|id| format!(" (id {id})")))
        .unwrap_or_default()
}

/// Write a run directory; used by tests here and in other crates to build fixtures.
pub fn write_run_dir(
    dir: &Path,
    info: &RunInfo,
    records: &[SampleRecord],
    with_summary: bool,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    let manifest = serde_json::to_string_pretty(info).expect("RunInfo serialises");
    std::fs::write(dir.join("manifest.json"), manifest)
        .map_err(|e| ReportError::io(dir.join("manifest.json"), e))?;
    let mut lines = String::new();
    for r in records {
        lines.push_str(&serde_json::to_string(r).expect("SampleRecord serialises"));
        lines.push('\n');
    }
    std::fs::write(dir.join("samples.jsonl"), lines)
        .map_err(|e| ReportError::io(dir.join("samples.jsonl"), e))?;
    if with_summary {
        let s = serde_json::to_string_pretty(&Summary::from_records(records))
            .expect("Summary serialises");
        std::fs::write(dir.join("summary.json"), s)
            .map_err(|e| ReportError::io(dir.join("summary.json"), e))?;
    }
    Ok(())
}
