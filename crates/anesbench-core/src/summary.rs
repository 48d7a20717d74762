//! The aggregate of a run, recomputed from its records at any time (`summary.json`).
//!
//! Every sample counts in the denominator: a sample with no extractable answer, or one
//! that errored after its retries, counts as wrong and is also counted apart, so a run
//! with errors never looks better than it is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::item::{Lang, Level};
use crate::record::SampleRecord;
use crate::stats::{mean, median, wilson, Z95};
use crate::vote::Aggregation;

/// Version of the `summary.json` layout.
pub const SUMMARY_SCHEMA: u32 = 2;

/// Accuracy and failure counts for one slice of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub n: u64,
    pub correct: u64,
    pub accuracy: f64,
    /// 95% Wilson interval on `accuracy`.
    pub ci_low: f64,
    pub ci_high: f64,
    pub no_answer: u64,
    pub truncated: u64,
    pub errors: u64,
}

impl Cell {
    fn add(&mut self, r: &SampleRecord) {
        self.n += 1;
        self.correct += u64::from(r.correct);
        self.no_answer += u64::from(r.is_no_answer());
        self.truncated += u64::from(r.is_truncated());
        self.errors += u64::from(r.is_error());
    }
    fn finish(&mut self) {
        self.accuracy = if self.n == 0 {
            0.0
        } else {
            self.correct as f64 / self.n as f64
        };
        let (lo, hi) = wilson(self.correct, self.n, Z95);
        self.ci_low = lo;
        self.ci_high = hi;
    }
}

/// Output length of the samples of one level: the study's "CoT length".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LengthStats {
    /// Samples that reported a completion token count.
    pub n: u64,
    pub mean_completion_tokens: Option<f64>,
    pub median_completion_tokens: Option<f64>,
    pub mean_reasoning_tokens: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema: u32,
    /// Distinct (language, id) pairs seen.
    pub items: u64,
    pub samples: u64,
    /// Most samples any item has (1 for a plain run).
    #[serde(default = "one")]
    pub samples_per_item: u32,
    /// How the cells below count: `sample` (one sample per item, each sample one unit)
    /// or `majority` (several samples per item, each *item* one unit, decided by a
    /// majority vote of its samples; see [`crate::vote`]). Intervals are over items.
    #[serde(default = "per_sample")]
    pub aggregation: String,
    pub overall: Cell,
    /// Keyed by `system1`, `system1x`, `system2`.
    pub by_level: BTreeMap<String, Cell>,
    /// Keyed by `en`, `zh`.
    pub by_lang: BTreeMap<String, Cell>,
    /// Keyed by `en/system1` etc.
    pub by_lang_level: BTreeMap<String, Cell>,
    /// With several samples per item: the mean over items of each item's fraction of
    /// correct samples, keyed `overall`, level keys, language codes and `lang/level`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mean_per_item: BTreeMap<String, MeanCell>,
    /// Counts over samples whatever the aggregation (truncation and errors are per request).
    #[serde(default)]
    pub sample_counts: Cell,
    /// Items left out of the cells because not all their candidates are in yet (an
    /// interrupted run): an item's decision exists only once every candidate is.
    #[serde(default)]
    pub pending_items: u64,
    /// With majority voting over N samples: accuracy of the vote over the first k samples
    /// of each item (sample indices 0..k), for k = 1, 2, 4, ... and N. Keyed by k; each
    /// holds `overall` and the level keys.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub maj_at_k: BTreeMap<u32, BTreeMap<String, Cell>>,
    /// Keyed by level key.
    pub length_by_level: BTreeMap<String, LengthStats>,
}

fn one() -> u32 {
    1
}
fn per_sample() -> String {
    "sample".into()
}

/// Mean over items of the per-item accuracy, with a 95% normal interval over items.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeanCell {
    pub items: u64,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl MeanCell {
    fn from_values(xs: &[f64]) -> MeanCell {
        let n = xs.len();
        let m = mean(xs).unwrap_or(0.0);
        let (lo, hi) = if n < 2 {
            (0.0, 1.0)
        } else {
            let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            let half = Z95 * (var / n as f64).sqrt();
            ((m - half).max(0.0), (m + half).min(1.0))
        };
        MeanCell {
            items: n as u64,
            mean: m,
            ci_low: lo,
            ci_high: hi,
        }
    }
}

/// Key of a language x level cell in [`Summary::by_lang_level`].
pub fn lang_level_key(lang: Lang, level: Level) -> String {
    format!("{}/{}", lang.code(), level.key())
}

/// The unit a cell counts: one sample (plain runs) or one item's decision.
struct Unit {
    lang: Lang,
    level: Level,
    correct: bool,
    no_answer: bool,
    truncated: bool,
    error: bool,
}

impl Cell {
    fn add_unit(&mut self, u: &Unit) {
        self.n += 1;
        self.correct += u64::from(u.correct);
        self.no_answer += u64::from(u.no_answer);
        self.truncated += u64::from(u.truncated);
        self.errors += u64::from(u.error);
    }
}

