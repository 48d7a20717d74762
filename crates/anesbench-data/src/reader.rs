//! Streaming readers: Parquet (arrow, one batch of `batch_rows` rows at a time, only the
//! columns asked for), JSONL (line by line) and JSON arrays (element by element). Each
//! hands the caller [`RowBatch`]es through a callback, so memory is bounded by the batch,
//! not the file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::DataType;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use serde_json::{Map, Value};

use crate::error::DataError;

/// One value read for one requested column of one row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Null, or the key absent from a JSON row.
    Null,
    Text(String),
    /// A list (e.g. options as `["..", ".."]`), elements rendered as text.
    List(Vec<String>),
    /// A record or object (e.g. options as `{"A": "..", "B": ".."}`), in field order.
    Map(Vec<(String, String)>),
}

impl Cell {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// A row: its cells in the order the columns were asked for, or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Cells(Vec<Cell>),
    Malformed(String),
}

/// The rows as they came from the file, for writers that copy rows through unchanged.
#[derive(Debug, Clone)]
pub enum Raw {
    Arrow(RecordBatch),
    Lines(Vec<String>),
    Values(Vec<Value>),
}

#[derive(Debug, Clone)]
pub struct RowBatch {
    /// Zero-based index in the file of the first row of this batch.
    pub first_row: u64,
    pub rows: Vec<Row>,
    /// Bytes of the file's text consumed by these rows (JSON) or their string values
    /// (Parquet), for throughput figures.
    pub bytes: u64,
    pub raw: Option<Raw>,
}

/// A column the caller wants: the names it may go by, first match wins.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// What the column is for, as the error message says it (`text`, `question`, ...).
    pub role: String,
    pub candidates: Vec<String>,
    pub required: bool,
    /// The flag that names it, for the hint.
    pub flag: String,
}

impl ColumnSpec {
    pub fn new(role: &str, candidates: &[&str], required: bool, flag: &str) -> Self {
        ColumnSpec {
            role: role.into(),
            candidates: candidates.iter().map(|s| s.to_string()).collect(),
            required,
            flag: flag.into(),
        }
    }
    /// An explicit `--*-col NAME` replaces the guesses.
    pub fn with_override(mut self, name: Option<&str>) -> Self {
        if let Some(n) = name {
            self.candidates = vec![n.to_string()];
            self.required = true;
        }
        self
    }
}

/// What to read from each row.
#[derive(Debug, Clone)]
pub enum Selection {
    Columns(Vec<ColumnSpec>),
    /// Every text value of the row (all string columns; all string leaves of a JSON row).
    AllText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Parquet,
    /// JSONL, or a `.json` file whose first value is an object.
    JsonLines,
    JsonArray,
}

pub fn file_kind(path: &Path) -> Result<FileKind, DataError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("parquet") => Ok(FileKind::Parquet),
        Some("jsonl" | "ndjson") => Ok(FileKind::JsonLines),
        Some("json") => {
            let mut f = File::open(path).map_err(|e| DataError::io(path, e))?;
            let mut buf = [0u8; 4096];
            loop {
                let n = f.read(&mut buf).map_err(|e| DataError::io(path, e))?;
                if n == 0 {
                    return Ok(FileKind::JsonLines);
                }
                if let Some(b) = buf[..n]
                    .iter()
                    .find(|b| !b.is_ascii_whitespace() && **b != 0xEF && **b != 0xBB && **b != 0xBF)
                {
                    return Ok(if *b == b'[' {
                        FileKind::JsonArray
                    } else {
                        FileKind::JsonLines
                    });
                }
            }
        }
        _ => Err(DataError::UnsupportedFile { path: path.into() }),
    }
}

/// Options for [`read_file`].
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub batch_rows: usize,
    /// Also hand over the rows as read ([`RowBatch::raw`]); Parquet then reads every column.
    pub keep_raw: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            batch_rows: 1024,
            keep_raw: false,
        }
    }
}

/// What [`read_file`] found.
#[derive(Debug, Clone, Default)]
pub struct ReadInfo {
    /// Resolved column name per requested column (`None`: optional and absent).
    pub columns: Vec<Option<String>>,
    pub rows: u64,
}

/// Rows in a Parquet file from its footer, for progress totals; `None` for JSON.
pub fn parquet_row_count(path: &Path) -> Option<u64> {
    let f = File::open(path).ok()?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f).ok()?;
    Some(b.metadata().file_metadata().num_rows().max(0) as u64)
}

pub type Sink<'a> = dyn FnMut(RowBatch) -> Result<(), DataError> + 'a;

