//! The part of a rendered prompt that the questions of a run share: system text,
//! instructions and worked examples, everything before the item's own question. A backend
//! that caches decoded state (the embedded model's prefix cache) decodes it once.

use crate::item::Item;

/// Byte length of the shared leading part of `text`, the prompt rendered for `item`: up
/// to the start of the line holding the last occurrence of the item's question (worked
/// examples come before it). `None` when the question is not found verbatim (a template
/// that rewrites it) or nothing precedes it.
pub fn shared_prefix_len(text: &str, item: &Item) -> Option<usize> {
    let question = item.question.trim();
    if question.is_empty() {
        return None;
    }
    let at = text.rfind(question)?;
    let line_start = text[..at].rfind('\n').map_or(0, |nl| nl + 1);
    (line_start > 0).then_some(line_start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;
    use crate::prompt::{render, PromptSettings, PromptStyle};

    #[test]
    fn the_prefix_ends_before_the_question_line_and_is_shared_by_items_alike() {
        let items = demo::items();
        let settings = PromptSettings {
            style: PromptStyle::Direct,
            shots: 0,
            template: None,
        };
        let en: Vec<&Item> = items
            .iter()
            .filter(|i| i.lang == crate::Lang::En && i.options.len() == 4)
            .take(2)
            .collect();
        let shots: Vec<Item> = items
            .iter()
            .filter(|i| i.lang == crate::Lang::En)
            .skip(10)
            .take(3)
            .cloned()
            .collect();
        let texts: Vec<String> = en
            .iter()
            .map(|i| render(i, &settings, &shots).unwrap().to_text())
            .collect();
        let cuts: Vec<usize> = en
            .iter()
            .zip(&texts)
            .map(|(i, t)| shared_prefix_len(t, i).unwrap())
            .collect();
        // Two different questions with the same option count and shots share it exactly.
        assert_eq!(texts[0][..cuts[0]], texts[1][..cuts[1]]);
        assert!(
            texts[0][cuts[0]..].starts_with("Question: "),
            "{}",
            &texts[0][cuts[0]..]
        );
        // The worked examples are in the prefix, the item's own question is not.
        assert!(texts[0][..cuts[0]].contains(shots[2].question.trim()));
        assert!(!texts[0][..cuts[0]].contains(en[0].question.trim()));
    }

    #[test]
    fn no_prefix_when_the_question_is_missing_or_first() {
        let item = demo::items().remove(0);
        assert_eq!(shared_prefix_len("something else entirely", &item), None);
        assert_eq!(shared_prefix_len(item.question.trim(), &item), None);
    }
}
