//! Exact text of every built-in prompt, in both languages, with and without worked examples.
//! A change to the wording changes every prompt hash in published runs: these tests make
//! such a change deliberate.

use std::collections::BTreeMap;

use anesbench_core::prompt::{render, select_shots, PromptSettings, PromptStyle, Rendered};
use anesbench_core::{demo, Item, Lang, Level};

fn item(
    lang: Lang,
    id: &str,
    q: &str,
    opts: &[&str],
    answer: char,
    rationale: Option<&str>,
) -> Item {
    Item {
        id: id.into(),
        lang,
        level: Level::S1,
        question: q.into(),
        options: opts.iter().map(|s| s.to_string()).collect(),
        answer,
        rationale: rationale.map(str::to_string),
        extra: BTreeMap::new(),
    }
}

fn en_item() -> Item {
    item(
        Lang::En,
        "t-1",
        "Which drug reverses rocuronium by encapsulation?",
        &["Neostigmine", "Sugammadex", "Atropine", "Dantrolene"],
        'B',
        None,
    )
}

fn zh_item() -> Item {
    item(
        Lang::Zh,
        "t-1",
        "哪一种药物通过包裹作用逆转罗库溴铵？",
        &["新斯的明", "舒更葡糖钠", "阿托品", "丹曲林", "氟马西尼"],
        'B',
        None,
    )
}

fn en_shot() -> Item {
    item(
        Lang::En,
        "s-1",
        "Which gas has a MAC of about 104%?",
        &["Nitrous oxide", "Xenon", "Desflurane"],
        'A',
        Some("Nitrous oxide is too weak to be used alone."),
    )
}

fn zh_shot() -> Item {
    item(
        Lang::Zh,
        "s-1",
        "MAC约为104%的气体是？",
        &["氧化亚氮", "氙气", "地氟烷"],
        'A',
        Some("氧化亚氮效能低，不能单独使用。"),
    )
}

fn settings(style: PromptStyle) -> PromptSettings {
    PromptSettings {
        style,
        shots: 0,
        template: None,
    }
}

fn run(it: &Item, style: PromptStyle, shots: &[Item]) -> Rendered {
    render(it, &settings(style), shots).unwrap()
}

const EN_SYSTEM: &str = "You are an expert anesthesiologist. You answer anesthesiology examination questions carefully and accurately.";
const ZH_SYSTEM: &str = "你是一名资深麻醉科医生，能够认真、准确地解答麻醉学考试题目。";

#[test]
fn cot_english_exact() {
    let r = run(&en_item(), PromptStyle::Cot, &[]);
    assert_eq!(r.system.as_deref(), Some(EN_SYSTEM));
    assert_eq!(
        r.user,
        [
            "The following is a multiple-choice question about anesthesiology. Analyze each option in turn, reasoning step by step about whether it is correct, and then choose exactly one of the letters A, B, C or D.",
            "",
            "Question: Which drug reverses rocuronium by encapsulation?",
            "A. Neostigmine",
            "B. Sugammadex",
            "C. Atropine",
            "D. Dantrolene",
            "",
            "End your reply with a final line of the form \"Answer: X\", where X is one of A, B, C or D.",
        ]
        .join("\n")
    );
}

#[test]
fn cot_chinese_exact() {
    let r = run(&zh_item(), PromptStyle::Cot, &[]);
    assert_eq!(r.system.as_deref(), Some(ZH_SYSTEM));
    assert_eq!(
        r.user,
        [
            "以下是一道麻醉学单项选择题。请依次分析每个选项，逐步推理其是否正确，然后从 A、B、C、D、E 中选出唯一一个答案。",
            "",
            "题目：哪一种药物通过包裹作用逆转罗库溴铵？",
            "A. 新斯的明",
            "B. 舒更葡糖钠",
            "C. 阿托品",
            "D. 丹曲林",
            "E. 氟马西尼",
            "",
            "请在回答的最后单独一行写出“答案：X”，其中 X 为 A、B、C、D、E 之一。",
        ]
        .join("\n")
    );
}

#[test]
fn direct_english_exact() {
    let r = run(&en_item(), PromptStyle::Direct, &[]);
    assert_eq!(r.system.as_deref(), Some(EN_SYSTEM));
    assert_eq!(
        r.user,
        [
            "The following is a multiple-choice question about anesthesiology. Reply with the letter of the single best option (A, B, C or D) and nothing else.",
            "",
            "Question: Which drug reverses rocuronium by encapsulation?",
            "A. Neostigmine",
            "B. Sugammadex",
            "C. Atropine",
            "D. Dantrolene",
            "",
            "Answer with a single letter: A, B, C or D.",
        ]
        .join("\n")
    );
}

#[test]
fn direct_chinese_exact() {
    let r = run(&zh_item(), PromptStyle::Direct, &[]);
    assert_eq!(r.system.as_deref(), Some(ZH_SYSTEM));
    assert_eq!(
        r.user,
        [
            "以下是一道麻醉学单项选择题。请只回复唯一最佳选项的字母（A、B、C、D、E 之一），不要给出解释。",
            "",
            "题目：哪一种药物通过包裹作用逆转罗库溴铵？",
            "A. 新斯的明",
            "B. 舒更葡糖钠",
            "C. 阿托品",
            "D. 丹曲林",
            "E. 氟马西尼",
            "",
            "请只用一个字母作答（A、B、C、D、E 之一）。",
        ]
        .join("\n")
    );
}

