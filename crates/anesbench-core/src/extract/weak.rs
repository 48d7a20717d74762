//! Weak evidence, used only when no answer statement was found: a last line that is just
//! a letter, one bold letter on the last line, or the text of exactly one option.

use std::sync::LazyLock;

use regex::Regex;

use super::normalize::for_compare;

static LETTER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[ \t>\-]*(?:(?:option|choice|answer|选项|答案)\s*:?\s*)?[(\[【]?([a-z])[)\]】]?\s*(?:(。|[.:)、\-–—])\s*(.*?))?\s*[.。]?$")
        .expect("valid regex")
});
static LIST_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[ \t>\-]*[(\[]?[A-Ia-i][.):：、\]]").expect("valid regex"));
static BOLD_LETTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\*\*\s*(?:(?i:option)\s+|选项)?[(\[【]?([A-Z])[)\]】]?\s*(?:[.:)。]\s*[^*\n]*)?\*\*",
    )
    .expect("valid regex")
});
static LINE_NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:not|incorrect|wrong|false|unlikely|exclude|excluded|eliminate|eliminated|rule\s+out|ruled\s+out)(?-u:\b)|不|错误|排除").expect("valid regex")
});
static ANSWER_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:answer|choose|select|go\s+with|correct|right|best|choice|preferred|suitable|appropriate|indicated|ideal|consistent|likely|diagnosis|needs|needed|requires|required|give|recommended|of\s+choice|first-line|therefore|thus|so|hence)(?-u:\b)|答案|选|正确|最佳|最合适|最适合|最恰当|首选|综上|因此|故|所以").expect("valid regex")
});
static TEXT_THEN_LETTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(.+?)\s*[(\[]([a-z])[)\]]$").expect("valid regex"));
static NEGATION_AFTER_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[^,;，；]{0,30}?(?:(?-u:\b)not(?-u:\b)|n't|(?-u:\b)avoid|(?-u:\b)contraindicated|(?-u:\b)incorrect|(?-u:\b)wrong|(?-u:\b)unsuitable|(?-u:\b)inappropriate|(?-u:\b)inadequate|(?-u:\b)insufficient|(?-u:\b)ineffective|不|禁用|错误|避免)")
        .expect("valid regex")
});
static NEGATION_BEFORE_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(?-u:\b)not|(?-u:\b)no|n't|(?-u:\b)never|(?-u:\b)avoid|(?-u:\b)rather\s+than|(?-u:\b)instead\s+of|(?-u:\b)except|(?-u:\b)over|(?-u:\b)than|不是|不选|不用|避免|排除|而非|非)(?:\s+[a-z]+){0,2}\s*$")
        .expect("valid regex")
});

static REASON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)(?:because|since|as|which|given|due\s+to|owing\s+to|whereas|while)(?-u:\b)|因为|由于")
        .expect("valid regex")
});

/// Byte range of line `i` (as `text.lines()` counts them) in `text`, trimmed.
pub fn line_range(text: &str, i: usize) -> (usize, usize) {
    let line = text.lines().nth(i).unwrap_or("");
    super::mapped::sub_range(text, line.trim())
}

/// The first line that is not blank, as `first_line_letter` reads it.
pub fn first_line(text: &str) -> Option<(usize, &str)> {
    text.lines().enumerate().find(|(_, l)| !l.trim().is_empty())
}

/// Byte range of the bold letters on the last line that `bold_letter` read.
pub fn bold_range(folded: &str) -> Option<(usize, usize)> {
    let (_, line) = last_line(folded)?;
    let (base, _) = super::mapped::sub_range(folded, line);
    let first = BOLD_LETTER.find(line)?;
    let last = BOLD_LETTER.find_iter(line).last()?;
    Some((base + first.start(), base + last.end()))
}

pub fn last_line(text: &str) -> Option<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines.iter().rposition(|l| !l.trim().is_empty())?;
    Some((i, lines[i]))
}

/// The last line is only a letter, perhaps bracketed or followed by that option's text:
/// "C", "(C)", "C.", "Option C", "C. Propofol". Not when the line above is another
/// `X.` line (a list of options or an option-by-option analysis).
pub fn final_line_letter(plain: &str, options: &[String]) -> Option<char> {
    let (i, line) = last_line(plain)?;
    let c = letter_line(line, options)?;
    let above = plain
        .lines()
        .take(i)
        .filter(|l| !l.trim().is_empty())
        .last();
    if above.is_some_and(|l| LIST_LINE.is_match(l.trim())) {
        return None;
    }
    Some(c)
}

