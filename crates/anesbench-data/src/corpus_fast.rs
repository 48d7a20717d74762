//! The pretrain-corpus hot path for Parquet inputs: a reader thread decodes batches
//! (decompression and arrow decoding, about half the work) while the calling thread encodes
//! `{"text": ...}` records straight from the arrow string arrays into one reused buffer and
//! writes it in large pieces (the other half). Same bytes as the row-by-row path
//! ([`formats::corpus`] through serde_json), without a `String` per row.
//!
//! Memory stays bounded: at most `BATCHES_IN_FLIGHT` decoded batches wait in the channel,
//! and the buffer is flushed at about `CHUNK_BYTES`.

use std::path::PathBuf;
use std::sync::mpsc::sync_channel;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::DataType;

use crate::convert::SkipCounts;
use crate::error::DataError;
use crate::formats::{self, Skip};
use crate::json_escape;
use crate::progress::Progress;
use crate::reader::{self, ReadOptions, Row, Selection};
use crate::writer::{OutFormat, RecordWriter};

/// Encoded bytes are written once this many have gathered. Small enough to stay in cache
/// for the kernel's copy into the page cache: 4 MiB writes measured ~30% slower on 1 GB.
const CHUNK_BYTES: usize = 256 << 10;
/// Batches decoded ahead of the writer.
const BATCHES_IN_FLIGHT: usize = 4;

/// One decoded batch: the text array when it is a string array (encoded in place),
/// otherwise its rows as the row path reads them.
enum Msg {
    Strings(ArrayRef),
    Rows(Vec<Row>, u64),
    Done(Result<(), DataError>),
}

/// What the fast path read and skipped.
pub(crate) struct Totals {
    pub rows: u64,
    pub bytes: u64,
    pub skipped: SkipCounts,
}

/// Encodes records into one reused buffer and writes it out in large pieces.
struct Encoder<'w> {
    format: OutFormat,
    writer: &'w mut RecordWriter,
    buf: Vec<u8>,
    pending: u64,
    totals: Totals,
}

impl Encoder<'_> {
    fn written(&self) -> u64 {
        self.writer.written() + self.pending
    }

    fn text(&mut self, text: Option<&str>) {
        let Some(t) = text else {
            self.totals.skipped.add(Skip::Null);
            return;
        };
        // Text bytes as the row path counts them: the lengths of the non-null values.
        self.totals.bytes += t.len() as u64;
        if t.trim().is_empty() {
            self.totals.skipped.add(Skip::Empty);
            return;
        }
        let before = self.format.before(self.written());
        self.buf.extend_from_slice(before);
        self.buf.extend_from_slice(b"{\"text\":");
        json_escape::push_str(&mut self.buf, t);
        self.buf.push(b'}');
        self.buf.extend_from_slice(self.format.after());
        self.pending += 1;
    }

    fn strings(&mut self, a: &dyn Array) {
        self.totals.rows += a.len() as u64;
        match a.data_type() {
            DataType::Utf8 => a.as_string::<i32>().iter().for_each(|v| self.text(v)),
            DataType::LargeUtf8 => a.as_string::<i64>().iter().for_each(|v| self.text(v)),
            DataType::Utf8View => a.as_string_view().iter().for_each(|v| self.text(v)),
            other => unreachable!("the reader sends only string arrays, not {other}"),
        }
    }

    /// Rows that are not plain strings are made the row-by-row way, so lists and numbers
    /// are skipped or rendered exactly as there.
    fn rows(&mut self, rows: &[Row], bytes: u64) -> Result<(), DataError> {
        self.totals.rows += rows.len() as u64;
        self.totals.bytes += bytes;
        for row in rows {
            match formats::corpus(row) {
                Ok(rec) => {
                    let before = self.format.before(self.written());
                    self.buf.extend_from_slice(before);
                    serde_json::to_writer(&mut self.buf, &rec)
                        .map_err(|e| DataError::Other(format!("encoding a record: {e}")))?;
                    self.buf.extend_from_slice(self.format.after());
                    self.pending += 1;
                }
                Err(skip) => self.totals.skipped.add(skip),
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DataError> {
        self.writer.write_encoded(&self.buf, self.pending)?;
        self.buf.clear();
        self.pending = 0;
        Ok(())
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Convert Parquet `paths` (column 0 of `selection` is the text) into `writer`.
pub(crate) fn run(
    paths: &[PathBuf],
    selection: &Selection,
    read_opts: &ReadOptions,
    writer: &mut RecordWriter,
    format: OutFormat,
    progress: &mut Progress,
) -> Result<Totals, DataError> {
    let (tx, rx) = sync_channel::<Msg>(BATCHES_IN_FLIGHT);
    let mut enc = Encoder {
        format,
        writer,
        buf: Vec::with_capacity(CHUNK_BYTES + (CHUNK_BYTES >> 2)),
        pending: 0,
        totals: Totals {
            rows: 0,
            bytes: 0,
            skipped: SkipCounts::default(),
        },
    };
    std::thread::scope(|s| {
        s.spawn(move || {
            let stopped = || DataError::Other("writer stopped".into());
            let res = paths.iter().try_for_each(|p| {
                reader::read_parquet_arrow(p, selection, read_opts, &mut |cols| {
                    let msg = match cols.columns.first().cloned().flatten() {
                        Some(a) if is_string(a.data_type()) => Msg::Strings(a),
                        _ => {
                            let (rows, bytes) = cols.rows()?;
                            Msg::Rows(rows, bytes)
                        }
                    };
                    tx.send(msg).map_err(|_| stopped())
                })
                .map(|_| ())
            });
            let _ = tx.send(Msg::Done(res));
        });
        // Returning early drops the receiver, which stops a reader blocked on sending.
        for msg in rx {
            let (rows0, bytes0) = (enc.totals.rows, enc.totals.bytes);
            match msg {
                Msg::Strings(a) => enc.strings(a.as_ref()),
                Msg::Rows(rows, bytes) => enc.rows(&rows, bytes)?,
                Msg::Done(r) => return r,
            }
            progress.inc(enc.totals.rows - rows0, enc.totals.bytes - bytes0);
            if enc.buf.len() >= CHUNK_BYTES {
                enc.flush()?;
            }
        }
        Ok(())
    })?;
    enc.flush()?;
    Ok(enc.totals)
}
