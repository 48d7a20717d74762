//! The offset index of one `samples.jsonl`: per record its byte range, the spans of its
//! response and reasoning, and the few small fields the filters need, as compact structs.
//! Records themselves are read back from the file only when a page shows them.
//!
//! The index grows with the file: each refresh reads only the bytes after the last
//! complete line it indexed (a running run's tail), using the one line splitter of
//! [`anesbench_core::rundir::lines`]. A torn last line is left for the next refresh; a
//! complete line that is not a record is corruption and stops the index there with an
//! error the pages show. A file that shrank or was replaced (rescore rewrites it
//! atomically) is indexed again from the start.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use anesbench_core::{Lang, Level, SampleRecord};
use serde::Deserialize;

use crate::scan::string_fields;

pub const CORRECT: u8 = 1;
pub const TRUNCATED: u8 = 2;
pub const ERROR: u8 = 4;

/// No value for an optional token count.
pub const NONE_U32: u32 = u32::MAX;

/// One record of the run, as the index holds it (no strings).
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Byte offset of the line in the file and its length without the newline.
    pub off: u64,
    pub len: u32,
    /// 1-based line number.
    pub line: u32,
    /// Content spans of `response` / `reasoning` within the line (start, end); (0, 0) = none.
    pub resp: (u32, u32),
    pub reas: (u32, u32),
    /// Index into [`Index::items`].
    pub item: u32,
    pub sample: u32,
    pub level: Level,
    pub nopt: u8,
    pub gold: u8,
    /// Extracted letter, 0 = no answer.
    pub answer: u8,
    /// Index into [`Index::rules`].
    pub rule: u16,
    pub flags: u8,
    pub ctok: u32,
    pub rtok: u32,
}

impl Entry {
    pub fn correct(&self) -> bool {
        self.flags & CORRECT != 0
    }
    pub fn truncated(&self) -> bool {
        self.flags & TRUNCATED != 0
    }
    pub fn error(&self) -> bool {
        self.flags & ERROR != 0
    }
    pub fn no_answer(&self) -> bool {
        !self.error() && self.answer == 0
    }
    pub fn answer(&self) -> Option<char> {
        (self.answer != 0).then_some(self.answer as char)
    }
    pub fn gold(&self) -> char {
        self.gold as char
    }
    pub fn outcome(&self) -> &'static str {
        if self.error() {
            "error"
        } else if self.correct() {
            "correct"
        } else if self.answer == 0 {
            "no answer"
        } else {
            "wrong"
        }
    }
}

/// An item of the run: (language, id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemKey {
    pub lang: Lang,
    pub id: Box<str>,
}

/// The small fields of a record; big strings are skipped, not copied.
#[derive(Deserialize)]
struct Light<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    lang: Lang,
    level: Level,
    sample: u32,
    gold: char,
    #[serde(borrow)]
    letters: Cow<'a, str>,
    #[serde(default)]
    answer: Option<char>,
    #[serde(borrow)]
    rule: Cow<'a, str>,
    correct: bool,
    #[serde(default, borrow)]
    finish_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    completion_tokens: Option<u32>,
    #[serde(default)]
    reasoning_tokens: Option<u32>,
    #[serde(default)]
    error: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Default)]
pub struct Index {
    pub path: PathBuf,
    pub entries: Vec<Entry>,
    pub items: Vec<ItemKey>,
    item_at: HashMap<ItemKey, u32>,
    /// (item, sample) -> entry.
    key_at: HashMap<(u32, u32), u32>,
    pub rules: Vec<Box<str>>,
    rule_at: HashMap<Box<str>, u16>,
    /// Bytes of the file indexed: the end of the last complete line seen.
    pub indexed_len: u64,
    /// Lines read so far (blank ones included), for line numbers.
    lines_seen: u32,
    /// Bytes after the last newline at the last refresh.
    pub torn_bytes: u64,
    pub superseded: usize,
    /// Corruption found: the index stops before that line.
    pub error: Option<String>,
    /// Bumped on every change, so caches know when to recompute.
    pub generation: u64,
    /// (device, inode) of the indexed file.
    file_id: (u64, u64),
}

