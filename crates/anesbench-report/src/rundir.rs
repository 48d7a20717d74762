//! Reading a run directory (`manifest.json`, `samples.jsonl`, `summary.json`) as the
//! runner leaves it, including while it is still being written.

use std::path::{Path, PathBuf};

use anesbench_core::manifest::RunInfo;
use anesbench_core::rundir::ReadError;
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
            // The run's own per-item rule (majority, best likelihood, identity order).
            let summary = Summary::aggregate(
                &records,
                anesbench_core::vote::Aggregation::for_solver(&info.solver),
                None,
            );
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

    /// The model the run is of: the manifest's model, else the directory name. Tables
    /// and figures name runs with [`crate::label::run_labels`], which tells apart runs
    /// of one model.
    pub fn model(&self) -> &str {
        crate::label::model_of(self)
    }

    /// Samples done against samples selected, and the status word.
    pub fn completion(&self) -> crate::status::Completion {
        crate::status::Completion::of(self)
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

/// Read `samples.jsonl` with the one reader every command uses
/// ([`anesbench_core::rundir::read_samples`]): a torn tail (the bytes after the last
/// newline, what a run killed mid-write leaves, even inside a UTF-8 character) is skipped
/// with a warning; a complete line that is not a record is corruption, an error naming
/// the line and the record's id.
pub fn read_samples(p: &Path, warnings: &mut Vec<String>) -> Result<Vec<SampleRecord>> {
    let s = anesbench_core::rundir::read_samples(p).map_err(|e| match e {
        ReadError::Io { path, source } => ReportError::io(path, source),
        corrupt @ ReadError::Corrupt { .. } => ReportError::Samples(corrupt),
    })?;
    if s.torn_bytes > 0 {
        warnings.push(format!(
            "{}: torn last line skipped ({} bytes after the last newline: the run was stopped while writing)",
            p.display(),
            s.torn_bytes
        ));
    }
    if s.superseded > 0 {
        warnings.push(format!(
            "{}: {} sample(s) written more than once; the last one counts",
            p.display(),
            s.superseded
        ));
    }
    Ok(s.records)
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
