//! Where a decision came from: the byte range of the response (or the reasoning) that
//! holds the statement, line or text that decided the letter.
//!
//! [`locate`] runs the same decision as [`super::extract_ended`] (one code path: the
//! decision functions report the position of what decided as they go) and maps that
//! position, which is in the rewritten text, back to the original through
//! [`super::mapped::Mapped`] copies of the rewrites. A mapped copy that does not spell the
//! rewritten text exactly gives no span rather than a wrong one.

use serde::Serialize;

use super::mapped::Mapped;
use super::{decide_ended, normalize, numbered, think, At, Ending, Extraction};

/// Which text a span is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Response,
    Reasoning,
}

/// An extraction and the span that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub extraction: Extraction,
    /// Which text, and the byte range in it (`start < end`, on character boundaries);
    /// `None` for no answer.
    pub span: Option<(Field, usize, usize)>,
}

/// [`super::extract_ended`], with the span of the text that decided the letter.
pub fn locate(
    response: Option<&str>,
    reasoning: Option<&str>,
    options: &[String],
    ending: Ending,
) -> Located {
    let (extraction, at) = decide_ended(response, reasoning, options, ending);
    let n = options.len().min(26);
    let span = at.and_then(|(in_reasoning, at)| {
        let (field, text) = if in_reasoning {
            (Field::Reasoning, reasoning?)
        } else {
            (Field::Response, response?)
        };
        let (rest, ok_rest) = if in_reasoning {
            (Mapped::identity(text), true)
        } else {
            let m = think::rest_mapped(text);
            let ok = m.text == think::split_think_full(text).rest;
            (m, ok)
        };
        let folded = normalize::fold_mapped(&rest);
        let plain = normalize::plain_mapped(&folded);
        let ok_plain = folded.text == normalize::fold(&rest.text)
            && plain.text == normalize::plain(&folded.text);
        let read = if in_reasoning {
            plain
        } else {
            let m = numbered::letters_for_numbers_mapped(&plain, &options[..n]);
            let ok = m.text == numbered::letters_for_numbers(&plain.text, &options[..n]);
            if !ok {
                return None;
            }
            m
        };
        if !(ok_rest && ok_plain) {
            return None;
        }
        let (a, b) = match at {
            At::Plain(a, b) => read.source(a, b)?,
            At::Folded(a, b) => folded.source(a, b)?,
        };
        Some((field, a, b))
    });
    Located { extraction, span }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Vec<String> {
        ["Propofol", "Ketamine", "Etomidate", "Midazolam"]
            .map(String::from)
            .to_vec()
    }

    fn spanned(response: &str) -> (Option<char>, String, Option<&str>) {
        let l = locate(Some(response), None, &opts(), Ending::Finished);
        let x = super::super::extract(response, &opts());
        assert_eq!(l.extraction, x, "locate must decide as extract does");
        let text = l.span.map(|(f, a, b)| {
            assert_eq!(f, Field::Response);
            &response[a..b]
        });
        (l.extraction.answer, l.extraction.rule, text)
    }

    #[test]
    fn the_span_is_the_deciding_statement_in_the_original_text() {
        // The earlier "C is correct" is weaker than the closing answer: the closing one is
        // the span, found through the think block, full-width letter and bold marks.
        let r = "<think>Maybe A.</think>C is correct for some.\n\n**Final answer: Ｂ**\nDone.";
        let (a, rule, text) = spanned(r);
        assert_eq!((a, rule.as_str()), (Some('B'), "final_answer"));
        let text = text.unwrap();
        assert!(text.ends_with('Ｂ'), "{text:?}");
        assert!(text.starts_with("Final answer"), "{text:?}");
    }

    #[test]
    fn weak_rules_point_at_what_they_read() {
        assert_eq!(spanned("We weigh each drug.\n\n(C)").2, Some("(C)"));
        assert_eq!(spanned("Hard to say, but: **D**").2, Some("**D**"));
        let (a, rule, text) = spanned("The best choice here is etomidate.");
        assert_eq!((a, rule.as_str()), (Some('C'), "option_text"));
        assert_eq!(text, Some("The best choice here is etomidate"));
        // Numbered options: "option 2" is B, and the span is the digit's statement.
        let r = "1. Propofol drops BP.\n2. Ketamine keeps it.\n\nThe answer is option 2.";
        let (a, _, text) = spanned(r);
        assert_eq!(a, Some('B'));
        assert!(text.unwrap().ends_with('2'), "{text:?}");
        assert_eq!(spanned("No idea at all.").2, None);
    }

    #[test]
    fn a_final_statement_in_the_reasoning_is_located_there() {
        let reasoning = "Propofol drops the pressure.\n\nFinal answer: B";
        let l = locate(None, Some(reasoning), &opts(), Ending::Finished);
        assert_eq!(l.extraction.rule, "reasoning_final");
        let (f, a, b) = l.span.unwrap();
        assert_eq!(f, Field::Reasoning);
        assert_eq!(&reasoning[a..b], "Final answer: B");
    }
}
