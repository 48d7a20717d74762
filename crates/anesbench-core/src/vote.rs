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
//!
//! **Reward** (`bon:N:prm`, `bon:N:orm`, `beam`, `dvts`): each candidate's score is its
//! step rewards aggregated ([`StepAgg`]: `last`, `min`, `prod` or `mean`), or its outcome
//! `reward` when it has no step rewards. Selection `max`: the best-scored candidate
//! decides (its answer or no answer; equal best scores that answer differently are no
//! answer). Selection `weighted`: the scores of the candidates with an answer are summed
//! per letter and the highest sum wins (an equal highest sum is no answer). Candidates
//! without a finite score take no part.

use std::collections::BTreeMap;

use crate::record::SampleRecord;

pub const RULE_MAJORITY: &str = "majority";
pub const RULE_TIE: &str = "vote_tie";
pub const RULE_TIE_LIKELIHOOD: &str = "vote_tie_likelihood";
pub const RULE_NO_VOTES: &str = "no_votes";
pub const RULE_BEST_LIKELIHOOD: &str = "best_likelihood";
pub const RULE_NO_LIKELIHOOD: &str = "no_likelihood";
pub const RULE_BEST_REWARD: &str = "best_reward";
pub const RULE_WEIGHTED_REWARD: &str = "weighted_reward";
pub const RULE_NO_REWARD: &str = "no_reward";

/// How a candidate's per-step rewards become one score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepAgg {
    /// The reward of the last step (search-and-learn's default).
    #[default]
    Last,
    Min,
    Prod,
    Mean,
}

impl StepAgg {
    pub const ALL: [StepAgg; 4] = [StepAgg::Last, StepAgg::Min, StepAgg::Prod, StepAgg::Mean];
    pub fn name(self) -> &'static str {
        match self {
            StepAgg::Last => "last",
            StepAgg::Min => "min",
            StepAgg::Prod => "prod",
            StepAgg::Mean => "mean",
        }
    }
    pub fn parse(s: &str) -> Option<StepAgg> {
        StepAgg::ALL.into_iter().find(|a| a.name() == s)
    }
    /// `None` for no steps or a non-finite reward among them.
    pub fn apply(self, steps: &[f64]) -> Option<f64> {
        if steps.is_empty() || steps.iter().any(|x| !x.is_finite()) {
            return None;
        }
        Some(match self {
            StepAgg::Last => steps[steps.len() - 1],
            StepAgg::Min => steps.iter().copied().fold(f64::INFINITY, f64::min),
            StepAgg::Prod => steps.iter().product(),
            StepAgg::Mean => steps.iter().sum::<f64>() / steps.len() as f64,
        })
    }
}

/// How scored candidates become the item's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    /// The best-scored candidate decides.
    #[default]
    Max,
    /// Scores summed per letter; the highest sum wins.
    Weighted,
}

impl Selection {
    pub fn name(self) -> &'static str {
        match self {
            Selection::Max => "max",
            Selection::Weighted => "weighted",
        }
    }
    pub fn parse(s: &str) -> Option<Selection> {
        match s {
            "max" | "best" => Some(Selection::Max),
            "weighted" => Some(Selection::Weighted),
            _ => None,
        }
    }
}

/// A candidate's reward-model score: its step rewards aggregated, else its outcome reward.
pub fn candidate_score(r: &SampleRecord, agg: StepAgg) -> Option<f64> {
    match r.step_rewards.as_deref() {
        Some(steps) if !steps.is_empty() => agg.apply(steps),
        _ => r.reward.filter(|x| x.is_finite()),
    }
}

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
    /// By reward-model score ([`candidate_score`]).
    Reward(StepAgg, Selection),
}

