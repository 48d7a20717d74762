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

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use anesbench_core::{Lang, Level, SampleRecord};

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
    /// Index into [`Index::scores`], or [`NONE_U32`] when the record has no score (a
    /// plain run's records never do).
    pub score: u32,
}

/// The numbers a multi-candidate run's decision rule reads ([`anesbench_core::vote`]):
/// kept apart from [`Entry`] so that plain runs pay nothing for them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub mean_logprob: Option<f64>,
    pub reward: Option<f64>,
    pub step_rewards: Option<Box<[f64]>>,
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

/// The small fields of a record, read from their value slices only: the line is walked
/// once ([`crate::scan::for_each_field`], memchr over strings) and the big strings
/// (response, reasoning) are never decoded.
#[derive(Default, Clone)]
struct Light {
    id: Option<String>,
    lang: Option<Lang>,
    level: Option<Level>,
    sample: Option<u32>,
    gold: Option<char>,
    nopt: Option<usize>,
    answer: Option<char>,
    rule: Option<String>,
    correct: Option<bool>,
    truncated: bool,
    ctok: Option<u32>,
    rtok: Option<u32>,
    error: bool,
    resp: (u32, u32),
    reas: (u32, u32),
    scores: Scores,
}

fn parse_light(raw: &[u8]) -> Result<Light, String> {
    let mut l = Light::default();
    let mut bad: Option<String> = None;
    let ok = crate::scan::for_each_field(raw, |key, a, b| {
        let v = &raw[a..b];
        let null = v == b"null";
        let mut field = |name: &str, r: Result<(), serde_json::Error>| {
            if let Err(e) = r {
                bad.get_or_insert_with(|| format!("field `{name}`: {e}"));
            }
        };
        match key {
            b"id" => field("id", serde_json::from_slice(v).map(|x| l.id = Some(x))),
            b"lang" => field("lang", serde_json::from_slice(v).map(|x| l.lang = Some(x))),
            b"level" => field(
                "level",
                serde_json::from_slice(v).map(|x| l.level = Some(x)),
            ),
            b"sample" => field(
                "sample",
                serde_json::from_slice(v).map(|x| l.sample = Some(x)),
            ),
            b"gold" => field("gold", serde_json::from_slice(v).map(|x| l.gold = Some(x))),
            b"letters" => field(
                "letters",
                serde_json::from_slice::<String>(v).map(|x| l.nopt = Some(x.chars().count())),
            ),
            b"answer" => field("answer", serde_json::from_slice(v).map(|x| l.answer = x)),
            b"rule" => field("rule", serde_json::from_slice(v).map(|x| l.rule = Some(x))),
            b"correct" => field(
                "correct",
                serde_json::from_slice(v).map(|x| l.correct = Some(x)),
            ),
            b"finish_reason" => l.truncated = v == b"\"length\"",
            b"completion_tokens" if !null => field(
                "completion_tokens",
                serde_json::from_slice(v).map(|x| l.ctok = Some(x)),
            ),
            b"reasoning_tokens" if !null => field(
                "reasoning_tokens",
                serde_json::from_slice(v).map(|x| l.rtok = Some(x)),
            ),
            b"error" => l.error = !null,
            b"mean_logprob" if !null => field(
                "mean_logprob",
                serde_json::from_slice(v).map(|x| l.scores.mean_logprob = Some(x)),
            ),
            b"reward" if !null => field(
                "reward",
                serde_json::from_slice(v).map(|x| l.scores.reward = Some(x)),
            ),
            b"step_rewards" if !null => field(
                "step_rewards",
                serde_json::from_slice::<Vec<f64>>(v)
                    .map(|x| l.scores.step_rewards = Some(x.into())),
            ),
            b"response" if v.first() == Some(&b'"') => l.resp = (a as u32 + 1, b as u32 - 1),
            b"reasoning" if v.first() == Some(&b'"') => l.reas = (a as u32 + 1, b as u32 - 1),
            _ => {}
        }
    });
    if !ok {
        return Err("not a JSON object".into());
    }
    if let Some(e) = bad {
        return Err(e);
    }
    for (name, missing) in [
        ("id", l.id.is_none()),
        ("lang", l.lang.is_none()),
        ("level", l.level.is_none()),
        ("sample", l.sample.is_none()),
        ("gold", l.gold.is_none()),
        ("letters", l.nopt.is_none()),
        ("rule", l.rule.is_none()),
        ("correct", l.correct.is_none()),
    ] {
        if missing {
            return Err(format!("missing field `{name}`"));
        }
    }
    Ok(l)
}

