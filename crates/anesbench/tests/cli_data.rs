//! `anesbench data stats|validate` run as a binary on both published schemas (JSON and JSONL
//! written here from the dataset card's examples; Parquet from the core crate's fixtures,
//! which its `load_fixtures` test proves are the same examples) and on malformed input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Map, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../anesbench-core/tests/fixtures/load")
}

fn anesbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anesbench"))
        .args(args)
        .env("HF_HOME", "/nonexistent-hf-home")
        .env_remove("HF_HUB_CACHE")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stats_json(source: &str, extra: &[&str]) -> Value {
    let mut args = vec!["data", "stats", source, "--json"];
    args.extend_from_slice(extra);
    let o = anesbench(&args);
    assert!(
        o.status.success(),
        "{}\n{}",
        stdout(&o),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Copies of a card example with ids `<id>-<i>` and the given levels.
fn variants(example: &str, level_field: &str, levels: &[u8]) -> Vec<Map<String, Value>> {
    let card: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("dataset_card_examples.json")).unwrap(),
    )
    .unwrap();
    let base = card[example].as_object().unwrap().clone();
    levels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let mut r = base.clone();
            let id = format!("{}-{i}", r["id"].as_str().unwrap());
            r.insert("id".into(), id.into());
            r.insert(level_field.into(), l.into());
            r
        })
        .collect()
}

fn write(dir: &Path, name: &str, recs: &[Map<String, Value>]) -> String {
    let p = dir.join(name);
    let text = if name.ends_with(".jsonl") {
        recs.iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect()
    } else {
        serde_json::to_string_pretty(recs).unwrap()
    };
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn levels(v: &Value, lang: &str) -> [u64; 3] {
    ["system1", "system1x", "system2"]
        .map(|k| v["languages"][lang]["by_level"][k].as_u64().unwrap_or(0))
}

#[test]
fn stats_counts_release_schema_in_json_jsonl_and_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let en = variants("hf_release_en_example", "category", &[1, 1, 1, 2, 2, 3]);
    let zh = variants("hf_release_zh_example", "category", &[1, 2, 2, 3]);
    let en_sources = [
        write(dir.path(), "anesbench_en.json", &en),
        write(dir.path(), "anesbench_en.jsonl", &en),
        fixtures()
            .join("anesbench_en.parquet")
            .to_str()
            .unwrap()
            .to_string(),
    ];
    let zh_sources = [
        write(dir.path(), "anesbench_zh.json", &zh),
        write(dir.path(), "anesbench_zh.jsonl", &zh),
        fixtures()
            .join("anesbench_zh.parquet")
            .to_str()
            .unwrap()
            .to_string(),
    ];
    let mut prints = Vec::new();
    for s in &en_sources {
        let v = stats_json(s, &[]);
        assert_eq!(levels(&v, "en"), [3, 2, 1], "{s}");
        assert_eq!(v["languages"]["en"]["by_options"]["4"], 6, "{s}");
        assert!(v["languages"].get("zh").is_none());
        prints.push(v["fingerprint"].clone());
    }
    assert!(prints.windows(2).all(|w| w[0] == w[1]), "{prints:?}");
    for s in &zh_sources {
        let v = stats_json(s, &[]);
        assert_eq!(levels(&v, "zh"), [1, 2, 1], "{s}");
        assert_eq!(v["languages"]["zh"]["by_options"]["5"], 4, "{s}");
        let o = anesbench(&["data", "validate", s]);
        assert!(o.status.success(), "{s}: {}", stdout(&o));
        assert!(
            stdout(&o).starts_with("ok: 4 items (zh 4)"),
            "{}",
            stdout(&o)
        );
    }
}

#[test]
fn stats_counts_seed_schema_per_language_and_table_shows_the_cells() {
    let dir = tempfile::tempdir().unwrap();
    let recs = variants("seed_readme_schema_example", "level", &[1, 2, 3, 3]);
    for s in [
        write(dir.path(), "seed.json", &recs),
        write(dir.path(), "seed.jsonl", &recs),
        fixtures()
            .join("seed.parquet")
            .to_str()
            .unwrap()
            .to_string(),
    ] {
        let v = stats_json(&s, &[]);
        assert_eq!(levels(&v, "en"), [1, 1, 2], "{s}");
        assert_eq!(levels(&v, "zh"), [1, 1, 2], "{s}");
        assert_eq!(v["total"], 8);
        let zh_only = stats_json(&s, &["--lang", "zh"]);
        assert_eq!(zh_only["total"], 4);
    }
    let o = anesbench(&["data", "stats", &write(dir.path(), "s.json", &recs)]);
    let table = stdout(&o);
    assert!(o.status.success());
    let row = table
        .lines()
        .find(|l| l.starts_with("zh") && l.contains("System 2"))
        .unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["zh", "System", "2", "2", "2"],
        "{table}"
    );
    assert!(table.lines().last().unwrap().ends_with(" 8"), "{table}");
}

