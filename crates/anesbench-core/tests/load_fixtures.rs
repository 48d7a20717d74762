//! The Parquet fixtures that the CLI tests read (the binary crate does not build Parquet
//! itself) are the dataset card's examples: this test proves it, and rewrites them when
//! ANESBENCH_WRITE_FIXTURES=1.

mod load_support;

use std::path::Path;

use anesbench_core::load::{load, LoadOptions};
use load_support::*;

/// (file stem, card example, level field, levels): also used by crates/anesbench/tests/cli_data.rs.
const FIXTURES: [(&str, &str, &str, &[u8]); 3] = [
    (
        "anesbench_en",
        "hf_release_en_example",
        "category",
        &[1, 1, 1, 2, 2, 3],
    ),
    (
        "anesbench_zh",
        "hf_release_zh_example",
        "category",
        &[1, 2, 2, 3],
    ),
    ("seed", "seed_readme_schema_example", "level", &[1, 2, 3, 3]),
];

#[test]
fn parquet_fixtures_are_the_card_examples() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/load");
    let tmp = tempfile::tempdir().unwrap();
    for (stem, example, field, levels) in FIXTURES {
        let recs = variants(example, field, levels);
        let fixture = fixtures.join(format!("{stem}.parquet"));
        if std::env::var_os("ANESBENCH_WRITE_FIXTURES").is_some() {
            write_parquet(&fixture, &recs);
        }
        let json = tmp.path().join(format!("{stem}.json"));
        write_json(&json, &recs);
        let want = load(json.to_str().unwrap(), &LoadOptions::default()).unwrap();
        let got = load(fixture.to_str().unwrap(), &LoadOptions::default()).unwrap();
        assert_eq!(got.fingerprint, want.fingerprint, "{}", fixture.display());
        assert_eq!(got.items.len(), want.items.len());
    }
}
