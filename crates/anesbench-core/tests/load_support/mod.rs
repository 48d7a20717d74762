//! Shared helpers for the loader tests: records built from the dataset card's own examples,
//! written as JSON, JSONL and Parquet.
#![allow(dead_code)]

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use serde_json::{Map, Value};

pub type Rec = Map<String, Value>;

/// The examples file copied from the dataset card (fixtures/load/dataset_card_examples.json).
pub fn card() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/load/dataset_card_examples.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// Copies of one card example, one per entry of `levels`, with distinct ids and the level
/// written to `level_field`.
pub fn variants(example: &str, level_field: &str, levels: &[u8]) -> Vec<Rec> {
    let base = card()[example].as_object().unwrap().clone();
    levels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let mut r = base.clone();
            let id = format!("{}-{i}", r["id"].as_str().unwrap());
            r.insert("id".into(), id.into());
            r.insert(level_field.into(), l.into());
            r
        })
        .collect()
}

pub fn write_json(path: &Path, recs: &[Rec]) {
    std::fs::write(path, serde_json::to_vec_pretty(recs).unwrap()).unwrap();
}

pub fn write_jsonl(path: &Path, recs: &[Rec]) {
    let mut s = String::new();
    for r in recs {
        s.push_str(&serde_json::to_string(r).unwrap());
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

/// Parquet with one column per key (Int64 where every value is an integer, else Utf8;
/// absent keys are nulls), as the hub's Parquet conversion lays a table out.
pub fn write_parquet(path: &Path, recs: &[Rec]) {
    std::fs::write(path, parquet_bytes(recs)).unwrap();
}

pub fn parquet_bytes(recs: &[Rec]) -> Vec<u8> {
    let mut keys: Vec<String> = Vec::new();
    for r in recs {
        for k in r.keys() {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for k in &keys {
        let vals: Vec<Option<&Value>> = recs
            .iter()
            .map(|r| r.get(k).filter(|v| !v.is_null()))
            .collect();
        if vals.iter().flatten().all(|v| v.is_i64()) {
            fields.push(Field::new(k, DataType::Int64, true));
            cols.push(Arc::new(Int64Array::from(
                vals.iter()
                    .map(|v| v.and_then(Value::as_i64))
                    .collect::<Vec<_>>(),
            )));
        } else {
            fields.push(Field::new(k, DataType::Utf8, true));
            let s: Vec<Option<String>> = vals
                .iter()
                .map(|v| {
                    v.map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string())
                    })
                })
                .collect();
            cols.push(Arc::new(StringArray::from(s)));
        }
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    buf
}

/// Writes `recs` as `dir/stem.{json,jsonl,parquet}` and returns the three paths.
pub fn write_all_formats(dir: &Path, stem: &str, recs: &[Rec]) -> Vec<std::path::PathBuf> {
    let paths = ["json", "jsonl", "parquet"].map(|e| dir.join(format!("{stem}.{e}")));
    write_json(&paths[0], recs);
    write_jsonl(&paths[1], recs);
    write_parquet(&paths[2], recs);
    let _ = File::open(&paths[2]).unwrap();
    paths.to_vec()
}