/// k = 1, 2, 4, ... below `n`, and `n`.
pub fn maj_k_values(n: u32) -> Vec<u32> {
    let mut ks: Vec<u32> = std::iter::successors(Some(1u32), |k| k.checked_mul(2))
        .take_while(|&k| k < n)
        .collect();
    ks.push(n);
    ks
}

fn maj_at_k(
    by_item: &BTreeMap<(Lang, String), Vec<&SampleRecord>>,
    n: u32,
) -> BTreeMap<u32, BTreeMap<String, Cell>> {
    let mut out = BTreeMap::new();
    for k in maj_k_values(n) {
        let mut cells: BTreeMap<String, Cell> = BTreeMap::new();
        for recs in by_item.values() {
            let first = recs[0];
            let subset: Vec<&SampleRecord> =
                recs.iter().copied().filter(|r| r.sample < k).collect();
            let error = subset.iter().any(|r| r.is_error());
            let answer = if error {
                None
            } else {
                crate::vote::majority(subset.iter().copied()).answer
            };
            let u = Unit {
                lang: first.lang,
                level: first.level,
                correct: answer == Some(first.gold),
                no_answer: !error && answer.is_none(),
                truncated: subset.iter().any(|r| r.is_truncated()),
                error,
            };
            cells.entry("overall".into()).or_default().add_unit(&u);
            cells
                .entry(first.level.key().into())
                .or_default()
                .add_unit(&u);
        }
        for c in cells.values_mut() {
            c.finish();
        }
        out.insert(k, cells);
    }
    out
}

