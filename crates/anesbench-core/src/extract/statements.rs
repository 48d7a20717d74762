//! Answer statements: phrases that name the chosen letter, each with a strength.
//!
//! Strength orders how much a statement says "this is my answer":
//! [`FINAL`] (`\boxed{}`, JSON, "Final answer", an `Answer:` label, "最终答案"),
//! [`CONCLUSIVE`] (any statement in a sentence with a conclusion or correction marker:
//! "Therefore, ...", "故选C"), [`ANSWER`] ("the answer is C", "答案是C", "I choose C"),
//! [`EVAL`] ("C is correct", "C正确"). Phrases with free words in them ("the most appropriate
//! next step is C", "the best choice is the sympathomimetic agent (option B)") count only
//! when the letter ends the sentence and nothing in the phrase negates or contrasts.

use std::sync::LazyLock;

use regex::Regex;

use super::context;
use super::token::{self, Token};

pub const FINAL: u8 = 4;
pub const CONCLUSIVE: u8 = 3;
pub const ANSWER: u8 = 2;
pub const EVAL: u8 = 1;

/// What a statement names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Letter(char),
    /// Two or more letters in one statement.
    Several,
    /// A letter the item does not have.
    OutOfRange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Byte offset of the phrase (or of the letter, for letter-first phrases).
    pub pos: usize,
    /// Byte offset just after the letter: two phrases naming the same letter occurrence
    /// share it.
    pub end: usize,
    pub strength: u8,
    /// The phrase states an answer ([`ANSWER`] or stronger) by itself, before any
    /// conclusion marker around it counted: "C is correct" after "Therefore" is
    /// [`CONCLUSIVE`] but states no answer.
    pub states_answer: bool,
    pub rule: &'static str,
    pub named: Named,
}

/// A phrase after which the letter is read ("the answer is" + " (C)").
struct LeadIn {
    rule: &'static str,
    strength: u8,
    re: Regex,
    /// The letter may sit on a following line (headings, labels).
    newlines: bool,
    /// The letter must end its sentence ("Therefore, C." but not "So A patient ...").
    ends_sentence: bool,
    /// The phrase spans free words ("the best agent here is ketamine (option B)"): it
    /// must hold no negation or contrast ("not", "rather than", "over").
    clean: bool,
}

/// A phrase that starts with the letter ("C is correct"); group 1 is the letter, group
/// `noun` ("answer", "答案") makes it an answer statement, group `second` a second letter.
struct LetterFirst {
    rule: &'static str,
    strength: u8,
    re: Regex,
    /// Letters preceded by a CJK character are read only after these ("选项C正确",
    /// "故C正确"), so that "维生素C是最合适的" names no option.
    cjk_before: &'static str,
}

fn re(p: &str) -> Regex {
    Regex::new(p).expect("valid extraction regex")
}

