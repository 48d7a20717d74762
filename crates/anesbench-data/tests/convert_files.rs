//! `convert` on Parquet / JSONL / JSON files written by the tests: output shapes as
//! LLaMA-Factory reads them, skip counts, and errors.

mod common;

use std::path::{Path, PathBuf};

use anesbench_data::convert::{convert, ColumnNames, ConvertOptions, ConvertReport, Kind, R1Form};
use anesbench_data::reader::{read_file, ColumnSpec, ReadOptions, Selection};
use anesbench_data::split::Split;
use anesbench_data::writer::OutFormat;
use arrow::datatypes::{DataType, Field, Schema};
use common::*;
use serde_json::{json, Value};

fn opts(kind: Kind, inputs: Vec<PathBuf>, out: &Path) -> ConvertOptions {
    ConvertOptions {
        kind,
        inputs,
        split: Split::All,
        out_dir: out.into(),
        format: OutFormat::Jsonl,
        instruction: None,
        sharegpt: false,
        name: None,
        columns: ColumnNames::default(),
        r1_form: R1Form::Both,
        think_tags: true,
        batch_rows: 2,
        quiet: true,
    }
}

fn info(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("dataset_info.json")).unwrap()).unwrap()
}

fn output<'a>(r: &'a ConvertReport, dataset: &str) -> &'a anesbench_data::convert::OutputReport {
    r.outputs
        .iter()
        .find(|o| o.dataset == dataset)
        .unwrap_or_else(|| panic!("no output {dataset} in {r:?}"))
}

#[test]
fn corpus_split_by_file_name_counts_each_skip_reason() {
    let dir = tempfile::tempdir().unwrap();
    let en = dir.path().join("AnesCorpus_en-00000.parquet");
    let cn = dir.path().join("AnesCorpus_cn-00000.parquet");
    write_parquet(
        &en,
        &[(
            "text",
            vec![
                Some("Propofol is an induction agent."),
                None,
                Some("   "),
                Some("Sevoflurane MAC is about 2%."),
            ],
        )],
    );
    write_parquet(&cn, &[("text", vec![Some("丙泊酚是静脉麻醉药。")])]);
    let out = dir.path().join("out");
    let mut o = opts(Kind::Corpus, vec![dir.path().into()], &out);
    o.split = "en".parse().unwrap();
    let r = convert(&o).unwrap();
    assert_eq!(r.rows_read, 4);
    let en_out = output(&r, "anescorpus_en");
    assert_eq!(
        (
            en_out.written,
            en_out.skipped.null,
            en_out.skipped.empty,
            en_out.skipped.malformed
        ),
        (2, 1, 1, 0)
    );
    let rows = read_jsonl(&out.join("anescorpus_en.jsonl"));
    assert_eq!(
        rows,
        vec![
            json!({"text": "Propofol is an induction agent."}),
            json!({"text": "Sevoflurane MAC is about 2%."})
        ]
    );
    assert_eq!(
        info(&out)["anescorpus_en"],
        json!({"file_name": "anescorpus_en.jsonl", "columns": {"prompt": "text"}})
    );

    // `cn` in the name selects the file for zh; both entries are then registered.
    o.split = "zh".parse().unwrap();
    let r = convert(&o).unwrap();
    assert_eq!(output(&r, "anescorpus_zh").written, 1);
    let i = info(&out);
    assert!(i.get("anescorpus_en").is_some() && i.get("anescorpus_zh").is_some());
}

