//! Every kind of malformed input gives an error naming file, record (index and id) and
//! field; all problems of a file are reported; `lenient` skips bad records with a count.

mod load_support;

use std::path::{Path, PathBuf};

use anesbench_core::load::{load, LoadError, LoadOptions, Problem};
use load_support::*;
use serde_json::Value;

fn en_records(n: usize) -> Vec<Rec> {
    variants("hf_release_en_example", "category", &vec![1; n])
}

fn problems_of(path: &Path) -> Vec<Problem> {
    match load(path.to_str().unwrap(), &LoadOptions::default()) {
        Err(LoadError::Invalid { problems, .. }) => problems,
        other => panic!("expected Invalid for {}, got {other:?}", path.display()),
    }
}

/// Writes `recs` as JSONL under a language-named file and returns its problems.
fn problems_for(recs: &[Rec]) -> (tempfile::TempDir, PathBuf, Vec<Problem>) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("anesbench_en.jsonl");
    write_jsonl(&p, recs);
    let probs = problems_of(&p);
    (dir, p, probs)
}

/// The single problem must name the file, record index, id and field.
fn assert_one(probs: &[Problem], file: &Path, index: usize, field: &str, says: &str) {
    assert_eq!(probs.len(), 1, "{probs:#?}");
    let p = &probs[0];
    assert_eq!(p.file.as_deref(), Some(file));
    assert_eq!(p.index, Some(index));
    assert!(
        p.id.as_deref()
            .is_some_and(|id| id.ends_with(&format!("-{index}"))),
        "{p:?}"
    );
    assert_eq!(p.field.as_deref(), Some(field), "{p}");
    let text = p.to_string();
    assert!(text.contains(says), "{text}");
    assert!(
        text.contains(&format!("record[{index}]")) && text.contains(&format!("`{field}`")),
        "{text}"
    );
}

#[test]
fn missing_field_names_record_and_field() {
    let mut recs = en_records(3);
    recs[1].remove("question");
    let (_d, p, probs) = problems_for(&recs);
    assert_one(&probs, &p, 1, "question", "missing field");
    assert_eq!(probs[0].line, Some(2));
}

#[test]
fn empty_field_names_record_and_field() {
    let mut recs = en_records(3);
    recs[2].insert("target".into(), "  ".into());
    let (_d, p, probs) = problems_for(&recs);
    assert_one(&probs, &p, 2, "target", "empty");
}

#[test]
fn choice_num_larger_than_options_names_the_missing_option() {
    let mut recs = en_records(2);
    recs[0].insert("choice_num".into(), 5.into());
    let (_d, p, probs) = problems_for(&recs);
    assert_one(&probs, &p, 0, "E", "choice_num is 5");
}

#[test]
fn choice_num_smaller_than_options_names_the_extra_option() {
    let mut recs = en_records(2);
    recs[1].insert("choice_num".into(), 3.into());
    let (_d, p, probs) = problems_for(&recs);
    assert_one(&probs, &p, 1, "D", "choice_num");
}

#[test]
fn gold_answer_outside_options() {
    let mut recs = en_records(2);
    recs[1].insert("target".into(), "F".into());
    let (_d, p, probs) = problems_for(&recs);
    assert_one(&probs, &p, 1, "target", "outside the options A..D");
}

#[test]
fn unknown_level() {
    let mut recs = en_records(2);
    recs[0].insert("category".into(), 4.into());
    let (_d, p, probs) = problems_for(&recs);
    assert_one(&probs, &p, 0, "category", "unknown level 4");
}

#[test]
fn duplicate_id_within_a_language_names_both_records() {
    let mut recs = en_records(3);
    let id = recs[0]["id"].clone();
    recs[2].insert("id".into(), id);
    let (_d, p, probs) = problems_for(&recs);
    assert_eq!(probs.len(), 1, "{probs:#?}");
    assert_eq!(probs[0].index, Some(2));
    assert_eq!(probs[0].field.as_deref(), Some("id"));
    assert_eq!(probs[0].file.as_deref(), Some(p.as_path()));
    assert!(
        probs[0].message.contains("first at record[0]"),
        "{}",
        probs[0]
    );
}

