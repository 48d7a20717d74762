//! Turning a backend reply into a scored record, shared by the runner and `rescore` so
//! both read a response the same way.

use anesbench_core::extract::{extract_ended, split_think, Ending, Extraction};

/// Rule names that are not extraction rules.
pub const RULE_ERROR: &str = "error";
pub use anesbench_core::loglik::{RULE_ARGMAX as RULE_LOGLIK, RULE_TIE as RULE_LOGLIK_TIE};

/// What a generate-mode response says: the reasoning found in `<think>` (if any) and the
/// extraction. The response decides; the server's separate reasoning counts only for a
/// final statement when the response is empty (`content: null`). A reply cut at the token
/// limit (`finish_reason = length`) is read for answer statements only.
pub fn score_text(
    content: Option<&str>,
    server_reasoning: Option<&str>,
    options: &[String],
    finish_reason: Option<&str>,
) -> (Option<String>, Extraction) {
    let (think, _) = split_think(content.unwrap_or(""));
    let ending = Ending::from_finish_reason(finish_reason);
    (
        think,
        extract_ended(content, server_reasoning, options, ending),
    )
}

/// Join the server's `reasoning_content` and a `<think>` block, when a model gave both.
pub fn join_reasoning(server: Option<String>, think: Option<String>) -> Option<String> {
    match (server, think) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => Some(format!("{a}\n\n{b}")),
        (Some(a), Some(b)) => Some(if a.is_empty() { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Answer and rule from option log-probabilities: the single best option, a tie at the
/// top is no answer ([`anesbench_core::loglik::decide`]). Runner and `rescore` both call it.
pub fn loglik_answer(logprobs: &[f64]) -> (Option<char>, &'static str) {
    anesbench_core::loglik::decide(logprobs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loglik_ties_are_no_answer() {
        assert_eq!(loglik_answer(&[-3.0, -0.5, f64::NAN, -1.0]).0, Some('B'));
        assert_eq!(loglik_answer(&[-21.0; 4]), (None, RULE_LOGLIK_TIE));
        assert_eq!(loglik_answer(&[]).0, None);
    }

    #[test]
    fn reasoning_joins() {
        assert_eq!(join_reasoning(Some("a".into()), None).as_deref(), Some("a"));
        assert_eq!(
            join_reasoning(Some("a".into()), Some("b".into())).as_deref(),
            Some("a\n\nb")
        );
        assert_eq!(join_reasoning(None, None), None);
    }
}
