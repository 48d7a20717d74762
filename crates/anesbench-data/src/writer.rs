//! Output files written as records arrive: JSONL, or a JSON array opened with `[`, one
//! record per line, closed with `]` (never built in memory). Files are written under a
//! `.partial` name and renamed when complete, so a failed run leaves no truncated dataset.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::DataError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutFormat {
    Jsonl,
    Json,
}

impl OutFormat {
    pub fn extension(self) -> &'static str {
        match self {
            OutFormat::Jsonl => "jsonl",
            OutFormat::Json => "json",
        }
    }
}

impl OutFormat {
    /// Bytes before the record that has `index` records before it.
    pub fn before(self, index: u64) -> &'static [u8] {
        match (self, index) {
            (OutFormat::Jsonl, _) => b"",
            (OutFormat::Json, 0) => b"[\n",
            (OutFormat::Json, _) => b",\n",
        }
    }

    /// Bytes after each record.
    pub fn after(self) -> &'static [u8] {
        match self {
            OutFormat::Jsonl => b"\n",
            OutFormat::Json => b"",
        }
    }
}

impl std::str::FromStr for OutFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jsonl" => Ok(OutFormat::Jsonl),
            "json" => Ok(OutFormat::Json),
            _ => Err(format!("unknown format `{s}` (expected jsonl or json)")),
        }
    }
}

pub struct RecordWriter {
    path: PathBuf,
    partial: PathBuf,
    out: BufWriter<File>,
    format: OutFormat,
    written: u64,
}

impl RecordWriter {
    pub fn create(path: &Path, format: OutFormat) -> Result<Self, DataError> {
        let partial = path.with_extension(format!("{}.partial", format.extension()));
        let file = File::create(&partial).map_err(|e| DataError::io(&partial, e))?;
        Ok(RecordWriter {
            path: path.into(),
            partial,
            out: BufWriter::with_capacity(1 << 20, file),
            format,
            written: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn write<T: Serialize>(&mut self, record: &T) -> Result<(), DataError> {
        self.out
            .write_all(self.format.before(self.written))
            .map_err(|e| DataError::io(&self.partial, e))?;
        serde_json::to_writer(&mut self.out, record)
            .map_err(|e| DataError::Other(format!("{}: {e}", self.partial.display())))?;
        self.out
            .write_all(self.format.after())
            .map_err(|e| DataError::io(&self.partial, e))?;
        self.written += 1;
        Ok(())
    }

    /// Append `records` records already encoded by the caller, each framed with
    /// [`OutFormat::before`] (given the count written before it) and [`OutFormat::after`].
    pub fn write_encoded(&mut self, bytes: &[u8], records: u64) -> Result<(), DataError> {
        self.out
            .write_all(bytes)
            .map_err(|e| DataError::io(&self.partial, e))?;
        self.written += records;
        Ok(())
    }

    /// Close the array, flush, and move the file to its final name.
    pub fn finish(mut self) -> Result<u64, DataError> {
        let tail: &[u8] = match (self.format, self.written) {
            (OutFormat::Jsonl, _) => b"",
            (OutFormat::Json, 0) => b"[]\n",
            (OutFormat::Json, _) => b"\n]\n",
        };
        self.out
            .write_all(tail)
            .map_err(|e| DataError::io(&self.partial, e))?;
        self.out
            .flush()
            .map_err(|e| DataError::io(&self.partial, e))?;
        std::fs::rename(&self.partial, &self.path).map_err(|e| DataError::io(&self.path, e))?;
        Ok(self.written)
    }
}
