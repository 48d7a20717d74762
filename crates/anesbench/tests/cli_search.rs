//! Step-level beam search on the embedded instruct demo model (SmolLM2-135M-Instruct)
//! with the likelihood scorer: the real `anesbench` binary, two English demo items,
//! `beam:2,2,16`, twice; both runs must give identical records and trees, every record a
//! full search candidate with its step rewards, and the trees well formed.
//!
//! Skips (with a notice) when the model file is missing, except under `CI=true`.
#![cfg(feature = "llama")]

use std::path::{Path, PathBuf};
use std::process::Command;

use anesbench_llama::{known_model, models_dir, FETCH_COMMAND};

const BIN: &str = env!("CARGO_BIN_EXE_anesbench");
const MODEL: &str = "smollm2-135m-instruct";

fn model_present() -> Option<PathBuf> {
    let path = models_dir().join(known_model(MODEL).unwrap().file);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but the instruct demo model is missing at {}; run `{FETCH_COMMAND}`",
        path.display()
    );
    eprintln!("SKIP: instruct demo model missing at {}", path.display());
    None
}

fn eval(out: &Path, extra: &[&str]) {
    let o = Command::new(BIN)
        .args([
            "eval", "--gguf", MODEL, "--mode", "generate", "--lang", "en",
        ])
        .args(["--limit", "2", "--max-tokens", "64", "--progress", "none"])
        .args([
            "--strategy",
            "beam:2,2,16",
            "--temperature",
            "0.7",
            "--seed",
            "3",
        ])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Records without timings, sorted by (id, sample).
fn records(out: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(out.join("samples.jsonl")).unwrap();
    let mut v: Vec<serde_json::Value> = text
        .lines()
        .map(|l| {
            let mut r: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(r["error"].is_null(), "a candidate failed: {r}");
            r["latency_ms"] = 0.into();
            if let Some(c) = r.get_mut("compute") {
                c["wall_ms"] = 0.into();
            }
            r
        })
        .collect();
    v.sort_by_key(|r| (r["id"].as_str().unwrap().to_string(), r["sample"].as_u64()));
    v
}

fn trees(out: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(out.join("trees.jsonl")).unwrap();
    let mut v: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    v.sort_by_key(|t| t["id"].as_str().unwrap().to_string());
    v
}

#[test]
fn embedded_beam_search_with_the_likelihood_scorer_repeats_exactly() {
    if model_present().is_none() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
    eval(&a, &[]);
    eval(&b, &[]);
    // Every step prompt decoded whole, no cells reused from the previous step.
    eval(&c, &["--prefix-cache", "off"]);
    let (ra, rb) = (records(&a), records(&b));
    assert_eq!(ra.len(), 4, "2 items x B = 2 candidates");
    assert_eq!(
        ra, rb,
        "two runs with the same settings give identical records"
    );
    assert_eq!(trees(&a), trees(&b));
    assert_eq!(
        ra,
        records(&c),
        "reusing the previous step's cells changed a record"
    );
    assert_eq!(trees(&a), trees(&c));
    let details = |dir: &Path| -> serde_json::Value {
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap())
                .unwrap();
        m["backend"]["details"]["prefix_cache"].clone()
    };
    assert_eq!(details(&a), true);
    assert_eq!(details(&c), false);
    for r in &ra {
        let steps = r["step_rewards"].as_array().unwrap();
        assert!(!steps.is_empty());
        assert!(steps
            .iter()
            .all(|x| x.as_f64().is_some_and(|x| x > 0.0 && x <= 1.0)));
    }
    let t = trees(&a);
    assert_eq!(t.len(), 2);
    for tree in &t {
        let nodes = tree["nodes"].as_array().unwrap();
        // The root is expanded B x W = 4 times.
        assert!(nodes.iter().filter(|n| n["parent"].is_null()).count() == 4);
        assert_eq!(nodes.iter().filter(|n| n["status"] == "final").count(), 2);
        let tokens: u64 = nodes.iter().map(|n| n["tokens"].as_u64().unwrap()).sum();
        let item = tree["id"].as_str().unwrap();
        let c0 = ra
            .iter()
            .find(|r| r["id"] == item && r["sample"] == 0)
            .unwrap();
        assert_eq!(c0["compute"]["generated_tokens"].as_u64().unwrap(), tokens);
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["solver"], "beam:2,2,16:last:max");
}