#[test]
fn json_array_output_parses_as_one_array() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.parquet");
    let texts: Vec<String> = (0..7)
        .map(|i| format!("document {i} with a \"quote\" and a\nnewline"))
        .collect();
    write_parquet(
        &f,
        &[("text", texts.iter().map(|s| Some(s.as_str())).collect())],
    );
    let out = dir.path().join("out");
    let mut o = opts(Kind::Corpus, vec![f.clone()], &out);
    o.format = OutFormat::Json;
    convert(&o).unwrap();
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("anescorpus_all.json")).unwrap())
            .unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 7);
    assert_eq!(arr[6]["text"], texts[6].as_str());
    // No rows at all still gives a valid (empty) array.
    let empty = dir.path().join("empty.parquet");
    write_parquet(&empty, &[("text", vec![])]);
    let out2 = dir.path().join("out2");
    let mut o = opts(Kind::Corpus, vec![empty], &out2);
    o.format = OutFormat::Json;
    let r = convert(&o).unwrap();
    assert_eq!(r.rows_read, 0);
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("anescorpus_all.json")).unwrap())
            .unwrap();
    assert_eq!(v, json!([]));
}

#[test]
fn qa_alpaca_with_instruction_and_sharegpt() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("AnesQA_en.parquet");
    write_parquet(
        &f,
        &[
            ("question", vec![Some("What reverses rocuronium?")]),
            ("answer", vec![Some("Sugammadex.")]),
        ],
    );
    let out = dir.path().join("out");
    let mut o = opts(Kind::Qa, vec![f.clone()], &out);
    o.instruction = Some("Answer the anesthesiology question.".into());
    convert(&o).unwrap();
    assert_eq!(
        read_jsonl(&out.join("anesqa_all.jsonl")),
        vec![
            json!({"instruction": "Answer the anesthesiology question.", "input": "What reverses rocuronium?", "output": "Sugammadex."})
        ]
    );
    assert_eq!(
        info(&out)["anesqa_all"]["columns"],
        json!({"prompt": "instruction", "query": "input", "response": "output"})
    );
    assert_eq!(info(&out)["anesqa_all"]["formatting"], "alpaca");

    let mut o = opts(Kind::Qa, vec![f], &out);
    o.sharegpt = true;
    o.name = Some("qa_chat".into());
    convert(&o).unwrap();
    assert_eq!(
        read_jsonl(&out.join("qa_chat_all.jsonl")),
        vec![
            json!({"conversations": [{"from": "human", "value": "What reverses rocuronium?"}, {"from": "gpt", "value": "Sugammadex."}]})
        ]
    );
    let e = &info(&out)["qa_chat_all"];
    assert_eq!(e["formatting"], "sharegpt");
    assert_eq!(e["columns"], json!({"messages": "conversations"}));
    assert_eq!(e["tags"]["user_tag"], "human");
    // The earlier entry is kept.
    assert!(info(&out).get("anesqa_all").is_some());
}

#[test]
fn r1_sft_and_rl_forms_from_list_options() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("AnesR1_en.parquet");
    let schema = Schema::new(vec![
        Field::new("question", DataType::Utf8, true),
        Field::new(
            "options",
            DataType::List(std::sync::Arc::new(Field::new(
                "item",
                DataType::Utf8,
                true,
            ))),
            true,
        ),
        Field::new("answer", DataType::Utf8, true),
        Field::new("cot", DataType::Utf8, true),
    ]);
    write_batch(
        &f,
        schema,
        vec![
            std::sync::Arc::new(arrow::array::StringArray::from(vec![
                Some("Best agent for RSI?"),
                Some("No reasoning here"),
            ])),
            list_column(&[&["Succinylcholine", "Vecuronium"], &["x", "y"]]),
            std::sync::Arc::new(arrow::array::StringArray::from(vec![Some("A"), Some("B")])),
            std::sync::Arc::new(arrow::array::StringArray::from(vec![
                Some("Fastest onset."),
                None,
            ])),
        ],
    );
    let out = dir.path().join("out");
    let r = convert(&opts(Kind::R1, vec![f], &out)).unwrap();
    let sft = output(&r, "anesr1_sft_all");
    assert_eq!((sft.written, sft.skipped.null), (1, 1));
    assert_eq!(output(&r, "anesr1_rl_all").written, 2);
    let s = read_jsonl(&out.join("anesr1_sft_all.jsonl"));
    assert_eq!(
        s[0]["instruction"],
        "Best agent for RSI?\nA. Succinylcholine\nB. Vecuronium"
    );
    assert_eq!(
        s[0]["output"],
        "<think>\nFastest onset.\n</think>\n\nAnswer: A"
    );
    let rl = read_jsonl(&out.join("anesr1_rl_all.jsonl"));
    assert_eq!(
        rl[1],
        json!({"prompt": "No reasoning here\nA. x\nB. y", "answer": "B"})
    );
    assert_eq!(
        info(&out)["anesr1_rl_all"]["columns"],
        json!({"prompt": "prompt", "response": "answer"})
    );
}

