//! Parquet reader: each row becomes a raw record (column name -> JSON value) through the
//! arrow reader, so the schemas apply to Parquet exactly as to JSON.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
};
use arrow::datatypes::{UInt16Type, UInt32Type, UInt64Type, UInt8Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value};

use super::error::Problem;
use super::raw::RawRecord;

/// Magic bytes at both ends of a Parquet file.
pub const MAGIC: &[u8; 4] = b"PAR1";

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `catch_unwind` that also keeps the panic message off stderr: the caller turns the panic
/// into a problem naming the file, and a second, raw message would only confuse. A hook
/// that defers to the previous one is installed once; it stays silent only on this thread
/// and only while `f` runs, so every other panic prints as before.
fn quiet_catch<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                prev(info)
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let out = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    out
}

/// Parse Parquet bytes. Never panics: a panic inside the Parquet reader on corrupt input
/// becomes a problem with the file.
pub fn parse(bytes: &[u8], file: Option<&Path>) -> (Vec<RawRecord>, Vec<Problem>) {
    let file_buf = file.map(Path::to_path_buf);
    let data = bytes::Bytes::copy_from_slice(bytes);
    match quiet_catch(|| read(data)) {
        Ok(Ok(records)) => (records, Vec::new()),
        Ok(Err(e)) => (
            Vec::new(),
            vec![Problem::file(file_buf, format!("unreadable Parquet: {e}"))],
        ),
        Err(_) => (
            Vec::new(),
            vec![Problem::file(
                file_buf,
                "unreadable Parquet: the reader failed on corrupt data",
            )],
        ),
    }
}

fn read(data: bytes::Bytes) -> Result<Vec<RawRecord>, String> {
    if data.len() < 8 || &data[..4] != MAGIC || &data[data.len() - 4..] != MAGIC {
        return Err("not a Parquet file (no PAR1 magic at start and end)".into());
    }
    let reader = ParquetRecordBatchReaderBuilder::try_new(data)
        .and_then(|b| b.build())
        .map_err(|e| e.to_string())?;
    let mut records = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        rows(&batch, &mut records);
    }
    Ok(records)
}

fn rows(batch: &RecordBatch, out: &mut Vec<RawRecord>) {
    let schema = batch.schema();
    for row in 0..batch.num_rows() {
        let mut fields = Map::new();
        for (col, field) in batch.columns().iter().zip(schema.fields()) {
            fields.insert(field.name().clone(), value(col.as_ref(), row));
        }
        out.push(RawRecord {
            index: out.len(),
            line: None,
            fields,
        });
    }
}

/// One cell as JSON. Types the schemas never use are written as text, so a mapping can
/// still read them.
fn value(a: &dyn Array, row: usize) -> Value {
    if a.is_null(row) {
        return Value::Null;
    }
    macro_rules! num {
        ($t:ty) => {
            Value::from(a.as_primitive::<$t>().value(row))
        };
    }
    match a.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(a.as_boolean().value(row)),
        DataType::Utf8 => Value::String(a.as_string::<i32>().value(row).to_string()),
        DataType::LargeUtf8 => Value::String(a.as_string::<i64>().value(row).to_string()),
        DataType::Utf8View => Value::String(a.as_string_view().value(row).to_string()),
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Float32 => num!(Float32Type),
        DataType::Float64 => num!(Float64Type),
        DataType::List(_) => list(a.as_list::<i32>().value(row).as_ref()),
        DataType::LargeList(_) => list(a.as_list::<i64>().value(row).as_ref()),
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let map = fields
                .iter()
                .zip(s.columns())
                .map(|(f, c)| (f.name().clone(), value(c.as_ref(), row)))
                .collect();
            Value::Object(map)
        }
        _ => arrow::util::display::array_value_to_string(a, row)
            .map(Value::String)
            .unwrap_or(Value::Null),
    }
}

fn list(a: &dyn Array) -> Value {
    Value::Array((0..a.len()).map(|i| value(a, i)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_catch_turns_a_panic_into_an_error_and_restores_the_flag() {
        let r = quiet_catch(|| -> u8 { panic!("corrupt page") });
        assert!(r.is_err());
        assert!(
            !QUIET.with(|q| q.get()),
            "the flag must be reset after the call"
        );
        assert_eq!(quiet_catch(|| 7).ok(), Some(7));
    }
}
