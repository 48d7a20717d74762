//! The offset index of a large run, kept on disk between viewer sessions so that opening
//! the run again is not a cold start.
//!
//! The viewer never writes into run directories (it is read-only over them): the index
//! goes to a cache folder (`$ANESBENCH_VIEW_CACHE`, else `$XDG_CACHE_HOME/anesbench/view`,
//! else `~/.cache/anesbench/view`; `ANESBENCH_VIEW_CACHE=off` disables it), one file per
//! `samples.jsonl`, named by a hash of its real path. A cached index is used only when the
//! file is the one it was made from: same device and inode, same size, same modification
//! time; otherwise it is ignored and rebuilt. Only runs of [`MIN_BYTES`] or more are
//! cached. The file is written to a temporary name and renamed, so a reader never sees
//! half of one.

use std::io::Write as _;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anesbench_core::{Lang, Level};

use crate::index::{Entry, ItemKey, Scores, NONE_U32};

const MAGIC: &[u8; 8] = b"ABVIDX2\n";

/// Runs smaller than this index fast enough not to need a cache.
pub const MIN_BYTES: u64 = 8 << 20;

/// What identifies the file an index was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub dev: u64,
    pub ino: u64,
    pub len: u64,
    pub mtime_s: i64,
    pub mtime_ns: i64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime_s: meta.mtime(),
            mtime_ns: meta.mtime_nsec(),
        }
    }
}

/// The parts of an index that are saved (the maps are rebuilt from them).
#[derive(Debug, Default)]
pub struct Saved {
    pub entries: Vec<Entry>,
    pub items: Vec<ItemKey>,
    pub rules: Vec<Box<str>>,
    pub scores: Vec<Scores>,
    pub lines_seen: u32,
    pub superseded: usize,
}

static OVERRIDE: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

/// Use `dir` as the cache folder in this process (the benchmark keeps its cache beside
/// its synthetic run instead of in the user's cache).
pub fn set_dir(dir: PathBuf) {
    *OVERRIDE.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir);
}

/// The cache folder, or `None` when caching is off or there is no home.
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = OVERRIDE.lock().unwrap_or_else(|e| e.into_inner()).clone() {
        return Some(d);
    }
    match std::env::var_os("ANESBENCH_VIEW_CACHE") {
        Some(v) if v == "off" => return None,
        Some(v) if !v.is_empty() => return Some(PathBuf::from(v)),
        _ => {}
    }
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("anesbench").join("view"));
    }
    std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| {
        PathBuf::from(h)
            .join(".cache")
            .join("anesbench")
            .join("view")
    })
}

/// The cache file for `samples` (its real path).
pub fn file_for(dir: &Path, samples: &Path) -> PathBuf {
    use sha2::Digest;
    let real = samples
        .canonicalize()
        .unwrap_or_else(|_| samples.to_path_buf());
    let h = sha2::Sha256::digest(real.to_string_lossy().as_bytes());
    dir.join(format!("{}.idx", hex::encode(&h[..12])))
}

struct W(Vec<u8>);
impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_f64(&mut self, v: Option<f64>) {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                self.u64(x.to_bits());
            }
        }
    }
}

struct R<'a>(&'a [u8]);
impl R<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<Box<str>> {
        let n = self.u32()? as usize;
        Some(std::str::from_utf8(self.take(n)?).ok()?.into())
    }
    fn opt_f64(&mut self) -> Option<Option<f64>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(f64::from_bits(self.u64()?))),
            _ => None,
        }
    }
}

fn write_stamp(w: &mut W, s: &Stamp) {
    w.u64(s.dev);
    w.u64(s.ino);
    w.u64(s.len);
    w.u64(s.mtime_s as u64);
    w.u64(s.mtime_ns as u64);
}

/// Save an index of the whole file `stamp` describes. Errors are returned for the caller
/// to ignore: a cache that cannot be written only costs the next start its speed.
pub fn save(path: &Path, stamp: &Stamp, s: &Saved) -> std::io::Result<()> {
    let mut w = W(Vec::with_capacity(64 + s.entries.len() * 56));
    w.0.extend_from_slice(MAGIC);
    write_stamp(&mut w, stamp);
    w.u32(s.lines_seen);
    w.u64(s.superseded as u64);
    w.u32(s.items.len() as u32);
    for it in &s.items {
        w.u8(u8::from(it.lang == Lang::Zh));
        w.str(&it.id);
    }
    w.u32(s.rules.len() as u32);
    for r in &s.rules {
        w.str(r);
    }
    w.u32(s.scores.len() as u32);
    for x in &s.scores {
        w.opt_f64(x.mean_logprob);
        w.opt_f64(x.reward);
        match &x.step_rewards {
            None => w.u32(u32::MAX),
            Some(steps) => {
                w.u32(steps.len() as u32);
                for v in steps.iter() {
                    w.u64(v.to_bits());
                }
            }
        }
    }
    w.u32(s.entries.len() as u32);
    for e in &s.entries {
        w.u64(e.off);
        for v in [
            e.len, e.line, e.resp.0, e.resp.1, e.reas.0, e.reas.1, e.item, e.sample, e.ctok,
            e.rtok, e.score,
        ] {
            w.u32(v);
        }
        w.u8(Level::ALL.iter().position(|l| *l == e.level).unwrap_or(0) as u8);
        w.u8(e.nopt);
        w.u8(e.gold);
        w.u8(e.answer);
        w.u16(e.rule);
        w.u8(e.flags);
    }
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&w.0)?;
    f.sync_all().ok();
    drop(f);
    std::fs::rename(&tmp, path)
}