#[test]
fn same_id_in_two_languages_is_fine() {
    let recs = variants("seed_readme_schema_example", "level", &[1, 2]);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("seed.json");
    write_json(&p, &recs);
    assert_eq!(
        load(p.to_str().unwrap(), &LoadOptions::default())
            .unwrap()
            .items
            .len(),
        4
    );
}

#[test]
fn every_problem_in_a_file_is_reported() {
    let mut recs = en_records(6);
    recs[0].remove("question");
    recs[2].insert("target".into(), "Z".into());
    recs[3].insert("category".into(), "System 9".into());
    recs[5].insert("B".into(), Value::Null);
    let (_d, _p, probs) = problems_for(&recs);
    let where_: Vec<(usize, &str)> = probs
        .iter()
        .map(|p| (p.index.unwrap(), p.field.as_deref().unwrap()))
        .collect();
    assert_eq!(
        where_,
        vec![(0, "question"), (2, "target"), (3, "category"), (5, "B")],
        "{probs:#?}"
    );
}

#[test]
fn malformed_jsonl_gives_line_numbers_for_every_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("anesbench_en.jsonl");
    let good: Vec<String> = en_records(3)
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let text = format!(
        "{}\n{{\"id\": \"x\", \n{}\nnot json\n{}\n",
        good[0], good[1], good[2]
    );
    std::fs::write(&p, text).unwrap();
    let probs = problems_of(&p);
    assert_eq!(
        probs.iter().map(|p| p.line).collect::<Vec<_>>(),
        vec![Some(2), Some(4)]
    );
    assert!(probs.iter().all(|p| p.message.contains("malformed JSON")));
    assert!(
        probs[0]
            .to_string()
            .contains("anesbench_en.jsonl:2: record[1]"),
        "{}",
        probs[0]
    );
}

#[test]
fn malformed_json_array_gives_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("anesbench_en.json");
    std::fs::write(
        &p,
        "[\n  {\"id\": \"a\",\n   \"question\": \"q\"\n  },\n  {\"id\": }\n]\n",
    )
    .unwrap();
    let probs = problems_of(&p);
    assert_eq!(probs.len(), 1);
    assert_eq!(probs[0].line, Some(5));
    assert!(probs[0].message.contains("malformed JSON"), "{}", probs[0]);
}

#[test]
fn non_utf8_bytes_are_reported_with_line() {
    let dir = tempfile::tempdir().unwrap();
    let good: Vec<String> = en_records(2)
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let mut bytes = format!("{}\n", good[0]).into_bytes();
    bytes.extend_from_slice(b"{\"id\": \"\xff\xfe\"}\n");
    bytes.extend_from_slice(format!("{}\n", good[1]).as_bytes());
    let p = dir.path().join("anesbench_en.jsonl");
    std::fs::write(&p, &bytes).unwrap();
    let probs = problems_of(&p);
    assert_eq!(probs.len(), 1, "{probs:#?}");
    assert_eq!((probs[0].line, probs[0].index), (Some(2), Some(1)));
    assert!(probs[0].message.contains("UTF-8"));

    let q = dir.path().join("anesbench_en.json");
    std::fs::write(&q, b"[{\"id\": \"caf\xe9\"}]").unwrap();
    let probs = problems_of(&q);
    assert!(
        probs[0].message.contains("UTF-8") && probs[0].line == Some(1),
        "{probs:#?}"
    );
}

#[test]
fn empty_dataset_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [("anesbench_en.json", "[]"), ("anesbench_zh.jsonl", "\n\n")] {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        let err = load(p.to_str().unwrap(), &LoadOptions::default()).unwrap_err();
        assert!(err.is_invalid_data(), "{err}");
        assert!(err.to_string().contains(name), "{err}");
    }
    let empty_dir = tempfile::tempdir().unwrap();
    let err = load(empty_dir.path().to_str().unwrap(), &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, LoadError::Empty { .. }), "{err}");
}

