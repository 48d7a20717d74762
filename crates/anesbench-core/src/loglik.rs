//! Log-likelihood scoring of options: how a letter's spellings combine into one
//! log-probability, and how option log-probabilities become an answer. The runner, `rescore`
//! and both backends (embedded llama.cpp and OpenAI-compatible HTTP) use these, so
//! `option_logprobs` mean the same thing whichever backend wrote them.
//!
//! **Variants.** The next token after the answer cue can spell option `A` as `A` or ` A`
//! (SentencePiece vocabularies write the space as `▁`), and a server may list `"A\n"`. An
//! option's log-probability is the log of the total probability of its spellings:
//! log-sum-exp over every distinct single-token spelling the backend scores. The embedded
//! backend scores exactly the tokens `X` and ` X` from the full vocabulary; over HTTP only
//! the top-k listed tokens are known, and each listed token that equals `X` after trimming
//! whitespace counts.
//!
//! **Missing and ties.** A letter the server did not list is known only to score below
//! every listed token; it gets a floor below them (`anesbench-backend`), so several
//! missing letters tie. A tie at the maximum is **no answer** (rule [`RULE_TIE`]), never
//! the first or last of the tied letters. Non-finite values (NaN from a broken backend)
//! take no part; if no value is finite the sample is no answer (rule [`RULE_NONE`]).

use crate::item::letter;

/// The answer is the option with the single highest log-probability.
pub const RULE_ARGMAX: &str = "loglik_argmax";
/// Several options share the highest log-probability: no answer.
pub const RULE_TIE: &str = "loglik_tie";
/// No finite log-probability at all: no answer.
pub const RULE_NONE: &str = "no_answer";

/// Two log-probabilities closer than this (in nats) are equal: far below any difference
/// a model's logits can express in f32, far above f64 rounding of the same value.
pub const TIE_EPS: f64 = 1e-9;

/// Answer and rule from option log-probabilities (in option order).
pub fn decide(logprobs: &[f64]) -> (Option<char>, &'static str) {
    let best = logprobs
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if best == f64::NEG_INFINITY {
        return (None, RULE_NONE);
    }
    let mut at_best = logprobs
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite() && best - **v <= TIE_EPS);
    match (at_best.next(), at_best.next()) {
        (Some((i, _)), None) => (Some(letter(i)), RULE_ARGMAX),
        _ => (None, RULE_TIE),
    }
}

/// Combine the log-probabilities of one option's spellings: log-sum-exp, ignoring
/// non-finite values; `None` when there is none.
pub fn combine_variants(lps: &[f64]) -> Option<f64> {
    let max = lps
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return None;
    }
    let sum: f64 = lps
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| (v - max).exp())
        .sum();
    Some(max + sum.ln())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_is_the_single_best() {
        assert_eq!(
            decide(&[-3.0, -0.5, f64::NAN, -1.0]),
            (Some('B'), RULE_ARGMAX)
        );
    }

    #[test]
    fn a_tie_at_the_maximum_is_no_answer() {
        assert_eq!(decide(&[-5.0, -5.0, -5.0, -5.0]), (None, RULE_TIE));
        assert_eq!(decide(&[-1.0, -2.0, -1.0]), (None, RULE_TIE));
        // A tie below the maximum does not matter.
        assert_eq!(decide(&[-1.0, -7.0, -7.0]), (Some('A'), RULE_ARGMAX));
    }

    #[test]
    fn nothing_finite_is_no_answer() {
        assert_eq!(decide(&[]), (None, RULE_NONE));
        assert_eq!(decide(&[f64::NAN, f64::NEG_INFINITY]), (None, RULE_NONE));
    }

    #[test]
    fn variants_add_their_probabilities() {
        let c = combine_variants(&[(0.2f64).ln(), (0.3f64).ln()]).unwrap();
        assert!((c - (0.5f64).ln()).abs() < 1e-12);
        assert_eq!(combine_variants(&[-1.0]), Some(-1.0));
        assert_eq!(combine_variants(&[f64::NAN]), None);
        let c = combine_variants(&[-1.0, f64::NEG_INFINITY]).unwrap();
        assert!((c + 1.0).abs() < 1e-12);
    }
}