#[test]
fn missing_column_names_the_file_and_the_columns_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("AnesR1_en.parquet");
    write_parquet(
        &f,
        &[
            ("question", vec![Some("q")]),
            ("answer", vec![Some("A")]),
            ("notes", vec![Some("n")]),
        ],
    );
    let e = convert(&opts(Kind::R1, vec![f.clone()], &dir.path().join("o")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AnesR1_en.parquet") && e.contains("reasoning"),
        "{e}"
    );
    assert!(
        e.contains("question, answer, notes") && e.contains("--reasoning-col"),
        "{e}"
    );
    // A named column that is absent is an error too, even where the guess would be optional.
    let mut o = opts(Kind::R1, vec![f.clone()], &dir.path().join("o"));
    o.r1_form = R1Form::Rl;
    o.columns.options = Some("choices".into());
    let e = convert(&o).unwrap_err().to_string();
    assert!(e.contains("choices") && e.contains("notes"), "{e}");
    // The RL form alone does not need the reasoning chain.
    o.columns.options = None;
    assert_eq!(convert(&o).unwrap().outputs[0].written, 1);
    // JSONL: the columns of the first row are named.
    let j = dir.path().join("qa.jsonl");
    std::fs::write(&j, "{\"prompt_text\": \"q\", \"reply\": \"a\"}\n").unwrap();
    let e = convert(&opts(Kind::Qa, vec![j], &dir.path().join("o")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("qa.jsonl") && e.contains("prompt_text, reply"),
        "{e}"
    );
}

#[test]
fn malformed_jsonl_rows_are_counted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("corpus_en.jsonl");
    std::fs::write(&j, "{\"text\": \"good one\"}\n{\"text\": \"unterminated\n[1, 2]\n\n{\"text\": null}\n{\"text\": 5}\n{\"text\": [\"a\"]}\n{\"text\": \"good two\"}\n").unwrap();
    let r = convert(&opts(Kind::Corpus, vec![j], &dir.path().join("o"))).unwrap();
    let o = &r.outputs[0];
    assert_eq!(r.rows_read, 7);
    // `5` is a number, which reads as the text "5".
    assert_eq!((o.written, o.skipped.malformed, o.skipped.null), (3, 3, 1));
    // An empty file converts to an empty dataset.
    let e = dir.path().join("empty_en.jsonl");
    std::fs::write(&e, "").unwrap();
    assert_eq!(
        convert(&opts(Kind::Corpus, vec![e], &dir.path().join("o2")))
            .unwrap()
            .outputs[0]
            .written,
        0
    );
}