static LEAD_INS: LazyLock<Vec<LeadIn>> = LazyLock::new(|| {
    let l = |rule, strength, p: &str, newlines, ends_sentence| LeadIn {
        rule,
        strength,
        re: re(p),
        newlines,
        ends_sentence,
        clean: false,
    };
    let free = |rule, p: &str| LeadIn {
        rule,
        strength: ANSWER,
        re: re(p),
        newlines: false,
        ends_sentence: true,
        clean: true,
    };
    vec![
        l("boxed", FINAL, r"\\(?:boxed|fbox)\s*\{", false, false),
        l(
            "json",
            FINAL,
            r#"(?i)"(?:final_answer|answer|final answer|choice|selected_option|answer_letter|option|答案)"\s*:\s*"#,
            false,
            false,
        ),
        l(
            "final_answer",
            FINAL,
            r"(?i)(?-u:\b)final\s+(?:answer|choice|selection|decision)(?-u:\b)\s*(?:is|would\s+be|will\s+be|=|:|-)?\s*(?:therefore\s+|thus\s+)?:?\s*",
            true,
            false,
        ),
        l(
            "answer_label",
            FINAL,
            r"(?im)^[ \t>\-]*(?:the\s+)?(?:correct\s+|best\s+)?answer[ \t]*(?:[:=]|[\-–—][ \t]|\n)\s*",
            true,
            false,
        ),
        l(
            "zh_final",
            FINAL,
            r"最终(?:的)?(?:答案|选择|选项)\s*(?:应该?|应当)?\s*(?:是|为)?\s*:?\s*",
            true,
            false,
        ),
        l(
            "zh_label",
            FINAL,
            r"(?m)^[ \t>\-]*(?:正确)?答案?[ \t]*(?::|\n)\s*",
            true,
            false,
        ),
        // "【答案】B", "【正确答案】：B", "[Answer] B".
        l(
            "zh_label",
            FINAL,
            r"(?i)[【\[]\s*(?:正确|最终|参考)?答案?\s*[】\]][ \t]*:?\s*|[【\[]\s*(?:correct\s+|final\s+)?answer\s*[】\]][ \t]*:?\s*",
            true,
            false,
        ),
        // "The answer is not B but C", "答案不是B，而是C": the letter after "but" is read.
        l(
            "answer_is",
            ANSWER,
            r"(?i)(?-u:\b)(?:answer|choice|option)(?-u:\b)[ \t]+(?:is|would\s+be|should\s+be|must\s+be)\s+not\s+(?:option\s+)?[(\[]?[A-Z][)\]]?\s*,?\s*but\s+(?:rather\s+|instead\s+)?",
            false,
            false,
        ),
        l(
            "zh_answer",
            ANSWER,
            r"答案\s*(?:应该?|应当)?\s*(?:不是|并非|不为)\s*[A-Z]\s*[,;]?\s*(?:而是|而为|应是|是)\s*",
            false,
            false,
        ),
        l(
            "answer_is",
            ANSWER,
            r"(?i)(?-u:\b)answer(?-u:\b)(?:\s+(?:to|for)\s+(?:this|the)\s+(?:question|problem|case|item))?\s*(?:is|would\s+be|should\s+be|will\s+be|must\s+be|=|:)\s*(?:therefore\s+|thus\s+|then\s+|clearly\s+|definitely\s+|most\s+likely\s+|likely\s+|probably\s+|indeed\s+|still\s+)?:?\s*",
            false,
            false,
        ),
        l(
            "best_option",
            ANSWER,
            r"(?i)(?-u:\b)(?:correct|right|best|true|appropriate|suitable|accurate|only\s+correct|most\s+(?:appropriate|likely|suitable|accurate|correct|reasonable|plausible|consistent|fitting))\s+(?:option|choice|response|selection|statement|one)\s*(?:here\s+)?(?:is|would\s+be|should\s+be|=|:)\s*",
            false,
            false,
        ),
        l(
            "choose",
            ANSWER,
            r"(?i)(?-u:\b)(?:I|we)(?:\s+(?:would|will|should|must|shall|can|do)|'ll|'d)?(?:\s+(?:therefore|thus|then|finally))?\s+(?:choose|select|pick|go\s+with|opt\s+for|favou?r|chose|selected|picked|say)\s+",
            false,
            false,
        ),
        l(
            "choose",
            ANSWER,
            r"(?i)(?-u:\b)(?:I'm|I\s+am|we're|we\s+are)\s+(?:choosing|selecting|picking|going\s+with|opting\s+for)\s+",
            false,
            false,
        ),
        l(
            "choose",
            ANSWER,
            r"(?im)(?:^|[.!;]\s+)[ \t]*(?:prefer|choose|select|pick|go\s+with)\s+",
            false,
            false,
        ),
        l(
            "choose",
            ANSWER,
            r"(?i)(?-u:\b)my\s+(?:final\s+)?(?:choice|pick|selection)\s+(?:is|would\s+be|:)\s*",
            false,
            false,
        ),
        l("answer_is", ANSWER, r"(?i)(?-u:\b)answer\s+", false, true),
        l(
            "exception_is",
            ANSWER,
            r"(?i)(?-u:\b)(?:the\s+)?(?:exception|false\s+statement|incorrect\s+statement|wrong\s+statement|statement\s+that\s+is\s+(?:false|incorrect|not\s+true))\s+(?:here\s+)?(?:is|would\s+be|:)\s*",
            false,
            false,
        ),
        l(
            "exception_is",
            ANSWER,
            r"(?:说法)?(?:错误|不正确|不对|有误)的(?:说法|选项|一项|是)?\s*(?:是|为|:)\s*",
            false,
            false,
        ),
        l(
            "final_answer",
            FINAL,
            r"(?im)^[ \t>\-]*final[ \t]*:\s*",
            false,
            false,
        ),
        l(
            "zh_answer",
            ANSWER,
            r"答案\s*(?:应该?|应当|就|只能|即)?\s*(?:是|为|选|选择|:)\s*:?\s*",
            false,
            false,
        ),
        l(
            "zh_answer",
            ANSWER,
            r"(?:正确|最佳|最合适|最恰当|最符合(?:题意)?|最准确|最可能)的?(?:选项|选择|答案|一项)\s*(?:应该?|应当)?\s*(?:是|为|:)\s*:?\s*",
            false,
            false,
        ),
        l("zh_choose", ANSWER, r"选择?\s*", false, false),
        // "The most appropriate next step is C.", "The drug of choice here is B."
        free(
            "best_option",
            r"(?i)(?:(?-u:\b)(?:correct|right|best|appropriate|preferred|ideal|optimal|safest|first-line|(?:most|least)[ \t]+[a-z]+)(?:[ \t]+[a-z][a-z'-]*){1,6}?|(?-u:\b)(?:drug|agent|treatment|management|test|investigation)[ \t]+of[ \t]+choice(?:[ \t]+[a-z][a-z'-]*){0,4}?)[ \t]+(?:is|would[ \t]+be|should[ \t]+be|will[ \t]+be|remains)[ \t]*:?[ \t]*",
        ),
        // "... the best choice is the sympathomimetic agent (option B)."
        free(
            "paren_letter",
            r"(?i)(?-u:\b)(?:answer|correct|right|best|appropriate|preferred|ideal|optimal|safest|indicated|recommended|of[ \t]+choice|first-line|most[ \t]+[a-z]+)(?-u:\b)[^.!?;\n()]{0,100}?[ \t]\(",
        ),
        l(
            "conclusion_letter",
            CONCLUSIVE,
            r"(?i)(?:(?-u:\b)(?:therefore|thus|hence|so|in\s+conclusion|in\s+summary|overall|consequently|ultimately|finally|in\s+the\s+end|in\s+short|to\s+sum\s+up|all\s+things\s+considered|considering\s+(?:everything|all(?:\s+of\s+this)?))\s*[,:]?\s*(?:the\s+answer\s+)?|(?:故|因此|所以|综上所述?|总之|因而)\s*[,:]?\s*)",
            false,
            true,
        ),
    ]
});

