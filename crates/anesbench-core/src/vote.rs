//! The per-item decision of a run with several samples per item (self-consistency),
//! derived from the stored samples so `rescore` and every report can recompute it.
//!
//! Rule: each sample with an extracted answer casts one vote for its letter; samples with
//! no answer (and errored samples) do not vote. The letter with the most votes wins. A tie
//! for the most votes is **no answer** (rule [`RULE_TIE`]): the decision never picks a
//! letter by its position, and never returns a letter no sample chose.

use std::collections::BTreeMap;

use crate::record::SampleRecord;

pub const RULE_MAJORITY: &str = "majority";
pub const RULE_TIE: &str = "vote_tie";
pub const RULE_NO_VOTES: &str = "no_votes";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    pub answer: Option<char>,
    pub rule: &'static str,
    /// Votes per letter.
    pub votes: BTreeMap<char, u32>,
}

/// Majority vote over the samples of one item.
pub fn majority<'a>(samples: impl IntoIterator<Item = &'a SampleRecord>) -> Vote {
    let mut votes: BTreeMap<char, u32> = BTreeMap::new();
    for r in samples {
        if r.error.is_none() {
            if let Some(a) = r.answer {
                *votes.entry(a).or_default() += 1;
            }
        }
    }
    let top = votes.values().copied().max().unwrap_or(0);
    let mut leaders = votes.iter().filter(|(_, &v)| v == top && top > 0);
    let (answer, rule) = match (leaders.next(), leaders.next()) {
        (None, _) => (None, RULE_NO_VOTES),
        (Some((&l, _)), None) => (Some(l), RULE_MAJORITY),
        (Some(_), Some(_)) => (None, RULE_TIE),
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

    #[test]
    fn errored_samples_do_not_vote() {
        let mut e = s(Some('C'));
        e.error = Some("HTTP 500".into());
        let v = majority(&[s(Some('B')), e.clone(), e]);
        assert_eq!(v.answer, Some('B'));
    }
}
