//! `--write-clean`: each training file copied to the clean directory under its own name
//! and format, without the rows that offend.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use arrow::array::BooleanArray;
use arrow::compute::filter_record_batch;
use parquet::arrow::ArrowWriter;

use crate::error::DataError;
use crate::reader::{Raw, RowBatch};
use crate::writer::{OutFormat, RecordWriter};

pub(super) enum Sink {
    /// The writer is made on the first batch, which brings the schema.
    Parquet(Option<ArrowWriter<File>>, Option<File>),
    Lines(BufWriter<File>),
    Array(RecordWriter),
}

pub(super) struct CleanWriter {
    file_index: usize,
    path: std::path::PathBuf,
    sink: Sink,
}

impl CleanWriter {
    pub(super) fn create(file_index: usize, input: &Path, dir: &Path) -> Result<Self, DataError> {
        let path = super::clean_path(input, dir);
        if path.canonicalize().ok() == input.canonicalize().ok() && path.exists() {
            return Err(DataError::Input(format!(
                "--write-clean would overwrite the training file {}; choose another directory",
                input.display()
            )));
        }
        let sink = match crate::reader::file_kind(input)? {
            crate::reader::FileKind::Parquet => {
                let f = File::create(&path).map_err(|e| DataError::io(&path, e))?;
                Sink::Parquet(None, Some(f))
            }
            crate::reader::FileKind::JsonLines => Sink::Lines(BufWriter::new(
                File::create(&path).map_err(|e| DataError::io(&path, e))?,
            )),
            crate::reader::FileKind::JsonArray => {
                Sink::Array(RecordWriter::create(&path, OutFormat::Json)?)
            }
        };
        Ok(CleanWriter {
            file_index,
            path,
            sink,
        })
    }

    pub(super) fn file_index(&self) -> usize {
        self.file_index
    }

    pub(super) fn write(&mut self, batch: &RowBatch, keep: &[bool]) -> Result<(), DataError> {
        let io = |e| DataError::io(&self.path, e);
        match (&mut self.sink, &batch.raw) {
            (Sink::Parquet(w, f), Some(Raw::Arrow(rb))) => {
                if let Some(file) = f.take() {
                    *w = Some(
                        ArrowWriter::try_new(file, rb.schema(), Some(small_row_groups())).map_err(
                            |e| DataError::Other(format!("{}: {e}", self.path.display())),
                        )?,
                    );
                }
                let filtered = filter_record_batch(rb, &BooleanArray::from(keep.to_vec()))
                    .map_err(|e| DataError::Other(format!("{}: {e}", self.path.display())))?;
                w.as_mut()
                    .expect("created above")
                    .write(&filtered)
                    .map_err(|e| DataError::Other(format!("{}: {e}", self.path.display())))?;
            }
            (Sink::Lines(w), Some(Raw::Lines(lines))) => {
                for (line, k) in lines.iter().zip(keep) {
                    if *k {
                        w.write_all(line.as_bytes())
                            .and_then(|_| w.write_all(b"\n"))
                            .map_err(io)?;
                    }
                }
            }
            (Sink::Array(w), Some(Raw::Values(values))) => {
                for (v, k) in values.iter().zip(keep) {
                    if *k {
                        w.write(v)?;
                    }
                }
            }
            _ => {
                return Err(DataError::Other(format!(
                    "{}: internal: raw rows missing for --write-clean",
                    self.path.display()
                )))
            }
        }
        Ok(())
    }

    pub(super) fn finish(self) -> Result<(), DataError> {
        let path = self.path;
        match self.sink {
            Sink::Parquet(Some(w), _) => {
                w.close()
                    .map_err(|e| DataError::Other(format!("{}: {e}", path.display())))?;
            }
            Sink::Parquet(None, _) => {}
            Sink::Lines(mut w) => w.flush().map_err(|e| DataError::io(&path, e))?,
            Sink::Array(w) => {
                w.finish()?;
            }
        }
        Ok(())
    }
}

pub(super) fn copy_unchanged(input: &Path, dir: &Path) -> Result<(), DataError> {
    let out = super::clean_path(input, dir);
    std::fs::copy(input, &out).map_err(|e| DataError::io(&out, e))?;
    Ok(())
}

/// The writer buffers a whole row group in memory: keep them small, as the inputs are.
fn small_row_groups() -> parquet::file::properties::WriterProperties {
    parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_size(8192)
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build()
}