/// Stream `path` through `sink` one batch at a time.
pub fn read_file(
    path: &Path,
    selection: &Selection,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
) -> Result<ReadInfo, DataError> {
    match file_kind(path)? {
        FileKind::Parquet => read_parquet(path, selection, opts, sink),
        FileKind::JsonLines => read_jsonl(path, selection, opts, sink),
        FileKind::JsonArray => read_json_array(path, selection, opts, sink),
    }
}

fn resolve(
    path: &Path,
    specs: &[ColumnSpec],
    available: &[String],
) -> Result<Vec<Option<String>>, DataError> {
    specs
        .iter()
        .map(|spec| {
            let exact = spec.candidates.iter().find(|c| available.contains(c));
            let loose = || {
                spec.candidates
                    .iter()
                    .find_map(|c| available.iter().find(|a| a.eq_ignore_ascii_case(c)))
            };
            match exact.or_else(loose) {
                Some(name) => Ok(Some(name.clone())),
                None if !spec.required => Ok(None),
                None => Err(DataError::MissingColumn {
                    path: path.into(),
                    role: spec.role.clone(),
                    tried: spec.candidates.join(", "),
                    available: if available.is_empty() {
                        "(none)".into()
                    } else {
                        available.join(", ")
                    },
                    flag: spec.flag.clone(),
                }),
            }
        })
        .collect()
}

fn parquet_err(path: &Path, e: impl std::fmt::Display) -> DataError {
    DataError::Parquet {
        path: path.into(),
        detail: e.to_string(),
    }
}

/// One Parquet batch with the asked-for columns in the order asked for (`None`: an
/// optional column the file lacks).
pub struct ArrowColumns<'a> {
    pub path: &'a Path,
    pub batch: RecordBatch,
    pub columns: Vec<Option<ArrayRef>>,
    /// Resolved name per column, for error messages.
    pub names: &'a [Option<String>],
}

impl ArrowColumns<'_> {
    /// The rows as [`Row`]s, and the bytes of their text values.
    pub fn rows(&self) -> Result<(Vec<Row>, u64), DataError> {
        let path = self.path;
        let mut bytes = 0u64;
        let mut rows = Vec::with_capacity(self.batch.num_rows());
        for i in 0..self.batch.num_rows() {
            let mut cells = Vec::with_capacity(self.columns.len());
            for (col, name) in self.columns.iter().zip(self.names) {
                let cell = match col {
                    None => Cell::Null,
                    Some(a) => arrow_cell(path, a.as_ref(), i).map_err(|e| match e {
                        DataError::ColumnType { path, found, .. } => DataError::ColumnType {
                            path,
                            column: name.clone().unwrap_or_default(),
                            found,
                        },
                        e => e,
                    })?,
                };
                if let Cell::Text(t) = &cell {
                    bytes += t.len() as u64;
                }
                cells.push(cell);
            }
            rows.push(Row::Cells(cells));
        }
        Ok((rows, bytes))
    }
}

pub type ArrowSink<'a> = dyn FnMut(ArrowColumns<'_>) -> Result<(), DataError> + 'a;

/// Stream a Parquet file as arrow batches of the selected columns, for callers that read
/// the arrays in place instead of copying every value into a [`Row`].
pub fn read_parquet_arrow(
    path: &Path,
    selection: &Selection,
    opts: &ReadOptions,
    sink: &mut ArrowSink<'_>,
) -> Result<ReadInfo, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_err(path, e))?;
    let schema = builder.schema().clone();
    let available: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let (names, resolved) = match selection {
        Selection::Columns(specs) => {
            let resolved = resolve(path, specs, &available)?;
            (resolved.clone(), resolved)
        }
        Selection::AllText => {
            let text: Vec<Option<String>> = schema
                .fields()
                .iter()
                .filter(|f| is_texty(f.data_type()))
                .map(|f| Some(f.name().clone()))
                .collect();
            (text, Vec::new())
        }
    };
    let wanted: Vec<usize> = if opts.keep_raw {
        (0..available.len()).collect()
    } else {
        let mut idx: Vec<usize> = names
            .iter()
            .flatten()
            .filter_map(|n| available.iter().position(|a| a == n))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx
    };
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(opts.batch_rows.max(1))
        .build()
        .map_err(|e| parquet_err(path, e))?;
    let mut next_row = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| parquet_err(path, e))?;
        let columns: Vec<Option<ArrayRef>> = names
            .iter()
            .map(|n| n.as_ref().and_then(|n| batch.column_by_name(n).cloned()))
            .collect();
        let n = batch.num_rows() as u64;
        sink(ArrowColumns {
            path,
            batch,
            columns,
            names: &names,
        })?;
        next_row += n;
    }
    Ok(ReadInfo {
        columns: resolved,
        rows: next_row,
    })
}