#[test]
fn validate_exits_3_naming_record_and_field_for_each_malformed_input() {
    let dir = tempfile::tempdir().unwrap();
    let base = variants("hf_release_en_example", "category", &[1, 1, 1]);
    type Edit = fn(&mut Vec<Map<String, Value>>);
    let cases: Vec<(&str, Edit, &str, &str)> = vec![
        (
            "missing",
            |r| drop(r[1].remove("question")),
            "record[1]",
            "`question`",
        ),
        (
            "empty",
            |r| drop(r[2].insert("target".into(), "".into())),
            "record[2]",
            "`target`",
        ),
        (
            "choice_num",
            |r| drop(r[0].insert("choice_num".into(), 3.into())),
            "record[0]",
            "`D`",
        ),
        (
            "gold",
            |r| drop(r[1].insert("target".into(), "G".into())),
            "record[1]",
            "`target`",
        ),
        (
            "level",
            |r| drop(r[2].insert("category".into(), 7.into())),
            "record[2]",
            "`category`",
        ),
        (
            "dup",
            |r| {
                let id = r[0]["id"].clone();
                r[2].insert("id".into(), id);
            },
            "record[2]",
            "`id`",
        ),
    ];
    for (name, edit, record, field) in cases {
        let mut recs = base.clone();
        edit(&mut recs);
        let p = write(dir.path(), &format!("{name}_en.jsonl"), &recs);
        let o = anesbench(&["data", "validate", &p]);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(3), "{name}: {out}");
        assert!(
            out.contains(record) && out.contains(field) && out.contains(&p),
            "{name}: {out}"
        );
    }
}

#[test]
fn validate_reports_bad_lines_non_utf8_and_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        serde_json::to_string(&variants("hf_release_en_example", "category", &[1])[0]).unwrap();
    let p = dir.path().join("anesbench_en.jsonl");
    let mut bytes = format!("{good}\n{{\"id\": 1,\n").into_bytes();
    bytes.extend_from_slice(b"{\"id\": \"\xff\"}\n");
    std::fs::write(&p, bytes).unwrap();
    let o = anesbench(&["data", "validate", p.to_str().unwrap()]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(
        out.contains("anesbench_en.jsonl:2: record[1]") && out.contains("malformed JSON"),
        "{out}"
    );
    assert!(
        out.contains("anesbench_en.jsonl:3: record[2]") && out.contains("UTF-8"),
        "{out}"
    );

    let e = dir.path().join("empty_en.json");
    std::fs::write(&e, "[]").unwrap();
    let o = anesbench(&["data", "validate", e.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("no records"), "{}", stdout(&o));

    let o = anesbench(&["data", "validate", p.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"].as_array().unwrap().len(), 2);
    assert_eq!(v["problems"][1]["line"], 3);
}

#[test]
fn lenient_stats_skip_bad_records_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut recs = variants("hf_release_en_example", "category", &[1, 2, 3]);
    recs[1].remove("A");
    let p = write(dir.path(), "anesbench_en.json", &recs);
    let o = anesbench(&["data", "stats", &p, "--json"]);
    assert_eq!(o.status.code(), Some(3));
    let o = anesbench(&["data", "stats", &p, "--json", "--lenient"]);
    assert!(o.status.success());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["total"].as_u64(), v["skipped"].as_u64()),
        (Some(2), Some(1))
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning: skipped") && err.contains("record[1]") && err.contains("`A`"),
        "{err}"
    );
}

#[test]
fn unreadable_sources_exit_1_with_a_hint() {
    let o = anesbench(&["data", "validate", "/no/such/anesbench_en.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not found"));
    let o = anesbench(&["data", "stats", "hf:MiliLab/AnesBench"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("pass a local path"), "{err}");
}

#[test]
fn mapping_flags_and_file_load_other_mcq_sets() {
    let src = fixtures().join("medqa_style.jsonl");
    let src = src.to_str().unwrap();
    let file = fixtures().join("medqa_style.toml");
    let v = stats_json(src, &["--mapping", file.to_str().unwrap(), "--lang", "en"]);
    assert_eq!(levels(&v, "en"), [1, 1, 1]);
    let flags = [
        "--lang",
        "en",
        "--id-field",
        "qid",
        "--question-field",
        "stem",
        "--option-fields",
        "opts",
        "--answer-field",
        "ans",
        "--answer-kind",
        "index0",
        "--default-level",
        "2",
    ];
    let v = stats_json(src, &flags);
    assert_eq!(levels(&v, "en"), [0, 3, 0]);
    let o = anesbench(&["data", "stats", src, "--question-field", "stem"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--option-fields"));
}

#[test]
fn demo_has_at_least_60_items_per_language_over_three_levels() {
    let v = stats_json("demo", &[]);
    for lang in ["en", "zh"] {
        let l = levels(&v, lang);
        assert!(l.iter().sum::<u64>() >= 60, "{lang}: {l:?}");
        assert!(l.iter().all(|&n| n > 0), "{lang}: {l:?}");
    }
    let o = anesbench(&["data", "validate", "demo"]);
    assert!(o.status.success(), "{}", stdout(&o));
}
