//! The built-in prompts, written for this project: chain-of-thought and direct answer, in
//! English for English items and Chinese for Chinese items, with optional worked examples.

use crate::item::{Item, Lang};

use super::{PromptStyle, Rendered};

/// Wording of the built-in prompts in one language.
struct Wording {
    system: &'static str,
    cot_intro: &'static str,
    direct_intro: &'static str,
    question: &'static str,
    examples: &'static str,
    example: &'static str,
    reasoning: &'static str,
    now: &'static str,
}

const EN: Wording = Wording {
    system: "You are an expert anesthesiologist. You answer anesthesiology examination questions carefully and accurately.",
    cot_intro: "The following is a multiple-choice question about anesthesiology. Analyze each option in turn, reasoning step by step about whether it is correct, and then choose exactly one of the letters {letters}.",
    direct_intro: "The following is a multiple-choice question about anesthesiology. Reply with the letter of the single best option ({letters}) and nothing else.",
    question: "Question: ",
    examples: "Worked examples:",
    example: "Example ",
    reasoning: "Reasoning: ",
    now: "Now answer this question.",
};

const ZH: Wording = Wording {
    system: "你是一名资深麻醉科医生，能够认真、准确地解答麻醉学考试题目。",
    cot_intro: "以下是一道麻醉学单项选择题。请依次分析每个选项，逐步推理其是否正确，然后从 {letters} 中选出唯一一个答案。",
    direct_intro: "以下是一道麻醉学单项选择题。请只回复唯一最佳选项的字母（{letters} 之一），不要给出解释。",
    question: "题目：",
    examples: "示例：",
    example: "示例 ",
    reasoning: "分析：",
    now: "请回答下面这道题。",
};

fn wording(lang: Lang) -> &'static Wording {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

/// The cue a completion prompt ends with, so the next token is the option letter; also the
/// prefix of the final line the chain-of-thought prompt asks for.
pub fn answer_cue(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Answer:",
        Lang::Zh => "答案：",
    }
}

/// The letters as a phrase: `A, B, C or D` / `A、B、C、D`.
pub fn letters_phrase(letters: &[char], lang: Lang) -> String {
    let s: Vec<String> = letters.iter().map(char::to_string).collect();
    match (lang, s.split_last()) {
        (Lang::En, Some((last, rest))) if !rest.is_empty() => {
            format!("{} or {last}", rest.join(", "))
        }
        (Lang::Zh, _) => s.join("、"),
        _ => s.join(""),
    }
}

fn closing(style: &PromptStyle, letters: &str, lang: Lang) -> String {
    match (style, lang) {
        (PromptStyle::Cot, Lang::En) => {
            format!("End your reply with a final line of the form \"Answer: X\", where X is one of {letters}.")
        }
        (PromptStyle::Cot, Lang::Zh) => {
            format!("请在回答的最后单独一行写出“答案：X”，其中 X 为 {letters} 之一。")
        }
        (PromptStyle::Direct, Lang::En) => format!("Answer with a single letter: {letters}."),
        (PromptStyle::Direct, Lang::Zh) => format!("请只用一个字母作答（{letters} 之一）。"),
    }
}

/// The question and its `X. option` lines.
pub fn question_block(item: &Item) -> String {
    let w = wording(item.lang);
    let mut s = format!("{}{}", w.question, item.question.trim());
    for (l, o) in item.lettered_options() {
        s.push_str(&format!("\n{l}. {}", o.trim()));
    }
    s
}

/// A worked example: the question, then (for chain of thought) the rationale, then the
/// answer line in the form the prompt asks for.
fn example_block(n: usize, shot: &Item, style: &PromptStyle, lang: Lang) -> String {
    let w = wording(lang);
    let mut s = format!("{}{n}\n{}\n", w.example, question_block(shot));
    if matches!(style, PromptStyle::Cot) {
        if let Some(r) = shot
            .rationale
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            s.push_str(&format!("{}{r}\n", w.reasoning));
        }
    }
    let sep = if lang == Lang::En { " " } else { "" };
    s.push_str(&format!("{}{sep}{}", answer_cue(lang), shot.answer));
    s
}

/// Render a built-in prompt. `shots` are used as given (the caller chooses them).
pub fn render(item: &Item, style: &PromptStyle, shots: &[Item]) -> Rendered {
    let lang = item.lang;
    let w = wording(lang);
    let letters = letters_phrase(&item.letters(), lang);
    let intro = match style {
        PromptStyle::Cot => w.cot_intro,
        PromptStyle::Direct => w.direct_intro,
    };
    let mut user = intro.replace("{letters}", &letters);
    if !shots.is_empty() {
        user.push_str("\n\n");
        user.push_str(w.examples);
        for (i, shot) in shots.iter().enumerate() {
            user.push_str("\n\n");
            user.push_str(&example_block(i + 1, shot, style, lang));
        }
        user.push_str("\n\n");
        user.push_str(w.now);
    }
    user.push_str("\n\n");
    user.push_str(&question_block(item));
    user.push_str("\n\n");
    user.push_str(&closing(style, &letters, lang));
    Rendered {
        system: Some(w.system.to_string()),
        user,
        lang,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_phrase_per_language() {
        assert_eq!(
            letters_phrase(&['A', 'B', 'C', 'D'], Lang::En),
            "A, B, C or D"
        );
        assert_eq!(letters_phrase(&['A', 'B'], Lang::En), "A or B");
        assert_eq!(letters_phrase(&['A', 'B', 'C'], Lang::Zh), "A、B、C");
    }
}