fn read_parquet(
    path: &Path,
    selection: &Selection,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
) -> Result<ReadInfo, DataError> {
    let mut next_row = 0u64;
    read_parquet_arrow(path, selection, opts, &mut |cols| {
        let (rows, bytes) = cols.rows()?;
        let n = rows.len() as u64;
        sink(RowBatch {
            first_row: next_row,
            rows,
            bytes,
            raw: opts.keep_raw.then(|| Raw::Arrow(cols.batch)),
        })?;
        next_row += n;
        Ok(())
    })
}

fn is_texty(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn arrow_cell(path: &Path, a: &dyn Array, i: usize) -> Result<Cell, DataError> {
    if a.is_null(i) {
        return Ok(Cell::Null);
    }
    Ok(match a.data_type() {
        DataType::Utf8 => Cell::Text(a.as_string::<i32>().value(i).to_owned()),
        DataType::LargeUtf8 => Cell::Text(a.as_string::<i64>().value(i).to_owned()),
        DataType::Utf8View => Cell::Text(a.as_string_view().value(i).to_owned()),
        DataType::List(_) => Cell::List(list_items(path, a.as_list::<i32>().value(i).as_ref())?),
        DataType::LargeList(_) => {
            Cell::List(list_items(path, a.as_list::<i64>().value(i).as_ref())?)
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut out = Vec::with_capacity(fields.len());
            for (f, col) in fields.iter().zip(s.columns()) {
                if let Cell::Text(t) = arrow_cell(path, col.as_ref(), i)? {
                    out.push((f.name().clone(), t));
                }
            }
            Cell::Map(out)
        }
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Map(..) => {
            return Err(DataError::ColumnType {
                path: path.into(),
                column: String::new(),
                found: a.data_type().to_string(),
            })
        }
        _ => {
            let f = ArrayFormatter::try_new(a, &FormatOptions::default())
                .map_err(|e| parquet_err(path, e))?;
            Cell::Text(f.value(i).to_string())
        }
    })
}

fn list_items(path: &Path, a: &dyn Array) -> Result<Vec<String>, DataError> {
    (0..a.len())
        .map(|j| {
            Ok(match arrow_cell(path, a, j)? {
                Cell::Text(t) => t,
                Cell::Null => String::new(),
                Cell::List(v) => v.join(" "),
                Cell::Map(m) => m.into_iter().map(|(_, v)| v).collect::<Vec<_>>().join(" "),
            })
        })
        .collect()
}

/// Text of a JSON value for a cell.
fn json_cell(v: Option<&Value>) -> Cell {
    match v {
        None | Some(Value::Null) => Cell::Null,
        Some(Value::String(s)) => Cell::Text(s.clone()),
        Some(Value::Array(items)) => Cell::List(items.iter().map(scalar_text).collect()),
        Some(Value::Object(m)) => {
            Cell::Map(m.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect())
        }
        Some(other) => Cell::Text(other.to_string()),
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn all_strings(v: &Value, out: &mut Vec<Cell>) {
    match v {
        Value::String(s) => out.push(Cell::Text(s.clone())),
        Value::Array(a) => a.iter().for_each(|x| all_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| all_strings(x, out)),
        _ => {}
    }
}

/// Turns JSON objects into rows, resolving column names on the first object.
struct JsonRows {
    path: PathBuf,
    selection: Selection,
    resolved: Option<Vec<Option<String>>>,
}

impl JsonRows {
    fn row(&mut self, v: &Value) -> Result<Row, DataError> {
        let Value::Object(obj) = v else {
            return Ok(Row::Malformed(format!(
                "expected a JSON object, found {}",
                type_name(v)
            )));
        };
        match &self.selection {
            Selection::AllText => {
                let mut cells = Vec::new();
                all_strings(v, &mut cells);
                Ok(Row::Cells(cells))
            }
            Selection::Columns(specs) => {
                if self.resolved.is_none() {
                    let keys: Vec<String> = obj.keys().cloned().collect();
                    self.resolved = Some(resolve(&self.path, specs, &keys)?);
                }
                let names = self.resolved.as_ref().expect("resolved above");
                Ok(Row::Cells(
                    names
                        .iter()
                        .map(|n| json_cell(n.as_ref().and_then(|n| obj_get(obj, n))))
                        .collect(),
                ))
            }
        }
    }
}

fn obj_get<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Flush a batch once it has this many bytes of JSON, whatever the row count.
const BATCH_BYTES: u64 = 8 << 20;

fn read_jsonl(
    path: &Path,
    selection: &Selection,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
) -> Result<ReadInfo, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let mut conv = JsonRows {
        path: path.into(),
        selection: selection.clone(),
        resolved: None,
    };
    let mut line = String::new();
    let mut batch = new_batch(0, opts);
    let mut row = 0u64;
    loop {
        line.clear();
        let n = input.read_line(&mut line).map_err(|e| DataError::Json {
            path: path.into(),
            detail: format!("line {}: {e} (JSONL must be UTF-8)", row + 1),
        })?;
        if n == 0 {
            break;
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        batch.bytes += n as u64;
        let parsed = match serde_json::from_str::<Value>(text) {
            Ok(v) => {
                let r = conv.row(&v)?;
                if let Some(Raw::Lines(l)) = &mut batch.raw {
                    l.push(text.to_string());
                }
                r
            }
            Err(e) => {
                if let Some(Raw::Lines(l)) = &mut batch.raw {
                    l.push(text.to_string());
                }
                Row::Malformed(format!("invalid JSON: {e}"))
            }
        };
        batch.rows.push(parsed);
        row += 1;
        if batch.rows.len() >= opts.batch_rows.max(1) || batch.bytes >= BATCH_BYTES {
            sink(std::mem::replace(&mut batch, new_batch(row, opts)))?;
        }
    }
    if !batch.rows.is_empty() {
        sink(batch)?;
    }
    Ok(ReadInfo {
        columns: conv.resolved.unwrap_or_default(),
        rows: row,
    })
}

fn new_batch(first_row: u64, opts: &ReadOptions) -> RowBatch {
    RowBatch {
        first_row,
        rows: Vec::new(),
        bytes: 0,
        raw: None,
    }
    .with_raw(opts)
}

impl RowBatch {
    fn with_raw(mut self, opts: &ReadOptions) -> Self {
        if opts.keep_raw {
            self.raw = Some(Raw::Lines(Vec::new()));
        }
        self
    }
}

fn read_json_array(
    path: &Path,
    selection: &Selection,
    opts: &ReadOptions,
    sink: &mut Sink<'_>,
) -> Result<ReadInfo, DataError> {
    use serde::de::{Deserializer, Error as _, SeqAccess, Visitor};

    struct Each<'s, 'f> {
        conv: JsonRows,
        opts: &'s ReadOptions,
        sink: &'s mut Sink<'f>,
        batch: RowBatch,
        raw: Vec<Value>,
        row: u64,
        failed: Option<DataError>,
    }
    impl Each<'_, '_> {
        fn push(&mut self, v: Value) -> Result<(), DataError> {
            let r = self.conv.row(&v)?;
            self.batch.rows.push(r);
            if self.opts.keep_raw {
                self.raw.push(v);
            }
            self.row += 1;
            if self.batch.rows.len() >= self.opts.batch_rows.max(1) {
                self.flush()?;
            }
            Ok(())
        }
        fn flush(&mut self) -> Result<(), DataError> {
            let mut b = std::mem::replace(
                &mut self.batch,
                RowBatch {
                    first_row: self.row,
                    rows: Vec::new(),
                    bytes: 0,
                    raw: None,
                },
            );
            if self.opts.keep_raw {
                b.raw = Some(Raw::Values(std::mem::take(&mut self.raw)));
            }
            b.bytes = b.rows.iter().map(row_bytes).sum();
            (self.sink)(b)
        }
    }
    struct V<'e, 's, 'f>(&'e mut Each<'s, 'f>);
    impl<'de> Visitor<'de> for V<'_, '_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON array of objects")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(v) = seq.next_element::<Value>()? {
                if let Err(e) = self.0.push(v) {
                    self.0.failed = Some(e);
                    return Err(A::Error::custom("stopped"));
                }
            }
            Ok(())
        }
    }

    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut each = Each {
        conv: JsonRows {
            path: path.into(),
            selection: selection.clone(),
            resolved: None,
        },
        opts,
        sink,
        batch: RowBatch {
            first_row: 0,
            rows: Vec::new(),
            bytes: 0,
            raw: None,
        },
        raw: Vec::new(),
        row: 0,
        failed: None,
    };
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, file));
    let res = (&mut de).deserialize_seq(V(&mut each));
    if let Some(e) = each.failed.take() {
        return Err(e);
    }
    res.map_err(|e| DataError::Json {
        path: path.into(),
        detail: format!("invalid JSON array after {} rows: {e}", each.row),
    })?;
    if !each.batch.rows.is_empty() {
        each.flush()?;
    }
    Ok(ReadInfo {
        columns: each.conv.resolved.clone().unwrap_or_default(),
        rows: each.row,
    })
}

fn row_bytes(r: &Row) -> u64 {
    match r {
        Row::Malformed(_) => 0,
        Row::Cells(c) => c
            .iter()
            .map(|c| match c {
                Cell::Text(t) => t.len() as u64,
                Cell::List(v) => v.iter().map(|s| s.len() as u64).sum(),
                Cell::Map(m) => m.iter().map(|(_, s)| s.len() as u64).sum(),
                Cell::Null => 0,
            })
            .sum(),
    }
}