static LETTER_FIRST: LazyLock<Vec<LetterFirst>> = LazyLock::new(|| {
    let l = |rule, strength, p: &str, cjk_before| LetterFirst {
        rule,
        strength,
        re: re(p),
        cjk_before,
    };
    vec![
        l(
            "letter_correct",
            EVAL,
            r"(?i)(?:(?-u:\b)(?:option|choice|answer)\s*)?[(\[]?([A-Za-z])[)\]]?\s+(?:is|would\s+be|seems\s+to\s+be|appears\s+to\s+be|remains)\s+(?:clearly\s+|therefore\s+|indeed\s+)?(?:the\s+|an?\s+)?(?:single\s+|only\s+)?(?:most\s+)?(?:correct|right|best|appropriate|accurate|suitable|likely|true|valid)(?-u:\b)(?:\s+(?P<noun>answer|option|choice|response))?",
            "",
        ),
        l(
            "letter_correct",
            ANSWER,
            r"(?i)(?:(?-u:\b)(?:option|choice)\s*)?[(\[]?([A-Za-z])[)\]]?\s+is\s+(?:the\s+)?(?:final\s+|correct\s+|right\s+|best\s+)?(?P<noun>answer)(?-u:\b)",
            "",
        ),
        l(
            "letter_correct",
            EVAL,
            r"(?i)(?:(?-u:\b)(?:options?|choices?)\s*)?[(\[]?([A-Za-z])[)\]]?\s*(?:,|and|&)\s*(?:option\s*)?[(\[]?(?P<second>[A-Za-z])[)\]]?\s+(?:are|were)\s+(?:both\s+)?(?:correct|right|true|valid)(?-u:\b)",
            "",
        ),
        l(
            "verdict",
            EVAL,
            r"(?i)(?:(?-u:\b)(?:option|choice)\s*)?(?-u:\b)([A-Z])\s*[:)\-–—]\s*(?:[^\n.;:]{0,60}?[\s\-–—:,(]\s*)?(?:correct|yes|true|✓|✔)(?:\s|$|[.,;!])",
            "",
        ),
        l(
            "zh_correct",
            EVAL,
            r"(?:选项)?[(\[【]?([A-Z])[)\]】]?\s*(?:项|选项)?[^A-Za-z，。,.;；:：!?！？\n不非未错无]{0,12}?(?:是|为)?\s*(?:正确(?:的)?(?P<noun>答案|选项)?|最佳(?:答案|选项)?|最为?合适|最为?适合|最为?恰当|最为?符合(?:题意)?|符合题意|最为?准确|最为?正确|更合适|更适合|更恰当|更佳|为首选)",
            "项故即为是以此而",
        ),
        l(
            "zh_correct",
            ANSWER,
            r"(?:选项)?[(\[【]?([A-Z])[)\]】]?\s*(?:项|选项)?[^A-Za-z。.;；!?！？\n]{0,12}?(?:是|为)\s*(?:本题的?)?(?P<noun>(?:正确|最佳)?答案)",
            "项故即为是以此而",
        ),
    ]
});

