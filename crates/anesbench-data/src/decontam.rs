//! Benchmark contamination: which benchmark questions appear in training data.
//!
//! The benchmark's question n-grams are held in a hash map (u64 -> items); training files
//! are streamed in batches whose rows are scanned in parallel (rayon). An item's overlap
//! ratio is the fraction of its distinct n-grams found anywhere in the training data; a
//! row "offends" when it alone holds at least `threshold` of some item's n-grams, and
//! `--write-clean` copies the training files without those rows.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use anesbench_core::item::Item;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::DataError;
use crate::ngram;
use crate::progress::Progress;
use crate::reader::{self, Cell, ReadOptions, Row, RowBatch, Selection};

mod clean;

/// Keys are already mixed hashes: hash them as they are.
#[derive(Default)]
pub struct IdHasher(u64);
impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}
type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// The benchmark's n-grams.
pub struct BenchIndex {
    pub n: usize,
    pub items: Vec<Item>,
    /// Distinct n-grams per item (1 for an item checked by exact match; 0: too short to
    /// check at all).
    pub totals: Vec<u32>,
    map: IdMap<Vec<u32>>,
    /// Items of fewer than `n` but at least [`MIN_EXACT_TOKENS`] tokens, by the hash of
    /// their whole normalised token sequence: a row holding that sequence is a verbatim
    /// copy of the question.
    exact: IdMap<Vec<u32>>,
    /// The token counts present in `exact`.
    exact_lens: Vec<usize>,
}

/// Items shorter than this are not checked: a 3-token question ("What is MAC?") turns up
/// in any medical text.
pub const MIN_EXACT_TOKENS: usize = 5;