/// The response opens with a line that is only a letter ("B\n\nKetamine keeps ..."),
/// and the next line is not another `X.` line (a list of options).
pub fn first_line_letter(plain: &str, options: &[String]) -> Option<char> {
    let mut lines = plain.lines().filter(|l| !l.trim().is_empty());
    let c = letter_line(lines.next()?, options)?;
    if lines.next().is_some_and(|l| LIST_LINE.is_match(l.trim())) {
        return None;
    }
    Some(c)
}

fn letter_line(line: &str, options: &[String]) -> Option<char> {
    let caps = LETTER_LINE.captures(line.trim())?;
    let c = caps.get(1)?.as_str().chars().next()?;
    let option = options.get(super::index(c)?)?;
    let full_stop = caps.get(2).is_some_and(|m| m.as_str() == "。");
    if let Some(text) = caps
        .get(3)
        .map(|m| m.as_str())
        .filter(|t| !t.trim().is_empty())
    {
        // "C. Propofol" names C only when the text is C's text: a line that goes on
        // ("A. Propofol: this drug ...") is an option being discussed. After a Chinese
        // full stop ("B。氯胺酮可维持血压") the letter is a sentence of its own.
        let (said, want) = (for_compare(text), for_compare(option));
        let same = said == want || (said.len() >= 3 && want.starts_with(&said));
        if !full_stop && (want.is_empty() || !same) {
            return None;
        }
    } else if c.is_ascii_lowercase() && line.trim().len() > 3 {
        return None;
    }
    Some(c.to_ascii_uppercase())
}

/// One bold letter on the last line ("... my pick: **C**"), with no negation on that line.
pub fn bold_letter(folded: &str, n_options: usize) -> Option<char> {
    let (_, line) = last_line(folded)?;
    if LINE_NEGATION.is_match(line) {
        return None;
    }
    let mut found: Vec<char> = BOLD_LETTER
        .captures_iter(line)
        .filter_map(|c| c.get(1)?.as_str().chars().next())
        .collect();
    found.dedup();
    match found.as_slice() {
        [c] => super::option_letter(*c, n_options),
        _ => None,
    }
}

/// What the option-text rule found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMatch {
    One(char),
    Several,
}

/// The response is one option's text, or its last sentence states an answer ("The answer is
/// propofol.") and holds the text of exactly one option (not negated). Texts shorter
/// than 3 characters (2 for Chinese) are too common to count.
#[cfg(test)]
pub fn option_text(plain: &str, options: &[String]) -> Option<TextMatch> {
    option_text_at(plain, options).map(|(m, _)| m)
}

/// [`option_text`], with the byte range of `plain` that it read: the whole reply, or its
/// last sentence.
pub fn option_text_at(plain: &str, options: &[String]) -> Option<(TextMatch, (usize, usize))> {
    let whole_range = super::mapped::sub_range(plain, plain.trim());
    let wanted: Vec<(usize, String)> = options
        .iter()
        .enumerate()
        .map(|(i, o)| (i, for_compare(o)))
        .filter(|(_, o)| {
            let cjk = o.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
            o.chars().count() >= if cjk { 2 } else { 3 }
        })
        .collect();
    let whole = for_compare(plain);
    if let Some((i, _)) = wanted.iter().find(|(_, o)| *o == whole) {
        return Some((TextMatch::One(super::letter(*i)), whole_range));
    }
    // "Epinephrine (C)": the text and its own letter.
    if let Some(caps) = TEXT_THEN_LETTER.captures(&whole) {
        let index = caps[2].chars().next().and_then(super::index);
        if let Some((i, _)) = wanted
            .iter()
            .find(|(i, o)| Some(*i) == index && *o == caps[1].trim())
        {
            return Some((TextMatch::One(super::letter(*i)), whole_range));
        }
    }
    // A last line that is an option of a list ("B. Give oxygen") restates the list.
    if last_line(plain).is_some_and(|(_, l)| LIST_LINE.is_match(l.trim())) {
        return None;
    }
    let sentence = last_sentence(plain);
    let sentence_range = super::mapped::sub_range(plain, sentence.trim());
    let line = for_compare(sentence);
    if !ANSWER_CUE.is_match(&line) {
        return None;
    }
    // Longest texts first, so that "propofol" inside "propofol and ketamine" is not a
    // second match.
    let mut by_len = wanted.clone();
    by_len.sort_by_key(|(_, o)| std::cmp::Reverse(o.len()));
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut hits: Vec<usize> = Vec::new();
    for (i, o) in &by_len {
        for (s, _) in line.match_indices(o.as_str()) {
            let e = s + o.len();
            if taken.iter().any(|&(a, b)| s < b && a < e) || !word_edges(&line, s, e) {
                continue;
            }
            taken.push((s, e));
            // A reason after the text ("etomidate, because it does not drop the pressure")
            // speaks of its effects: a negation there does not reject it.
            let after = &line[e..];
            let after = REASON.find(after).map_or(after, |m| &after[..m.start()]);
            let negated =
                NEGATION_BEFORE_TEXT.is_match(&line[..s]) || NEGATION_AFTER_TEXT.is_match(after);
            if !negated && !hits.contains(i) {
                hits.push(*i);
            }
        }
    }
    match hits.as_slice() {
        [] => None,
        [i] => Some((TextMatch::One(super::letter(*i)), sentence_range)),
        _ => Some((TextMatch::Several, sentence_range)),
    }
}

