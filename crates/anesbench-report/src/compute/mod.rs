//! Accuracy against compute: runs of different strategies on the same items, set side by
//! side per level x language with what each spent.
//!
//! For every run and slice (English / Chinese / all x System 1 / 1.x / 2 / all), over the
//! run's **complete** items (every candidate in, none errored):
//! - accuracy of the per-item decision ([`Aggregation::for_solver`] of the run's solver:
//!   majority for `sc:N`, best likelihood for `bon:N:likelihood`, the one candidate else);
//! - where the records carry `compute` (Best-of-N with a reward model, `beam`, `dvts`:
//!   what the item cost, pruned branches and reward calls included), its sums: generated
//!   tokens, policy requests, reward-model calls and wall time;
//! - otherwise generated tokens per item: the sum of its candidates' `completion_tokens`
//!   (unknown when a candidate has no count); requests per item: the sum of `1 / batch`
//!   over its candidates; wall time per item: the sum of `latency_ms / batch`, in seconds
//!   (the time the item's calls took, not the run's elapsed time divided by the items);
//!   no reward calls.
//!
//! Each run is paired with the greedy run on the items both completed: the difference
//! in accuracy with a paired bootstrap interval ([`RESAMPLES`] resamples, seed [`SEED`],
//! the seed offset by the slice so slices do not share a stream), the exact McNemar
//! p-value, and `significant` when the 95% interval excludes zero. Each run that is not
//! itself Best-of-N is also paired with the Best-of-N run at matched compute: the one
//! with the same number of candidates per item, else the one nearest in generated
//! tokens per item within a factor of two.

mod figure;
pub mod published;
mod render;

use std::collections::BTreeMap;

use anesbench_core::vote::Aggregation;
use anesbench_core::{Lang, Level, SampleRecord};
use serde::Serialize;

pub use figure::{render_svg, FIGURE_ID, FIGURE_TITLE};
pub use published::{published_strategies, PublishedStrategy, STRATEGIES_SOURCE};
pub use render::{html, markdown};

use crate::rundir::RunDir;
use crate::stats::{mcnemar_exact, paired_bootstrap};

/// Bootstrap resamples of every paired interval.
pub const RESAMPLES: u32 = 10_000;
/// Bootstrap seed (slice `k` uses `SEED + k`).
pub const SEED: u64 = 0;

/// The section, present when the runs shown use more than one strategy.
#[derive(Debug, Clone, Serialize)]
pub struct ComputeReport {
    pub resamples: u32,
    pub seed: u64,
    /// Label of the greedy run the intervals are against, if one is shown.
    pub baseline: Option<String>,
    pub runs: Vec<ComputeRun>,
    /// `figures/compute.svg` once written; else why not.
    pub figure: Option<String>,
    /// The drawn figure, for the HTML report to inline.
    #[serde(skip)]
    pub svg: Option<String>,
    pub figure_skipped: Option<String>,
    pub published: Vec<PublishedStrategy>,
    pub published_source: String,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComputeRun {
    pub label: String,
    /// The manifest's solver (`greedy`, `self-consistency:8`, ...).
    pub solver: String,
    pub samples_per_item: u32,
    pub rows: Vec<ComputeRow>,
}

/// One run on one slice.
#[derive(Debug, Clone, Serialize)]
pub struct ComputeRow {
    /// `en`, `zh` or `all`.
    pub lang: String,
    /// A level key or `all`.
    pub level: String,
    /// Complete items in the slice.
    pub items: usize,
    pub accuracy: f64,
    pub tokens_per_item: Option<f64>,
    pub requests_per_item: f64,
    /// Reward-model calls per item (0 without a reward model).
    pub reward_calls_per_item: f64,
    pub wall_s_per_item: f64,
    pub vs_greedy: Option<Paired>,
    pub vs_bon: Option<Paired>,
}

/// This run minus another on the items both completed in the slice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paired {
    /// Label of the other run.
    pub against: String,
    pub items: usize,
    pub diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub mcnemar_p: f64,
    /// The 95% interval excludes zero.
    pub significant: bool,
}

/// What one complete item of a run decided and spent.
#[derive(Debug, Clone, Copy)]
struct ItemOutcome {
    lang: Lang,
    level: Level,
    correct: bool,
    tokens: Option<u64>,
    requests: f64,
    reward_calls: f64,
    wall_s: f64,
}

type ItemKey = (Lang, String);

