//! Pure statistics beyond accuracy, over records: option-order robustness (circular
//! accuracy, picked vs gold positions), calibration (expected calibration error, Brier
//! score, reliability bins, selective accuracy) and the paired 2x2 table of two
//! languages. Reports render these; nothing here reads files.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::item::{Lang, Level};
use crate::permute::{to_displayed, Permute};
use crate::record::SampleRecord;
use crate::vote::Aggregation;

/// Bins of the expected calibration error: 15 of equal width on [0, 1] (the count
/// Guo et al. 2017 used), the last one closed.
pub const ECE_BINS: usize = 15;

/// Coverages at which selective accuracy is reported.
pub const COVERAGES: [f64; 3] = [0.5, 0.8, 1.0];

/// One item's decision, as the run's aggregation makes it, with a confidence where the
/// records give one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub lang: Lang,
    pub id: String,
    pub level: Level,
    pub answer: Option<char>,
    pub gold: char,
    pub correct: bool,
    /// Softmax probability of the chosen option (loglik) or vote share of the winner
    /// (several samples by majority); `None` when the records hold neither.
    pub confidence: Option<f64>,
}

/// Softmax over option log-probabilities (non-finite values take no part); the
/// probability of `letter`.
pub fn softmax_prob(lp: &BTreeMap<char, f64>, letter: char) -> Option<f64> {
    let finite: Vec<(char, f64)> = lp
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, v)| (*k, *v))
        .collect();
    let max = finite.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return None;
    }
    let z: f64 = finite.iter().map(|(_, v)| (v - max).exp()).sum();
    finite
        .iter()
        .find(|(k, _)| *k == letter)
        .map(|(_, v)| (v - max).exp() / z)
}

/// Per-item decisions of a run (records of one run; `agg` as the run decides).
pub fn decisions<'a>(
    records: impl IntoIterator<Item = &'a SampleRecord>,
    agg: Aggregation,
) -> Vec<Decision> {
    let mut by_item: BTreeMap<(Lang, String), Vec<&SampleRecord>> = BTreeMap::new();
    for r in records {
        by_item.entry((r.lang, r.id.clone())).or_default().push(r);
    }
    by_item
        .into_values()
        .map(|mut recs| {
            recs.sort_by_key(|r| r.sample);
            let first = recs[0];
            let error = recs.iter().any(|r| r.is_error());
            let (answer, confidence) = if recs.len() == 1 || agg == Aggregation::IdentityOrder {
                let r = recs
                    .iter()
                    .find(|r| r.sample == 0)
                    .copied()
                    .unwrap_or(first);
                let conf = match (&r.option_logprobs, r.answer) {
                    (Some(lp), Some(a)) => softmax_prob(lp, a),
                    _ => None,
                };
                (r.answer.filter(|_| r.error.is_none()), conf)
            } else {
                let vote = agg.decide(recs.iter().copied());
                let share = vote
                    .answer
                    .map(|a| f64::from(vote.votes[&a]) / recs.len() as f64);
                let conf = (agg == Aggregation::Majority).then_some(share).flatten();
                (vote.answer, conf)
            };
            // As the summary decides: an item with an errored candidate has no answer.
            let answer = if error { None } else { answer };
            Decision {
                lang: first.lang,
                id: first.id.clone(),
                level: first.level,
                answer,
                gold: first.gold,
                correct: answer == Some(first.gold),
                // A no-answer item has no chosen option to be confident in: it counts
                // with confidence 0 (wrong, and claimed as nothing).
                confidence: if answer.is_none() {
                    confidence.map(|_| 0.0)
                } else {
                    confidence
                },
            }
        })
        .collect()
}

/// One reliability bin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub n: u64,
    /// Mean confidence and accuracy of the bin's items (`None` when empty).
    pub confidence: Option<f64>,
    pub accuracy: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub n: u64,
    /// Expected calibration error over [`ECE_BINS`] equal-width bins:
    /// sum over bins of (bin size / n) * |accuracy - mean confidence|.
    pub ece: f64,
    /// Brier score of the top-label confidence: mean of (confidence - correct)^2.
    pub brier: f64,
    pub bins: Vec<Bin>,
    /// (coverage, accuracy of the most confident `ceil(coverage * n)` items).
    pub selective: Vec<(f64, f64)>,
}

