//! The per-item decision of a run with several samples per item (self-consistency),
//! derived from the stored samples so `rescore` and every report can recompute it.
//!
//! **Majority** (`sc:N`): each sample with an extracted answer casts one vote for its
//! letter; samples with no answer (and errored samples) do not vote. The letter with the
//! most votes wins. A tie for the most votes goes to the tied letter whose voting samples
//! have the highest mean token log-probability (rule [`RULE_TIE_LIKELIHOOD`]); when that
//! cannot separate them (no log-probabilities, or equal ones) the item is **no answer**
//! (rule [`RULE_TIE`]). The decision never picks a letter by its position, and never
//! returns a letter no sample chose.
//!
//! **Best likelihood** (`bon:N:likelihood`): the sample with the highest mean token
//! log-probability decides, whatever it answered (no answer included); samples without a
//! log-probability cannot be chosen; equal best values that answer differently are no
//! answer.

use std::collections::BTreeMap;

use crate::record::SampleRecord;

pub const RULE_MAJORITY: &str = "majority";
pub const RULE_TIE: &str = "vote_tie";
pub const RULE_TIE_LIKELIHOOD: &str = "vote_tie_likelihood";
pub const RULE_NO_VOTES: &str = "no_votes";
pub const RULE_BEST_LIKELIHOOD: &str = "best_likelihood";
pub const RULE_NO_LIKELIHOOD: &str = "no_likelihood";

/// How the candidates of an item become its decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggregation {
    #[default]
    Majority,
    BestLikelihood,
    /// `--permute` runs: the candidate asked in the original order (sample 0) decides,
    /// so the plain accuracy is what an unpermuted run reports; circular accuracy
    /// (right in every order) is derived apart ([`crate::analysis`]).
    IdentityOrder,
}

impl Aggregation {
    pub fn name(self) -> &'static str {
        match self {
            Aggregation::Majority => "majority",
            Aggregation::BestLikelihood => "best_likelihood",
            Aggregation::IdentityOrder => "identity_order",
        }
    }

    /// From a manifest's `solver` label (`best-of-n:N:likelihood` -> best likelihood,
    /// anything else -> majority).
    pub fn for_solver(label: &str) -> Aggregation {
        if label.contains("+circular") || label.contains("+shuffle") {
            Aggregation::IdentityOrder
        } else if label.starts_with("best-of-n") {
            Aggregation::BestLikelihood
        } else {
            Aggregation::Majority
        }
    }

    pub fn decide<'a>(self, samples: impl IntoIterator<Item = &'a SampleRecord>) -> Vote {
        match self {
            Aggregation::Majority => majority(samples),
            Aggregation::BestLikelihood => best_likelihood(samples),
            Aggregation::IdentityOrder => identity_order(samples),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    pub answer: Option<char>,
    pub rule: &'static str,
    /// Votes per letter.
    pub votes: BTreeMap<char, u32>,
}

pub const RULE_IDENTITY_ORDER: &str = "identity_order";
pub const RULE_NO_IDENTITY: &str = "no_identity_order";

/// The candidate asked in the original order (sample 0) decides.
pub fn identity_order<'a>(samples: impl IntoIterator<Item = &'a SampleRecord>) -> Vote {
    let mut votes: BTreeMap<char, u32> = BTreeMap::new();
    let mut first = None;
    for r in samples {
        if let (None, Some(a)) = (&r.error, r.answer) {
            *votes.entry(a).or_default() += 1;
        }
        if r.sample == 0 {
            first = Some(r);
        }
    }
    match first {
        Some(r) if r.error.is_none() => Vote {
            answer: r.answer,
            rule: RULE_IDENTITY_ORDER,
            votes,
        },
        _ => Vote {
            answer: None,
            rule: RULE_NO_IDENTITY,
            votes,
        },
    }
}

/// Majority vote over the samples of one item.
pub fn majority<'a>(samples: impl IntoIterator<Item = &'a SampleRecord>) -> Vote {
    let mut votes: BTreeMap<char, u32> = BTreeMap::new();
    let mut lps: BTreeMap<char, Vec<f64>> = BTreeMap::new();
    for r in samples {
        if r.error.is_none() {
            if let Some(a) = r.answer {
                *votes.entry(a).or_default() += 1;
                lps.entry(a)
                    .or_default()
                    .extend(r.mean_logprob.filter(|v| v.is_finite()));
            }
        }
    }
    let top = votes.values().copied().max().unwrap_or(0);
    let leaders: Vec<char> = votes
        .iter()
        .filter(|(_, &v)| v == top && top > 0)
        .map(|(&l, _)| l)
        .collect();
    let (answer, rule) = match leaders.as_slice() {
        [] => (None, RULE_NO_VOTES),
        [l] => (Some(*l), RULE_MAJORITY),
        tied => {
            // Mean log-probability of each tied letter's samples; every tied letter needs
            // one for the break to be fair.
            let means: Vec<Option<f64>> = tied
                .iter()
                .map(|l| {
                    let v = &lps[l];
                    (v.len() as u32 == votes[l]).then(|| v.iter().sum::<f64>() / v.len() as f64)
                })
                .collect();
            if means.iter().all(Option::is_some) {
                let best = means
                    .iter()
                    .flatten()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max);
                let at_best: Vec<char> = tied
                    .iter()
                    .zip(&means)
                    .filter(|(_, m)| m.is_some_and(|m| best - m <= crate::loglik::TIE_EPS))
                    .map(|(l, _)| *l)
                    .collect();
                match at_best.as_slice() {
                    [l] => (Some(*l), RULE_TIE_LIKELIHOOD),
                    _ => (None, RULE_TIE),
                }
            } else {
                (None, RULE_TIE)
            }
        }
    };
    Vote {
        answer,
        rule,
        votes,
    }
}

