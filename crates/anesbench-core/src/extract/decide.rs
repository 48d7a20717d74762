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
//! reconsider ... Answer: C" is C).

use super::context;
use super::statements::{Named, Statement};
use super::Extraction;

pub fn decide(statements: &[Statement], text: &str) -> Option<Extraction> {
    let top = statements.iter().map(|s| s.strength).max()?;
    let deciding: Vec<&Statement> = statements.iter().filter(|s| s.strength == top).collect();
    let last = deciding.last()?;
    if let Named::Letter(c) = last.named {
        if let Some(k) = deciding.iter().rposition(|s| s.named != last.named) {
            if context::corrects(&text[deciding[k].end.min(last.pos)..last.pos]) {
                return Some(Extraction::found(c, last.rule));
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
        ([c], false, false) => Extraction::found(*c, last.rule),
        ([], false, true) => Extraction::none(super::NO_ANSWER),
        _ => Extraction::none(super::AMBIGUOUS),
    })
}
