//! Both published schemas, in JSON, JSONL and Parquet, built from the dataset card's own
//! examples, load with the right counts per language and level.

mod load_support;

use anesbench_core::item::{Lang, Level};
use anesbench_core::load::{load, Dataset, LoadError, LoadOptions};
use load_support::*;

fn counts(ds: &Dataset, lang: Lang) -> [usize; 3] {
    Level::ALL.map(|l| ds.count(lang, l))
}

fn load_path(p: &std::path::Path, opts: &LoadOptions) -> Result<Dataset, LoadError> {
    load(p.to_str().unwrap(), opts)
}

#[test]
fn release_schema_in_every_format_counts_per_level_and_takes_language_from_name() {
    let dir = tempfile::tempdir().unwrap();
    let en = variants("hf_release_en_example", "category", &[1, 1, 1, 2, 2, 3]);
    let zh = variants("hf_release_zh_example", "category", &[1, 2, 2, 3]);
    let en_paths = write_all_formats(dir.path(), "anesbench_en", &en);
    let zh_paths = write_all_formats(dir.path(), "anesbench_zh", &zh);
    let mut prints = Vec::new();
    for p in &en_paths {
        let ds = load_path(p, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(counts(&ds, Lang::En), [3, 2, 1], "{}", p.display());
        assert_eq!(counts(&ds, Lang::Zh), [0, 0, 0]);
        let first = &ds.items[0];
        assert_eq!(first.options.len(), 4);
        assert_eq!(first.answer, 'C');
        assert_eq!(
            first.options[2],
            "Solubility of the specific gas in that solution"
        );
        prints.push(ds.fingerprint.clone());
    }
    for p in &zh_paths {
        let ds = load_path(p, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(counts(&ds, Lang::Zh), [1, 2, 1], "{}", p.display());
        assert_eq!(ds.items[0].options.len(), 5);
        assert_eq!(ds.items[0].answer, 'D');
    }
    // The same records in three formats are the same benchmark.
    assert!(prints.windows(2).all(|w| w[0] == w[1]), "{prints:?}");
}

#[test]
fn seed_schema_yields_one_item_per_language_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let recs = variants("seed_readme_schema_example", "level", &[1, 2, 3, 3]);
    for p in write_all_formats(dir.path(), "seed", &recs) {
        let ds = load_path(&p, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(counts(&ds, Lang::En), [1, 1, 2], "{}", p.display());
        assert_eq!(counts(&ds, Lang::Zh), [1, 1, 2], "{}", p.display());
        let zh = ds.items.iter().find(|i| i.lang == Lang::Zh).unwrap();
        assert_eq!(zh.question, "中文问题");
        assert_eq!(zh.options, ["选项A", "选项B", "选项C", "选项D"]);
        let only_zh = load_path(
            &p,
            &LoadOptions {
                lang: Some(Lang::Zh),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(only_zh.items.len(), 4);
        assert!(only_zh.items.iter().all(|i| i.lang == Lang::Zh));
    }
}

#[test]
fn seed_schema_accepts_cn_prefix_as_chinese() {
    let dir = tempfile::tempdir().unwrap();
    let recs: Vec<Rec> = variants("seed_readme_schema_example", "level", &[1, 3])
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|(k, v)| (k.replace("zh_", "cn_"), v))
                .collect()
        })
        .collect();
    let p = dir.path().join("seed_cn.jsonl");
    write_jsonl(&p, &recs);
    let ds = load_path(&p, &LoadOptions::default()).unwrap();
    assert_eq!(counts(&ds, Lang::Zh), [1, 0, 1]);
    assert_eq!(counts(&ds, Lang::En), [1, 0, 1]);
}

#[test]
fn directory_of_release_files_holds_both_languages_and_lang_filters() {
    let dir = tempfile::tempdir().unwrap();
    // The layout of the hub's Parquet conversion: one folder per config.
    std::fs::create_dir_all(dir.path().join("en")).unwrap();
    std::fs::create_dir_all(dir.path().join("zh")).unwrap();
    write_parquet(
        &dir.path().join("en/test-00000-of-00001.parquet"),
        &variants("hf_release_en_example", "category", &[1, 2, 3]),
    );
    write_json(
        &dir.path().join("zh/test.json"),
        &variants("hf_release_zh_example", "category", &[1, 1]),
    );
    std::fs::write(dir.path().join("README.md"), "not data").unwrap();
    let ds = load_path(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!(ds.files.len(), 2);
    assert_eq!(counts(&ds, Lang::En), [1, 1, 1]);
    assert_eq!(counts(&ds, Lang::Zh), [2, 0, 0]);
    let en = load_path(
        dir.path(),
        &LoadOptions {
            lang: Some(Lang::En),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(en.items.len(), 3);
    assert!(
        en.warnings.iter().any(|w| w.contains("left out")),
        "{:?}",
        en.warnings
    );
}

#[test]
fn release_file_without_language_in_name_needs_lang() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("questions.json");
    write_json(&p, &variants("hf_release_en_example", "category", &[2]));
    let err = load_path(&p, &LoadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("--lang"), "{err}");
    let ds = load_path(
        &p,
        &LoadOptions {
            lang: Some(Lang::En),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(counts(&ds, Lang::En), [0, 1, 0]);
}

#[test]
fn fingerprint_ignores_record_order_but_not_content() {
    let dir = tempfile::tempdir().unwrap();
    let mut recs = variants("hf_release_en_example", "category", &[1, 2, 3]);
    let a = dir.path().join("a_en.json");
    write_json(&a, &recs);
    recs.reverse();
    let b = dir.path().join("b_en.jsonl");
    write_jsonl(&b, &recs);
    recs[0].insert("target".into(), "D".into());
    let c = dir.path().join("c_en.json");
    write_json(&c, &recs);
    let fa = load_path(&a, &LoadOptions::default()).unwrap().fingerprint;
    let fb = load_path(&b, &LoadOptions::default()).unwrap().fingerprint;
    let fc = load_path(&c, &LoadOptions::default()).unwrap().fingerprint;
    assert_eq!(fa, fb);
    assert_ne!(fa, fc);
    assert_eq!(fa.len(), 64);
}

#[test]
fn demo_source_loads_through_the_same_validation() {
    let expected = anesbench_core::demo::items().len();
    match load("demo", &LoadOptions::default()) {
        Ok(ds) => {
            assert_eq!(ds.items.len(), expected);
            assert!(ds.files.is_empty());
        }
        // The demo set may still be empty while it is being written.
        Err(LoadError::Empty { .. }) => assert_eq!(expected, 0),
        Err(e) => panic!("demo failed validation: {e}"),
    }
}

#[test]
fn missing_path_is_not_found_with_hint() {
    let err = load("/no/such/file.json", &LoadOptions::default()).unwrap_err();
    assert!(matches!(err, LoadError::NotFound { .. }));
    assert!(err.to_string().contains("demo"), "{err}");
}
