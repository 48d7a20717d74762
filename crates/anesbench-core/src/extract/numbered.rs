//! Replies that number the options themselves ("1. Propofol ... 3. Etomidate ... Option 3
//! is correct"): when, and only when, the reply clearly lists the options as `1..N` in
//! the item's order, "option k" / "选项k" / "the answer is k" are read as the k-th letter.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::mapped::Mapped;
use super::normalize::for_compare;

/// A numbered entry: at a line start ("2. Ketamine", "Option 2: Ketamine") or inline
/// ("option 2 (ketamine)").
static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)(?:^[ \t>\-]*(?:(?:option|choice|选项)[ \t]*)?|(?-u:\b)(?:option|choice)[ \t]*)(\d{1,2})[ \t]*(?:[.):：、\-–—(]|[ \t]-)[ \t]*(.*)$")
        .expect("valid regex")
});
/// A line that lists an option by letter: then numbers are not the options' names.
static LETTERED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t>\-]*[(\[]?[A-Z][.):：、\]]").expect("valid regex"));
/// Where a number names an option: after "option", "choice", "选项", or "the answer is".
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(?-u:\b)(?:option|choice)[ \t]*#?[ \t]*|选项[ \t]*|第[ \t]*|(?-u:\b)answer[ \t]*(?:is|would\s+be|:)[ \t]*(?:option[ \t]*)?)(\d{1,2})")
        .expect("valid regex")
});

/// `plain` with option numbers turned into letters when the reply numbers the options;
/// unchanged otherwise.
pub fn letters_for_numbers<'a>(plain: &'a str, options: &[String]) -> Cow<'a, str> {
    let Some(edits) = number_edits(plain, options) else {
        return Cow::Borrowed(plain);
    };
    let mut out = String::with_capacity(plain.len());
    let mut last = 0;
    for (from, to, c) in edits {
        out.push_str(&plain[last..from]);
        out.push(c);
        last = to;
    }
    out.push_str(&plain[last..]);
    Cow::Owned(out)
}

/// [`letters_for_numbers`] of a mapped text.
pub fn letters_for_numbers_mapped(plain: &Mapped, options: &[String]) -> Mapped {
    match number_edits(&plain.text, options) {
        Some(edits) => plain.edit(&edits),
        None => plain.clone(),
    }
}

/// The byte ranges of `plain` that become a letter, when the reply numbers the options.
fn number_edits(plain: &str, options: &[String]) -> Option<Vec<(usize, usize, char)>> {
    if !numbers_options(plain, options) {
        return None;
    }
    let mut edits = Vec::new();
    for caps in REFERENCE.captures_iter(plain) {
        let (Some(all), Some(num)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let Ok(k) = num.as_str().parse::<usize>() else {
            continue;
        };
        let rest = &plain[num.end()..];
        // "option 2.5 mg", "option 12": not an option number.
        if k == 0 || k > options.len() || !number_ends(rest, all.as_str()) {
            continue;
        }
        // "第2项" becomes "B项", as the letter rules read it.
        let from = if all.as_str().starts_with('第') {
            all.start()
        } else {
            num.start()
        };
        edits.push((from, num.end(), super::letter(k - 1)));
    }
    Some(edits)
}

/// What follows the number leaves it a name: not a decimal, a unit or (after "the answer
/// is") any word.
fn number_ends(rest: &str, lead: &str) -> bool {
    if rest.starts_with(|c: char| c.is_ascii_digit())
        || rest.starts_with('.') && rest[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        return false;
    }
    let after = rest.trim_start_matches([' ', '\t']);
    let lead = lead.to_ascii_lowercase();
    if lead.contains("answer") && !lead.contains("option") {
        return after.is_empty() || after.starts_with(['.', '。', '!', '\n', ')', '(', ',']);
    }
    if lead.starts_with('第') {
        return after.starts_with(['项', '个']);
    }
    !after.starts_with(|c: char| c.is_ascii_alphabetic())
        || after.starts_with(|c: char| c.is_ascii_uppercase())
        || [
            "is ", "was ", "would ", "seems ", "and ", "or ", "best", "correct", "right",
        ]
        .iter()
        .any(|w| after.starts_with(w))
}

/// At least two numbered entries name options by their own number (entry k starts with
/// option k's text) and none names another option; no option is listed by letter.
fn numbers_options(plain: &str, options: &[String]) -> bool {
    if LETTERED.is_match(plain) {
        return false;
    }
    let texts: Vec<String> = options.iter().map(|o| for_compare(o)).collect();
    let (mut good, mut bad) = (0, 0);
    for caps in ENTRY.captures_iter(plain) {
        let Ok(k) = caps[1].parse::<usize>() else {
            continue;
        };
        let said = for_compare(&caps[2]);
        let names = |t: &String| t.chars().count() >= 2 && said.starts_with(t.as_str());
        match texts.iter().position(names) {
            Some(i) if i + 1 == k => good += 1,
            Some(_) => bad += 1,
            None => {}
        }
    }
    good >= 2 && bad == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Vec<String> {
        ["Propofol", "Ketamine", "Etomidate", "Midazolam"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn numbers_become_letters_only_for_numbered_options() {
        let listed = "1. Propofol drops BP.\n2. Ketamine keeps it.\n\nOption 2 is correct.";
        assert!(letters_for_numbers(listed, &opts()).ends_with("Option B is correct."));
        let steps = "1. Assess the airway.\n2. Choose.\n\nOption 2 is correct.";
        assert_eq!(letters_for_numbers(steps, &opts()), steps);
        let past = "1. Propofol.\n2. Ketamine.\n\nOption 5 is correct.";
        assert_eq!(letters_for_numbers(past, &opts()), past);
        let wrong = "1. Ketamine.\n2. Propofol.\n\nOption 2 is correct.";
        assert_eq!(letters_for_numbers(wrong, &opts()), wrong);
    }
}