/// How much of the file one read takes while indexing (memory stays bounded by this).
const CHUNK: usize = 8 << 20;

impl Index {
    pub fn new(path: &Path) -> Index {
        Index {
            path: path.to_path_buf(),
            ..Index::default()
        }
    }

    /// Bring the index up to the file's current length, reading only what is new.
    /// Returns whether anything changed.
    pub fn refresh(&mut self) -> bool {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(_) => {
                if self.indexed_len > 0 || !self.entries.is_empty() {
                    *self = Index::new(&self.path.clone());
                    self.generation += 1;
                    return true;
                }
                return false;
            }
        };
        let id = (meta.dev(), meta.ino());
        let len = meta.len();
        if id != self.file_id || len < self.indexed_len {
            let g = self.generation;
            *self = Index::new(&self.path.clone());
            self.generation = g + 1;
            self.file_id = id;
        }
        if len == self.indexed_len + self.torn_bytes && self.error.is_none() {
            return false;
        }
        if self.error.is_some() {
            return false;
        }
        let before = (self.entries.len(), self.superseded, self.torn_bytes);
        if let Err(e) = self.read_from(len) {
            self.error = Some(e);
        }
        let changed = before != (self.entries.len(), self.superseded, self.torn_bytes)
            || self.error.is_some();
        if changed {
            self.generation += 1;
        }
        changed
    }

    fn read_from(&mut self, len: u64) -> Result<(), String> {
        let mut f = File::open(&self.path).map_err(|e| format!("{}: {e}", self.path.display()))?;
        f.seek(SeekFrom::Start(self.indexed_len))
            .map_err(|e| e.to_string())?;
        let mut buf: Vec<u8> = Vec::new();
        let mut pos = self.indexed_len;
        let mut left = len - self.indexed_len;
        while left > 0 {
            let want = (CHUNK as u64).min(left) as usize;
            let old = buf.len();
            buf.resize(old + want, 0);
            let got = f.read(&mut buf[old..]).map_err(|e| e.to_string())?;
            buf.truncate(old + got);
            if got == 0 {
                break;
            }
            left -= got as u64;
            let complete = anesbench_core::rundir::complete_len(&buf);
            if complete == 0 {
                if buf.len() > 256 << 20 {
                    return Err("a line longer than 256 MiB".into());
                }
                continue;
            }
            self.index_lines(&buf[..complete], pos)?;
            pos += complete as u64;
            self.indexed_len = pos;
            buf.drain(..complete);
        }
        self.torn_bytes = buf.len() as u64;
        Ok(())
    }

    /// Index the complete lines of `chunk`, which starts at byte `base` of the file.
    fn index_lines(&mut self, chunk: &[u8], base: u64) -> Result<(), String> {
        for (no, range) in anesbench_core::rundir::lines(chunk) {
            let line_no = self.lines_seen + no as u32;
            let raw = &chunk[range.clone()];
            let e = self.entry(raw, base + range.start as u64, line_no).map_err(|m| {
                format!(
                    "{}: line {line_no}: corrupt record: {m} (a complete line that is not a record; the viewer shows the records before it)",
                    self.path.display()
                )
            })?;
            self.push(e.0, e.1);
        }
        let newlines = memchr::memchr_iter(b'\n', chunk).count();
        self.lines_seen += newlines as u32;
        Ok(())
    }

    fn entry(&mut self, raw: &[u8], off: u64, line: u32) -> Result<(Entry, u32), String> {
        let l: Light = serde_json::from_slice(raw).map_err(|e| e.to_string())?;
        std::str::from_utf8(raw).map_err(|e| e.to_string())?;
        let [resp, reas] = string_fields(raw, [b"response", b"reasoning"]);
        let span = |s: Option<(usize, usize)>| s.map_or((0, 0), |(a, b)| (a as u32, b as u32));
        let key = ItemKey {
            lang: l.lang,
            id: l.id.as_ref().into(),
        };
        let item = match self.item_at.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.items.len() as u32;
                self.items.push(key.clone());
                self.item_at.insert(key, i);
                i
            }
        };
        let rule = self.rule_id(&l.rule);
        let mut flags = 0;
        if l.correct {
            flags |= CORRECT;
        }
        if l.finish_reason.as_deref() == Some("length") {
            flags |= TRUNCATED;
        }
        if l.error.is_some() {
            flags |= ERROR;
        }
        let byte = |c: char| if c.is_ascii() { c as u8 } else { b'?' };
        Ok((
            Entry {
                off,
                len: raw.len() as u32,
                line,
                resp: span(resp),
                reas: span(reas),
                item,
                sample: l.sample,
                level: l.level,
                nopt: l.letters.chars().count().min(255) as u8,
                gold: byte(l.gold),
                answer: l.answer.map_or(0, byte),
                rule,
                flags,
                ctok: l.completion_tokens.unwrap_or(NONE_U32),
                rtok: l.reasoning_tokens.unwrap_or(NONE_U32),
            },
            item,
        ))
    }

    fn rule_id(&mut self, rule: &str) -> u16 {
        if let Some(&r) = self.rule_at.get(rule) {
            return r;
        }
        let r = self.rules.len().min(u16::MAX as usize) as u16;
        self.rules.push(rule.into());
        self.rule_at.insert(rule.into(), r);
        r
    }

    /// The last line of an (item, sample) wins, at the position of the first.
    fn push(&mut self, e: Entry, item: u32) {
        match self.key_at.get(&(item, e.sample)) {
            Some(&at) => {
                self.entries[at as usize] = e;
                self.superseded += 1;
            }
            None => {
                self.key_at
                    .insert((item, e.sample), self.entries.len() as u32);
                self.entries.push(e);
            }
        }
    }

    pub fn item(&self, e: &Entry) -> &ItemKey {
        &self.items[e.item as usize]
    }
    pub fn rule(&self, e: &Entry) -> &str {
        &self.rules[e.rule as usize]
    }
    pub fn lang(&self, e: &Entry) -> Lang {
        self.items[e.item as usize].lang
    }

    /// Index of the item (lang, id) in [`Index::items`].
    pub fn item_id(&self, lang: Lang, id: &str) -> Option<u32> {
        self.item_at
            .get(&ItemKey {
                lang,
                id: id.into(),
            })
            .copied()
    }

    /// Entry of (lang, id, sample).
    pub fn find(&self, lang: Lang, id: &str, sample: u32) -> Option<u32> {
        let item = *self.item_at.get(&ItemKey {
            lang,
            id: id.into(),
        })?;
        self.key_at.get(&(item, sample)).copied()
    }

    /// Entries of one item, by sample.
    pub fn samples_of(&self, item: u32) -> Vec<u32> {
        let mut v: Vec<u32> = self
            .key_at
            .iter()
            .filter(|((i, _), _)| *i == item)
            .map(|(_, &e)| e)
            .collect();
        v.sort_by_key(|&e| self.entries[e as usize].sample);
        v
    }

    /// A record stand-in without text, for summaries and comparisons.
    pub fn light_record(&self, e: &Entry) -> SampleRecord {
        let key = self.item(e);
        let letters: String = anesbench_core::item::LETTERS
            .iter()
            .take(e.nopt as usize)
            .collect();
        let mut r = SampleRecord::new(&*key.id, key.lang, e.level, e.sample, e.gold(), letters);
        r.answer = e.answer();
        r.rule = self.rule(e).to_string();
        r.correct = e.correct();
        r.finish_reason = e.truncated().then(|| "length".to_string());
        r.error = e.error().then(String::new);
        r.completion_tokens = (e.ctok != NONE_U32).then_some(e.ctok);
        r.reasoning_tokens = (e.rtok != NONE_U32).then_some(e.rtok);
        r
    }

    pub fn light_records(&self) -> Vec<SampleRecord> {
        self.entries.iter().map(|e| self.light_record(e)).collect()
    }
}