/// Calibration of `(confidence, correct)` pairs; `None` when there are none. Ties in
/// confidence keep their input order for selective accuracy.
pub fn calibration(points: &[(f64, bool)]) -> Option<Calibration> {
    if points.is_empty() {
        return None;
    }
    let n = points.len();
    let mut bins: Vec<(u64, f64, u64)> = vec![(0, 0.0, 0); ECE_BINS];
    for &(c, ok) in points {
        let c = c.clamp(0.0, 1.0);
        let b = ((c * ECE_BINS as f64) as usize).min(ECE_BINS - 1);
        bins[b].0 += 1;
        bins[b].1 += c;
        bins[b].2 += u64::from(ok);
    }
    let mut ece = 0.0;
    let bins: Vec<Bin> = bins
        .into_iter()
        .enumerate()
        .map(|(i, (k, sum, right))| {
            let (conf, acc) = if k == 0 {
                (None, None)
            } else {
                let conf = sum / k as f64;
                let acc = right as f64 / k as f64;
                ece += k as f64 / n as f64 * (acc - conf).abs();
                (Some(conf), Some(acc))
            };
            Bin {
                lo: i as f64 / ECE_BINS as f64,
                hi: (i + 1) as f64 / ECE_BINS as f64,
                n: k,
                confidence: conf,
                accuracy: acc,
            }
        })
        .collect();
    let brier = points
        .iter()
        .map(|&(c, ok)| (c.clamp(0.0, 1.0) - f64::from(u8::from(ok))).powi(2))
        .sum::<f64>()
        / n as f64;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| points[b].0.total_cmp(&points[a].0));
    let selective = COVERAGES
        .iter()
        .map(|&cov| {
            let k = ((cov * n as f64).ceil() as usize).clamp(1, n);
            let right = order[..k].iter().filter(|&&i| points[i].1).count();
            (cov, right as f64 / k as f64)
        })
        .collect();
    Some(Calibration {
        n: n as u64,
        ece,
        brier,
        bins,
        selective,
    })
}

/// Option-order robustness of a permuted run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Robustness {
    /// Items with every order answered without error.
    pub items: u64,
    /// Of those: right in the original order (the plain accuracy's numerator).
    pub identity_correct: u64,
    /// Of those: right in every order.
    pub circular_correct: u64,
    /// Candidates (one per item x order) by the displayed letter picked; no answer apart.
    pub picked: BTreeMap<char, u64>,
    pub no_answer: u64,
    /// Candidates by the displayed letter the gold answer stood at.
    pub gold: BTreeMap<char, u64>,
}

impl Robustness {
    pub fn plain_accuracy(&self) -> f64 {
        ratio(self.identity_correct, self.items)
    }
    pub fn circular_accuracy(&self) -> f64 {
        ratio(self.circular_correct, self.items)
    }
}

fn ratio(k: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        k as f64 / n as f64
    }
}

/// Robustness of the permuted records of one run asked under `mode`. Items missing an
/// order (pending or errored) count in the position tallies but not in the accuracies.
pub fn robustness<'a>(
    records: impl IntoIterator<Item = &'a SampleRecord>,
    mode: Permute,
) -> Robustness {
    let mut out = Robustness::default();
    let mut by_item: BTreeMap<(Lang, String), Vec<&SampleRecord>> = BTreeMap::new();
    for r in records {
        let Some(perm) = &r.perm else { continue };
        if r.is_error() {
            by_item.entry((r.lang, r.id.clone())).or_default().push(r);
            continue;
        }
        match r.position {
            Some(p) => *out.picked.entry(p).or_default() += 1,
            None => out.no_answer += 1,
        }
        if let Some(g) = to_displayed(perm, r.gold) {
            *out.gold.entry(g).or_default() += 1;
        }
        by_item.entry((r.lang, r.id.clone())).or_default().push(r);
    }
    for recs in by_item.values() {
        let want = match mode {
            Permute::Circular => recs[0].letters.chars().count(),
            Permute::Shuffle { k, .. } => k as usize,
        };
        if recs.len() < want || recs.iter().any(|r| r.is_error()) {
            continue;
        }
        out.items += 1;
        out.identity_correct += u64::from(recs.iter().any(|r| r.sample == 0 && r.correct));
        out.circular_correct += u64::from(recs.iter().all(|r| r.correct));
    }
    out
}