#[test]
fn one_shot_cot_english_shows_rationale_then_answer_line() {
    let r = run(&en_item(), PromptStyle::Cot, &[en_shot()]);
    assert_eq!(
        r.user,
        [
            "The following is a multiple-choice question about anesthesiology. Analyze each option in turn, reasoning step by step about whether it is correct, and then choose exactly one of the letters A, B, C or D.",
            "",
            "Worked examples:",
            "",
            "Example 1",
            "Question: Which gas has a MAC of about 104%?",
            "A. Nitrous oxide",
            "B. Xenon",
            "C. Desflurane",
            "Reasoning: Nitrous oxide is too weak to be used alone.",
            "Answer: A",
            "",
            "Now answer this question.",
            "",
            "Question: Which drug reverses rocuronium by encapsulation?",
            "A. Neostigmine",
            "B. Sugammadex",
            "C. Atropine",
            "D. Dantrolene",
            "",
            "End your reply with a final line of the form \"Answer: X\", where X is one of A, B, C or D.",
        ]
        .join("\n")
    );
}

#[test]
fn one_shot_cot_chinese_exact() {
    let r = run(&zh_item(), PromptStyle::Cot, &[zh_shot()]);
    assert_eq!(
        r.user,
        [
            "以下是一道麻醉学单项选择题。请依次分析每个选项，逐步推理其是否正确，然后从 A、B、C、D、E 中选出唯一一个答案。",
            "",
            "示例：",
            "",
            "示例 1",
            "题目：MAC约为104%的气体是？",
            "A. 氧化亚氮",
            "B. 氙气",
            "C. 地氟烷",
            "分析：氧化亚氮效能低，不能单独使用。",
            "答案：A",
            "",
            "请回答下面这道题。",
            "",
            "题目：哪一种药物通过包裹作用逆转罗库溴铵？",
            "A. 新斯的明",
            "B. 舒更葡糖钠",
            "C. 阿托品",
            "D. 丹曲林",
            "E. 氟马西尼",
            "",
            "请在回答的最后单独一行写出“答案：X”，其中 X 为 A、B、C、D、E 之一。",
        ]
        .join("\n")
    );
}

#[test]
fn direct_shots_show_only_the_answer_in_both_languages() {
    let en = run(&en_item(), PromptStyle::Direct, &[en_shot()]);
    assert!(
        en.user
            .contains("C. Desflurane\nAnswer: A\n\nNow answer this question."),
        "{}",
        en.user
    );
    assert!(!en.user.contains("Reasoning:"));
    let zh = run(&zh_item(), PromptStyle::Direct, &[zh_shot()]);
    assert!(
        zh.user.contains("C. 地氟烷\n答案：A\n\n请回答下面这道题。"),
        "{}",
        zh.user
    );
    assert!(!zh.user.contains("分析："));
}

#[test]
fn the_item_itself_is_never_a_shot() {
    let it = en_item();
    let r = run(&it, PromptStyle::Cot, &[it.clone(), en_shot()]);
    assert_eq!(
        r.user.matches("Which drug reverses rocuronium").count(),
        1,
        "{}",
        r.user
    );
    assert!(r.user.contains("Example 1\nQuestion: Which gas"));
    assert!(!r.user.contains("Example 2"));
}

#[test]
fn completion_text_ends_with_the_answer_cue() {
    let en = run(&en_item(), PromptStyle::Direct, &[]);
    let t = en.to_text();
    assert!(t.starts_with(EN_SYSTEM));
    assert!(
        t.ends_with("Answer with a single letter: A, B, C or D.\nAnswer:"),
        "{t}"
    );
    let zh = run(&zh_item(), PromptStyle::Cot, &[]).to_text();
    assert!(zh.starts_with(ZH_SYSTEM));
    assert!(zh.ends_with("之一。\n答案："), "{zh}");
    assert_eq!(en.messages().len(), 2);
    assert_eq!(en.messages()[0], ("system", EN_SYSTEM));
}

#[test]
fn every_demo_item_renders_in_its_own_language_with_k_shots() {
    let pool = demo::items();
    for it in &pool {
        let shots = select_shots(it, &pool, 3);
        for style in [PromptStyle::Cot, PromptStyle::Direct] {
            let r = run(it, style.clone(), &shots);
            for (l, o) in it.lettered_options() {
                assert!(
                    r.user.contains(&format!("\n{l}. {o}\n"))
                        || r.user.contains(&format!("\n{l}. {o}")),
                    "{}",
                    it.key()
                );
            }
            let (example, answer) = match it.lang {
                Lang::En => ("Example 3\n", "Answer: "),
                Lang::Zh => ("示例 3\n", "答案："),
            };
            assert!(r.user.contains(example), "{} {:?}", it.key(), style);
            assert_eq!(
                r.user.matches(answer).count(),
                3 + usize::from(style == PromptStyle::Cot),
                "{}",
                it.key()
            );
            // The item's own rationale (its answer explanation) must never leak into its prompt.
            assert!(
                !r.user.contains(it.rationale.as_deref().unwrap()),
                "{}",
                it.key()
            );
        }
    }
}