impl Summary {
    /// Aggregate records. With one sample per item every sample is a unit; with several,
    /// every item is (majority vote, [`crate::vote::majority`]), and `mean_per_item` holds
    /// the mean per-item accuracy, so an interval never treats correlated samples of one
    /// item as independent.
    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a SampleRecord>) -> Summary {
        Summary::aggregate(records, Aggregation::Majority, None)
    }

    /// Aggregate with a given per-item decision rule. With `per_item = Some(n)`, items
    /// with fewer than `n` candidates are pending: counted in `pending_items`, not decided.
    pub fn aggregate<'a>(
        records: impl IntoIterator<Item = &'a SampleRecord>,
        agg: Aggregation,
        per_item: Option<u32>,
    ) -> Summary {
        let mut s = Summary {
            schema: SUMMARY_SCHEMA,
            samples_per_item: 1,
            aggregation: per_sample(),
            ..Summary::default()
        };
        let mut by_item: BTreeMap<(Lang, String), Vec<&SampleRecord>> = BTreeMap::new();
        let mut lens: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        for r in records {
            s.samples += 1;
            s.sample_counts.add(r);
            by_item.entry((r.lang, r.id.clone())).or_default().push(r);
            let e = lens.entry(r.level.key().into()).or_default();
            if let Some(t) = r.completion_tokens {
                e.0.push(f64::from(t));
            }
            if let Some(t) = r.reasoning_tokens {
                e.1.push(f64::from(t));
            }
        }
        s.items = by_item.len() as u64;
        s.samples_per_item =
            per_item.unwrap_or_else(|| by_item.values().map(|v| v.len() as u32).max().unwrap_or(1));
        let majority = s.samples_per_item > 1;
        if let Some(n) = per_item.filter(|&n| n > 1) {
            let before = by_item.len();
            by_item.retain(|_, v| v.len() as u32 >= n);
            s.pending_items = (before - by_item.len()) as u64;
        }
        let mut means: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let add = |s: &mut Summary, u: Unit| {
            s.overall.add_unit(&u);
            s.by_level
                .entry(u.level.key().into())
                .or_default()
                .add_unit(&u);
            s.by_lang
                .entry(u.lang.code().into())
                .or_default()
                .add_unit(&u);
            s.by_lang_level
                .entry(lang_level_key(u.lang, u.level))
                .or_default()
                .add_unit(&u);
        };
        for recs in by_item.values() {
            if !majority {
                for r in recs {
                    add(
                        &mut s,
                        Unit {
                            lang: r.lang,
                            level: r.level,
                            correct: r.correct,
                            no_answer: r.is_no_answer(),
                            truncated: r.is_truncated(),
                            error: r.is_error(),
                        },
                    );
                }
                continue;
            }
            let first = recs[0];
            let error = recs.iter().any(|r| r.is_error());
            let vote = agg.decide(recs.iter().copied());
            let answer = if error { None } else { vote.answer };
            add(
                &mut s,
                Unit {
                    lang: first.lang,
                    level: first.level,
                    correct: answer == Some(first.gold),
                    no_answer: !error && answer.is_none(),
                    truncated: recs.iter().any(|r| r.is_truncated()),
                    error,
                },
            );
            let frac = recs.iter().filter(|r| r.correct).count() as f64 / recs.len() as f64;
            for k in [
                "overall".to_string(),
                first.level.key().to_string(),
                first.lang.code().to_string(),
                lang_level_key(first.lang, first.level),
            ] {
                means.entry(k).or_default().push(frac);
            }
        }
        if majority {
            s.aggregation = agg.name().into();
            if agg == Aggregation::Majority {
                s.maj_at_k = maj_at_k(&by_item, s.samples_per_item);
            }
        }
        s.mean_per_item = means
            .into_iter()
            .map(|(k, v)| (k, MeanCell::from_values(&v)))
            .collect();
        s.overall.finish();
        s.sample_counts.finish();
        for c in s
            .by_level
            .values_mut()
            .chain(s.by_lang.values_mut())
            .chain(s.by_lang_level.values_mut())
        {
            c.finish();
        }
        for (k, (c, r)) in lens {
            s.length_by_level.insert(
                k,
                LengthStats {
                    n: c.len() as u64,
                    mean_completion_tokens: mean(&c),
                    median_completion_tokens: median(&c),
                    mean_reasoning_tokens: mean(&r),
                },
            );
        }
        s
    }

    pub fn level(&self, level: Level) -> Option<&Cell> {
        self.by_level.get(level.key())
    }
    pub fn lang(&self, lang: Lang) -> Option<&Cell> {
        self.by_lang.get(lang.code())
    }
    pub fn lang_level(&self, lang: Lang, level: Level) -> Option<&Cell> {
        self.by_lang_level.get(&lang_level_key(lang, level))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, lang: Lang, level: Level, answer: Option<char>, gold: char) -> SampleRecord {
        SampleRecord {
            response: Some(String::new()),
            answer,
            rule: "test".into(),
            correct: answer == Some(gold),
            finish_reason: Some("stop".into()),
            completion_tokens: Some(10),
            ..SampleRecord::new(id, lang, level, 0, gold, "ABCD")
        }
    }

    fn sample(id: &str, n: u32, answer: Option<char>) -> SampleRecord {
        SampleRecord {
            sample: n,
            ..rec(id, Lang::En, Level::S1, answer, 'A')
        }
    }

    #[test]
    fn several_samples_are_summarised_per_item_by_majority_vote() {
        // Item 1: A A B -> A (right). Item 2: B B A -> B (wrong). Item 3: A B none -> tie.
        let rs = vec![
            sample("1", 0, Some('A')),
            sample("1", 1, Some('A')),
            sample("1", 2, Some('B')),
            sample("2", 0, Some('B')),
            sample("2", 1, Some('B')),
            sample("2", 2, Some('A')),
            sample("3", 0, Some('A')),
            sample("3", 1, Some('B')),
            sample("3", 2, None),
        ];
        let s = Summary::from_records(&rs);
        assert_eq!((s.items, s.samples, s.samples_per_item), (3, 9, 3));
        assert_eq!(s.aggregation, "majority");
        assert_eq!(s.overall.n, 3, "the unit is the item, not the sample");
        assert_eq!(s.overall.correct, 1);
        assert_eq!(s.overall.no_answer, 1);
        // The interval is over 3 items, so it is wide: Wilson(1, 3).
        let (lo, hi) = wilson(1, 3, Z95);
        assert_eq!((s.overall.ci_low, s.overall.ci_high), (lo, hi));
        let m = &s.mean_per_item["overall"];
        assert_eq!(m.items, 3);
        assert!((m.mean - (2.0 / 3.0 + 1.0 / 3.0 + 1.0 / 3.0) / 3.0).abs() < 1e-12);
        assert_eq!(s.sample_counts.n, 9);
        // maj@1 is sample 0 alone: A (right), B (wrong), A (wrong? gold A: right).
        assert_eq!(s.maj_at_k[&1]["overall"].correct, 2);
        assert_eq!(s.maj_at_k[&3]["overall"].correct, 1);
        assert_eq!(maj_k_values(8), vec![1, 2, 4, 8]);
        assert_eq!(maj_k_values(5), vec![1, 2, 4, 5]);
    }

    #[test]
    fn an_item_without_all_its_candidates_is_pending_not_decided() {
        let rs = vec![
            sample("1", 0, Some('A')),
            sample("1", 1, Some('A')),
            sample("2", 0, Some('A')),
        ];
        let s = Summary::aggregate(&rs, Aggregation::Majority, Some(2));
        assert_eq!((s.overall.n, s.pending_items), (1, 1));
    }

    #[test]
    fn counts_no_answer_as_wrong_and_apart() {
        let rs = vec![
            rec("1", Lang::En, Level::S1, Some('A'), 'A'),
            rec("2", Lang::En, Level::S1, None, 'A'),
            rec("3", Lang::Zh, Level::S2, Some('B'), 'C'),
        ];
        let s = Summary::from_records(&rs);
        assert_eq!(s.overall.n, 3);
        assert_eq!(s.overall.correct, 1);
        assert_eq!(s.overall.no_answer, 1);
        assert_eq!(s.level(Level::S1).unwrap().accuracy, 0.5);
        assert_eq!(s.lang_level(Lang::Zh, Level::S2).unwrap().correct, 0);
        assert_eq!(s.items, 3);
        assert_eq!(
            s.length_by_level["system1"].mean_completion_tokens,
            Some(10.0)
        );
    }
}
