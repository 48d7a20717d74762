//! Property tests: extraction never panics, and only ever answers with one of the item's
//! letters.

use anesbench_core::extract::{extract, extract_with_reasoning, split_think};
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics_and_stays_in_range(text in ".{0,300}", opts in options()) {
        let e = extract(&text, &opts);
        if let Some(c) = e.answer {
            prop_assert!(((c as u8).wrapping_sub(b'A') as usize) < opts.len(), "{c} with {} options", opts.len());
        }
    }

    #[test]
    fn answer_like_text_stays_in_range(text in answerish(), reasoning in answerish(), opts in options()) {
        for e in [extract(&text, &opts), extract_with_reasoning(Some(&text), Some(&reasoning), &opts)] {
            if let Some(c) = e.answer {
                prop_assert!(((c as u8).wrapping_sub(b'A') as usize) < opts.len(), "{c} with {} options", opts.len());
            } else {
                prop_assert!(e.rule == "no_answer" || e.rule == "ambiguous", "rule {}", e.rule);
            }
        }
        let _ = split_think(&text);
    }
}