/// Reads lines back from the file.
pub struct LineReader {
    file: Option<File>,
    buf: Vec<u8>,
}

impl LineReader {
    pub fn open(path: &Path) -> LineReader {
        LineReader {
            file: File::open(path).ok(),
            buf: Vec::new(),
        }
    }

    /// The bytes of an entry's line.
    pub fn line(&mut self, e: &Entry) -> Option<&[u8]> {
        let f = self.file.as_ref()?;
        self.buf.resize(e.len as usize, 0);
        f.read_exact_at(&mut self.buf, e.off).ok()?;
        Some(&self.buf)
    }

    pub fn record(&mut self, e: &Entry) -> Result<SampleRecord, String> {
        let line = self.line(e).ok_or("cannot read the line back")?;
        serde_json::from_slice(line).map_err(|err| format!("line {}: {err}", e.line))
    }
}

/// Decode a JSON string's content span.
pub fn decode_span(line: &[u8], span: (u32, u32)) -> Option<String> {
    if span == (0, 0) {
        return None;
    }
    let (a, b) = (span.0 as usize, span.1 as usize);
    let quoted = line.get(a.checked_sub(1)?..b + 1)?;
    serde_json::from_slice(quoted).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn rec(id: &str, lang: Lang, sample: u32, resp: &str) -> Vec<u8> {
        let r = SampleRecord {
            response: Some(resp.into()),
            answer: Some('B'),
            rule: "answer_is".into(),
            correct: true,
            ..SampleRecord::new(id, lang, Level::S1, sample, 'B', "ABCD")
        };
        let mut v = serde_json::to_vec(&r).unwrap();
        v.push(b'\n');
        v
    }

    #[test]
    fn grows_with_the_file_and_keeps_the_torn_tail_for_later() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("samples.jsonl");
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(&rec("1", Lang::En, 0, "The answer is B"))
            .unwrap();
        let second = rec("2", Lang::Zh, 0, "答案是 B");
        f.write_all(&second[..10]).unwrap();
        let mut ix = Index::new(&p);
        assert!(ix.refresh());
        assert_eq!(ix.entries.len(), 1);
        assert_eq!(ix.torn_bytes, 10);
        f.write_all(&second[10..]).unwrap();
        assert!(ix.refresh());
        assert_eq!(ix.entries.len(), 2);
        assert_eq!(ix.torn_bytes, 0);
        assert!(!ix.refresh());
        let mut r = LineReader::open(&p);
        let e = ix.entries[1];
        let line = r.line(&e).unwrap().to_vec();
        assert_eq!(decode_span(&line, e.resp).unwrap(), "答案是 B");
        // A retried sample replaces the first, at its position.
        f.write_all(&rec("1", Lang::En, 0, "Answer: B")).unwrap();
        assert!(ix.refresh());
        assert_eq!(ix.entries.len(), 2);
        assert_eq!(ix.superseded, 1);
        assert_eq!(ix.entries[0].line, 3);
    }

    #[test]
    fn a_corrupt_line_stops_the_index_with_its_line_number() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("samples.jsonl");
        let mut bytes = rec("1", Lang::En, 0, "x");
        bytes.extend_from_slice(b"\n{\"id\": 3}\n");
        std::fs::write(&p, bytes).unwrap();
        let mut ix = Index::new(&p);
        ix.refresh();
        assert_eq!(ix.entries.len(), 1);
        assert!(
            ix.error.as_deref().unwrap().contains("line 3"),
            "{:?}",
            ix.error
        );
    }
}
