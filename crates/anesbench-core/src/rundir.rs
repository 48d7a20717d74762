//! The one reader of a run's `samples.jsonl`, used by eval (resume), rescore, merge,
//! report, compare, leaderboard and the viewer, so they all agree on what a run holds.
//!
//! It works on bytes, not text, because a run killed mid-write can leave half of a
//! multi-byte UTF-8 character at the end of the file (half the benchmark is Chinese).
//!
//! - **Torn**: the bytes after the last `\n`. The runner writes each record as one
//!   complete line in a single write, so only the last line can be unterminated, and only
//!   because the writer was killed. It is not a record: the runner cuts it and runs that
//!   sample again; readers skip it with a warning.
//! - **Corrupt**: a complete (newline-terminated) line that is not a valid record, invalid
//!   UTF-8 included. Nothing the runner writes looks like that, so every reader refuses
//!   the file, naming the line and, where it can be read, the record's id.
//!
//! Blank lines are skipped. When one (item, sample) appears more than once (a resumed run
//! appends a retried sample after its failed attempt), the last line wins, at the position
//! of the first.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::record::SampleRecord;

pub const MANIFEST: &str = "manifest.json";
pub const SAMPLES: &str = "samples.jsonl";
pub const SUMMARY: &str = "summary.json";
/// Search trees of step-level strategies, one line per finished item (docs/RECORDS.md).
pub const TREES: &str = "trees.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}{id}: corrupt record: {message} (a complete line that is not a record: the file was changed by something other than anesbench; fix or remove that line)")]
    Corrupt {
        path: PathBuf,
        line: usize,
        /// ` (id "x")` when the line's id could be read, else empty.
        id: String,
        message: String,
    },
}

/// What a `samples.jsonl` holds.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    /// One record per (lang, id, sample), latest line winning, in first-seen order.
    pub records: Vec<SampleRecord>,
    /// Lines superseded by a later line for the same (item, sample).
    pub superseded: usize,
    /// Bytes of a torn last line (not part of any record).
    pub torn_bytes: usize,
    /// Length of the file's complete part: where appends continue after cutting the torn tail.
    pub complete_len: u64,
}