static SPAN_NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:not|no|never|avoid\w*|rather\s+than|instead\s+of|unlike|except|excluding|over|versus|vs)(?-u:\b)|n't|不|非",
    )
});

static INNER_NEGATION: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)(?-u:\b)(?:not|no|never|hardly)(?-u:\b)|n't|不|非|未"));

fn is_cjk(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c) || ('\u{3400}'..='\u{4DBF}').contains(&c)
}

fn sentence_ends_at(text: &str, end: usize) -> bool {
    let rest = text[end..].trim_start_matches([' ', '\t']);
    rest.is_empty()
        || rest.starts_with(['.', '。', '!', '！', '\n', '\r'])
        || rest.starts_with([',', '，']) && rest[1..].trim_start().is_empty()
}

/// Every answer statement in `text` (already folded and markdown-free), in text order.
pub fn find(text: &str, n_options: usize) -> Vec<Statement> {
    let mut out: Vec<Statement> = Vec::new();
    for p in LEAD_INS.iter() {
        for m in p.re.find_iter(text) {
            let named = match token::read(text, m.end(), n_options, p.newlines) {
                Token::Letter { letter, end } => (Named::Letter(letter), end),
                Token::Several { end } => (Named::Several, end),
                Token::OutOfRange { end } => (Named::OutOfRange, end),
                Token::Nothing => continue,
            };
            let (named, end) = named;
            if p.ends_sentence && !sentence_ends_at(text, end) {
                continue;
            }
            if p.clean && SPAN_NEGATION.is_match(m.as_str()) {
                continue;
            }
            push(&mut out, text, m.start(), end, p.strength, p.rule, named);
        }
    }
    for p in LETTER_FIRST.iter() {
        for caps in p.re.captures_iter(text) {
            let (Some(m), Some(l)) = (caps.get(0), caps.get(1)) else {
                continue;
            };
            if !letter_first_ok(text, m.start(), l.start(), p.cjk_before) {
                continue;
            }
            let listed = follows_list(text, m.start());
            let letter = l.as_str().chars().next().unwrap_or(' ');
            let prefixed = l.start() > m.start();
            if letter.is_ascii_lowercase() && !prefixed {
                continue;
            }
            let strength = if caps.name("noun").is_some() {
                p.strength.max(ANSWER)
            } else {
                p.strength
            };
            // A letter past the item's letters at the start of a phrase is more often a
            // label of something else ("Q: is this right?") than an answer: skip it.
            let Some(letter) = super::option_letter(letter, n_options) else {
                continue;
            };
            let named = if caps.name("second").is_some() || listed {
                Named::Several
            } else {
                Named::Letter(letter)
            };
            // A negation inside the phrase ("A: this is not correct"), after it
            // ("C正确吗", "C is correct only if") or before it.
            if INNER_NEGATION.is_match(m.as_str())
                || context::rejected_after(text, m.end())
                || context::negated_before(text, m.start())
            {
                continue;
            }
            push_checked(&mut out, text, m.start(), l.end(), strength, p.rule, named);
        }
    }
    out.sort_by_key(|s| (s.end, std::cmp::Reverse(s.strength)));
    out.dedup_by_key(|s| s.end);
    out.sort_by_key(|s| s.pos);
    out
}

