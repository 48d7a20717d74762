//! Paired comparison of two runs on the items they share: accuracy difference with a
//! paired bootstrap interval, exact McNemar test and the discordant counts.
//!
//! Items are matched on `lang:id`. Each run contributes one outcome per item: by default
//! its lowest-index sample (normally sample 0); with [`ItemScoring::Majority`] the
//! majority vote over its samples' extracted answers (ties go to the answer reached first
//! in sample order; no answer never wins). An errored sample counts as wrong, as in the
//! summary.

use std::collections::BTreeMap;
use std::fmt::Write;

use anesbench_core::{Lang, Level, SampleRecord};
use serde::Serialize;

use crate::error::{ReportError, Result};
use crate::label::{pair_labels, settings_line};
use crate::rundir::RunDir;
use crate::stats::{mcnemar_exact, paired_bootstrap};
use crate::status::Completion;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemScoring {
    First,
    Majority,
}

#[derive(Debug, Clone)]
pub struct CompareOptions {
    pub resamples: u32,
    pub seed: u64,
    pub scoring: ItemScoring,
    /// Compare a run that is not complete (interrupted, errors) on the items it has;
    /// without it such a run is refused.
    pub include_incomplete: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            resamples: 10_000,
            seed: 0,
            scoring: ItemScoring::First,
            include_incomplete: false,
        }
    }
}

/// Paired statistics on one slice of the shared items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedStats {
    /// `all`, a level key or a language code.
    pub slice: String,
    pub n: usize,
    pub accuracy_a: f64,
    pub accuracy_b: f64,
    /// accuracy_a - accuracy_b.
    pub diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Right in A, wrong in B.
    pub only_a: u64,
    /// Right in B, wrong in A.
    pub only_b: u64,
    pub both: u64,
    pub neither: u64,
    pub mcnemar_p: f64,
}

/// One side of a comparison as the reader is told it.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    /// Run directory name and path.
    pub name: String,
    pub path: String,
    pub model: String,
    /// Model, run name and the settings that differ between the two runs.
    pub label: String,
    /// Every setting that tells runs apart (prompt, mode, solver, ...).
    pub settings: String,
    pub completion: Completion,
}

