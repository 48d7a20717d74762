//! Mapping a server's top-k next-token log-probabilities onto candidate letters.
//!
//! A token matches a candidate when it equals the candidate after trimming whitespace
//! (`" A"`, `"A"`, `"A\n"` all count for `A`); the matches' probabilities add up
//! (log-sum-exp, [`anesbench_core::loglik::combine_variants`]), the rule the embedded
//! backend uses too, so `option_logprobs` mean the same on both.
//! A candidate absent from the top-k list is known only to score below every listed
//! token, so it gets [`MISSING_GAP`] nats below the lowest listed log-probability:
//! finite (it survives JSON), and ranked below everything the server did list.

/// How far below the lowest listed token a missing candidate is placed, in nats.
pub const MISSING_GAP: f64 = 1.0;

/// How many top log-probabilities to ask for (OpenAI's and vLLM's usual maximum).
pub const TOP_K: u32 = 20;

/// One log-probability per candidate, same order. `None` when `top` is empty.
pub fn map_candidates(top: &[(String, f64)], candidates: &[String]) -> Option<Vec<f64>> {
    let floor = top
        .iter()
        .map(|(_, lp)| *lp)
        .filter(|lp| lp.is_finite())
        .reduce(f64::min)?
        - MISSING_GAP;
    Some(
        candidates
            .iter()
            .map(|c| {
                let want = c.trim();
                let matches: Vec<f64> = top
                    .iter()
                    .filter(|(tok, lp)| tok.trim() == want && lp.is_finite())
                    .map(|(_, lp)| *lp)
                    .collect();
                anesbench_core::loglik::combine_variants(&matches).unwrap_or(floor)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
        pairs.iter().map(|(t, l)| (t.to_string(), *l)).collect()
    }

    #[test]
    fn whitespace_variants_add_their_probabilities() {
        let top = v(&[
            (" A", -0.5),
            ("A", -0.2),
            (" B", -1.5),
            ("\nC", -3.0),
            ("The", -2.0),
        ]);
        let c: Vec<String> = ["A", "B", "C", "D"].iter().map(|s| s.to_string()).collect();
        let got = map_candidates(&top, &c).unwrap();
        // A: P(" A") + P("A") = e^-0.5 + e^-0.2, as the embedded backend combines them.
        assert!((got[0] - ((-0.5f64).exp() + (-0.2f64).exp()).ln()).abs() < 1e-12);
        assert_eq!(got[1], -1.5);
        assert_eq!(got[2], -3.0);
        assert_eq!(
            got[3],
            -3.0 - MISSING_GAP,
            "missing candidate sits below the lowest listed token"
        );
        assert!(map_candidates(&[], &c).is_none());
    }

    #[test]
    fn case_matters() {
        let top = v(&[("a", -0.1), ("B", -1.0)]);
        let got = map_candidates(&top, &["A".to_string(), "B".to_string()]).unwrap();
        assert_eq!(got, vec![-1.0 - MISSING_GAP, -1.0]);
    }
}