/// The phrase's letter closes a list ("A、B、D说法均正确", "A, B and D are"): it speaks
/// for several letters, not one.
fn follows_list(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end();
    let Some(sep) = before.chars().next_back() else {
        return false;
    };
    let joined = if matches!(sep, '、' | ',' | '，' | '和' | '及') {
        &before[..before.len() - sep.len_utf8()]
    } else if let Some(b) = before
        .strip_suffix(" and")
        .or_else(|| before.strip_suffix(" or"))
    {
        b
    } else {
        return false;
    };
    let joined = joined.trim_end();
    let mut tail = joined.chars().rev();
    tail.next().is_some_and(|c| c.is_ascii_uppercase())
        && !tail.next().is_some_and(|c| c.is_ascii_alphanumeric())
}

fn letter_first_ok(text: &str, start: usize, letter_start: usize, cjk_before: &str) -> bool {
    let before = text[..start].chars().next_back();
    if before.is_some_and(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    if start == letter_start {
        if let Some(c) = before.filter(|c| is_cjk(*c)) {
            return cjk_before.contains(c);
        }
    }
    true
}

fn push(
    out: &mut Vec<Statement>,
    text: &str,
    pos: usize,
    end: usize,
    strength: u8,
    rule: &'static str,
    named: Named,
) {
    if context::negated_before(text, pos) || context::rejected_after(text, end) {
        return;
    }
    push_checked(out, text, pos, end, strength, rule, named);
}

fn push_checked(
    out: &mut Vec<Statement>,
    text: &str,
    pos: usize,
    end: usize,
    strength: u8,
    rule: &'static str,
    named: Named,
) {
    let states_answer = strength >= ANSWER;
    let strength = if strength < CONCLUSIVE && context::conclusive(text, pos) {
        CONCLUSIVE
    } else {
        strength
    };
    out.push(Statement {
        pos,
        end,
        strength,
        states_answer,
        rule,
        named,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (Named, u8, &'static str) {
        let s = find(text, 4);
        assert_eq!(s.len(), 1, "{text:?}: {s:?}");
        (s[0].named, s[0].strength, s[0].rule)
    }

    #[test]
    fn strengths() {
        assert_eq!(
            one("Final answer: C"),
            (Named::Letter('C'), FINAL, "final_answer")
        );
        assert_eq!(
            one("The answer is (B)."),
            (Named::Letter('B'), ANSWER, "answer_is")
        );
        assert_eq!(
            one("Therefore, the answer is D."),
            (Named::Letter('D'), CONCLUSIVE, "answer_is")
        );
        assert_eq!(
            one("故选C。"),
            (Named::Letter('C'), CONCLUSIVE, "zh_choose")
        );
        assert_eq!(
            one("Option A is correct."),
            (Named::Letter('A'), EVAL, "letter_correct")
        );
    }

    #[test]
    fn negations_are_not_statements() {
        assert!(find("The answer is not A.", 4).is_empty());
        assert!(find("A is incorrect.", 4).is_empty());
        assert!(find("答案不是A。", 4).is_empty());
        assert!(find("排除A。", 4).is_empty());
        assert!(find("不选A", 4).is_empty());
    }

    #[test]
    fn articles_are_not_letters() {
        assert!(find("A patient is the most likely candidate.", 4).is_empty());
        assert!(find("So a patient with CHF was given drugs.", 4).is_empty());
        assert!(find("A: this is not correct.", 4).is_empty());
        assert!(find("Q: which is true?", 4).is_empty());
        let listed = find("A、B、D说法均正确。", 4);
        assert!(
            listed.iter().all(|s| s.named == Named::Several),
            "{listed:?}"
        );
    }
}
