//! The data toolkit through the binary: convert, decontam and train-config.

use std::path::Path;
use std::process::{Command, Output};

use anesbench_core::item::Lang;
use serde_json::Value;

fn anesbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anesbench"))
        .args(args)
        .output()
        .expect("run anesbench")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn convert_corpus_parquet_to_json_array_and_registers_it() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let synth = anesbench_data::synth::generate(&corpus, 60_000, 2, 1, &[]).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(
        out.join("dataset_info.json"),
        r#"{"identity": {"file_name": "identity.json"}}"#,
    )
    .unwrap();
    let o = anesbench(&[
        "convert",
        "corpus",
        "--input",
        p(&corpus),
        "--split",
        "en",
        "--out",
        p(&out),
        "--format",
        "json",
        "--name",
        "synth",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["rows_read"], synth.rows);
    assert_eq!(report["outputs"][0]["written"], synth.rows);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("skipped 0 (empty 0, malformed 0, null 0)"),
        "{stderr}"
    );
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("synth_en.json")).unwrap()).unwrap();
    let rows = data.as_array().unwrap();
    assert_eq!(rows.len() as u64, synth.rows);
    assert!(rows
        .iter()
        .all(|r| r.as_object().unwrap().keys().eq(["text"])
            && r["text"].as_str().unwrap().len() >= 40));
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("dataset_info.json")).unwrap())
            .unwrap();
    assert_eq!(info["identity"]["file_name"], "identity.json");
    assert_eq!(info["synth_en"]["file_name"], "synth_en.json");
    assert_eq!(info["synth_en"]["columns"]["prompt"], "text");
}

#[test]
fn convert_missing_column_fails_naming_file_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("AnesQA_en.jsonl");
    std::fs::write(&f, "{\"query_text\": \"q\", \"reply\": \"a\"}\n").unwrap();
    let o = anesbench(&[
        "convert",
        "qa",
        "--input",
        p(&f),
        "--out",
        p(&dir.path().join("o")),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("AnesQA_en.jsonl")
            && e.contains("query_text, reply")
            && e.contains("--question-col"),
        "{e}"
    );
    // Naming the columns fixes it.
    let o = anesbench(&[
        "convert",
        "qa",
        "--input",
        p(&f),
        "--out",
        p(&dir.path().join("o")),
        "--question-col",
        "query_text",
        "--answer-col",
        "reply",
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let line = std::fs::read_to_string(dir.path().join("o/anesqa_all.jsonl")).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(line.trim()).unwrap(),
        serde_json::json!({"instruction": "q", "input": "", "output": "a"})
    );
}

#[test]
fn decontam_finds_a_planted_demo_question() {
    let demo = anesbench_core::demo::items_for(Lang::En);
    let question = &demo[5].question;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("train.jsonl");
    let rows = [
        serde_json::json!({"text": "Anesthesia for cesarean delivery: spinal hypotension is treated with phenylephrine."}),
        serde_json::json!({"instruction": "Answer.", "input": question, "output": "B"}),
    ];
    std::fs::write(
        &f,
        rows.iter()
            .map(|r| r.to_string() + "\n")
            .collect::<String>(),
    )
    .unwrap();
    let report = dir.path().join("report.json");
    let clean = dir.path().join("clean");
    let o = anesbench(&[
        "decontam",
        "--train",
        p(&f),
        "--bench",
        "demo",
        "--report",
        p(&report),
        "--write-clean",
        p(&clean),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let flagged = r["flagged"].as_array().unwrap();
    assert!(
        flagged.iter().any(|x| x["id"] == demo[5].id.as_str()
            && x["lang"] == "en"
            && x["found_in"][0]["row"] == 1),
        "{r:#}"
    );
    assert_eq!(r["rows_dropped"], 1);
    assert_eq!(
        std::fs::read_to_string(clean.join("train.jsonl"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

#[test]
fn train_config_has_study_defaults_and_overrides() {
    let o = anesbench(&[
        "train-config",
        "--stage",
        "pt",
        "--model",
        "Qwen/Qwen2.5-7B",
        "--dataset",
        "anescorpus_en,anescorpus_zh",
    ]);
    assert!(o.status.success());
    let y = String::from_utf8_lossy(&o.stdout);
    for l in [
        "stage: pt",
        "finetuning_type: full",
        "learning_rate: 1.0e-4",
        "num_train_epochs: 3.0",
        "cutoff_len: 2048",
        "warmup_ratio: 0.05",
        "bf16: true",
        "dataset: anescorpus_en,anescorpus_zh",
    ] {
        assert!(y.lines().any(|x| x == l), "missing {l}:\n{y}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sft.yaml");
    let o = anesbench(&[
        "train-config",
        "--stage",
        "sft",
        "--model",
        "m",
        "--dataset",
        "anesqa_en",
        "--set",
        "learning_rate=2e-5",
        "--set",
        "deepspeed=examples/deepspeed/ds_z3_config.json",
        "--out",
        p(&out),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let y = std::fs::read_to_string(&out).unwrap();
    assert!(
        y.contains("learning_rate: 2.0e-5\n")
            && y.contains("num_train_epochs: 5.0\n")
            && y.contains("deepspeed: examples/deepspeed/ds_z3_config.json\n"),
        "{y}"
    );
    let o = anesbench(&[
        "train-config",
        "--stage",
        "rl",
        "--model",
        "m",
        "--dataset",
        "d",
    ]);
    assert!(!o.status.success());
}

#[test]
fn decontam_without_write_clean_says_would_be_dropped() {
    let demo = anesbench_core::demo::items_for(Lang::En);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("train.jsonl");
    std::fs::write(
        &f,
        serde_json::json!({"text": demo[5].question}).to_string() + "\n",
    )
    .unwrap();
    let o = anesbench(&["decontam", "--train", p(&f), "--bench", "demo"]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "1 row would be dropped (nothing written; --write-clean DIR writes clean copies)"
        ),
        "{err}"
    );
    assert!(!err.contains("rows dropped"), "{err}");
}

#[test]
fn train_config_set_learning_rate_abc_and_malformed_set_exit_2() {
    let base = [
        "train-config",
        "--stage",
        "sft",
        "--model",
        "m",
        "--dataset",
        "d",
        "--set",
    ];
    let o = anesbench(&[&base[..], &["learning_rate=abc"]].concat());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("learning_rate takes a number"), "{err}");
    assert!(o.stdout.is_empty(), "no config written");
    let o = anesbench(&[&base[..], &["learning_rate"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected key=value"));
}

#[test]
fn data_stats_demo_does_not_say_0_files() {
    let o = anesbench(&["data", "stats", "demo"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("0 file"), "{out}");
    assert!(out.contains("built-in set, no file"), "{out}");
}