/// [`parse_light`] of every line (UTF-8 checked first), split over the available cores
/// when there are enough lines to be worth it.
fn parse_parallel(
    chunk: &[u8],
    lines: &[(usize, std::ops::Range<usize>)],
) -> Vec<Result<Light, String>> {
    let one = |(_, r): &(usize, std::ops::Range<usize>)| {
        let raw = &chunk[r.clone()];
        std::str::from_utf8(raw).map_err(|e| e.to_string())?;
        parse_light(raw)
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16);
    if threads < 2 || lines.len() < 2048 {
        return lines.iter().map(one).collect();
    }
    let per = lines.len().div_ceil(threads);
    std::thread::scope(|sc| {
        let parts: Vec<_> = lines
            .chunks(per)
            .map(|part| {
                (
                    part.len(),
                    sc.spawn(move || part.iter().map(one).collect::<Vec<_>>()),
                )
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|(n, h)| {
                h.join()
                    .unwrap_or_else(|_| vec![Err("indexing this line panicked".into()); n])
            })
            .collect()
    })
}

/// The non-blank lines of `complete` (which ends in a newline or is empty): 1-based line
/// number and byte range, exactly as [`anesbench_core::rundir::lines`] gives them (a test
/// holds the two to the same answer), found with `memchr`.
pub fn lines(complete: &[u8]) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
    let mut start = 0;
    let mut no = 0;
    std::iter::from_fn(move || loop {
        if start >= complete.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &complete[start..]).map_or(complete.len(), |i| start + i);
        no += 1;
        let range = start..end;
        start = end + 1;
        if !complete[range.clone()].iter().all(u8::is_ascii_whitespace) {
            return Some((no, range));
        }
    })
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
    /// Scores of the records that have one, by [`Entry::score`].
    pub scores: Vec<Scores>,
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
    /// Bytes of the file read by indexing since the viewer started (a running run's
    /// refreshes add only what was appended; the live view's tests hold it to that).
    pub bytes_read: u64,
    /// Where this index came from on its first refresh: `Some(true)` from the on-disk
    /// cache ([`crate::index_cache`]), `Some(false)` by reading the file.
    pub from_cache: Option<bool>,
    /// Folder of the on-disk index cache (`None`: off).
    pub cache_dir: Option<PathBuf>,
    /// Files smaller than this are not cached.
    pub cache_min_bytes: u64,
    /// The stamp of the file as the on-disk cache holds it (loaded from it or saved to
    /// it); while the index still ends where that file ended, what is saved beside the
    /// cache (the summary) is valid for it.
    cache_stamp: Option<crate::index_cache::Stamp>,
}

/// How much of the file one read takes while indexing (memory stays bounded by this).
const CHUNK: usize = 8 << 20;

impl Index {
    pub fn new(path: &Path) -> Index {
        Index {
            path: path.to_path_buf(),
            // Unit tests choose their own folder.
            cache_dir: if cfg!(test) {
                None
            } else {
                crate::index_cache::dir()
            },
            cache_min_bytes: crate::index_cache::MIN_BYTES,
            ..Index::default()
        }
    }

    /// Start again from an empty index (the file went, shrank or was replaced), keeping
    /// the settings and the counters.
    fn reset(&mut self) {
        let fresh = Index {
            path: self.path.clone(),
            generation: self.generation + 1,
            bytes_read: self.bytes_read,
            cache_dir: self.cache_dir.take(),
            cache_min_bytes: self.cache_min_bytes,
            ..Index::default()
        };
        *self = fresh;
    }