/// Read a `samples.jsonl` file without changing it; a missing file is an empty run.
pub fn read_samples(path: &Path) -> Result<Samples, ReadError> {
    match std::fs::read(path) {
        Ok(b) => parse_samples(&b, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Samples::default()),
        Err(source) => Err(ReadError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Parse the bytes of a `samples.jsonl` (`path` names it in errors).
pub fn parse_samples(bytes: &[u8], path: &Path) -> Result<Samples, ReadError> {
    let complete = complete_len(bytes);
    let mut records = Vec::new();
    for (line, range) in lines(&bytes[..complete]) {
        let raw = &bytes[range];
        let r: SampleRecord = serde_json::from_slice(raw).map_err(|e| ReadError::Corrupt {
            path: path.to_path_buf(),
            line,
            id: id_hint(raw),
            message: e.to_string(),
        })?;
        records.push(r);
    }
    let (records, superseded) = latest_per_key(records);
    Ok(Samples {
        records,
        superseded,
        torn_bytes: bytes.len() - complete,
        complete_len: complete as u64,
    })
}

/// Length of the part of `bytes` that ends in a newline (0 when there is none).
pub fn complete_len(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

/// The non-blank lines of the complete part of a file: 1-based line number and byte
/// range without the newline. The viewer builds its offset index from this too.
pub fn lines(complete: &[u8]) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
    let mut start = 0;
    let mut no = 0;
    std::iter::from_fn(move || loop {
        if start >= complete.len() {
            return None;
        }
        let end = complete[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(complete.len(), |i| start + i);
        no += 1;
        let range = start..end;
        start = end + 1;
        if !complete[range.clone()].iter().all(u8::is_ascii_whitespace) {
            return Some((no, range));
        }
    })
}

/// Keep the last record of each (item, sample), at the position of its first line.
pub fn latest_per_key(records: Vec<SampleRecord>) -> (Vec<SampleRecord>, usize) {
    let mut out: Vec<SampleRecord> = Vec::with_capacity(records.len());
    let mut at = HashMap::new();
    let mut superseded = 0;
    for r in records {
        match at.get(&r.key()) {
            Some(&i) => {
                out[i] = r;
                superseded += 1;
            }
            None => {
                at.insert(r.key(), out.len());
                out.push(r);
            }
        }
    }
    (out, superseded)
}

/// ` (id "x")` for a line whose `id` can still be read, for error messages.
fn id_hint(line: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .and_then(|v| v.get("id").map(|id| format!(" (id {id})")))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Lang, Level};

    fn rec(id: &str, lang: Lang) -> SampleRecord {
        SampleRecord {
            response: Some("答案是 B：麻醉诱导".into()),
            answer: Some('B'),
            rule: "zh_final".into(),
            correct: true,
            ..SampleRecord::new(id, lang, Level::S1, 0, 'B', "ABCD")
        }
    }

    fn line(r: &SampleRecord) -> Vec<u8> {
        let mut v = serde_json::to_vec(r).unwrap();
        v.push(b'\n');
        v
    }

    #[test]
    fn a_tail_cut_inside_a_chinese_character_is_torn_not_an_error() {
        let mut bytes = line(&rec("1", Lang::Zh));
        let second = line(&rec("2", Lang::Zh));
        // Cut inside the 3-byte UTF-8 sequence of the first Chinese character.
        let cut = second
            .windows(3)
            .position(|w| w == "答".as_bytes())
            .unwrap()
            + 1;
        bytes.extend_from_slice(&second[..cut]);
        let s = parse_samples(&bytes, Path::new("s.jsonl")).unwrap();
        assert_eq!(s.records.len(), 1);
        assert_eq!(s.torn_bytes, cut);
        assert_eq!(s.complete_len as usize, bytes.len() - cut);
    }

    #[test]
    fn a_complete_but_unparsable_last_line_is_corrupt() {
        let mut bytes = line(&rec("1", Lang::En));
        bytes.extend_from_slice(b"{\"id\": \"7\", \"lang\": \"en\"}\n");
        let e = parse_samples(&bytes, Path::new("s.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("corrupt") && e.contains("\"7\""),
            "{e}"
        );
    }

    #[test]
    fn invalid_utf8_in_a_complete_line_is_corrupt() {
        let mut bytes = line(&rec("1", Lang::En));
        let mut bad = line(&rec("2", Lang::Zh));
        let at = bad.windows(3).position(|w| w == "答".as_bytes()).unwrap();
        bad[at + 1] = b'\n';
        bytes.extend_from_slice(&bad);
        assert!(matches!(
            parse_samples(&bytes, Path::new("s.jsonl")),
            Err(ReadError::Corrupt { line: 2, .. })
        ));
    }

    #[test]
    fn blank_lines_are_skipped_and_the_latest_line_wins() {
        let mut a = rec("1", Lang::En);
        a.error = Some("HTTP 500".into());
        let mut bytes = line(&a);
        bytes.extend_from_slice(b"\n  \n");
        bytes.extend_from_slice(&line(&rec("2", Lang::En)));
        bytes.extend_from_slice(&line(&rec("1", Lang::En)));
        let s = parse_samples(&bytes, Path::new("s.jsonl")).unwrap();
        assert_eq!(s.superseded, 1);
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.records[0].id, "1");
        assert!(s.records[0].error.is_none());
        assert_eq!(s.torn_bytes, 0);
    }

    #[test]
    fn missing_file_is_an_empty_run() {
        let d = tempfile::tempdir().unwrap();
        let s = read_samples(&d.path().join(SAMPLES)).unwrap();
        assert!(s.records.is_empty());
    }
}
