//! Decontamination on training files written by the tests, with benchmark items built in code.

mod common;

use std::collections::BTreeMap;

use anesbench_core::item::{Item, Lang, Level};
use anesbench_data::decontam::{scan, BenchIndex, DecontamOptions};
use common::*;

fn item(id: &str, lang: Lang, question: &str) -> Item {
    Item {
        id: id.into(),
        lang,
        level: Level::S2,
        question: question.into(),
        options: vec!["a".into(), "b".into()],
        answer: 'A',
        rationale: None,
        extra: BTreeMap::new(),
    }
}

const Q1: &str = "A 67-year-old man with severe aortic stenosis is scheduled for hip arthroplasty under anesthesia. Which plan best preserves his hemodynamic stability during induction?";
const Q2: &str = "During laparoscopic cholecystectomy the end-tidal carbon dioxide suddenly falls and blood pressure drops sharply. What is the most likely diagnosis in this patient?";
const ZH: &str = "患者女性，32岁，行剖宫产术，腰麻后出现血压下降、恶心，最恰当的处理是什么？";

fn opts(train: Vec<std::path::PathBuf>, clean: Option<std::path::PathBuf>) -> DecontamOptions {
    DecontamOptions {
        train,
        threshold: 0.2,
        write_clean: clean,
        batch_rows: 2,
        quiet: true,
        max_locations: 5,
    }
}

fn index() -> BenchIndex {
    BenchIndex::new(
        vec![
            item("q1", Lang::En, Q1),
            item("q2", Lang::En, Q2),
            item("z1", Lang::Zh, ZH),
        ],
        13,
    )
}

#[test]
fn planted_question_is_found_and_same_topic_text_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("train_en.parquet");
    let planted = format!(
        "Board review. {} Answer: B. Explanation follows.",
        Q1.to_uppercase().replace(',', "")
    );
    write_parquet(
        &f,
        &[(
            "text",
            vec![
                // Same topic, same vocabulary, different wording.
                Some("Severe aortic stenosis patients scheduled for arthroplasty need careful induction; hemodynamic stability is preserved by avoiding hypotension and tachycardia."),
                Some("End-tidal carbon dioxide monitoring during laparoscopic surgery detects embolism; a sudden fall with hypotension should prompt immediate action."),
                None,
                Some(planted.as_str()),
                Some("产妇腰麻后血压下降很常见，可以使用去氧肾上腺素处理。"),
            ],
        )],
    );
    let j = dir.path().join("sft_zh.jsonl");
    std::fs::write(&j, format!("{{\"instruction\": \"题目\", \"output\": \"{ZH}\"}}\n{{\"instruction\": \"无关\", \"output\": \"麻醉\"}}\nnot json\n")).unwrap();
    let clean = dir.path().join("clean");
    let r = scan(
        &index(),
        &opts(vec![f.clone(), j.clone()], Some(clean.clone())),
    )
    .unwrap();
    let ids: Vec<(&str, f64)> = r.flagged.iter().map(|f| (f.id.as_str(), f.ratio)).collect();
    assert_eq!(ids, vec![("q1", 1.0), ("z1", 1.0)], "{r:#?}");
    let q1 = &r.flagged[0];
    assert_eq!(q1.found_in[0].file, f);
    assert_eq!(q1.found_in[0].row, 3);
    assert_eq!(r.flagged[1].found_in[0].row, 0);
    assert_eq!(r.rows_scanned, 8);
    assert_eq!(r.rows_dropped, 2);
    assert_eq!(
        r.items_with_overlap, 2,
        "unrelated same-topic rows share no 13-gram"
    );

    // The clean copies keep their format and lose exactly the offending rows.
    let mut kept = Vec::new();
    anesbench_data::reader::read_file(
        &clean.join("train_en.parquet"),
        &anesbench_data::reader::Selection::AllText,
        &Default::default(),
        &mut |b| {
            kept.extend(b.rows);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(kept.len(), 4);
    let lines = std::fs::read_to_string(clean.join("sft_zh.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2);
    assert!(!lines.contains(ZH) && lines.contains("无关") && lines.contains("not json"));
}

#[test]
fn partial_overlap_is_reported_with_its_ratio_and_threshold_applies() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.jsonl");
    // Q2 has 24 tokens (`end-tidal` is two), so 12 13-grams; its first 20 words are 21
    // tokens, which hold 9 of them.
    let part: Vec<&str> = Q2.split_whitespace().take(20).collect();
    std::fs::write(&f, format!("{{\"text\": \"{}\"}}\n", part.join(" "))).unwrap();
    let mut o = opts(vec![f.clone()], None);
    let r = scan(&index(), &o).unwrap();
    assert_eq!(r.flagged.len(), 1);
    let ratio = r.flagged[0].ratio;
    assert!((ratio - 9.0 / 12.0).abs() < 1e-9, "{ratio}");
    o.threshold = 0.9;
    assert!(scan(&index(), &o).unwrap().flagged.is_empty());
}

#[test]
fn items_shorter_than_n_are_counted_not_matched() {
    let idx = BenchIndex::new(vec![item("s", Lang::En, "What is MAC?")], 13);
    assert_eq!(idx.totals, vec![0]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.jsonl");
    std::fs::write(&f, "{\"text\": \"What is MAC?\"}\n").unwrap();
    let r = scan(&idx, &opts(vec![f], None)).unwrap();
    assert_eq!((r.items_too_short, r.flagged.len()), (1, 0));
}

#[test]
fn short_question_copied_verbatim_is_flagged_by_exact_match() {
    // 7 tokens: fewer than n=13, so no 13-gram exists; the whole question is matched.
    let q = "Which drug reverses rocuronium most rapidly?";
    let idx = BenchIndex::new(vec![item("s", Lang::En, q)], 13);
    assert_eq!(idx.totals, vec![1]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.jsonl");
    std::fs::write(
        &f,
        "{\"text\": \"Quiz: which drug REVERSES rocuronium most rapidly? Sugammadex.\"}\n{\"text\": \"Which drug reverses vecuronium?\"}\n",
    )
    .unwrap();
    let r = scan(&idx, &opts(vec![f], None)).unwrap();
    assert_eq!((r.items_too_short, r.items_exact_match), (0, 1));
    assert_eq!(r.flagged.len(), 1);
    assert_eq!(r.flagged[0].ratio, 1.0);
    assert_eq!(r.flagged[0].rows_with_overlap, 1, "only the verbatim row");
}