    /// Bring the index up to the file's current length, reading only what is new.
    /// Returns whether anything changed.
    pub fn refresh(&mut self) -> bool {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(_) => {
                if self.indexed_len > 0 || !self.entries.is_empty() {
                    self.reset();
                    return true;
                }
                return false;
            }
        };
        let id = (meta.dev(), meta.ino());
        let len = meta.len();
        if id != self.file_id || len < self.indexed_len {
            self.reset();
            self.file_id = id;
        }
        if len == self.indexed_len + self.torn_bytes && self.error.is_none() {
            return false;
        }
        if self.error.is_some() {
            return false;
        }
        let cold = self.indexed_len == 0 && self.entries.is_empty();
        if cold && self.from_cache.is_none() {
            if self.load_cached(&meta) {
                self.generation += 1;
                return true;
            }
            self.from_cache = Some(false);
        }
        let before = (self.entries.len(), self.superseded, self.torn_bytes);
        if let Err(e) = self.read_from(len) {
            self.error = Some(e);
        }
        if cold && self.error.is_none() && self.torn_bytes == 0 && len >= self.cache_min_bytes {
            self.save_cached(&meta);
        }
        let changed = before != (self.entries.len(), self.superseded, self.torn_bytes)
            || self.error.is_some();
        if changed {
            self.generation += 1;
        }
        changed
    }

    /// Take the index from the on-disk cache when it was made from this very file.
    fn load_cached(&mut self, meta: &std::fs::Metadata) -> bool {
        use crate::index_cache as c;
        if meta.len() < self.cache_min_bytes {
            return false;
        }
        let Some(dir) = &self.cache_dir else {
            return false;
        };
        let stamp = c::Stamp::of(meta);
        let Some(saved) = c::load(&c::file_for(dir, &self.path), &stamp) else {
            return false;
        };
        self.item_at = saved
            .items
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), i as u32))
            .collect();
        self.rule_at = saved
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.clone(), i as u16))
            .collect();
        self.key_at = saved
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.item, e.sample), i as u32))
            .collect();
        self.entries = saved.entries;
        self.items = saved.items;
        self.rules = saved.rules;
        self.scores = saved.scores;
        self.lines_seen = saved.lines_seen;
        self.superseded = saved.superseded;
        self.indexed_len = stamp.len;
        self.torn_bytes = 0;
        self.file_id = (stamp.dev, stamp.ino);
        self.from_cache = Some(true);
        self.cache_stamp = Some(stamp);
        true
    }

    fn save_cached(&mut self, meta: &std::fs::Metadata) {
        use crate::index_cache as c;
        let Some(dir) = &self.cache_dir else { return };
        // The file may have grown while it was read: save only an index of all of it.
        let now = std::fs::metadata(&self.path).ok();
        let stamp = c::Stamp::of(meta);
        if now.as_ref().map(c::Stamp::of) != Some(stamp) || stamp.len != self.indexed_len {
            return;
        }
        let saved = c::Saved {
            entries: self.entries.clone(),
            items: self.items.clone(),
            rules: self.rules.clone(),
            scores: self.scores.clone(),
            lines_seen: self.lines_seen,
            superseded: self.superseded,
        };
        if c::save(&c::file_for(dir, &self.path), &stamp, &saved).is_ok() {
            self.cache_stamp = Some(stamp);
        }
    }

    /// The cache file and stamp that a summary of this index may be saved with or read
    /// from: only while the index covers exactly the file the on-disk index was made of.
    fn summary_slot(&self) -> Option<(PathBuf, crate::index_cache::Stamp)> {
        let stamp = self.cache_stamp?;
        let dir = self.cache_dir.as_ref()?;
        (stamp.len == self.indexed_len && self.torn_bytes == 0 && self.error.is_none()).then(|| {
            let idx = crate::index_cache::file_for(dir, &self.path);
            (crate::index_cache::summary_file_for(&idx), stamp)
        })
    }

    /// The summary saved beside the on-disk index for this file and decision rule.
    pub fn cached_summary(&self, rule: &str) -> Option<anesbench_core::Summary> {
        let (path, stamp) = self.summary_slot()?;
        crate::index_cache::load_summary(&path, &stamp, rule)
    }

    /// Save a summary of this index beside the on-disk index (nothing when the index is
    /// not cached, or has grown past the cached file).
    pub fn save_summary(&self, rule: &str, summary: &anesbench_core::Summary) {
        if let Some((path, stamp)) = self.summary_slot() {
            let _ = crate::index_cache::save_summary(&path, &stamp, rule, summary);
        }
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
            self.bytes_read += got as u64;
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
        let all: Vec<(usize, std::ops::Range<usize>)> = lines(chunk).collect();
        // The per-line work (UTF-8 check, walking the line, the small fields) runs on
        // every core; interning ids and rules stays in order, on this thread.
        let parsed = parse_parallel(chunk, &all);
        for ((no, range), light) in all.into_iter().zip(parsed) {
            let line_no = self.lines_seen + no as u32;
            let e = light
                .map(|l| self.entry(l, base + range.start as u64, range.len(), line_no))
                .map_err(|m| {
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

    fn entry(&mut self, l: Light, off: u64, len: usize, line: u32) -> (Entry, u32) {
        let key = ItemKey {
            lang: l.lang.unwrap_or(Lang::En),
            id: l.id.as_deref().unwrap_or("").into(),
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
        let rule = self.rule_id(l.rule.as_deref().unwrap_or(""));
        let mut flags = 0;
        if l.correct == Some(true) {
            flags |= CORRECT;
        }
        if l.truncated {
            flags |= TRUNCATED;
        }
        if l.error {
            flags |= ERROR;
        }
        let byte = |c: char| if c.is_ascii() { c as u8 } else { b'?' };
        let score = if l.scores == Scores::default() {
            NONE_U32
        } else {
            self.scores.push(l.scores);
            self.scores.len() as u32 - 1
        };
        (
            Entry {
                off,
                len: len as u32,
                line,
                resp: l.resp,
                reas: l.reas,
                item,
                sample: l.sample.unwrap_or(0),
                level: l.level.unwrap_or(Level::S1),
                nopt: l.nopt.unwrap_or(0).min(255) as u8,
                gold: l.gold.map_or(b'?', byte),
                answer: l.answer.map_or(0, byte),
                rule,
                flags,
                ctok: l.ctok.unwrap_or(NONE_U32),
                rtok: l.rtok.unwrap_or(NONE_U32),
                score,
            },
            item,
        )
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
        if let Some(x) = self.scores.get(e.score as usize) {
            r.mean_logprob = x.mean_logprob;
            r.reward = x.reward;
            r.step_rewards = x.step_rewards.as_deref().map(<[f64]>::to_vec);
        }
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
    fn a_cached_index_is_used_only_for_the_same_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("samples.jsonl");
        let mut bytes = Vec::new();
        for i in 0..200 {
            bytes.extend(rec(&i.to_string(), Lang::En, 0, "Answer: B"));
        }
        std::fs::write(&p, &bytes).unwrap();
        let cache = d.path().join("cache");
        let open = |min: u64| {
            let mut ix = Index::new(&p);
            ix.cache_dir = Some(cache.clone());
            ix.cache_min_bytes = min;
            ix.refresh();
            ix
        };
        // Below the size limit nothing is cached.
        assert_eq!(open(u64::MAX).from_cache, Some(false));
        assert!(!cache.exists());
        let first = open(0);
        assert_eq!(
            (first.from_cache, first.bytes_read),
            (Some(false), bytes.len() as u64)
        );
        // Opened again: from the cache, nothing of the file read, the same index.
        let mut again = open(0);
        assert_eq!((again.from_cache, again.bytes_read), (Some(true), 0));
        assert_eq!(again.entries.len(), 200);
        assert_eq!(again.item(&again.entries[7]).id.as_ref(), "7");
        assert_eq!(again.entries[7].off, first.entries[7].off);
        assert_eq!(again.entries[7].resp, first.entries[7].resp);
        assert_eq!(again.find(Lang::En, "9", 0), Some(9));
        // Lines appended after it: only they are read.
        let more = rec("new", Lang::Zh, 0, "答案：B");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(&more)
            .unwrap();
        assert!(again.refresh());
        assert_eq!(
            (again.entries.len(), again.bytes_read),
            (201, more.len() as u64)
        );
        // The grown file no longer matches the cache (size and mtime): rebuilt, and the
        // cache is written again for the new file.
        let grown = open(0);
        assert_eq!((grown.from_cache, grown.entries.len()), (Some(false), 201));
        assert_eq!(open(0).from_cache, Some(true));
        // A damaged cache file is ignored, not half-read.
        let file = crate::index_cache::file_for(&cache, &p);
        let whole = std::fs::read(&file).unwrap();
        std::fs::write(&file, &whole[..whole.len() - 3]).unwrap();
        let damaged = open(0);
        assert_eq!(
            (damaged.from_cache, damaged.entries.len()),
            (Some(false), 201)
        );
    }

    #[test]
    fn lines_agree_with_the_core_reader() {
        let text: &[u8] = b"{\"a\":1}\n\n  \n{\"b\":2}\r\n\t\n{}\n";
        let ours: Vec<_> = lines(text).collect();
        let core: Vec<_> = anesbench_core::rundir::lines(text).collect();
        assert_eq!(ours, core);
        assert_eq!(lines(b"").count(), 0);
    }

    #[test]
    fn the_light_parse_agrees_with_the_record() {
        let line = rec("7", Lang::Zh, 2, "答案：\"B\"");
        let l = parse_light(&line[..line.len() - 1]).unwrap();
        assert_eq!(
            (l.id.as_deref(), l.lang, l.sample, l.answer),
            (Some("7"), Some(Lang::Zh), Some(2), Some('B'))
        );
        assert!(parse_light(b"{\"id\": \"1\", \"lang\": \"fr\"}").is_err());
        assert!(parse_light(b"[1,2]").is_err());
        assert!(parse_light(b"{\"id\": \"1\"").is_err());
    }

    #[test]
    fn a_parallel_index_keeps_the_order_and_the_line_of_a_corrupt_record() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("samples.jsonl");
        let mut bytes = Vec::new();
        for i in 0..6000 {
            if i == 4500 {
                bytes.extend_from_slice(b"{\"id\": 3}\n");
            }
            bytes.extend(rec(&i.to_string(), Lang::En, 0, "Answer: B"));
        }
        std::fs::write(&p, bytes).unwrap();
        let mut ix = Index::new(&p);
        ix.refresh();
        assert_eq!(ix.entries.len(), 4500);
        assert!((0..4500).all(|i| ix.item(&ix.entries[i]).id.as_ref() == i.to_string()));
        assert!(
            ix.error.as_deref().unwrap().contains("line 4501"),
            "{:?}",
            ix.error
        );
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