#[test]
fn corrupt_parquet_and_bad_json_array_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken_en.parquet");
    std::fs::write(
        &p,
        b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n",
    )
    .unwrap();
    let e = convert(&opts(Kind::Corpus, vec![p], &dir.path().join("o")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("broken_en.parquet") && e.contains("Parquet"),
        "{e}"
    );
    assert!(
        !dir.path().join("o/anescorpus_all.jsonl").exists(),
        "no partial dataset is left under the final name"
    );
    let j = dir.path().join("arr.json");
    std::fs::write(&j, "[{\"text\": \"a\"}, {\"text\": ").unwrap();
    let e = convert(&opts(Kind::Corpus, vec![j], &dir.path().join("o")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("arr.json") && e.contains("after 1 rows"), "{e}");
}

#[test]
fn json_array_input_streams_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let j = dir.path().join("arr.json");
    let rows: Vec<Value> = (0..25).map(|i| json!({"text": format!("t{i}")})).collect();
    std::fs::write(&j, serde_json::to_string(&rows).unwrap()).unwrap();
    let sel = Selection::Columns(vec![ColumnSpec::new("text", &["text"], true, "--text-col")]);
    let mut sizes = Vec::new();
    let info = read_file(
        &j,
        &sel,
        &ReadOptions {
            batch_rows: 10,
            keep_raw: false,
        },
        &mut |b| {
            sizes.push((b.first_row, b.rows.len()));
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(info.rows, 25);
    assert_eq!(sizes, vec![(0, 10), (10, 10), (20, 5)]);
}

#[test]
fn parquet_is_read_in_bounded_batches() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("big.parquet");
    let texts: Vec<String> = (0..5000).map(|i| format!("row {i}")).collect();
    write_parquet(
        &f,
        &[("text", texts.iter().map(|s| Some(s.as_str())).collect())],
    );
    let sel = Selection::Columns(vec![ColumnSpec::new("text", &["text"], true, "--text-col")]);
    let mut max = 0;
    let mut n = 0;
    read_file(
        &f,
        &sel,
        &ReadOptions {
            batch_rows: 300,
            keep_raw: false,
        },
        &mut |b| {
            max = max.max(b.rows.len());
            n += b.rows.len();
            Ok(())
        },
    )
    .unwrap();
    assert_eq!((n, max), (5000, 300));
}

#[test]
fn binary_text_column_is_a_type_error_naming_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c_en.parquet");
    let schema = Schema::new(vec![Field::new("text", DataType::Binary, true)]);
    let col: arrow::array::ArrayRef =
        std::sync::Arc::new(arrow::array::BinaryArray::from(vec![Some(b"abc".as_ref())]));
    write_batch(&f, schema, vec![col]);
    let e = convert(&opts(Kind::Corpus, vec![f], &dir.path().join("o")))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("c_en.parquet") && e.contains("`text`") && e.contains("Binary"),
        "{e}"
    );
}

/// Parquet corpora take the arrow-to-bytes path; JSONL takes the row-by-row one. Both
/// must write the same bytes, skip counts included, in both output formats.
#[test]
fn parquet_corpus_fast_path_writes_the_row_path_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let texts: Vec<Option<&str>> = vec![
        Some("plain"),
        None,
        Some(" \u{3000}\n\t "),
        Some("quote \" backslash \\ tab\t nl\n cr\r nul\u{0} us\u{1f} del\u{7f}"),
        Some("麻醉 é 🩺 \u{2028}"),
        Some("  leading and trailing space kept  "),
        Some(""),
        Some("x"),
    ];
    let pq = dir.path().join("corpus.parquet");
    write_parquet(&pq, &[("text", texts.clone())]);
    let jl = dir.path().join("corpus.jsonl");
    let lines: Vec<String> = texts
        .iter()
        .map(|t| serde_json::to_string(&json!({ "text": t })).unwrap())
        .collect();
    std::fs::write(&jl, lines.join("\n") + "\n").unwrap();
    for format in [OutFormat::Jsonl, OutFormat::Json] {
        let run = |input: &Path, out: &str| {
            let out = dir.path().join(out);
            let mut o = opts(Kind::Corpus, vec![input.into()], &out);
            o.format = format;
            let r = convert(&o).unwrap();
            let file = &r.outputs[0].file;
            (std::fs::read(file).unwrap(), r)
        };
        let (fast, rf) = run(&pq, &format!("pq-{}", format.extension()));
        let (slow, rs) = run(&jl, &format!("jl-{}", format.extension()));
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&slow)
        );
        assert_eq!(rf.outputs[0].written, 5);
        assert_eq!(rf.outputs[0].skipped, rs.outputs[0].skipped);
        assert_eq!(
            (rf.outputs[0].skipped.null, rf.outputs[0].skipped.empty),
            (1, 2)
        );
        assert_eq!(rf.rows_read, 8);
        let text_bytes: u64 = texts.iter().flatten().map(|t| t.len() as u64).sum();
        assert_eq!(rf.bytes_read, text_bytes);
    }
}