fn outcomes(run: &RunDir) -> BTreeMap<ItemKey, ItemOutcome> {
    let per_item = run.info.samples_per_item.max(1) as usize;
    let agg = Aggregation::for_solver(&run.info.solver);
    let mut by_item: BTreeMap<ItemKey, Vec<&SampleRecord>> = BTreeMap::new();
    for r in &run.records {
        by_item.entry((r.lang, r.id.clone())).or_default().push(r);
    }
    by_item
        .into_iter()
        .filter(|(_, rs)| rs.len() >= per_item && rs.iter().all(|r| r.error.is_none()))
        .map(|(k, rs)| {
            let first = rs[0];
            let correct = if per_item == 1 {
                first.correct
            } else {
                agg.decide(rs.iter().copied()).answer == Some(first.gold)
            };
            let (tokens, requests, reward_calls, wall_s) = if rs.iter().any(|r| r.compute.is_some())
            {
                // The search's (or scorer's) own accounting: a beam search's pruned
                // branches and every request are there, not in the final candidates.
                let mut c = anesbench_core::record::Compute::default();
                for r in &rs {
                    if let Some(x) = &r.compute {
                        c.add(x);
                    }
                }
                (
                    Some(c.generated_tokens),
                    c.requests as f64,
                    c.reward_calls as f64,
                    c.wall_ms / 1000.0,
                )
            } else {
                let share = |r: &SampleRecord| 1.0 / f64::from(r.batch.unwrap_or(1).max(1));
                (
                    rs.iter()
                        .map(|r| r.completion_tokens.map(u64::from))
                        .sum::<Option<u64>>(),
                    rs.iter().map(|r| share(r)).sum(),
                    0.0,
                    rs.iter().map(|r| r.latency_ms / 1000.0 * share(r)).sum(),
                )
            };
            (
                k,
                ItemOutcome {
                    lang: first.lang,
                    level: first.level,
                    correct,
                    tokens,
                    requests,
                    reward_calls,
                    wall_s,
                },
            )
        })
        .collect()
}

/// The slices, in table order: each language present, then all; each level, then all.
fn slices(langs: &[Lang]) -> Vec<(Option<Lang>, Option<Level>)> {
    let mut out = Vec::new();
    for lang in langs.iter().copied().map(Some).chain([None]) {
        for level in Level::ALL.into_iter().map(Some).chain([None]) {
            out.push((lang, level));
        }
    }
    out
}

fn in_slice(o: &ItemOutcome, (lang, level): (Option<Lang>, Option<Level>)) -> bool {
    lang.is_none_or(|l| l == o.lang) && level.is_none_or(|l| l == o.level)
}

fn paired(
    against: &str,
    a: &BTreeMap<ItemKey, ItemOutcome>,
    b: &BTreeMap<ItemKey, ItemOutcome>,
    slice: (Option<Lang>, Option<Level>),
    k: u64,
) -> Option<Paired> {
    let (xs, ys): (Vec<bool>, Vec<bool>) = a
        .iter()
        .filter(|(_, o)| in_slice(o, slice))
        .filter_map(|(key, o)| b.get(key).map(|p| (o.correct, p.correct)))
        .unzip();
    let boot = paired_bootstrap(&xs, &ys, RESAMPLES, SEED.wrapping_add(k))?;
    let only_a = xs.iter().zip(&ys).filter(|(x, y)| **x && !**y).count() as u64;
    let only_b = xs.iter().zip(&ys).filter(|(x, y)| !**x && **y).count() as u64;
    Some(Paired {
        against: against.to_string(),
        items: xs.len(),
        diff: boot.diff,
        ci_low: boot.low,
        ci_high: boot.high,
        mcnemar_p: mcnemar_exact(only_a, only_b),
        significant: boot.low > 0.0 || boot.high < 0.0,
    })
}

fn is_bon(solver: &str) -> bool {
    solver.starts_with("best-of-n")
}

/// Whether the runs call for the section: more than one strategy among them.
pub fn applies(runs: &[RunDir]) -> bool {
    let mut solvers: Vec<&str> = runs.iter().map(|r| r.info.solver.as_str()).collect();
    solvers.sort_unstable();
    solvers.dedup();
    runs.len() > 1 && solvers.len() > 1
}