#[test]
fn unknown_schema_says_which_fields_it_saw_and_how_to_map_them() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("medqa.jsonl");
    std::fs::write(
        &p,
        "{\"stem\": \"q\", \"opa\": \"x\", \"opb\": \"y\", \"cop\": 1}\n",
    )
    .unwrap();
    let probs = problems_of(&p);
    let text = probs[0].to_string();
    assert!(
        text.contains("stem") && text.contains("--mapping"),
        "{text}"
    );
}

#[test]
fn bad_records_in_parquet_are_named_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut recs = en_records(3);
    recs[1].insert("target".into(), "E".into());
    let p = dir.path().join("anesbench_en.parquet");
    write_parquet(&p, &recs);
    let probs = problems_of(&p);
    assert_eq!(probs.len(), 1);
    assert_eq!(
        (probs[0].index, probs[0].field.as_deref()),
        (Some(1), Some("target"))
    );
}

#[test]
fn lenient_skips_bad_records_with_warnings_and_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut recs = en_records(5);
    recs[1].remove("question");
    recs[3].insert("target".into(), "H".into());
    let p = dir.path().join("anesbench_en.jsonl");
    write_jsonl(&p, &recs);
    let opts = LoadOptions {
        lenient: true,
        ..Default::default()
    };
    let ds = load(p.to_str().unwrap(), &opts).unwrap();
    assert_eq!(ds.items.len(), 3);
    assert_eq!(ds.skipped, 2);
    let ids: Vec<&str> = ds.items.iter().map(|i| i.id.as_str()).collect();
    assert!(
        ids.iter()
            .all(|id| !id.ends_with("-1") && !id.ends_with("-3")),
        "{ids:?}"
    );
    assert!(
        ds.warnings
            .iter()
            .any(|w| w.contains("record[3]") && w.contains("target")),
        "{:?}",
        ds.warnings
    );
    assert!(
        ds.warnings.iter().any(|w| w.contains("skipped 2")),
        "{:?}",
        ds.warnings
    );
}

#[test]
fn lenient_keeps_the_first_of_duplicate_ids() {
    let dir = tempfile::tempdir().unwrap();
    let mut recs = en_records(3);
    let id = recs[0]["id"].clone();
    recs[1].insert("id".into(), id);
    recs[1].insert("question".into(), "the duplicate".into());
    let p = dir.path().join("anesbench_en.json");
    write_json(&p, &recs);
    let ds = load(
        p.to_str().unwrap(),
        &LoadOptions {
            lenient: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ds.items.len(), 2);
    assert!(ds.items.iter().all(|i| i.question != "the duplicate"));
}

#[test]
fn a_record_with_another_error_is_still_checked_for_a_duplicate_id() {
    // Record 1 lacks an option (so never becomes an item) and repeats record 0's id.
    let mut recs = en_records(4);
    let id = recs[0]["id"].clone();
    recs[1].insert("id".into(), id.clone());
    recs[1].remove("B");
    // Records 2 and 3 share an id, and the first of them is the broken one.
    let id2 = recs[2]["id"].clone();
    recs[3].insert("id".into(), id2);
    recs[2].insert("category".into(), 9.into());
    let (_d, p, probs) = problems_for(&recs);
    let dup: Vec<_> = probs
        .iter()
        .filter(|q| q.message.contains("duplicate id"))
        .collect();
    assert_eq!(dup.len(), 2, "{probs:#?}");
    assert_eq!(dup[0].index, Some(1), "{probs:#?}");
    assert!(dup[0].message.contains("first at record[0]"), "{}", dup[0]);
    assert_eq!(dup[1].index, Some(3), "{probs:#?}");
    assert!(dup[1].message.contains("first at record[2]"), "{}", dup[1]);
    assert!(dup
        .iter()
        .all(|q| q.file.as_deref() == Some(p.as_path()) && q.field.as_deref() == Some("id")));
    // The other errors are still there too.
    assert!(probs
        .iter()
        .any(|q| q.index == Some(1) && q.message != dup[0].message));
    assert!(probs
        .iter()
        .any(|q| q.index == Some(2) && q.field.as_deref() == Some("category")));
}