impl Side {
    fn of(run: &RunDir, label: String) -> Side {
        Side {
            name: run.name.clone(),
            path: run.path.display().to_string(),
            model: run.model().to_string(),
            label,
            settings: settings_line(&run.info),
            completion: run.completion(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Labels of the two runs: model, run name and the settings that differ.
    pub run_a: String,
    pub run_b: String,
    pub a: Side,
    pub b: Side,
    pub scoring: ItemScoring,
    pub resamples: u32,
    pub seed: u64,
    pub shared_items: usize,
    pub only_in_a: usize,
    pub only_in_b: usize,
    pub overall: PairedStats,
    pub by_level: Vec<PairedStats>,
    pub by_lang: Vec<PairedStats>,
}

/// (language, level, A right, B right) of one shared item.
type Pair = (Lang, Level, bool, bool);

struct Outcome {
    level: Level,
    gold: char,
    correct: bool,
}

fn outcomes(records: &[SampleRecord], scoring: ItemScoring) -> BTreeMap<(Lang, String), Outcome> {
    let mut by_item: BTreeMap<(Lang, String), Vec<&SampleRecord>> = BTreeMap::new();
    for r in records {
        by_item.entry((r.lang, r.id.clone())).or_default().push(r);
    }
    by_item
        .into_iter()
        .map(|(k, mut rs)| {
            rs.sort_by_key(|r| r.sample);
            let first = rs[0];
            let correct = match scoring {
                ItemScoring::First => first.correct && first.error.is_none(),
                ItemScoring::Majority => majority(&rs) == Some(first.gold),
            };
            (
                k,
                Outcome {
                    level: first.level,
                    gold: first.gold,
                    correct,
                },
            )
        })
        .collect()
}

/// Most frequent extracted answer; ties to the one reached first in sample order.
fn majority(rs: &[&SampleRecord]) -> Option<char> {
    let mut counts: Vec<(char, usize)> = Vec::new();
    for a in rs
        .iter()
        .filter(|r| r.error.is_none())
        .filter_map(|r| r.answer)
    {
        match counts.iter_mut().find(|(c, _)| *c == a) {
            Some(e) => e.1 += 1,
            None => counts.push((a, 1)),
        }
    }
    let best = counts.iter().map(|c| c.1).max()?;
    counts.into_iter().find(|c| c.1 == best).map(|c| c.0)
}

fn paired(
    slice: &str,
    a: &[bool],
    b: &[bool],
    opts: &CompareOptions,
    seed_offset: u64,
) -> PairedStats {
    let n = a.len();
    let (mut only_a, mut only_b, mut both, mut neither) = (0, 0, 0, 0);
    for (&x, &y) in a.iter().zip(b) {
        match (x, y) {
            (true, false) => only_a += 1,
            (false, true) => only_b += 1,
            (true, true) => both += 1,
            (false, false) => neither += 1,
        }
    }
    let acc = |v: &[bool]| v.iter().filter(|x| **x).count() as f64 / n.max(1) as f64;
    let boot = paired_bootstrap(a, b, opts.resamples, opts.seed.wrapping_add(seed_offset));
    let diff = acc(a) - acc(b);
    PairedStats {
        slice: slice.into(),
        n,
        accuracy_a: acc(a),
        accuracy_b: acc(b),
        diff,
        ci_low: boot.map_or(diff, |i| i.low),
        ci_high: boot.map_or(diff, |i| i.high),
        only_a,
        only_b,
        both,
        neither,
        mcnemar_p: mcnemar_exact(only_a, only_b),
    }
}

/// Compare two runs. Refuses runs with no shared item, or a shared item whose gold
/// answer differs (different dataset versions: the comparison would be meaningless).
pub fn compare_runs(a: &RunDir, b: &RunDir, opts: &CompareOptions) -> Result<Comparison> {
    let [label_a, label_b] = pair_labels(a, b);
    for r in [a, b] {
        let c = r.completion();
        if !c.complete && !opts.include_incomplete {
            return Err(ReportError::Compare(format!(
                "{}: not complete ({} samples, {}) (hint: --include-incomplete compares it on the items it has)",
                r.path.display(),
                c.counts(),
                c.status
            )));
        }
        if r.records.is_empty() {
            return Err(ReportError::Compare(format!(
                "{}: no samples (hint: paired comparison needs samples.jsonl, not only summary.json)",
                r.path.display()
            )));
        }
    }
    let oa = outcomes(&a.records, opts.scoring);
    let ob = outcomes(&b.records, opts.scoring);
    let mut pairs: Vec<Pair> = Vec::new();
    for (k, x) in &oa {
        let Some(y) = ob.get(k) else { continue };
        if x.gold != y.gold {
            return Err(ReportError::Compare(format!(
                "item {}:{}: gold answer {} in {} but {} in {} (hint: the runs used different dataset versions; compare runs of the same dataset)",
                k.0, k.1, x.gold, a.path.display(), y.gold, b.path.display()
            )));
        }
        pairs.push((k.0, x.level, x.correct, y.correct));
    }
    if pairs.is_empty() {
        return Err(ReportError::Compare(format!(
            "{} and {} share no item (matched on language:id; hint: were they run on the same benchmark and languages?)",
            a.path.display(),
            b.path.display()
        )));
    }
    let slice = |f: &dyn Fn(&Pair) -> bool| -> (Vec<bool>, Vec<bool>) {
        pairs.iter().filter(|p| f(p)).map(|p| (p.2, p.3)).unzip()
    };
    let (xa, xb) = slice(&|_| true);
    let overall = paired("all", &xa, &xb, opts, 0);
    let by_level = Level::ALL
        .into_iter()
        .filter_map(|l| {
            let (xa, xb) = slice(&|p| p.1 == l);
            (!xa.is_empty()).then(|| paired(l.key(), &xa, &xb, opts, u64::from(l.code())))
        })
        .collect();
    let by_lang = Lang::ALL
        .into_iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let (xa, xb) = slice(&|p| p.0 == l);
            (!xa.is_empty()).then(|| paired(l.code(), &xa, &xb, opts, 10 + i as u64))
        })
        .collect();
    Ok(Comparison {
        a: Side::of(a, label_a.clone()),
        b: Side::of(b, label_b.clone()),
        run_a: label_a,
        run_b: label_b,
        scoring: opts.scoring,
        resamples: opts.resamples,
        seed: opts.seed,
        shared_items: pairs.len(),
        only_in_a: oa.len() - pairs.len(),
        only_in_b: ob.len() - pairs.len(),
        overall,
        by_level,
        by_lang,
    })
}

impl Comparison {
    /// A plain-text table for the terminal.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        for (k, s) in [("A", &self.a), ("B", &self.b)] {
            let _ = writeln!(
                o,
                "{k}: {}\n   run {} ({}); {} samples, {}; {}",
                s.label,
                s.name,
                s.path,
                s.completion.counts(),
                s.completion.status,
                s.settings
            );
        }
        let _ = writeln!(
            o,
            "{} shared items ({} only in A, {} only in B); per item: {}; paired bootstrap {} resamples, seed {}\n",
            self.shared_items,
            self.only_in_a,
            self.only_in_b,
            match self.scoring {
                ItemScoring::First => "first sample",
                ItemScoring::Majority => "majority vote over samples",
            },
            self.resamples,
            self.seed
        );
        let _ = writeln!(
            o,
            "{:<10} {:>6} {:>7} {:>7} {:>7} {:>17} {:>7} {:>7} {:>10}",
            "slice",
            "n",
            "acc A%",
            "acc B%",
            "A-B pt",
            "95% CI (pt)",
            "A only",
            "B only",
            "McNemar p"
        );
        for s in std::iter::once(&self.overall)
            .chain(&self.by_level)
            .chain(&self.by_lang)
        {
            let _ = writeln!(
                o,
                "{:<10} {:>6} {:>7.1} {:>7.1} {:>+7.1} {:>17} {:>7} {:>7} {:>10}",
                s.slice,
                s.n,
                s.accuracy_a * 100.0,
                s.accuracy_b * 100.0,
                s.diff * 100.0,
                format!("[{:+.1}, {:+.1}]", s.ci_low * 100.0, s.ci_high * 100.0),
                s.only_a,
                s.only_b,
                format_p(s.mcnemar_p)
            );
        }
        o
    }
}

fn format_p(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}
