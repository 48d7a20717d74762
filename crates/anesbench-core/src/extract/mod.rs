//! Answer extraction: response text -> option letter or "no answer", with the rule that
//! fired.
//!
//! Order of work: `<think>` blocks are removed ([`split_think`]); the rest is folded
//! (full-width letters, `\text{}`) and stripped of markdown; in a reply that numbers the
//! options itself (`1. Propofol ... 3. Etomidate`) "option 3" reads as C ([`numbered`]);
//! answer statements are found
//! and ranked ([`statements`] explains the strengths, [`decide`] the rule for
//! disagreement); only when there is none do weak clues count (a last line that is just a
//! letter, a first line that is just a letter, a bold letter on the last line, one
//! option's text). Nothing is ever guessed:
//! no clue, or clues that disagree, give `answer: None`.

mod context;
mod decide;
mod locate;
mod mapped;
mod normalize;
mod numbered;
mod statements;
mod think;
mod token;
mod weak;

use serde::{Deserialize, Serialize};

use crate::item::{ascii_letter_index as index, letter};

pub use locate::{locate, Field, Located};
pub use think::{split_think, split_think_full, ThinkSplit};

/// Rule name when nothing in the response names an option.
pub const NO_ANSWER: &str = "no_answer";
/// Rule name when the deciding statements name different options (or several at once).
pub const AMBIGUOUS: &str = "ambiguous";

/// Every rule name a result can carry, strongest family first.
pub const RULES: &[&str] = &[
    "boxed",
    "json",
    "final_answer",
    "answer_label",
    "zh_final",
    "zh_label",
    "answer_is",
    "best_option",
    "choose",
    "exception_is",
    "zh_answer",
    "zh_choose",
    "conclusion_letter",
    "letter_correct",
    "verdict",
    "zh_correct",
    "final_line_letter",
    "first_line_letter",
    "bold_letter",
    "option_text",
    "paren_letter",
    "reasoning_final",
    NO_ANSWER,
    AMBIGUOUS,
];

/// Result of extracting an answer from one response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    /// `None` = no answer (none found, or two conflicting answers).
    pub answer: Option<char>,
    /// Name of the rule that fired, or `no_answer` / `ambiguous`.
    pub rule: String,
}

impl Extraction {
    fn found(letter: char, rule: &str) -> Self {
        Extraction {
            answer: Some(letter),
            rule: rule.to_string(),
        }
    }
    fn none(rule: &str) -> Self {
        Extraction {
            answer: None,
            rule: rule.to_string(),
        }
    }
}

/// The upper-case letter for `c` when it is one of the first `n` option letters.
fn option_letter(c: char, n: usize) -> Option<char> {
    index(c).filter(|&i| i < n).map(letter)
}

/// Extract the chosen option from `response`, given the item's option texts in letter
/// order. `<think>` blocks are removed first; an unclosed one leaves only what preceded
/// it, so a model that never finished thinking has no answer.
pub fn extract(response: &str, options: &[String]) -> Extraction {
    extract_text(&split_think_full(response).rest, options)
}

/// [`extract`] on text that has no `<think>` blocks left in it.
pub fn extract_text(text: &str, options: &[String]) -> Extraction {
    extract_text_as(text, options, Ending::Finished)
}

/// How the generation ended, as far as extraction cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The model stopped by itself (or nobody knows).
    Finished,
    /// Cut at the token limit (`finish_reason = length`): the last line is wherever the cut
    /// fell, not a conclusion, so only answer statements count. Rules that read the last line
    /// or the last sentence (`final_line_letter`, `bold_letter`, `option_text`) are skipped:
    /// a base model echoing the option list would otherwise "answer" with whichever option
    /// line the cut landed on. The separate reasoning is not read at all: a trace cut at
    /// the limit has no conclusion, whatever its last paragraph says.
    Truncated,
}

impl Ending {
    /// From an OpenAI-style `finish_reason`.
    pub fn from_finish_reason(reason: Option<&str>) -> Ending {
        match reason {
            Some("length") => Ending::Truncated,
            _ => Ending::Finished,
        }
    }
}

fn extract_text_as(text: &str, options: &[String], ending: Ending) -> Extraction {
    decide_text(text, options, ending).0
}

/// Where in the rewritten text the deciding evidence sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Byte range in the plain text (folded, markdown removed, numbers as letters).
    Plain(usize, usize),
    /// Byte range in the folded text (markdown kept: the bold-letter rule reads it).
    Folded(usize, usize),
}

