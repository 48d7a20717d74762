//! No loader panics on arbitrary bytes, on any of the JSON, JSONL and Parquet paths.

mod load_support;

use std::path::Path;

use anesbench_core::load::{load_bytes, LoadOptions};
use load_support::*;
use proptest::prelude::*;

fn opts() -> [LoadOptions; 2] {
    [
        LoadOptions::default(),
        LoadOptions {
            lenient: true,
            ..Default::default()
        },
    ]
}

fn valid_parquet() -> Vec<u8> {
    parquet_bytes(&variants("hf_release_en_example", "category", &[1, 2, 3]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        for name in ["anesbench_en.json", "anesbench_en.jsonl", "anesbench_en.parquet", "seed.data"] {
            for o in &opts() {
                let _ = load_bytes(Path::new(name), &bytes, o);
            }
        }
    }

    #[test]
    fn json_like_text_never_panics(text in r#"[\[\]{}",:0-9A-Za-z_ \n\\é中]{0,200}"#) {
        for name in ["anesbench_zh.json", "x.jsonl"] {
            let _ = load_bytes(Path::new(name), text.as_bytes(), &LoadOptions::default());
        }
    }

    #[test]
    fn mutated_records_never_panic(idx in 0usize..9, val in prop_oneof![
        Just(serde_json::Value::Null), any::<i64>().prop_map(Into::into), ".{0,8}".prop_map(Into::into),
        Just(serde_json::json!([1, "a"])), Just(serde_json::json!({"A": "x"}))
    ]) {
        let mut recs = variants("hf_release_en_example", "category", &[1, 2]);
        let keys: Vec<String> = recs[0].keys().cloned().collect();
        let key = keys[idx % keys.len()].clone();
        recs[0].insert(key, val);
        let json = serde_json::to_vec(&recs).unwrap();
        let _ = load_bytes(Path::new("anesbench_en.json"), &json, &LoadOptions::default());
        let _ = load_bytes(Path::new("anesbench_en.parquet"), &parquet_bytes(&recs), &LoadOptions::default());
    }

    /// Corrupt a real Parquet file: flipped and truncated bytes inside the footer and pages.
    #[test]
    fn corrupted_parquet_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let good = valid_parquet();
        let mut bad = good.clone();
        for (at, b) in flips {
            let i = at.index(bad.len());
            bad[i] ^= b | 1;
        }
        let _ = load_bytes(Path::new("anesbench_en.parquet"), &bad, &LoadOptions::default());
        let mut truncated = good[..cut.index(good.len())].to_vec();
        truncated.extend_from_slice(b"PAR1");
        let _ = load_bytes(Path::new("anesbench_en.parquet"), &truncated, &LoadOptions::default());
    }
}

#[test]
fn valid_parquet_bytes_load() {
    let ds = load_bytes(
        Path::new("anesbench_en.parquet"),
        &valid_parquet(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(ds.items.len(), 3);
}
