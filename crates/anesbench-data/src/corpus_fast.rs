//! The pretrain-corpus hot path for Parquet inputs: a reader thread decodes each batch and
//! encodes its `{"text": ...}` records straight from the arrow string arrays into a
//! byte chunk, while the calling thread only writes chunks to the file. Same bytes as the
//! row-by-row path ([`formats::corpus`] through serde_json); no `String` per row.
//!
//! Memory stays bounded: at most `CHUNKS_IN_FLIGHT` chunks of about `CHUNK_BYTES` each wait
//! in the channel, and written chunks go back to the reader for reuse.

use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;

use crate::convert::SkipCounts;
use crate::error::DataError;
use crate::formats::{self, Record, Skip};
use crate::json_escape;
use crate::progress::Progress;
use crate::reader::{self, ArrowColumns, ReadOptions, Selection};
use crate::writer::{OutFormat, RecordWriter};

const CHUNK_BYTES: usize = 4 << 20;
const CHUNKS_IN_FLIGHT: usize = 4;

/// Records encoded by the reader, ready to write.
struct Chunk {
    bytes: Vec<u8>,
    records: u64,
    rows: u64,
    text_bytes: u64,
}

enum Msg {
    Chunk(Chunk),
    Done(Result<(), DataError>),
}

/// What the fast path read and skipped.
pub(crate) struct Totals {
    pub rows: u64,
    pub bytes: u64,
    pub skipped: SkipCounts,
}

/// Encodes rows into chunks on the reader side.
struct Encoder {
    format: OutFormat,
    written: u64,
    chunk: Chunk,
    skipped: SkipCounts,
    tx: SyncSender<Msg>,
    free: Receiver<Vec<u8>>,
}

impl Encoder {
    fn record(&mut self, text: Option<&str>) {
        match text {
            None => self.skipped.add(Skip::Null),
            Some(t) if t.trim().is_empty() => self.skipped.add(Skip::Empty),
            Some(t) => {
                let out = &mut self.chunk.bytes;
                out.extend_from_slice(self.format.before(self.written));
                out.extend_from_slice(b"{\"text\":");
                json_escape::push_str(out, t);
                out.push(b'}');
                out.extend_from_slice(self.format.after());
                self.written += 1;
                self.chunk.records += 1;
            }
        }
    }

    /// Rows that are not plain strings go the row-by-row way, so lists, numbers and
    /// unsupported types are skipped, rendered or refused exactly as there.
    fn other(&mut self, cols: &ArrowColumns<'_>) -> Result<(), DataError> {
        let (rows, bytes) = cols.rows()?;
        self.chunk.text_bytes += bytes;
        for row in &rows {
            match formats::corpus(row) {
                Ok(rec @ Record::Text { .. }) => {
                    let out = &mut self.chunk.bytes;
                    out.extend_from_slice(self.format.before(self.written));
                    serde_json::to_writer(&mut *out, &rec)
                        .map_err(|e| DataError::Other(format!("encoding a record: {e}")))?;
                    out.extend_from_slice(self.format.after());
                    self.written += 1;
                    self.chunk.records += 1;
                }
                Ok(_) => unreachable!("formats::corpus only makes text records"),
                Err(skip) => self.skipped.add(skip),
            }
        }
        Ok(())
    }

    fn batch(&mut self, cols: ArrowColumns<'_>) -> Result<(), DataError> {
        self.chunk.rows += cols.batch.num_rows() as u64;
        let Some(a) = cols.columns.first().cloned().flatten() else {
            return self.other(&cols);
        };
        // Text bytes as the row path counts them: the lengths of the non-null values.
        let mut text = |v: Option<&str>| {
            if let Some(t) = v {
                self.chunk.text_bytes += t.len() as u64;
            }
            self.record(v);
        };
        match a.data_type() {
            DataType::Utf8 => a.as_string::<i32>().iter().for_each(&mut text),
            DataType::LargeUtf8 => a.as_string::<i64>().iter().for_each(&mut text),
            DataType::Utf8View => a.as_string_view().iter().for_each(&mut text),
            _ => return self.other(&cols),
        }
        if self.chunk.bytes.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<(), DataError> {
        let mut next = self
            .free
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK_BYTES + (CHUNK_BYTES >> 2)));
        next.clear();
        let chunk = std::mem::replace(
            &mut self.chunk,
            Chunk {
                bytes: next,
                records: 0,
                rows: 0,
                text_bytes: 0,
            },
        );
        self.tx
            .send(Msg::Chunk(chunk))
            .map_err(|_| DataError::Other("writer stopped".into()))
    }
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
    let (tx, rx) = sync_channel::<Msg>(CHUNKS_IN_FLIGHT);
    let (free_tx, free_rx) = sync_channel::<Vec<u8>>(CHUNKS_IN_FLIGHT);
    let mut totals = Totals {
        rows: 0,
        bytes: 0,
        skipped: SkipCounts::default(),
    };
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut enc = Encoder {
                format,
                written: 0,
                chunk: Chunk {
                    bytes: Vec::with_capacity(CHUNK_BYTES + (CHUNK_BYTES >> 2)),
                    records: 0,
                    rows: 0,
                    text_bytes: 0,
                },
                skipped: SkipCounts::default(),
                tx: tx.clone(),
                free: free_rx,
            };
            let mut res = paths.iter().try_for_each(|p| {
                reader::read_parquet_arrow(p, selection, read_opts, &mut |cols| enc.batch(cols))
                    .map(|_| ())
            });
            if res.is_ok() && enc.chunk.rows > 0 {
                res = enc.send();
            }
            let _ = tx.send(Msg::Done(res));
            enc.skipped
        });
        let mut outcome = Ok(());
        for msg in rx.iter() {
            match msg {
                Msg::Chunk(c) => {
                    if let Err(e) = writer.write_encoded(&c.bytes, c.records) {
                        outcome = Err(e);
                        break;
                    }
                    totals.rows += c.rows;
                    totals.bytes += c.text_bytes;
                    progress.inc(c.rows, c.text_bytes);
                    let _ = free_tx.try_send(c.bytes);
                }
                Msg::Done(r) => {
                    outcome = r;
                    break;
                }
            }
        }
        // Dropping the receiver unblocks a reader still sending after a write failed.
        drop(rx);
        let skipped = reader.join().expect("reader thread panicked");
        totals.skipped = skipped;
        outcome
    })?;
    Ok(totals)
}