/// Paired 2x2 table of two languages on the same items: `both` right, `first_only`
/// (right in the first language, wrong in the second), `second_only`, `neither`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Paired {
    pub both: u64,
    pub first_only: u64,
    pub second_only: u64,
    pub neither: u64,
    /// Item ids right in the first language only, and in the second only.
    pub first_only_ids: Vec<String>,
    pub second_only_ids: Vec<String>,
}

impl Paired {
    pub fn n(&self) -> u64 {
        self.both + self.first_only + self.second_only + self.neither
    }
    /// Share of items both languages got right or both got wrong.
    pub fn agreement(&self) -> f64 {
        ratio(self.both + self.neither, self.n())
    }
}

/// Pair decisions of `a` and `b` by item id (within each, ids are unique), per level (of
/// the first language's item) and over all levels (key `all`).
pub fn paired_by_level(a: &[Decision], b: &[Decision]) -> BTreeMap<String, Paired> {
    let b_by: BTreeMap<&str, &Decision> = b.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut out: BTreeMap<String, Paired> = BTreeMap::new();
    for da in a {
        let Some(db) = b_by.get(da.id.as_str()) else {
            continue;
        };
        for key in [da.level.key(), "all"] {
            let p = out.entry(key.to_string()).or_default();
            match (da.correct, db.correct) {
                (true, true) => p.both += 1,
                (true, false) => {
                    p.first_only += 1;
                    p.first_only_ids.push(da.id.clone());
                }
                (false, true) => {
                    p.second_only += 1;
                    p.second_only_ids.push(da.id.clone());
                }
                (false, false) => p.neither += 1,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfectly_calibrated_set_has_ece_near_zero() {
        // In each bin centre c, a share c of items is right: accuracy = confidence.
        let mut pts = Vec::new();
        for b in 0..ECE_BINS {
            let c = (b as f64 + 0.5) / ECE_BINS as f64;
            let n = 1000;
            let right = (c * n as f64).round() as usize;
            for i in 0..n {
                pts.push((c, i < right));
            }
        }
        let cal = calibration(&pts).unwrap();
        assert!(cal.ece < 1e-3, "{}", cal.ece);
        assert_eq!(cal.bins.len(), 15);
        assert_eq!(cal.selective.last().unwrap().0, 1.0);
    }

    #[test]
    fn hand_made_miscalibrated_set_gives_the_hand_computed_values() {
        // Four items at 0.9, one right: bin 13 ([0.8667, 0.9333)), acc 0.25, conf 0.9.
        // Four at 0.2, all right: bin 3 ([0.2, 0.2667)), acc 1, conf 0.2.
        // ECE = 4/8 * 0.65 + 4/8 * 0.8 = 0.725.
        // Brier = (0.01 + 3 * 0.81 + 4 * 0.64) / 8 = (0.01 + 2.43 + 2.56) / 8 = 0.625.
        let pts = [
            (0.9, true),
            (0.9, false),
            (0.9, false),
            (0.9, false),
            (0.2, true),
            (0.2, true),
            (0.2, true),
            (0.2, true),
        ];
        let cal = calibration(&pts).unwrap();
        assert!((cal.ece - 0.725).abs() < 1e-12, "{}", cal.ece);
        assert!((cal.brier - 0.625).abs() < 1e-12, "{}", cal.brier);
        assert_eq!(cal.bins[13].n, 4);
        assert_eq!(cal.bins[3].n, 4);
        // 50% coverage keeps the four at 0.9: one right of four; 80% = ceil(6.4) = 7 items,
        // adding three right ones at 0.2: 4 of 7.
        assert_eq!(
            cal.selective,
            vec![(0.5, 0.25), (0.8, 4.0 / 7.0), (1.0, 0.625)]
        );
    }

    #[test]
    fn softmax_of_option_logprobs() {
        let lp: BTreeMap<char, f64> =
            [('A', (0.2f64).ln()), ('B', (0.3f64).ln()), ('C', f64::NAN)].into();
        assert!((softmax_prob(&lp, 'B').unwrap() - 0.6).abs() < 1e-12);
        assert!(softmax_prob(&lp, 'C').is_none());
    }

    #[test]
    fn vote_share_is_the_confidence_of_a_majority_decision() {
        let mk = |s: u32, a: Option<char>| {
            let mut r = SampleRecord::new("q", Lang::En, Level::S1, s, 'B', "ABCD");
            r.answer = a;
            r.correct = a == Some('B');
            r
        };
        let recs = [
            mk(0, Some('B')),
            mk(1, Some('C')),
            mk(2, Some('B')),
            mk(3, None),
        ];
        let d = decisions(&recs, Aggregation::Majority);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].answer, Some('B'));
        assert!(d[0].correct);
        // Two of the four samples voted for the winner.
        assert_eq!(d[0].confidence, Some(0.5));
        // Loglik: softmax of the chosen option.
        let mut r = mk(0, Some('A'));
        r.option_logprobs =
            Some([('A', 0.5f64.ln()), ('B', 0.25f64.ln()), ('C', 0.25f64.ln())].into());
        let d = decisions(&[r], Aggregation::Majority);
        assert!((d[0].confidence.unwrap() - 0.5).abs() < 1e-12);
        assert!(!d[0].correct);
    }

    fn rec(id: &str, sample: u32, perm: &str, position: char, gold: char) -> SampleRecord {
        let mut r = SampleRecord::new(id, Lang::En, Level::S1, sample, gold, "ABCD");
        r.perm = Some(perm.into());
        r.position = Some(position);
        r.answer = crate::permute::to_original(perm, position);
        r.correct = r.answer == Some(gold);
        r
    }

    #[test]
    fn a_model_that_always_picks_a_has_circular_accuracy_zero_and_all_mass_on_a() {
        let mut recs = Vec::new();
        for (id, gold) in [("1", 'A'), ("2", 'B'), ("3", 'C')] {
            for (s, order) in Permute::Circular.orders(id, 4).iter().enumerate() {
                recs.push(rec(
                    id,
                    s as u32,
                    &crate::permute::perm_string(order),
                    'A',
                    gold,
                ));
            }
        }
        let r = robustness(&recs, Permute::Circular);
        assert_eq!(r.items, 3);
        assert_eq!(r.circular_correct, 0);
        assert_eq!(r.circular_accuracy(), 0.0);
        // Identity order: A is right for item 1 only.
        assert_eq!(r.identity_correct, 1);
        assert_eq!(r.picked, [('A', 12)].into());
        assert_eq!(r.gold, [('A', 3), ('B', 3), ('C', 3), ('D', 3)].into());
    }

    #[test]
    fn paired_table_counts_and_lists_discordant_items() {
        let d = |id: &str, level, correct| Decision {
            lang: Lang::En,
            id: id.into(),
            level,
            answer: None,
            gold: 'A',
            correct,
            confidence: None,
        };
        let en = vec![
            d("1", Level::S1, true),
            d("2", Level::S1, true),
            d("3", Level::S1, false),
            d("4", Level::S2, false),
            d("5", Level::S2, true),
        ];
        let zh = vec![
            d("1", Level::S1, true),
            d("2", Level::S1, false),
            d("3", Level::S1, true),
            d("4", Level::S2, false),
            d("9", Level::S2, true),
        ];
        let p = paired_by_level(&en, &zh);
        let all = &p["all"];
        assert_eq!(
            (all.both, all.first_only, all.second_only, all.neither),
            (1, 1, 1, 1)
        );
        assert_eq!(all.agreement(), 0.5);
        assert_eq!(all.first_only_ids, ["2"]);
        assert_eq!(all.second_only_ids, ["3"]);
        assert_eq!(p["system2"].n(), 1);
    }
}
