//! `eval` with a reward model through the CLI: the reward flags reach the run, the key
//! comes from the named environment variable and never reaches the run directory, the
//! reward model is discovered, every candidate stores its step rewards, and the manifest
//! names the expanded preset.

use std::sync::Arc;

use anesbench_backend::fake::reward::FakeRewardServer;
use anesbench_backend::fake::{FakeConfig, FakeServer};
use anesbench_backend::reward::RewardApi;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_anesbench");
const KEY: &str = "sk-prm-secret-4711";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn study_bon4_scores_every_candidate_with_the_prm_and_stores_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let policy = FakeServer::start(FakeConfig::default()).await.unwrap();
    let prm = FakeRewardServer::start(
        RewardApi::VllmPooling,
        Arc::new(|t: &str| if t.contains("Answer") { 0.8 } else { 0.4 }),
        Some(KEY.into()),
    )
    .await
    .unwrap();
    let out = dir.path().join("run");
    let o = Command::new(BIN)
        .args(["eval", "--dataset", "demo", "--lang", "en", "--limit", "3"])
        .args(["--endpoint", &policy.url(), "--model", "fake-model"])
        .args([
            "--strategy",
            "study:bon4",
            "--temperature",
            "0.7",
            "--seed",
            "1",
        ])
        .args([
            "--reward-endpoint",
            &prm.url(),
            "--reward-api",
            "vllm-pooling",
        ])
        .args([
            "--reward-api-key-env",
            "ANES_TEST_PRM_KEY",
            "--progress",
            "none",
        ])
        .env("ANES_TEST_PRM_KEY", KEY)
        .arg("--out")
        .arg(&out)
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("reward model: fake-prm"), "{text}");
    let samples = std::fs::read_to_string(out.join("samples.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> = samples
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 12);
    for r in &recs {
        let steps = r["response"]
            .as_str()
            .unwrap()
            .split("\n\n")
            .filter(|s| !s.trim().is_empty())
            .count();
        assert_eq!(r["step_rewards"].as_array().unwrap().len(), steps, "{r}");
        assert_eq!(r["reward_input_hash"].as_str().unwrap().len(), 64);
    }
    // The fake policy keeps `n`, so an item's 4 candidates come from one request and
    // are scored by one reward request: 3 requests, 12 texts scored in all.
    let bodies = prm.bodies();
    assert_eq!(bodies.len(), 3);
    let scored: usize = bodies
        .iter()
        .map(|b| b["input"].as_array().map_or(0, |a| a.len()))
        .sum();
    assert_eq!(scored, 12);
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(m["solver"], "best-of-n:4:prm:last:max");
    assert_eq!(m["settings"]["reward_model"], "fake-prm");
    assert_eq!(
        m["backend"]["details"]["reward"]["kind"],
        "reward-vllm-pooling"
    );
    for f in ["manifest.json", "samples.jsonl", "summary.json"] {
        let t = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!t.contains(KEY), "{f} holds the key");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["aggregation"], "reward_last_max");
}