impl Aggregation {
    pub fn name(self) -> &'static str {
        use Selection::*;
        use StepAgg::*;
        match self {
            Aggregation::Majority => "majority",
            Aggregation::BestLikelihood => "best_likelihood",
            Aggregation::IdentityOrder => "identity_order",
            Aggregation::Reward(Last, Max) => "reward_last_max",
            Aggregation::Reward(Min, Max) => "reward_min_max",
            Aggregation::Reward(Prod, Max) => "reward_prod_max",
            Aggregation::Reward(Mean, Max) => "reward_mean_max",
            Aggregation::Reward(Last, Weighted) => "reward_last_weighted",
            Aggregation::Reward(Min, Weighted) => "reward_min_weighted",
            Aggregation::Reward(Prod, Weighted) => "reward_prod_weighted",
            Aggregation::Reward(Mean, Weighted) => "reward_mean_weighted",
        }
    }

    /// From a manifest's `solver` label: `best-of-n:N:likelihood` -> best likelihood; a
    /// label ending in `:AGG:SEL` (`best-of-n:8:prm:last:max`, `beam:4,4,32:min:weighted`)
    /// -> reward; anything else -> majority.
    pub fn for_solver(label: &str) -> Aggregation {
        if label.contains("+circular") || label.contains("+shuffle") {
            return Aggregation::IdentityOrder;
        }
        let parts: Vec<&str> = label.split(':').collect();
        if let [.., a, sel] = parts.as_slice() {
            if let (Some(a), Some(sel)) = (StepAgg::parse(a), Selection::parse(sel)) {
                return Aggregation::Reward(a, sel);
            }
        }
        if label.starts_with("best-of-n") {
            Aggregation::BestLikelihood
        } else {
            Aggregation::Majority
        }
    }

    /// `majority`, `likelihood`, or `reward:AGG:SEL` (`reward:min:weighted`; `reward`
    /// alone is `reward:last:max`), as `rescore --aggregate` takes it.
    pub fn parse(s: &str) -> Result<Aggregation, String> {
        let t = s.trim().to_ascii_lowercase();
        let parts: Vec<&str> = t.split([':', '_']).collect();
        let bad = || {
            format!("unknown rule `{s}` (expected majority, likelihood, or reward:AGG:SEL with AGG last|min|prod|mean and SEL max|weighted)")
        };
        match parts.as_slice() {
            ["majority"] | ["vote"] => Ok(Aggregation::Majority),
            ["likelihood"] | ["best", "likelihood"] => Ok(Aggregation::BestLikelihood),
            ["reward"] => Ok(Aggregation::Reward(StepAgg::Last, Selection::Max)),
            ["reward", a] => Ok(Aggregation::Reward(
                StepAgg::parse(a).ok_or_else(bad)?,
                Selection::Max,
            )),
            ["reward", a, sel] => Ok(Aggregation::Reward(
                StepAgg::parse(a).ok_or_else(bad)?,
                Selection::parse(sel).ok_or_else(bad)?,
            )),
            _ => Err(bad()),
        }
    }

    pub fn decide<'a>(self, samples: impl IntoIterator<Item = &'a SampleRecord>) -> Vote {
        match self {
            Aggregation::Majority => majority(samples),
            Aggregation::BestLikelihood => best_likelihood(samples),
            Aggregation::IdentityOrder => identity_order(samples),
            Aggregation::Reward(agg, sel) => by_reward(samples, agg, sel),
        }
    }
}