/// Best-of-N by the policy's own likelihood: the sample with the highest mean token
/// log-probability decides.
pub fn best_likelihood<'a>(samples: impl IntoIterator<Item = &'a SampleRecord>) -> Vote {
    let mut votes: BTreeMap<char, u32> = BTreeMap::new();
    let mut scored: Vec<(f64, Option<char>)> = Vec::new();
    for r in samples {
        if r.error.is_some() {
            continue;
        }
        if let Some(a) = r.answer {
            *votes.entry(a).or_default() += 1;
        }
        if let Some(lp) = r.mean_logprob.filter(|v| v.is_finite()) {
            scored.push((lp, r.answer));
        }
    }
    let best = scored.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
    let mut winners: Vec<Option<char>> = scored
        .iter()
        .filter(|(lp, _)| best - lp <= crate::loglik::TIE_EPS)
        .map(|(_, a)| *a)
        .collect();
    winners.dedup();
    let (answer, rule) = match winners.as_slice() {
        [] => (None, RULE_NO_LIKELIHOOD),
        [a] => (*a, RULE_BEST_LIKELIHOOD),
        _ => (None, RULE_TIE),
    };
    Vote {
        answer,
        rule,
        votes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Lang, Level};

    fn s(answer: Option<char>) -> SampleRecord {
        SampleRecord {
            answer,
            ..SampleRecord::new("1", Lang::En, Level::S1, 0, 'A', "ABCD")
        }
    }

    #[test]
    fn most_votes_win_and_no_answer_does_not_vote() {
        let v = majority(&[s(Some('B')), s(None), s(None), s(Some('B')), s(Some('C'))]);
        assert_eq!((v.answer, v.rule), (Some('B'), RULE_MAJORITY));
        assert_eq!(v.votes[&'B'], 2);
    }

    #[test]
    fn a_tie_is_no_answer_and_no_votes_is_no_answer() {
        let v = majority(&[s(Some('B')), s(Some('C'))]);
        assert_eq!((v.answer, v.rule), (None, RULE_TIE));
        let v = majority(&[s(None), s(None)]);
        assert_eq!((v.answer, v.rule), (None, RULE_NO_VOTES));
    }

    fn lp(answer: Option<char>, mean: f64) -> SampleRecord {
        SampleRecord {
            mean_logprob: Some(mean),
            ..s(answer)
        }
    }

    #[test]
    fn a_tie_goes_to_the_letter_whose_samples_are_more_likely() {
        let v = majority(&[
            lp(Some('B'), -0.9),
            lp(Some('C'), -0.4),
            lp(Some('B'), -0.5),
            lp(Some('C'), -0.6),
        ]);
        // B: mean -0.7, C: mean -0.5.
        assert_eq!((v.answer, v.rule), (Some('C'), RULE_TIE_LIKELIHOOD));
        // Equal means stay a tie; a missing log-probability cannot break it.
        let v = majority(&[lp(Some('B'), -0.5), lp(Some('C'), -0.5)]);
        assert_eq!((v.answer, v.rule), (None, RULE_TIE));
        let v = majority(&[lp(Some('B'), -0.5), s(Some('C'))]);
        assert_eq!((v.answer, v.rule), (None, RULE_TIE));
    }

    #[test]
    fn best_of_n_by_likelihood_takes_the_most_likely_sample_whatever_it_says() {
        let v = best_likelihood(&[
            lp(Some('A'), -1.0),
            lp(Some('B'), -0.2),
            lp(Some('A'), -0.9),
        ]);
        assert_eq!((v.answer, v.rule), (Some('B'), RULE_BEST_LIKELIHOOD));
        let v = best_likelihood(&[lp(None, -0.1), lp(Some('B'), -0.2)]);
        assert_eq!(v.answer, None, "the most likely sample said nothing");
        let v = best_likelihood(&[s(Some('A'))]);
        assert_eq!((v.answer, v.rule), (None, RULE_NO_LIKELIHOOD));
    }

    #[test]
    fn errored_samples_do_not_vote() {
        let mut e = s(Some('C'));
        e.error = Some("HTTP 500".into());
        let v = majority(&[s(Some('B')), e.clone(), e]);
        assert_eq!(v.answer, Some('B'));
    }
}