impl BenchIndex {
    pub fn new(items: Vec<Item>, n: usize) -> Self {
        let mut map: IdMap<Vec<u32>> = IdMap::default();
        let mut totals = Vec::with_capacity(items.len());
        let mut exact: IdMap<Vec<u32>> = IdMap::default();
        let mut exact_lens = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let k = ngram::token_count(&item.question);
            if k < n && k >= MIN_EXACT_TOKENS {
                for g in ngram::ngrams(&item.question, k) {
                    exact.entry(g).or_default().push(i as u32);
                }
                if !exact_lens.contains(&k) {
                    exact_lens.push(k);
                }
                totals.push(1);
                continue;
            }
            let mut grams = ngram::ngrams(&item.question, n);
            grams.sort_unstable();
            grams.dedup();
            totals.push(grams.len() as u32);
            for g in grams {
                map.entry(g).or_default().push(i as u32);
            }
        }
        BenchIndex {
            n,
            items,
            totals,
            map,
            exact,
            exact_lens,
        }
    }

    /// Items hit by one row: `(item, distinct n-grams of the item found in the row)`.
    pub fn scan_texts<'a>(&self, texts: impl Iterator<Item = &'a str>) -> Vec<(u32, Vec<u64>)> {
        let mut hits: Vec<(u32, u64)> = Vec::new();
        for t in texts {
            ngram::for_each_ngram(t, self.n, |g| {
                if let Some(items) = self.map.get(&g) {
                    hits.extend(items.iter().map(|&i| (i, g)));
                }
            });
            for &k in &self.exact_lens {
                ngram::for_each_ngram(t, k, |g| {
                    if let Some(items) = self.exact.get(&g) {
                        hits.extend(items.iter().map(|&i| (i, g)));
                    }
                });
            }
        }
        if hits.is_empty() {
            return Vec::new();
        }
        hits.sort_unstable();
        hits.dedup();
        let mut out: Vec<(u32, Vec<u64>)> = Vec::new();
        for (i, g) in hits {
            match out.last_mut() {
                Some((j, gs)) if *j == i => gs.push(g),
                _ => out.push((i, vec![g])),
            }
        }
        out
    }

    pub fn ratio(&self, item: u32, found: usize) -> f64 {
        match self.totals[item as usize] {
            0 => 0.0,
            t => found as f64 / t as f64,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DecontamOptions {
    pub train: Vec<PathBuf>,
    pub threshold: f64,
    pub write_clean: Option<PathBuf>,
    pub batch_rows: usize,
    pub quiet: bool,
    /// Places listed per flagged item.
    pub max_locations: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Location {
    pub file: PathBuf,
    pub row: u64,
    /// Fraction of the item's n-grams in this row alone.
    pub ratio: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Flagged {
    pub id: String,
    pub lang: String,
    pub ratio: f64,
    pub ngrams: u32,
    pub question: String,
    pub rows_with_overlap: u64,
    pub found_in: Vec<Location>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecontamReport {
    pub n: usize,
    pub threshold: f64,
    pub items: usize,
    /// Items with fewer than [`MIN_EXACT_TOKENS`] tokens: not checked.
    pub items_too_short: usize,
    /// Items shorter than `n` tokens, checked by exact match of their normalised text.
    pub items_exact_match: usize,
    /// Items with any n-gram in the training data, flagged or not.
    pub items_with_overlap: usize,
    pub train_files: Vec<PathBuf>,
    pub rows_scanned: u64,
    pub bytes_scanned: u64,
    pub seconds: f64,
    pub rows_dropped: u64,
    pub clean_dir: Option<PathBuf>,
    pub flagged: Vec<Flagged>,
}

#[derive(Default)]
struct ItemHits {
    grams: HashSet<u64>,
    rows: u64,
    locations: Vec<Location>,
}

enum Msg {
    Batch(usize, RowBatch),
    FileDone(usize),
    Done(Result<(), DataError>),
}

fn texts(row: &Row) -> impl Iterator<Item = &str> {
    let cells: &[Cell] = match row {
        Row::Cells(c) => c,
        Row::Malformed(_) => &[],
    };
    cells.iter().filter_map(Cell::as_text)
}

pub fn scan(index: &BenchIndex, opts: &DecontamOptions) -> Result<DecontamReport, DataError> {
    let start = std::time::Instant::now();
    let files = crate::split::expand_inputs(&opts.train)?;
    if let Some(dir) = &opts.write_clean {
        std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    }
    let total: Option<u64> = files.iter().map(|p| reader::parquet_row_count(p)).sum();
    let mut progress = Progress::new("decontam", total, opts.quiet);
    let read_opts = ReadOptions {
        batch_rows: opts.batch_rows,
        keep_raw: opts.write_clean.is_some(),
    };
    let mut per_item: HashMap<u32, ItemHits> = HashMap::new();
    let (mut rows_scanned, mut bytes_scanned, mut rows_dropped) = (0u64, 0u64, 0u64);
    let (tx, rx) = sync_channel::<Msg>(2);
    let result = std::thread::scope(|s| -> Result<(), DataError> {
        s.spawn(|| {
            let tx = tx;
            let mut res = Ok(());
            for (i, p) in files.iter().enumerate() {
                let r = reader::read_file(p, &Selection::AllText, &read_opts, &mut |b| {
                    tx.send(Msg::Batch(i, b))
                        .map_err(|_| DataError::Other("scanner stopped".into()))
                });
                if let Err(e) = r {
                    res = Err(e);
                    break;
                }
                let _ = tx.send(Msg::FileDone(i));
            }
            let _ = tx.send(Msg::Done(res));
        });
        let mut cleaner: Option<clean::CleanWriter> = None;
        for msg in rx.iter() {
            match msg {
                Msg::Batch(fi, batch) => {
                    rows_scanned += batch.rows.len() as u64;
                    bytes_scanned += batch.bytes;
                    progress.inc(batch.rows.len() as u64, batch.bytes);
                    let hits: Vec<Vec<(u32, Vec<u64>)>> = batch
                        .rows
                        .par_iter()
                        .map(|r| index.scan_texts(texts(r)))
                        .collect();
                    let mut keep = Vec::with_capacity(hits.len());
                    for (k, row_hits) in hits.into_iter().enumerate() {
                        let row = batch.first_row + k as u64;
                        let mut offends = false;
                        for (item, grams) in row_hits {
                            let ratio = index.ratio(item, grams.len());
                            offends |= ratio >= opts.threshold && index.totals[item as usize] > 0;
                            let h = per_item.entry(item).or_default();
                            h.rows += 1;
                            h.grams.extend(grams);
                            if h.locations.len() < opts.max_locations.max(1) * 4 {
                                h.locations.push(Location {
                                    file: files[fi].clone(),
                                    row,
                                    ratio,
                                });
                            }
                        }
                        rows_dropped += offends as u64;
                        keep.push(!offends);
                    }
                    if let Some(dir) = &opts.write_clean {
                        if cleaner.as_ref().is_none_or(|c| c.file_index() != fi) {
                            cleaner = Some(clean::CleanWriter::create(fi, &files[fi], dir)?);
                        }
                        cleaner
                            .as_mut()
                            .expect("created above")
                            .write(&batch, &keep)?;
                    }
                }
                Msg::FileDone(fi) => {
                    if let Some(dir) = &opts.write_clean {
                        match cleaner.take() {
                            Some(c) if c.file_index() == fi => c.finish()?,
                            // No rows at all: the clean copy is the file itself.
                            _ => clean::copy_unchanged(&files[fi], dir)?,
                        }
                    }
                }
                Msg::Done(r) => return r,
            }
        }
        Ok(())
    });
    progress.finish();
    result?;
    let mut flagged: Vec<Flagged> = per_item
        .iter()
        .filter_map(|(&item, h)| {
            let ratio = index.ratio(item, h.grams.len());
            (ratio >= opts.threshold && ratio > 0.0).then(|| {
                let it = &index.items[item as usize];
                let mut found_in = h.locations.clone();
                found_in.sort_by(|a, b| b.ratio.total_cmp(&a.ratio).then(a.row.cmp(&b.row)));
                found_in.truncate(opts.max_locations.max(1));
                Flagged {
                    id: it.id.clone(),
                    lang: it.lang.code().into(),
                    ratio,
                    ngrams: index.totals[item as usize],
                    question: it.question.chars().take(200).collect(),
                    rows_with_overlap: h.rows,
                    found_in,
                }
            })
        })
        .collect();
    flagged.sort_by(|a, b| {
        b.ratio
            .total_cmp(&a.ratio)
            .then_with(|| (&a.lang, &a.id).cmp(&(&b.lang, &b.id)))
    });
    Ok(DecontamReport {
        n: index.n,
        threshold: opts.threshold,
        items: index.items.len(),
        items_too_short: index.totals.iter().filter(|&&t| t == 0).count(),
        items_exact_match: index
            .items
            .iter()
            .filter(|it| ngram::token_count(&it.question) < index.n)
            .count()
            - index.totals.iter().filter(|&&t| t == 0).count(),
        items_with_overlap: per_item.len(),
        train_files: files,
        rows_scanned,
        bytes_scanned,
        seconds: start.elapsed().as_secs_f64(),
        rows_dropped,
        clean_dir: opts.write_clean.clone(),
        flagged,
    })
}

/// Name of the clean copy of `file` in `dir`.
pub fn clean_path(file: &Path, dir: &Path) -> PathBuf {
    dir.join(file.file_name().unwrap_or_default())
}