/// Decision by reward-model score (see the module docs).
pub fn by_reward<'a>(
    samples: impl IntoIterator<Item = &'a SampleRecord>,
    agg: StepAgg,
    sel: Selection,
) -> Vote {
    let mut votes: BTreeMap<char, u32> = BTreeMap::new();
    let mut scored: Vec<(f64, Option<char>)> = Vec::new();
    for r in samples {
        if r.error.is_some() {
            continue;
        }
        if let Some(a) = r.answer {
            *votes.entry(a).or_default() += 1;
        }
        if let Some(x) = candidate_score(r, agg) {
            scored.push((x, r.answer));
        }
    }
    let (answer, rule) = match sel {
        Selection::Max => {
            let best = scored.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
            let mut winners: Vec<Option<char>> = scored
                .iter()
                .filter(|(x, _)| best - x <= crate::loglik::TIE_EPS)
                .map(|(_, a)| *a)
                .collect();
            winners.sort();
            winners.dedup();
            match winners.as_slice() {
                [] => (None, RULE_NO_REWARD),
                [a] => (*a, RULE_BEST_REWARD),
                _ => (None, RULE_TIE),
            }
        }
        Selection::Weighted => {
            let mut sums: BTreeMap<char, f64> = BTreeMap::new();
            for (x, a) in &scored {
                if let Some(a) = a {
                    *sums.entry(*a).or_default() += x;
                }
            }
            let best = sums.values().copied().fold(f64::NEG_INFINITY, f64::max);
            let at_best: Vec<char> = sums
                .iter()
                .filter(|(_, &v)| best - v <= crate::loglik::TIE_EPS)
                .map(|(&l, _)| l)
                .collect();
            match at_best.as_slice() {
                [] => (None, RULE_NO_REWARD),
                [l] => (Some(*l), RULE_WEIGHTED_REWARD),
                _ => (None, RULE_TIE),
            }
        }
    };
    Vote {
        answer,
        rule,
        votes,
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

    fn rw(answer: Option<char>, steps: &[f64]) -> SampleRecord {
        SampleRecord {
            step_rewards: Some(steps.to_vec()),
            ..s(answer)
        }
    }

    #[test]
    fn step_rewards_aggregate_four_ways() {
        let x = [0.9, 0.5, 0.8];
        assert_eq!(StepAgg::Last.apply(&x), Some(0.8));
        assert_eq!(StepAgg::Min.apply(&x), Some(0.5));
        assert!((StepAgg::Prod.apply(&x).unwrap() - 0.36).abs() < 1e-12);
        assert!((StepAgg::Mean.apply(&x).unwrap() - 2.2 / 3.0).abs() < 1e-12);
        assert_eq!(StepAgg::Last.apply(&[]), None);
        assert_eq!(StepAgg::Min.apply(&[0.1, f64::NAN]), None);
    }

    #[test]
    fn reward_max_picks_the_best_candidate_and_weighted_sums_per_letter() {
        // Scores by last step: A 0.9, B 0.6, B 0.5, C 0.2.
        let rs = [
            rw(Some('A'), &[0.1, 0.9]),
            rw(Some('B'), &[0.7, 0.6]),
            rw(Some('B'), &[0.9, 0.5]),
            rw(Some('C'), &[0.2]),
        ];
        let v = by_reward(&rs, StepAgg::Last, Selection::Max);
        assert_eq!((v.answer, v.rule), (Some('A'), RULE_BEST_REWARD));
        // Weighted, by hand: A 0.9, B 0.6 + 0.5 = 1.1, C 0.2 -> B.
        let v = by_reward(&rs, StepAgg::Last, Selection::Weighted);
        assert_eq!((v.answer, v.rule), (Some('B'), RULE_WEIGHTED_REWARD));
        // By min: A 0.1, B 0.6, B 0.5, C 0.2 -> B at max.
        let v = by_reward(&rs, StepAgg::Min, Selection::Max);
        assert_eq!(v.answer, Some('B'));
        // An outcome reward stands in when there are no step rewards.
        let mut o = s(Some('D'));
        o.reward = Some(0.95);
        let v = by_reward(rs.iter().chain([&o]), StepAgg::Last, Selection::Max);
        assert_eq!(v.answer, Some('D'));
        let v = by_reward(&[s(Some('A'))], StepAgg::Last, Selection::Max);
        assert_eq!((v.answer, v.rule), (None, RULE_NO_REWARD));
    }

    #[test]
    fn reward_labels_and_rules_parse() {
        assert_eq!(
            Aggregation::for_solver("beam:4,4,32:min:weighted"),
            Aggregation::Reward(StepAgg::Min, Selection::Weighted)
        );
        assert_eq!(
            Aggregation::for_solver("best-of-n:4:likelihood"),
            Aggregation::BestLikelihood
        );
        assert_eq!(
            Aggregation::parse("reward:prod:weighted").unwrap(),
            Aggregation::Reward(StepAgg::Prod, Selection::Weighted)
        );
        assert!(Aggregation::parse("reward:median").is_err());
    }

    #[test]
    fn errored_samples_do_not_vote() {
        let mut e = s(Some('C'));
        e.error = Some("HTTP 500".into());
        let v = majority(&[s(Some('B')), e.clone(), e]);
        assert_eq!(v.answer, Some('B'));
    }
}
