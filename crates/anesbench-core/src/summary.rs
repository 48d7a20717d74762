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

/// Version of the `summary.json` layout.
pub const SUMMARY_SCHEMA: u32 = 1;

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
    pub overall: Cell,
    /// Keyed by `system1`, `system1x`, `system2`.
    pub by_level: BTreeMap<String, Cell>,
    /// Keyed by `en`, `zh`.
    pub by_lang: BTreeMap<String, Cell>,
    /// Keyed by `en/system1` etc.
    pub by_lang_level: BTreeMap<String, Cell>,
    /// Keyed by level key.
    pub length_by_level: BTreeMap<String, LengthStats>,
}

/// Key of a language x level cell in [`Summary::by_lang_level`].
pub fn lang_level_key(lang: Lang, level: Level) -> String {
    format!("{}/{}", lang.code(), level.key())
}

impl Summary {
    pub fn from_records<'a>(records: impl IntoIterator<Item = &'a SampleRecord>) -> Summary {
        let mut s = Summary {
            schema: SUMMARY_SCHEMA,
            ..Summary::default()
        };
        let mut items = std::collections::BTreeSet::new();
        let mut lens: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        for r in records {
            items.insert((r.lang, r.id.clone()));
            s.samples += 1;
            s.overall.add(r);
            s.by_level.entry(r.level.key().into()).or_default().add(r);
            s.by_lang.entry(r.lang.code().into()).or_default().add(r);
            s.by_lang_level
                .entry(lang_level_key(r.lang, r.level))
                .or_default()
                .add(r);
            let e = lens.entry(r.level.key().into()).or_default();
            if let Some(t) = r.completion_tokens {
                e.0.push(f64::from(t));
            }
            if let Some(t) = r.reasoning_tokens {
                e.1.push(f64::from(t));
            }
        }
        s.items = items.len() as u64;
        s.overall.finish();
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