/// The last sentence, where a response that answers in words states its answer.
fn last_sentence(text: &str) -> &str {
    const ENDS: &[char] = &['.', '!', '?', '。', '！', '？', '\n'];
    let body = text.trim_end().trim_end_matches(ENDS);
    // A period ends a sentence only before a space ("1.5 mg/kg" is one number).
    let start = body
        .char_indices()
        .rfind(|&(i, c)| {
            ENDS.contains(&c) && (c != '.' || body[i + 1..].starts_with(char::is_whitespace))
        })
        .map_or(0, |(i, c)| i + c.len_utf8());
    &body[start..]
}

fn word_edges(line: &str, s: usize, e: usize) -> bool {
    let before = line[..s].chars().next_back();
    let after = line[e..].chars().next();
    !before.is_some_and(|c| c.is_ascii_alphanumeric())
        && !after.is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Vec<String> {
        ["Propofol", "Ketamine", "Etomidate", "Propofol and ketamine"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn letter_lines() {
        assert_eq!(final_line_letter("blah\n\n(C)", &opts()), Some('C'));
        assert_eq!(final_line_letter("C. Etomidate", &opts()), Some('C'));
        assert_eq!(final_line_letter("C. Ketamine", &opts()), None);
        assert_eq!(final_line_letter("A. Propofol\nB. Ketamine", &opts()), None);
        assert_eq!(final_line_letter("A patient", &opts()), None);
        assert_eq!(
            final_line_letter("Each in turn.\nA. Propofol: this drug", &opts()),
            None
        );
        assert_eq!(final_line_letter("B – ketamine", &opts()), Some('B'));
        assert_eq!(
            first_line_letter("B\n\nKetamine keeps the pressure up.", &opts()),
            Some('B')
        );
        assert_eq!(first_line_letter("A. Propofol\nB. Ketamine", &opts()), None);
    }

    #[test]
    fn bold() {
        assert_eq!(bold_letter("so: **B**", 4), Some('B'));
        assert_eq!(bold_letter("**B** is wrong", 4), None);
        assert_eq!(bold_letter("**A** or **B**", 4), None);
    }

    #[test]
    fn texts() {
        assert_eq!(
            option_text("Propofol and ketamine", &opts()),
            Some(TextMatch::One('D'))
        );
        assert_eq!(
            option_text("The answer is etomidate, not ketamine.", &opts()),
            Some(TextMatch::One('C'))
        );
        assert_eq!(
            option_text("The best drug is propofol or ketamine.", &opts()),
            Some(TextMatch::Several)
        );
        assert_eq!(
            option_text("Ketamine raises blood pressure.", &opts()),
            None
        );
        assert_eq!(
            option_text("Etomidate (C).", &opts()),
            Some(TextMatch::One('C'))
        );
        assert_eq!(option_text("Etomidate (B).", &opts()), None);
        assert_eq!(option_text("Don't give ketamine.", &opts()), None);
    }
}