/// The extraction, and where the evidence that decided a letter sits.
fn decide_text(text: &str, options: &[String], ending: Ending) -> (Extraction, Option<At>) {
    let n = options.len().min(26);
    if n == 0 || text.trim().is_empty() {
        return (Extraction::none(NO_ANSWER), None);
    }
    let folded = normalize::fold(text);
    let plain = normalize::plain(&folded);
    let plain = numbered::letters_for_numbers(&plain, &options[..n]);
    let found = statements::find(&plain, n);
    if let Some((x, by)) = decide::decide_at(&found, &plain) {
        return (x, by.map(|s| At::Plain(s.pos, s.end)));
    }
    let line_at = |(i, _): (usize, &str)| {
        let (a, b) = weak::line_range(&plain, i);
        At::Plain(a, b)
    };
    // In a reply cut at the token limit the opening line is as the model meant it, but
    // nothing at the cut is: the last-line and last-sentence rules are skipped.
    let cut = ending == Ending::Truncated;
    if !cut {
        if let Some(c) = weak::final_line_letter(&plain, &options[..n]) {
            let at = weak::last_line(&plain).map(line_at);
            return (Extraction::found(c, "final_line_letter"), at);
        }
    }
    if let Some(c) = weak::first_line_letter(&plain, &options[..n]) {
        let at = weak::first_line(&plain).map(line_at);
        return (Extraction::found(c, "first_line_letter"), at);
    }
    if cut {
        return (Extraction::none(NO_ANSWER), None);
    }
    if let Some(c) = weak::bold_letter(&folded, n) {
        let at = weak::bold_range(&folded).map(|(a, b)| At::Folded(a, b));
        return (Extraction::found(c, "bold_letter"), at);
    }
    match weak::option_text_at(&plain, &options[..n]) {
        Some((weak::TextMatch::One(c), (a, b))) => {
            (Extraction::found(c, "option_text"), Some(At::Plain(a, b)))
        }
        Some((weak::TextMatch::Several, _)) => (Extraction::none(AMBIGUOUS), None),
        None => (Extraction::none(NO_ANSWER), None),
    }
}

/// Extract from a response whose reasoning came apart from it (`reasoning_content`, or
/// `content: null`).
///
/// The response decides whenever it says anything. The reasoning is read only when the
/// response is empty once `<think>` blocks are removed, and then only a *final* statement
/// (`\boxed{}`, "Final answer:", an `Answer:` label, "最终答案", JSON) that all final
/// statements agree on and that sits in the reasoning's last paragraph counts (rule
/// `reasoning_final`): a model that stopped mid-thought has no answer.
pub fn extract_with_reasoning(
    response: Option<&str>,
    reasoning: Option<&str>,
    options: &[String],
) -> Extraction {
    extract_ended(response, reasoning, options, Ending::Finished)
}

/// [`extract_with_reasoning`] for a generation that ended as `ending` says: a truncated
/// response is read for answer statements only (see [`Ending::Truncated`]), and a
/// truncated generation never answers from its reasoning (`reasoning_final` needs a
/// generation that finished).
pub fn extract_ended(
    response: Option<&str>,
    reasoning: Option<&str>,
    options: &[String],
    ending: Ending,
) -> Extraction {
    decide_ended(response, reasoning, options, ending).0
}

