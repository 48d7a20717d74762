//! Text normalisation before matching: full-width forms, LaTeX text wrappers, markdown.

use std::sync::LazyLock;

use regex::Regex;

use super::mapped::{Mapped, Part};

static LATEX_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mathsf|mbox|operatorname)\s*\{([^{}]*)\}")
        .expect("valid regex")
});
static HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*#{1,6}[ \t]*").expect("valid regex"));
static BULLET_STAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^([ \t]*)\*[ \t]+").expect("valid regex"));

/// Full-width ASCII (`Ｃ`, `：`, `（`) to ASCII, ideographic space to space, and LaTeX
/// text wrappers (`\text{C}`) unwrapped. Markdown is kept: the bold-letter rule reads it.
pub fn fold(text: &str) -> String {
    let folded: String = text.chars().map(fold_char).collect();
    let mut out = folded;
    // Nested wrappers (`\textbf{\text{C}}`) unwrap one level per pass.
    for _ in 0..4 {
        let next = LATEX_TEXT.replace_all(&out, "$1").into_owned();
        if next == out {
            break;
        }
        out = next;
    }
    out
}

fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        '\u{2019}' => '\'',
        _ => c,
    }
}

/// [`fold`] of a mapped text (the same rewrites, with positions kept).
pub fn fold_mapped(text: &Mapped) -> Mapped {
    let mut out = text.map_chars(fold_char);
    for _ in 0..4 {
        let next = out.replace_regex(&LATEX_TEXT, |c| {
            let g = c.get(1).expect("the pattern has one group");
            vec![Part::Group(g.start(), g.end())]
        });
        if next.text == out.text {
            break;
        }
        out = next;
    }
    out
}

/// [`plain`] of a mapped text.
pub fn plain_mapped(folded: &Mapped) -> Mapped {
    let s = folded.replace_regex(&HEADING, |_| Vec::new());
    let s = s.replace_regex(&BULLET_STAR, |c| {
        let (all, g) = (c.get(0).expect("group 0"), c.get(1).expect("group 1"));
        vec![
            Part::Group(g.start(), g.end()),
            Part::Text("- ", g.end(), all.end()),
        ]
    });
    let mut s = s.replace_str("**", "").replace_str("__", "");
    for ch in ["*", "`", "$"] {
        s = s.replace_str(ch, "");
    }
    s.replace_str("\\(", " ").replace_str("\\)", " ")
}

/// [`fold`]ed text with markdown emphasis, headings and inline code marks removed.
pub fn plain(folded: &str) -> String {
    let s = HEADING.replace_all(folded, "");
    let s = BULLET_STAR.replace_all(&s, "$1- ");
    // Math delimiters go too: `$\text{(C)}$` and `\( C \)` say just "(C)" and "C".
    s.replace("**", "")
        .replace("__", "")
        .replace(['*', '`', '$'], "")
        .replace("\\(", " ")
        .replace("\\)", " ")
}

/// Option text or a response line reduced for comparison: folded, lowercase, single
/// spaces, no trailing sentence punctuation.
pub fn for_compare(text: &str) -> String {
    let lower = plain(&fold(text)).to_lowercase();
    let collapsed = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_end_matches(['.', '。', ';', '；', '!', '！', ','])
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_latex() {
        assert_eq!(fold("答案：Ｃ"), "答案:C");
        assert_eq!(fold(r"\boxed{\text{C}}"), r"\boxed{C}");
        assert_eq!(fold(r"\boxed{\textbf{\text{D}}}"), r"\boxed{D}");
    }

    #[test]
    fn markdown_removed() {
        assert_eq!(
            plain("## Final Answer\n**C. Propofol**"),
            "Final Answer\nC. Propofol"
        );
        assert_eq!(plain("* item"), "- item");
    }

    #[test]
    fn compare_form() {
        assert_eq!(for_compare("  Propofol   Infusion. "), "propofol infusion");
    }
}
