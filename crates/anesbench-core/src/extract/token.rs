//! Reading the option letter that follows an answer phrase ("... is (C)", "答案：C 项").

/// What stands after an answer phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// One letter among the item's letters; `end` is the byte offset after it.
    Letter { letter: char, end: usize },
    /// Two or more letters ("A and C", "AC"): not a single answer.
    Several { end: usize },
    /// A letter that is not one of the item's letters.
    OutOfRange { end: usize },
    /// No letter: a word, a number, nothing.
    Nothing,
}

const OPENERS: &[char] = &['(', '[', '【', '{', '"', '\'', '「', '『', '<', '“'];
const CLOSERS: &[char] = &[')', ']', '】', '}', '"', '\'', '」', '』', '>', '”'];
const PREFIXES: &[&str] = &["option", "choice", "letter", "选项", "答案"];

fn skip_ws(text: &str, mut i: usize, newlines: bool) -> usize {
    for c in text[i..].chars() {
        let skip = c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'));
        if !skip {
            break;
        }
        i += c.len_utf8();
    }
    i
}

fn skip_set(text: &str, mut i: usize, set: &[char]) -> usize {
    for c in text[i..].chars() {
        if !set.contains(&c) {
            break;
        }
        i += c.len_utf8();
    }
    i
}

fn skip_prefix(text: &str, i: usize) -> usize {
    let rest = &text[i..];
    for p in PREFIXES {
        if rest.len() >= p.len()
            && rest.is_char_boundary(p.len())
            && rest[..p.len()].eq_ignore_ascii_case(p)
        {
            let after = i + p.len();
            let next = text[after..].chars().next();
            // "optional" is not "option": an ASCII prefix must end at a non-letter.
            if p.is_ascii() && next.is_some_and(|c| c.is_ascii_alphabetic()) {
                continue;
            }
            return skip_ws(text, after, false);
        }
    }
    i
}

/// Letters in a run starting at `i` (ASCII alphabetic only).
fn letter_run(text: &str, i: usize) -> &str {
    let end = text[i..]
        .find(|c: char| !c.is_ascii_alphabetic())
        .map_or(text.len(), |e| i + e);
    &text[i..end]
}

/// True when a space and then an ASCII letter follow `i`: the letter before was a word
/// ("a patient", "I think"), not an option.
fn word_follows(text: &str, i: usize) -> bool {
    let mut chars = text[i..].chars();
    matches!(chars.next(), Some(' ')) && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Read the letter at `start`, after optional blanks (and line breaks when `newlines`),
/// an optional "option" / "选项" word and an optional opening bracket or quote.
pub fn read(text: &str, start: usize, n_options: usize, newlines: bool) -> Token {
    let mut i = skip_ws(text, start, newlines);
    i = skip_prefix(text, i);
    i = skip_set(text, i, OPENERS);
    i = skip_ws(text, i, false);
    i = skip_prefix(text, i);
    let run = letter_run(text, i);
    match run.len() {
        1 => {
            let c = run.chars().next().unwrap_or(' ');
            let after = i + 1;
            if c.is_ascii_lowercase() && word_follows(text, after) {
                return Token::Nothing;
            }
            if c == 'I'
                && text[after..].starts_with(' ')
                && text[after + 1..].starts_with(|c: char| c.is_ascii_lowercase())
            {
                return Token::Nothing;
            }
            let end = skip_set(text, after, CLOSERS);
            let Some(letter) = super::option_letter(c, n_options) else {
                return Token::OutOfRange { end };
            };
            if another_follows(text, end, n_options) {
                return Token::Several { end };
            }
            Token::Letter { letter, end }
        }
        2..=4
            if run.chars().all(|c| {
                c.is_ascii_uppercase() && super::option_letter(c, n_options).is_some()
            }) =>
        {
            let mut seen: Vec<char> = run.chars().collect();
            seen.dedup();
            if seen.len() == run.len() {
                Token::Several { end: i + run.len() }
            } else {
                Token::Nothing
            }
        }
        _ => Token::Nothing,
    }
}

/// "A and C", "A、C", "A/C", "A 或 C": a second letter joined to the first.
fn another_follows(text: &str, i: usize, n_options: usize) -> bool {
    let i = skip_ws(text, i, false);
    let rest = &text[i..];
    let joiners = [
        ",", "、", "/", "&", "+", "和", "或者", "或", "还是", "以及", "及", "与", "and ", "or ",
        "AND ", "OR ",
    ];
    let Some(j) = joiners.iter().find(|j| rest.starts_with(**j)) else {
        return false;
    };
    // "C or D depending on ..." offers two answers whatever follows; after "and" or a
    // comma, a word means a new clause ("C, and A is wrong").
    let alternative = matches!(*j, "/" | "或者" | "或" | "还是" | "or " | "OR ");
    let k = skip_ws(text, i + j.len(), false);
    let k = skip_prefix(text, k);
    let k = skip_set(text, k, OPENERS);
    let run = letter_run(text, k);
    if run.len() != 1 {
        return false;
    }
    let c = run.chars().next().unwrap_or(' ');
    if !c.is_ascii_uppercase() || super::option_letter(c, n_options).is_none() {
        return false;
    }
    let after = skip_set(text, k + 1, CLOSERS);
    // "C, and A is wrong" names A to reject it: a word after the second letter means a
    // new clause, not a list of answers.
    alternative || (!word_follows(text, after) && !text[after..].starts_with(['不', '非', '错']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(t: &str) -> Token {
        read(t, 0, 4, false)
    }

    #[test]
    fn plain_and_bracketed() {
        assert!(matches!(letter(" C."), Token::Letter { letter: 'C', .. }));
        assert!(matches!(letter(" (c)"), Token::Letter { letter: 'C', .. }));
        assert!(matches!(letter("【B】"), Token::Letter { letter: 'B', .. }));
        assert!(matches!(
            letter(" option D"),
            Token::Letter { letter: 'D', .. }
        ));
        assert!(matches!(letter("选项A"), Token::Letter { letter: 'A', .. }));
        assert!(matches!(
            letter(" \"C\""),
            Token::Letter { letter: 'C', .. }
        ));
    }

    #[test]
    fn words_are_not_letters() {
        assert_eq!(letter(" a patient"), Token::Nothing);
        assert_eq!(letter(" I think"), Token::Nothing);
        assert_eq!(letter(" Atropine"), Token::Nothing);
        assert_eq!(letter(" optional"), Token::Nothing);
    }

    #[test]
    fn several_and_out_of_range() {
        assert!(matches!(letter(" A and C"), Token::Several { .. }));
        assert!(matches!(letter("AC"), Token::Several { .. }));
        assert!(matches!(letter(" A、C"), Token::Several { .. }));
        assert!(matches!(
            letter(" C, and A is wrong"),
            Token::Letter { letter: 'C', .. }
        ));
        assert!(matches!(letter(" F"), Token::OutOfRange { .. }));
        assert!(matches!(
            letter(" C or D depending on"),
            Token::Several { .. }
        ));
    }
}
