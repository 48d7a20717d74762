//! JSON array and JSONL readers: bytes in, raw records (JSON objects) and problems out.
//!
//! A file that starts with `[` is a JSON array; one that starts with `{` is either a single
//! (possibly pretty-printed) object or JSONL, one object per line. Bad lines in JSONL are
//! reported with their line number and the other lines still load, so every problem in a
//! file is seen at once.

use std::path::Path;

use serde_json::{Map, Value};

use super::error::Problem;
use super::raw::RawRecord;

/// Parse JSON or JSONL bytes. Never panics, whatever the bytes.
pub fn parse(bytes: &[u8], file: Option<&Path>) -> (Vec<RawRecord>, Vec<Problem>) {
    let file_buf = file.map(Path::to_path_buf);
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| bytes[i]);
    match first {
        None => (Vec::new(), vec![Problem::file(file_buf, "file is empty")]),
        Some(b'[') => parse_array(bytes, file_buf),
        Some(b'{') => {
            // A whole-file object is a single record or a `{"split": [..]}` wrapper.
            if let Ok(text) = std::str::from_utf8(bytes) {
                if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) {
                    if text.trim().lines().count() > 1 || obj.values().any(Value::is_array) {
                        return from_whole_object(obj, file_buf);
                    }
                }
            }
            parse_lines(bytes, file_buf)
        }
        Some(_) => {
            let mut problems = vec![Problem::file(
                file_buf.clone(),
                "not JSON: expected a JSON array (`[`) or JSON lines (`{` per line)",
            )];
            if let Some(p) = utf8_problem(bytes, &file_buf) {
                problems.push(p);
            }
            (Vec::new(), problems)
        }
    }
}

fn from_whole_object(
    obj: Map<String, Value>,
    file: Option<std::path::PathBuf>,
) -> (Vec<RawRecord>, Vec<Problem>) {
    // `{"test": [ {..}, .. ]}`: the one array of objects inside holds the records.
    let arrays: Vec<&Value> = obj.values().filter(|v| v.is_array()).collect();
    if obj.len() == 1 && arrays.len() == 1 {
        if let Value::Array(items) = arrays[0] {
            if items.iter().all(Value::is_object) {
                return records_from_values(items.clone(), file);
            }
        }
    }
    (
        vec![RawRecord {
            index: 0,
            line: Some(1),
            fields: obj,
        }],
        Vec::new(),
    )
}

fn parse_array(bytes: &[u8], file: Option<std::path::PathBuf>) -> (Vec<RawRecord>, Vec<Problem>) {
    if let Some(p) = utf8_problem(bytes, &file) {
        return (Vec::new(), vec![p]);
    }
    match serde_json::from_slice::<Vec<Value>>(bytes) {
        Ok(values) => records_from_values(values, file),
        Err(e) => {
            let mut p = Problem::file(file, format!("malformed JSON: {e}"));
            p.line = Some(e.line()).filter(|&l| l > 0);
            (Vec::new(), vec![p])
        }
    }
}

fn records_from_values(
    values: Vec<Value>,
    file: Option<std::path::PathBuf>,
) -> (Vec<RawRecord>, Vec<Problem>) {
    let mut records = Vec::with_capacity(values.len());
    let mut problems = Vec::new();
    for (index, v) in values.into_iter().enumerate() {
        match v {
            Value::Object(fields) => records.push(RawRecord {
                index,
                line: None,
                fields,
            }),
            other => problems.push(Problem {
                index: Some(index),
                message: format!("record is {}, expected a JSON object", kind(&other)),
                ..Problem::file(file.clone(), "")
            }),
        }
    }
    (records, problems)
}

fn parse_lines(bytes: &[u8], file: Option<std::path::PathBuf>) -> (Vec<RawRecord>, Vec<Problem>) {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut index = 0;
    for (n, raw_line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = n + 1;
        let raw_line = raw_line.strip_suffix(b"\r").unwrap_or(raw_line);
        if raw_line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let this = index;
        index += 1;
        let at = |message: String| Problem {
            line: Some(line_no),
            index: Some(this),
            message,
            ..Problem::file(file.clone(), "")
        };
        let text = match std::str::from_utf8(raw_line) {
            Ok(t) => t,
            Err(e) => {
                problems.push(at(format!(
                    "invalid UTF-8 at byte {} of the line; save the file as UTF-8",
                    e.valid_up_to() + 1
                )));
                continue;
            }
        };
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(fields)) => records.push(RawRecord {
                index: this,
                line: Some(line_no),
                fields,
            }),
            Ok(other) => problems.push(at(format!(
                "line holds {}, expected a JSON object",
                kind(&other)
            ))),
            Err(e) => problems.push(at(format!("malformed JSON at column {}: {e}", e.column()))),
        }
    }
    (records, problems)
}

/// The first invalid UTF-8 sequence of a file, as a problem with its line and byte offset.
fn utf8_problem(bytes: &[u8], file: &Option<std::path::PathBuf>) -> Option<Problem> {
    let e = std::str::from_utf8(bytes).err()?;
    let at = e.valid_up_to();
    let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let mut p = Problem::file(
        file.clone(),
        format!("invalid UTF-8 at byte offset {at}; save the file as UTF-8"),
    );
    p.line = Some(line);
    Some(p)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_reports_every_bad_line_and_keeps_the_good_ones() {
        let text = b"{\"id\":1}\n{bad\n\n[1]\n{\"id\":2}\n\xff{}\n";
        let (recs, probs) = parse(text, Some(Path::new("f.jsonl")));
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].line, Some(5));
        let lines: Vec<_> = probs.iter().map(|p| p.line.unwrap()).collect();
        assert_eq!(lines, vec![2, 4, 6]);
        assert!(probs[2].message.contains("UTF-8"));
    }

    #[test]
    fn array_and_wrapped_array_and_pretty_single_object() {
        let (r, p) = parse(b"[{\"a\":1},{\"a\":2}]", None);
        assert_eq!((r.len(), p.len()), (2, 0));
        let (r, p) = parse(b"{\"test\": [{\"a\":1},{\"a\":2},{\"a\":3}]}", None);
        assert_eq!((r.len(), p.len()), (3, 0));
        let (r, p) = parse(b"{\n  \"a\": 1\n}\n", None);
        assert_eq!((r.len(), p.len()), (1, 0));
    }

    #[test]
    fn malformed_array_gives_line() {
        let (r, p) = parse(b"[\n{\"a\":1},\n{\"a\" 2}\n]", None);
        assert!(r.is_empty());
        assert_eq!(p[0].line, Some(3));
    }
}
