//! The run directory, a versioned contract (see DESIGN.md):
//!
//! ```text
//! <run>/manifest.json   RunInfo fields at the top level, `backend`, `settings` (no secrets)
//! <run>/samples.jsonl   one SampleRecord per line, appended and flushed as each finishes
//! <run>/summary.json    Summary::from_records over samples.jsonl
//! <run>/.lock           O_EXCL lock file (host, pid, heartbeat) of the run writing it
//! ```
//!
//! Each record goes to the file in a single `write` of a complete line, so a `kill -9`
//! leaves at worst one torn last line, which [`RunDir::load_samples`] cuts away.
//! When a sample is retried on resume its new line is appended; the latest line for an
//! (item, sample) wins, and [`RunDir::rewrite_samples`] compacts the file at the end.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anesbench_backend::BackendInfo;
use anesbench_core::manifest::RunInfo;
use anesbench_core::{SampleRecord, Summary};
use serde::{Deserialize, Serialize};

use crate::error::RunError;
use crate::lock::RunLock;
use crate::settings::Settings;

pub use anesbench_core::rundir::{MANIFEST, SAMPLES, SUMMARY};

/// `manifest.json`: the shared [`RunInfo`] header at the top level (reports read it),
/// what the backend said about itself, and the full resolved settings, which make the
/// manifest a valid `--config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(flatten)]
    pub info: RunInfo,
    #[serde(default)]
    pub backend: BackendInfo,
    pub settings: Settings,
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Manifest, RunError> {
        let text = std::fs::read_to_string(path).map_err(|e| RunError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| RunError::BadRun {
            dir: path.parent().unwrap_or(path).to_path_buf(),
            message: format!("{MANIFEST}: {e}"),
        })
    }
}

/// Records read from a `samples.jsonl` by the one reader ([`anesbench_core::rundir`]).
pub type LoadedSamples = anesbench_core::rundir::Samples;

/// An open, locked run directory.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    lock: RunLock,
}

impl RunDir {
    /// Create (if needed) and lock a run directory.
    pub fn open(path: &Path) -> Result<RunDir, RunError> {
        std::fs::create_dir_all(path).map_err(|e| RunError::io(path, e))?;
        let lock = RunLock::acquire(path)?;
        Ok(RunDir {
            path: path.to_path_buf(),
            lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The holder whose stale lock this run took over (a crashed run), if any.
    pub fn took_over(&self) -> Option<&str> {
        self.lock.took_over()
    }
    pub fn samples_path(&self) -> PathBuf {
        self.path.join(SAMPLES)
    }

    pub fn read_manifest(&self) -> Result<Option<Manifest>, RunError> {
        let p = self.path.join(MANIFEST);
        if !p.exists() {
            return Ok(None);
        }
        Manifest::read(&p).map(Some)
    }

    pub fn write_manifest(&self, m: &Manifest) -> Result<(), RunError> {
        write_json_atomic(&self.path.join(MANIFEST), m)
    }

    pub fn write_summary(&self, s: &Summary) -> Result<(), RunError> {
        write_json_atomic(&self.path.join(SUMMARY), s)
    }

    /// Read `samples.jsonl`, cutting a torn last line (left by a kill mid-write) off the
    /// file so appends continue on a clean line boundary.
    pub fn load_samples(&self) -> Result<LoadedSamples, RunError> {
        let path = self.samples_path();
        let loaded = read_samples(&path)?;
        if loaded.torn_bytes > 0 {
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| RunError::io(&path, e))?;
            f.set_len(loaded.complete_len)
                .map_err(|e| RunError::io(&path, e))?;
            f.sync_all().map_err(|e| RunError::io(&path, e))?;
        }
        Ok(loaded)
    }

    pub fn appender(&self) -> Result<SampleAppender, RunError> {
        SampleAppender::open(&self.samples_path())
    }

    /// Replace `samples.jsonl` with exactly these records (temp file + rename).
    pub fn rewrite_samples(&self, records: &[SampleRecord]) -> Result<(), RunError> {
        write_samples_atomic(&self.samples_path(), records)
    }
}

/// Appends one complete line per record and flushes it to the OS before returning.
#[derive(Debug)]
pub struct SampleAppender {
    file: File,
    path: PathBuf,
}

impl SampleAppender {
    pub fn open(path: &Path) -> Result<SampleAppender, RunError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| RunError::io(path, e))?;
        Ok(SampleAppender {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn append(&mut self, r: &SampleRecord) -> Result<(), RunError> {
        self.append_json(r)
    }

    /// Any value as one complete line (`trees.jsonl` uses it too).
    pub fn append_json<T: Serialize + ?Sized>(&mut self, r: &T) -> Result<(), RunError> {
        let mut line = serde_json::to_vec(r).map_err(|e| RunError::io(&self.path, e.into()))?;
        line.push(b'\n');
        // One write of the whole line: a kill can tear only this line, never an earlier one.
        self.file
            .write_all(&line)
            .map_err(|e| RunError::io(&self.path, e))
    }
}

/// Read a `samples.jsonl` without changing it (see [`anesbench_core::rundir`] for what
/// is torn and what is corrupt).
pub fn read_samples(path: &Path) -> Result<LoadedSamples, RunError> {
    anesbench_core::rundir::read_samples(path).map_err(RunError::from)
}

pub use anesbench_core::rundir::latest_per_key;

pub fn write_samples_atomic(path: &Path, records: &[SampleRecord]) -> Result<(), RunError> {
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, r).map_err(|e| RunError::io(path, e.into()))?;
        buf.push(b'\n');
    }
    write_atomic(path, &buf)
}

pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<(), RunError> {
    let mut buf = serde_json::to_vec_pretty(value).map_err(|e| RunError::io(path, e.into()))?;
    buf.push(b'\n');
    write_atomic(path, &buf)
}

/// Write beside the target and rename over it, so a reader (or a kill) never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let io = |e| RunError::io(&tmp, e);
    let mut f = File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| RunError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anesbench_core::{Lang, Level};