/// The section for these runs (`labels[i]` names `runs[i]`), or `None` when they use a
/// single strategy.
pub fn analyse(runs: &[RunDir], labels: &[String]) -> Option<ComputeReport> {
    if !applies(runs) {
        return None;
    }
    let outs: Vec<BTreeMap<ItemKey, ItemOutcome>> = runs.iter().map(outcomes).collect();
    let langs: Vec<Lang> = Lang::ALL
        .into_iter()
        .filter(|l| outs.iter().any(|o| o.values().any(|x| x.lang == *l)))
        .collect();
    let greedy = runs.iter().position(|r| r.info.solver == "greedy");
    let overall_tokens: Vec<Option<f64>> = outs
        .iter()
        .map(|o| per_item(o.values(), |x| x.tokens.map(|t| t as f64)))
        .collect();
    let mut notes = Vec::new();
    if greedy.is_none() {
        notes.push("No greedy run among these: no interval against greedy.".to_string());
    }
    if runs.iter().filter(|r| r.info.solver == "greedy").count() > 1 {
        notes.push(format!(
            "Several greedy runs: intervals are against the first, {}.",
            labels[greedy.unwrap_or(0)]
        ));
    }
    let mut out_runs = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let bon = matched_bon(runs, &overall_tokens, i);
        if let Some(j) = bon {
            notes.push(format!(
                "Best-of-N at matched compute for {}: {}.",
                labels[i], labels[j]
            ));
        }
        let rows = slices(&langs)
            .into_iter()
            .enumerate()
            .filter_map(|(k, slice)| {
                let mine: Vec<&ItemOutcome> =
                    outs[i].values().filter(|o| in_slice(o, slice)).collect();
                if mine.is_empty() {
                    return None;
                }
                let n = mine.len();
                let vs = |j: Option<usize>| {
                    j.filter(|&j| j != i)
                        .and_then(|j| paired(&labels[j], &outs[i], &outs[j], slice, k as u64))
                };
                Some(ComputeRow {
                    lang: slice.0.map_or("all", |l| l.code()).into(),
                    level: slice.1.map_or("all", |l| l.key()).into(),
                    items: n,
                    accuracy: mine.iter().filter(|o| o.correct).count() as f64 / n as f64,
                    tokens_per_item: per_item(mine.iter().copied(), |x| x.tokens.map(|t| t as f64)),
                    requests_per_item: per_item(mine.iter().copied(), |x| Some(x.requests))
                        .unwrap_or(0.0),
                    reward_calls_per_item: per_item(mine.iter().copied(), |x| Some(x.reward_calls))
                        .unwrap_or(0.0),
                    wall_s_per_item: per_item(mine.iter().copied(), |x| Some(x.wall_s))
                        .unwrap_or(0.0),
                    vs_greedy: vs(greedy),
                    vs_bon: vs(bon),
                })
            })
            .collect();
        out_runs.push(ComputeRun {
            label: labels[i].clone(),
            solver: run.info.solver.clone(),
            samples_per_item: run.info.samples_per_item,
            rows,
        });
    }
    let mut rep = ComputeReport {
        resamples: RESAMPLES,
        seed: SEED,
        baseline: greedy.map(|g| labels[g].clone()),
        runs: out_runs,
        figure: None,
        svg: None,
        figure_skipped: None,
        published: published_strategies(),
        published_source: STRATEGIES_SOURCE.into(),
        notes,
    };
    rep.figure_skipped = figure::unavailable(&rep);
    Some(rep)
}

/// Mean of `f` over the items; `None` when any item has no value (or there are none).
fn per_item<'a>(
    items: impl IntoIterator<Item = &'a ItemOutcome>,
    f: impl Fn(&ItemOutcome) -> Option<f64>,
) -> Option<f64> {
    let mut n = 0usize;
    let mut sum = 0.0;
    for o in items {
        sum += f(o)?;
        n += 1;
    }
    (n > 0).then(|| sum / n as f64)
}

/// The Best-of-N run at matched compute for run `i`: same candidates per item, else the
/// nearest in generated tokens per item within a factor of two. None for a Best-of-N
/// run itself.
fn matched_bon(runs: &[RunDir], tokens: &[Option<f64>], i: usize) -> Option<usize> {
    if is_bon(&runs[i].info.solver) {
        return None;
    }
    let bons: Vec<usize> = (0..runs.len())
        .filter(|&j| is_bon(&runs[j].info.solver))
        .collect();
    if let Some(&j) = bons
        .iter()
        .find(|&&j| runs[j].info.samples_per_item == runs[i].info.samples_per_item)
    {
        return Some(j);
    }
    let mine = tokens[i].filter(|t| *t > 0.0)?;
    bons.into_iter()
        .filter_map(|j| {
            let t = tokens[j].filter(|t| *t > 0.0)?;
            let ratio = (t / mine).ln().abs();
            (ratio <= 2f64.ln()).then_some((ratio, j))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|x| x.1)
}
