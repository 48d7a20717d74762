//! `eval --permute circular` on the embedded default model (gemma-3-270m, a base model
//! that picks `A` for most questions in loglik mode) on a few demo items in both
//! languages, then `report --pairs published`: every rotation is a record, the position
//! bias shows (most picks on one displayed position, far above its gold share), circular
//! accuracy is at most the plain accuracy, and the report carries robustness, calibration,
//! bilingual consistency and the pairs in JSON, Markdown and HTML.
//!
//! Prints a notice and returns when the model file is missing, except under `CI=true`.
#![cfg(feature = "llama")]

use std::path::PathBuf;
use std::process::Command;

use anesbench_llama::{known_model, models_dir, FETCH_COMMAND};

const BIN: &str = env!("CARGO_BIN_EXE_anesbench");

fn model_present() -> Option<PathBuf> {
    let path = models_dir().join(known_model("gemma3-270m").unwrap().file);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but the demo model is missing at {}; run `{FETCH_COMMAND}`",
        path.display()
    );
    eprintln!(
        "SKIP: demo model missing at {}; run `{FETCH_COMMAND}`",
        path.display()
    );
    None
}

fn run(args: &[&str]) -> String {
    let o = Command::new(BIN).args(args).output().unwrap();
    let text = format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{args:?}\n{text}");
    text
}

#[test]
fn circular_eval_of_the_demo_model_shows_its_position_bias() {
    if model_present().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out_s = out.to_str().unwrap();
    run(&[
        "eval",
        "--mode",
        "loglik",
        "--permute",
        "circular",
        "--limit",
        "6",
        "--progress",
        "none",
        "--out",
        out_s,
    ]);
    let recs: Vec<serde_json::Value> = std::fs::read_to_string(out.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let letters: usize = recs
        .iter()
        .filter(|r| r["sample"] == 0)
        .map(|r| r["letters"].as_str().unwrap().len())
        .sum();
    assert_eq!(recs.len(), letters, "one record per item x rotation");
    assert!(recs
        .iter()
        .all(|r| r["perm"].is_string() && r["error"].is_null()));

    let rep = dir.path().join("report");
    run(&[
        "report",
        out_s,
        "--pairs",
        "published",
        "--out",
        rep.to_str().unwrap(),
    ]);
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(rep.join("report.json")).unwrap()).unwrap();
    let a = &j["analysis"]["runs"][0];
    let rb = &a["robustness"];
    let picked = rb["picked"].as_object().unwrap();
    let total: u64 = picked.values().map(|v| v.as_u64().unwrap()).sum::<u64>()
        + rb["no_answer"].as_u64().unwrap();
    let top = picked.values().map(|v| v.as_u64().unwrap()).max().unwrap();
    let gold_top = rb["gold"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .max()
        .unwrap();
    eprintln!(
        "picked {picked:?} of {total}; gold max {gold_top}; circular {}",
        rb["circular_accuracy"]
    );
    assert!(
        top as f64 >= 0.5 * total as f64 && top > gold_top,
        "position bias not visible: picked {picked:?}, gold max {gold_top}"
    );
    assert!(rb["circular_accuracy"].as_f64().unwrap() <= rb["plain_accuracy"].as_f64().unwrap());
    // Loglik confidence: a calibration row per level present and overall.
    assert!(a["calibration"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["level"] == "all"));
    // The demo set has every item in both languages.
    assert!(!a["bilingual"].as_array().unwrap().is_empty());
    assert!(j["analysis"]["pairs"]["pairs"].as_array().unwrap().len() >= 5);
    let md = std::fs::read_to_string(rep.join("report.md")).unwrap();
    assert!(
        md.contains("circular accuracy") && md.contains("figures/position-bias-0.svg"),
        "{md}"
    );
    assert!(md.contains("Bilingual consistency") && md.contains("Base vs derived"));
    let html = std::fs::read_to_string(rep.join("report.html")).unwrap();
    assert!(html.contains("id=\"fig-position-bias-0\"") && html.contains("id=\"fig-pairs\""));
    assert!(rep.join("figures/reliability-0.svg").is_file());
}
