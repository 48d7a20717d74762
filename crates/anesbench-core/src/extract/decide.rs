//! Turning the statements found into one answer, or no answer.
//!
//! The rule: only the strongest statements decide. If every one of them names the same
//! letter, that letter is the answer (the rule of the last one is reported). If they name
//! different letters, or one of them names several, the result is `ambiguous`. Weaker
//! statements never overrule a stronger one, so "C is correct" in an option-by-option
//! analysis does not contradict a closing "Therefore, the answer is B" — that closing
//! sentence is clearly the conclusion. Two plain "the answer is" statements that disagree
//! with no conclusion marker on either are ambiguous: the reader cannot tell which one
//! the model meant — unless the model corrected itself: when a correction marker
//! ("wait", "actually", "on second thought", "重新考虑", "更正") stands between the last
//! disagreeing statement and the final one, the final one wins ("Answer: B ... Wait, let me
//! reconsider ... Answer: C" is C). Strength ranks only agreeing statements: when two
//! statements that each state an answer ("Final answer: B", "the answer is C", not a mere
//! "C is correct") disagree and no correction stands between them, the reply has no answer
//! whichever is stronger.

use super::context;
use super::statements::{Named, Statement};
use super::Extraction;

/// The answer the statements give, with the statement that decided a letter (`None` for
/// no answer).
pub fn decide_at<'s>(
    statements: &'s [Statement],
    text: &str,
) -> Option<(Extraction, Option<&'s Statement>)> {
    let (found, by) = by_strength(statements, text)?;
    let Some(c) = found.answer else {
        return Some((found, None));
    };
    Some(unretracted_conflict(statements, text, c).unwrap_or((found, by)))
}

/// A reply that states two different answers and takes neither back has no answer, even
/// when one statement is stronger ("Final answer: B ... the answer is C"). Weaker
/// statements that merely evaluate ("C is correct") do not count as answers here. A
/// correction marker between them ("Answer: B. Wait, no, actually the answer is C")
/// makes the later one the answer.
fn unretracted_conflict<'s>(
    statements: &'s [Statement],
    text: &str,
    c: char,
) -> Option<(Extraction, Option<&'s Statement>)> {
    let top = statements.iter().map(|s| s.strength).max()?;
    let answers: Vec<&Statement> = statements
        .iter()
        .filter(|s| (s.states_answer || s.strength == top) && s.named != Named::OutOfRange)
        .collect();
    let conflict = |s: &&Statement| s.named != Named::Letter(c);
    if !answers.iter().any(conflict) {
        return None;
    }
    // Walk in text order: a statement that disagrees with the one before it replaces it
    // when a correction stands between them, and otherwise leaves the reply undecided.
    let mut current = answers[0];
    for s in &answers[1..] {
        if s.named == current.named {
            current = s;
            continue;
        }
        if context::corrects(&text[current.end.min(s.pos)..s.pos]) {
            current = s;
        } else {
            return Some((Extraction::none(super::AMBIGUOUS), None));
        }
    }
    Some(match current.named {
        Named::Letter(l) => (Extraction::found(l, current.rule), Some(current)),
        _ => (Extraction::none(super::AMBIGUOUS), None),
    })
}

fn by_strength<'s>(
    statements: &'s [Statement],
    text: &str,
) -> Option<(Extraction, Option<&'s Statement>)> {
    let top = statements.iter().map(|s| s.strength).max()?;
    let deciding: Vec<&Statement> = statements.iter().filter(|s| s.strength == top).collect();
    let last = deciding.last()?;
    if let Named::Letter(c) = last.named {
        if let Some(k) = deciding.iter().rposition(|s| s.named != last.named) {
            if context::corrects(&text[deciding[k].end.min(last.pos)..last.pos]) {
                return Some((Extraction::found(c, last.rule), Some(*last)));
            }
        }
    }
    let mut letters: Vec<char> = Vec::new();
    let (mut several, mut out_of_range) = (false, false);
    for s in &deciding {
        match s.named {
            Named::Letter(c) if !letters.contains(&c) => letters.push(c),
            Named::Letter(_) => {}
            Named::Several => several = true,
            Named::OutOfRange => out_of_range = true,
        }
    }
    Some(match (letters.as_slice(), several, out_of_range) {
        ([c], false, false) => (Extraction::found(*c, last.rule), Some(*last)),
        ([], false, true) => (Extraction::none(super::NO_ANSWER), None),
        _ => (Extraction::none(super::AMBIGUOUS), None),
    })
}