    pub(crate) fn rec(id: &str, sample: u32, error: Option<&str>) -> SampleRecord {
        SampleRecord {
            prompt_hash: "h".into(),
            response: Some("The answer is A".into()),
            answer: Some('A'),
            rule: "t".into(),
            correct: true,
            finish_reason: Some("stop".into()),
            completion_tokens: Some(5),
            latency_ms: 1.0,
            error: error.map(str::to_owned),
            ..SampleRecord::new(id, Lang::En, Level::S1, sample, 'A', "ABCD")
        }
    }

    #[test]
    fn torn_last_line_is_cut_and_appends_continue_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let rd = RunDir::open(dir.path()).unwrap();
        let mut a = rd.appender().unwrap();
        a.append(&rec("1", 0, None)).unwrap();
        a.append(&rec("2", 0, None)).unwrap();
        drop(a);
        let mut f = OpenOptions::new()
            .append(true)
            .open(rd.samples_path())
            .unwrap();
        f.write_all(br#"{"id":"3","lang":"en","le"#).unwrap();
        drop(f);
        let loaded = rd.load_samples().unwrap();
        assert_eq!(loaded.records.len(), 2);
        assert!(loaded.torn_bytes > 0);
        rd.appender().unwrap().append(&rec("3", 0, None)).unwrap();
        let again = rd.load_samples().unwrap();
        assert_eq!(again.torn_bytes, 0);
        assert_eq!(
            again
                .records
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>(),
            ["1", "2", "3"]
        );
    }

    #[test]
    fn damaged_middle_line_is_an_error_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(SAMPLES);
        let good = serde_json::to_string(&rec("1", 0, None)).unwrap();
        std::fs::write(&p, format!("{good}\n{{oops\n{good}\n")).unwrap();
        let e = read_samples(&p).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains(SAMPLES), "{e}");
    }

    #[test]
    fn later_line_supersedes_an_errored_sample() {
        let (out, n) = latest_per_key(vec![
            rec("1", 0, Some("HTTP 500")),
            rec("2", 0, None),
            rec("1", 0, None),
        ]);
        assert_eq!(n, 1);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].id, "1");
        assert!(out[0].error.is_none());
    }
}