/// [`extract_ended`], with where the deciding evidence sits: in the response without its
/// `<think>` blocks (`false`), or in the reasoning (`true`).
fn decide_ended(
    response: Option<&str>,
    reasoning: Option<&str>,
    options: &[String],
    ending: Ending,
) -> (Extraction, Option<(bool, At)>) {
    let split = split_think_full(response.unwrap_or(""));
    let (found, at) = decide_text(&split.rest, options, ending);
    let in_response = (found.clone(), at.map(|a| (false, a)));
    if found.answer.is_some() || !split.rest.trim().is_empty() {
        return in_response;
    }
    // A trace cut at the token limit stopped wherever the cut fell: even a final statement
    // in its last paragraph was no conclusion yet (the model may have gone on to weigh it).
    if ending == Ending::Truncated {
        return in_response;
    }
    let Some(reasoning) = reasoning.filter(|r| !r.trim().is_empty()) else {
        return in_response;
    };
    let n = options.len().min(26);
    let plain = normalize::plain(&normalize::fold(reasoning));
    let finals: Vec<_> = statements::find(&plain, n)
        .into_iter()
        .filter(|s| s.strength == statements::FINAL)
        .collect();
    let last_paragraph = plain.trim_end().rfind("\n\n").map_or(0, |i| i + 2);
    match (decide::decide_at(&finals, &plain), finals.last()) {
        (
            Some((
                Extraction {
                    answer: Some(c), ..
                },
                by,
            )),
            Some(last),
        ) if last.pos >= last_paragraph => (
            Extraction::found(c, "reasoning_final"),
            by.map(|s| (true, At::Plain(s.pos, s.end))),
        ),
        _ => in_response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truncated_reply_is_read_for_statements_only() {
        let o = opts();
        // A base model echoing the options, cut after the first option line.
        let echo = "Which drug keeps blood pressure?\nThe options are listed below.\nC. Etomidate";
        assert_eq!(extract_text(echo, &o).answer, Some('C'));
        let cut = extract_ended(Some(echo), None, &o, Ending::Truncated);
        assert_eq!((cut.answer, cut.rule.as_str()), (None, NO_ANSWER));
        // A cut on a bold letter or an option's text is not an answer either.
        for text in ["We weigh them: **B**", "Etomidate"] {
            assert!(extract_text(text, &o).answer.is_some(), "{text}");
            assert_eq!(
                extract_ended(Some(text), None, &o, Ending::Truncated).answer,
                None,
                "{text}"
            );
        }
        // A statement made before the cut still counts, and so does an opening letter.
        let stated = "Answer: B\n\nKetamine keeps the sympathetic tone and then the model rambl";
        assert_eq!(
            extract_ended(Some(stated), None, &o, Ending::Truncated).answer,
            Some('B')
        );
        let opening = "B\n\nKetamine releases catecholamines and so the blood pre";
        assert_eq!(
            extract_ended(Some(opening), None, &o, Ending::Truncated).answer,
            Some('B')
        );
        assert_eq!(
            Ending::from_finish_reason(Some("length")),
            Ending::Truncated
        );
        assert_eq!(Ending::from_finish_reason(Some("stop")), Ending::Finished);
        assert_eq!(Ending::from_finish_reason(None), Ending::Finished);
    }

    #[test]
    fn kelvin_sign_and_long_s_are_no_letters() {
        // `(?i)[a-z]` matches U+212A (Kelvin, folds to `k`) and U+017F (long s, `s`); with
        // 26 options `k` and `s` are real letters, so only the arithmetic can go wrong.
        let o: Vec<String> = (0..26).map(|i| format!("choice number {i}")).collect();
        for text in [
            "\u{212A}",
            "\u{212A}.",
            "(\u{212A})",
            "\u{17F}",
            "Answer: \u{212A}",
            "\u{212A} is correct.",
            "**\u{212A}**",
            "The answer is \u{17F}.",
            "Option \u{212A}: correct",
        ] {
            for ending in [Ending::Finished, Ending::Truncated] {
                let e = extract_ended(Some(text), None, &o, ending);
                assert_eq!(e.answer, None, "{text:?}");
            }
        }
        assert_eq!(index('\u{212A}'), None);
        assert_eq!(index('\u{17F}'), None);
        assert_eq!(index('k'), Some(10));
        assert_eq!(option_letter('k', 11), Some('K'));
        assert_eq!(option_letter('k', 10), None);
        assert_eq!(letter(10), 'K');
    }

    fn opts() -> Vec<String> {
        ["Propofol", "Ketamine", "Etomidate", "Midazolam"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn every_rule_fired_is_listed() {
        for text in [
            "Answer: C",
            "blah",
            "The answer is A. The answer is B.",
            "(C)",
            "**D**",
        ] {
            let e = extract(text, &opts());
            assert!(RULES.contains(&e.rule.as_str()), "{} not in RULES", e.rule);
        }
    }

    #[test]
    fn a_truncated_reasoning_trace_yields_no_answer() {
        let o = opts();
        let trace = "Propofol drops the pressure.\n\nFinal answer: B";
        let done = extract_ended(None, Some(trace), &o, Ending::Finished);
        assert_eq!(
            (done.answer, done.rule.as_str()),
            (Some('B'), "reasoning_final")
        );
        for response in [None, Some(""), Some("<think>Final answer: B")] {
            let cut = extract_ended(response, Some(trace), &o, Ending::Truncated);
            assert_eq!(
                (cut.answer, cut.rule.as_str()),
                (None, NO_ANSWER),
                "{response:?}"
            );
        }
        // An answer statement in the visible part still counts when cut.
        let cut = extract_ended(
            Some("Answer: C\n\nEtomidate is"),
            Some(trace),
            &o,
            Ending::Truncated,
        );
        assert_eq!(cut.answer, Some('C'));
    }

    #[test]
    fn reasoning_only_with_a_final_statement_at_its_end() {
        let o = opts();
        let r = extract_with_reasoning(None, Some("Thinking...\n\nFinal answer: B"), &o);
        assert_eq!((r.answer, r.rule.as_str()), (Some('B'), "reasoning_final"));
        let r = extract_with_reasoning(
            Some(""),
            Some("Final answer: B\n\nWait, maybe C is better"),
            &o,
        );
        assert_eq!(r.answer, None);
        let r = extract_with_reasoning(Some("I am not sure."), Some("Final answer: B"), &o);
        assert_eq!(r.answer, None);
        let r = extract_with_reasoning(Some("The answer is D."), Some("Final answer: B"), &o);
        assert_eq!(r.answer, Some('D'));
    }
}
