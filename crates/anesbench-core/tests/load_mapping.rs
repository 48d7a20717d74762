//! Other MCQ sets load through an explicit field mapping: options as a list field or several
//! fields, answers as letter, index or text; mapping files in TOML or JSON.

mod load_support;

use std::path::{Path, PathBuf};

use anesbench_core::item::{Lang, Level};
use anesbench_core::load::{load, FieldMapping, LoadError, LoadOptions};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/load")
        .join(name)
}

#[test]
fn toml_mapping_with_list_options_and_index_answers() {
    let mapping = FieldMapping::from_file(&fixture("medqa_style.toml")).unwrap();
    let opts = LoadOptions {
        lang: Some(Lang::En),
        mapping: Some(mapping),
        ..Default::default()
    };
    let ds = load(fixture("medqa_style.jsonl").to_str().unwrap(), &opts).unwrap();
    let got: Vec<(&str, char, Level, usize)> = ds
        .items
        .iter()
        .map(|i| (i.id.as_str(), i.answer, i.level, i.options.len()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("m1", 'B', Level::S1, 4),
            ("m2", 'A', Level::S1x, 4),
            ("m3", 'C', Level::S2, 3)
        ]
    );
    assert_eq!(ds.items[1].options[0], "Malignant hyperthermia");
}

#[test]
fn mapped_file_needs_a_language() {
    let mapping = FieldMapping::from_file(&fixture("medqa_style.toml")).unwrap();
    let opts = LoadOptions {
        mapping: Some(mapping),
        ..Default::default()
    };
    let err = load(fixture("medqa_style.jsonl").to_str().unwrap(), &opts).unwrap_err();
    assert!(err.to_string().contains("--lang"), "{err}");
}

#[test]
fn option_fields_letter_answers_text_answers_and_default_level() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("amcqa_zh.jsonl");
    std::fs::write(
        &p,
        concat!(
            "{\"q\": \"问题一\", \"a\": \"甲\", \"b\": \"乙\", \"c\": \"丙\", \"d\": \"\", \"key\": \"乙\"}\n",
            "{\"q\": \"问题二\", \"a\": \"甲\", \"b\": \"乙\", \"c\": \"丙\", \"d\": \"丁\", \"key\": \"丁\"}\n",
            "{\"q\": \"问题三\", \"a\": \"甲\", \"b\": \"\", \"c\": \"丙\", \"key\": \"甲\"}\n",
            "{\"q\": \"问题四\", \"a\": \"甲\", \"b\": \"乙\", \"key\": \"戊\"}\n",
        ),
    )
    .unwrap();
    let mapping = FieldMapping {
        question: "q".into(),
        options: ["a", "b", "c", "d"].map(String::from).to_vec(),
        answer: "key".into(),
        answer_kind: Some("text".into()),
        default_level: Some("1".into()),
        ..Default::default()
    };
    let opts = LoadOptions {
        mapping: Some(mapping),
        ..Default::default()
    };
    let problems = match load(p.to_str().unwrap(), &opts) {
        Err(LoadError::Invalid { problems, .. }) => problems,
        other => panic!("{other:?}"),
    };
    // Record 2 skips option b; record 3's answer is no option.
    let at: Vec<(usize, &str)> = problems
        .iter()
        .map(|p| (p.index.unwrap(), p.field.as_deref().unwrap()))
        .collect();
    assert_eq!(at, vec![(2, "b"), (3, "key")], "{problems:#?}");
    let lenient = LoadOptions {
        lenient: true,
        ..opts
    };
    let ds = load(p.to_str().unwrap(), &lenient).unwrap();
    assert_eq!(ds.items.len(), 2);
    assert_eq!(ds.items[0].lang, Lang::Zh);
    assert_eq!(
        (
            ds.items[0].id.as_str(),
            ds.items[0].answer,
            ds.items[0].options.len()
        ),
        ("amcqa_zh:0", 'B', 3)
    );
    assert_eq!((ds.items[1].answer, ds.items[1].level), ('D', Level::S1));
}

#[test]
fn bad_mappings_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.toml");
    std::fs::write(&p, "question = \"q\"\noptions = [\"o\"]\nanswer = \"a\"\n").unwrap();
    let err = FieldMapping::from_file(&p).unwrap_err().to_string();
    assert!(err.contains("default_level"), "{err}");
    std::fs::write(&p, "question = \"q\"\noptions = [\"o\"]\nanswer = \"a\"\nlevel = \"l\"\nanswer_kind = \"roman\"\n").unwrap();
    assert!(FieldMapping::from_file(&p)
        .unwrap_err()
        .to_string()
        .contains("roman"));
    std::fs::write(&p, "question = \"q\"\nanswer = \"a\"\n").unwrap();
    assert!(FieldMapping::from_file(&p)
        .unwrap_err()
        .to_string()
        .contains("options"));
    let j = dir.path().join("m.json");
    std::fs::write(
        &j,
        r#"{"question":"q","options":["x","y"],"answer":"a","level":"l","typo":1}"#,
    )
    .unwrap();
    assert!(FieldMapping::from_file(&j)
        .unwrap_err()
        .to_string()
        .contains("typo"));
}