/// The saved index in `path`, when it was made from the file `stamp` describes and reads
/// back whole.
pub fn load(path: &Path, stamp: &Stamp) -> Option<Saved> {
    let bytes = std::fs::read(path).ok()?;
    let mut r = R(&bytes);
    if r.take(8)? != MAGIC {
        return None;
    }
    let got = Stamp {
        dev: r.u64()?,
        ino: r.u64()?,
        len: r.u64()?,
        mtime_s: r.u64()? as i64,
        mtime_ns: r.u64()? as i64,
    };
    if got != *stamp {
        return None;
    }
    let lines_seen = r.u32()?;
    let superseded = r.u64()? as usize;
    let n = r.u32()? as usize;
    let mut items = Vec::with_capacity(n.min(1 << 24));
    for _ in 0..n {
        let lang = match r.u8()? {
            0 => Lang::En,
            1 => Lang::Zh,
            _ => return None,
        };
        items.push(ItemKey { lang, id: r.str()? });
    }
    let n = r.u32()? as usize;
    let mut rules = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        rules.push(r.str()?);
    }
    let n = r.u32()? as usize;
    let mut scores = Vec::with_capacity(n.min(1 << 24));
    for _ in 0..n {
        let mean_logprob = r.opt_f64()?;
        let reward = r.opt_f64()?;
        let step_rewards = match r.u32()? {
            u32::MAX => None,
            k => Some(
                (0..k)
                    .map(|_| r.u64().map(f64::from_bits))
                    .collect::<Option<Box<[f64]>>>()?,
            ),
        };
        scores.push(Scores {
            mean_logprob,
            reward,
            step_rewards,
        });
    }
    let n = r.u32()? as usize;
    let mut entries = Vec::with_capacity(n.min(1 << 26));
    for _ in 0..n {
        let off = r.u64()?;
        let mut v = [0u32; 11];
        for x in &mut v {
            *x = r.u32()?;
        }
        let level = *Level::ALL.get(r.u8()? as usize)?;
        let (nopt, gold, answer, rule, flags) = (r.u8()?, r.u8()?, r.u8()?, r.u16()?, r.u8()?);
        if v[6] as usize >= items.len()
            || rule as usize >= rules.len()
            || (v[10] != NONE_U32 && v[10] as usize >= scores.len())
        {
            return None;
        }
        entries.push(Entry {
            off,
            len: v[0],
            line: v[1],
            resp: (v[2], v[3]),
            reas: (v[4], v[5]),
            item: v[6],
            sample: v[7],
            level,
            nopt,
            gold,
            answer,
            rule,
            flags,
            ctok: v[8],
            rtok: v[9],
            score: v[10],
        });
    }
    if !r.0.is_empty() {
        return None;
    }
    Some(Saved {
        entries,
        items,
        rules,
        scores,
        lines_seen,
        superseded,
    })
}

const SUMMARY_MAGIC: &[u8; 8] = b"ABVSUM1\n";

/// The summary file beside the index file `idx`.
pub fn summary_file_for(idx: &Path) -> PathBuf {
    idx.with_extension("sum")
}

/// Save the summary of the whole file `stamp` describes, as decided by the rule named
/// `rule` (a summary is only read back for the same file and the same rule).
pub fn save_summary(
    path: &Path,
    stamp: &Stamp,
    rule: &str,
    summary: &anesbench_core::Summary,
) -> std::io::Result<()> {
    let mut w = W(Vec::new());
    w.0.extend_from_slice(SUMMARY_MAGIC);
    write_stamp(&mut w, stamp);
    w.str(rule);
    let mut v = serde_json::to_value(summary).map_err(std::io::Error::other)?;
    floats_to_bits(&mut v);
    serde_json::to_writer(&mut w.0, &v).map_err(std::io::Error::other)?;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension(format!("sumtmp{}", std::process::id()));
    std::fs::write(&tmp, &w.0)?;
    std::fs::rename(&tmp, path)
}

/// The saved summary in `path`, when it was made from the file `stamp` describes with the
/// rule `rule`, and reads back whole.
pub fn load_summary(path: &Path, stamp: &Stamp, rule: &str) -> Option<anesbench_core::Summary> {
    let bytes = std::fs::read(path).ok()?;
    let mut r = R(&bytes);
    if r.take(8)? != SUMMARY_MAGIC {
        return None;
    }
    let got = Stamp {
        dev: r.u64()?,
        ino: r.u64()?,
        len: r.u64()?,
        mtime_s: r.u64()? as i64,
        mtime_ns: r.u64()? as i64,
    };
    if got != *stamp || &*r.str()? != rule {
        return None;
    }
    let mut v: serde_json::Value = serde_json::from_slice(r.0).ok()?;
    bits_to_floats(&mut v)?;
    serde_json::from_value(v).ok()
}

/// The key of an `f64` written as its bits: the summary reads back bit for bit (a JSON
/// decimal can come back one unit in the last place off).
const F64_KEY: &str = "$f64";

fn floats_to_bits(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let bits = n.as_f64().unwrap_or(0.0).to_bits();
            *v = serde_json::json!({ F64_KEY: format!("{bits:016x}") });
        }
        Value::Array(a) => a.iter_mut().for_each(floats_to_bits),
        Value::Object(m) => m.values_mut().for_each(floats_to_bits),
        _ => {}
    }
}

fn bits_to_floats(v: &mut serde_json::Value) -> Option<()> {
    use serde_json::Value;
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key(F64_KEY) => {
            let bits = u64::from_str_radix(m[F64_KEY].as_str()?, 16).ok()?;
            *v = Value::Number(serde_json::Number::from_f64(f64::from_bits(bits))?);
        }
        Value::Array(a) => a.iter_mut().try_for_each(bits_to_floats)?,
        Value::Object(m) => m.values_mut().try_for_each(bits_to_floats)?,
        _ => {}
    }
    Some(())
}
