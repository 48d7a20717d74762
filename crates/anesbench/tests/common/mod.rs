//! What several CLI tests share: the binary under test and a synthetic dataset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const BIN: &str = env!("CARGO_BIN_EXE_anesbench");

/// `n` four-option items per language (gold cycling A..D, levels 1..3) under
/// `dir/synthetic`, as `anesbench_en.json` / `anesbench_zh.json`.
pub fn write_synthetic(dir: &Path, n: usize) -> PathBuf {
    let root = dir.join("synthetic");
    std::fs::create_dir_all(&root).unwrap();
    for lang in ["en", "zh"] {
        let items: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let target = ["A", "B", "C", "D"][i % 4];
                serde_json::json!({
                    "id": format!("q{i}"),
                    "question": format!("Synthetic {lang} question {i}: which agent fits?"),
                    "A": format!("agent one {i}"), "B": format!("agent two {i}"),
                    "C": format!("agent three {i}"), "D": format!("agent four {i}"),
                    "choice_num": 4, "target": target, "category": 1 + i % 3,
                })
            })
            .collect();
        std::fs::write(
            root.join(format!("anesbench_{lang}.json")),
            serde_json::to_vec(&items).unwrap(),
        )
        .unwrap();
    }
    root
}
