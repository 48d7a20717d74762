//! Property tests: extraction never panics, and only ever answers with one of the item's
//! letters.

use anesbench_core::extract::{
    extract, extract_ended, extract_with_reasoning, locate, split_think, Ending, Extraction, Field,
};
use proptest::prelude::*;

fn options() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-zA-Z丙泊酚 ]{0,12}", 0..10)
}

/// Text built from pieces that trigger the rules, so the search reaches them often.
fn answerish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Answer: ".to_string()),
        Just("the answer is ".to_string()),
        Just("答案是".to_string()),
        Just("故选".to_string()),
        Just("\\boxed{".to_string()),
        Just("<think>".to_string()),
        Just("</think>".to_string()),
        Just("**".to_string()),
        Just("not ".to_string()),
        Just("Ｃ".to_string()),
        "[A-Za-z]",
        "[(){}\\[\\]【】：:.,，。 \n]",
        ".{0,6}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// Fragments that reach the letter rules with characters that case-insensitive patterns
/// take for letters: the Kelvin sign (U+212A, `k`), the long s (U+017F, `s`), and
/// full-width, accented and other non-ASCII letters.
fn unicode_answerish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("answer is ".to_string()),
        Just("Answer: ".to_string()),
        Just("Final answer: ".to_string()),
        Just("Option ".to_string()),
        Just(" is correct".to_string()),
        Just("答案".to_string()),
        Just("答案：".to_string()),
        Just("选项".to_string()),
        Just("正确".to_string()),
        Just("【答案】".to_string()),
        Just("**".to_string()),
        Just("\\boxed{".to_string()),
        Just("\u{212A}".to_string()),
        Just("\u{17F}".to_string()),
        Just("\u{130}".to_string()),
        Just("\u{131}".to_string()),
        Just("Ｋ".to_string()),
        Just("ß".to_string()),
        Just("(option ".to_string()),
        Just(". ".to_string()),
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        "[A-Za-z]",
        "[0-9]",
        "[().:：、【】 ]",
        "\\PC{0,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..20).prop_map(|v| v.concat())
}

fn in_range(e: &Extraction, n: usize) -> bool {
    e.answer
        .is_none_or(|c| ('A'..='Z').take(n.min(26)).any(|l| l == c))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics_and_stays_in_range(text in ".{0,300}", opts in options()) {
        let e = extract(&text, &opts);
        prop_assert!(in_range(&e, opts.len()), "{:?} with {} options", e.answer, opts.len());
    }

    #[test]
    fn answer_like_text_stays_in_range(text in answerish(), reasoning in answerish(), opts in options()) {
        for e in [extract(&text, &opts), extract_with_reasoning(Some(&text), Some(&reasoning), &opts)] {
            if e.answer.is_some() {
                prop_assert!(in_range(&e, opts.len()), "{:?} with {} options", e.answer, opts.len());
            } else {
                prop_assert!(e.rule == "no_answer" || e.rule == "ambiguous", "rule {}", e.rule);
            }
        }
        let _ = split_think(&text);
    }

    /// Letter arithmetic on user text must not overflow in a debug build (this test runs
    /// unoptimised): every rule sees the Kelvin sign, the long s and other look-alikes.
    #[test]
    fn arbitrary_unicode_never_panics(
        text in unicode_answerish(),
        reasoning in unicode_answerish(),
        opts in options(),
    ) {
        for ending in [Ending::Finished, Ending::Truncated] {
            for e in [
                extract(&text, &opts),
                extract_ended(Some(&text), Some(&reasoning), &opts, ending),
                extract_ended(None, Some(&text), &opts, ending),
            ] {
                prop_assert!(in_range(&e, opts.len()), "{:?} with {} options", e.answer, opts.len());
            }
        }
    }

    /// Arbitrary Unicode (any scalar value), one character option texts included.
    #[test]
    fn any_unicode_never_panics(text in any::<String>(), opts in prop::collection::vec(any::<String>(), 0..6)) {
        let e = extract(&text, &opts);
        prop_assert!(in_range(&e, opts.len()), "{:?} with {} options", e.answer, opts.len());
    }

    /// The located extraction is the extraction, and its span is a real piece of the text
    /// it names (a letter is found only with a span when the rewrites map back).
    #[test]
    fn located_spans_agree_and_stay_in_bounds(
        text in answerish(),
        reasoning in answerish(),
        opts in options(),
        cut in any::<bool>(),
    ) {
        let ending = if cut { Ending::Truncated } else { Ending::Finished };
        let l = locate(Some(&text), Some(&reasoning), &opts, ending);
        prop_assert_eq!(&l.extraction, &extract_ended(Some(&text), Some(&reasoning), &opts, ending));
        if let Some((field, a, b)) = l.span {
            let t = if field == Field::Response { &text } else { &reasoning };
            prop_assert!(a < b && b <= t.len(), "{a}..{b} of {}", t.len());
            prop_assert!(t.is_char_boundary(a) && t.is_char_boundary(b));
            prop_assert!(l.extraction.answer.is_some());
        }
    }
}
