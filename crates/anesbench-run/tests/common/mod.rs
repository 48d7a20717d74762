//! Shared helpers for the runner's end-to-end tests: a synthetic benchmark written to
//! disk, the fake server with an answer key, settings and record readers.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anesbench_backend::fake::{FakeConfig, FakeServer, FaultRule};
use anesbench_backend::openai::{OpenAiBackend, OpenAiConfig};
use anesbench_backend::synth::{AnswerKey, Answerer};
use anesbench_core::load::{load, Dataset};
use anesbench_core::SampleRecord;
use anesbench_run::rundir::read_samples;
use anesbench_run::{ProgressMode, RetryPolicy, RunRequest, Settings};

/// Write `n` English and `n` Chinese items in the Hugging Face release schema.
pub fn write_synthetic(dir: &Path, n: usize) -> PathBuf {
    let root = dir.join("synthetic");
    std::fs::create_dir_all(&root).unwrap();
    for lang in ["en", "zh"] {
        let items: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let target = ["A", "B", "C", "D"][i % 4];
                serde_json::json!({
                    "id": format!("s{i}"),
                    "question": format!("Synthetic {lang} question number {i}: which drug is meant?"),
                    "A": format!("drug alpha {i}"),
                    "B": format!("drug beta {i}"),
                    "C": format!("drug gamma {i}"),
                    "D": format!("drug delta {i}"),
                    "choice_num": 4,
                    "target": target,
                    "category": 1 + i % 3,
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

pub fn load_ds(source: &str) -> Dataset {
    load(source, &Default::default()).unwrap()
}

/// The fake answers every question correctly, so a test can tell a right extraction.
pub fn answer_key(ds: &Dataset) -> Answerer {
    Answerer {
        seed: 0,
        accuracy: 1.0,
        key: Some(AnswerKey::new(
            ds.items.iter().map(|i| (i.question.clone(), i.answer)),
        )),
    }
}

pub async fn fake(ds: &Dataset, faults: Vec<FaultRule>) -> FakeServer {
    FakeServer::start(FakeConfig {
        answerer: answer_key(ds),
        faults,
        ..FakeConfig::default()
    })
    .await
    .unwrap()
}

pub fn settings(server: &FakeServer, dataset: &str) -> Settings {
    Settings {
        dataset: dataset.into(),
        endpoints: vec![server.url()],
        model: Some("fake-model".into()),
        timeout_secs: 1.0,
        max_retries: 8,
        concurrency: 32,
        ..Settings::default()
    }
}

pub fn backend(s: &Settings) -> Arc<OpenAiBackend> {
    Arc::new(
        OpenAiBackend::new(OpenAiConfig {
            endpoints: s.endpoints.clone(),
            model: s.model.clone(),
            request_timeout: Duration::from_secs_f64(s.timeout_secs),
            ..OpenAiConfig::default()
        })
        .unwrap(),
    )
}

pub fn request(s: &Settings, ds: &Dataset, out: &Path) -> RunRequest {
    let mut r = RunRequest::new(s.clone(), ds.clone(), backend(s), out.to_path_buf());
    r.retry = RetryPolicy {
        base: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        ..r.retry
    };
    r.progress = ProgressMode::Quiet;
    r
}

/// Every line of samples.jsonl, without dedupe.
pub fn raw_lines(dir: &Path) -> Vec<SampleRecord> {
    std::fs::read_to_string(dir.join("samples.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Asserts each selected item appears exactly once; returns the records by key.
pub fn exactly_once(dir: &Path, ds: &Dataset) -> HashMap<String, SampleRecord> {
    let lines = raw_lines(dir);
    let mut by_key = HashMap::new();
    for r in lines {
        let k = format!("{}:{}", r.lang, r.id);
        assert!(by_key.insert(k.clone(), r).is_none(), "{k} appears twice");
    }
    assert_eq!(by_key.len(), ds.items.len());
    for it in &ds.items {
        assert!(by_key.contains_key(&it.key()), "{} missing", it.key());
    }
    assert_eq!(
        read_samples(&dir.join("samples.jsonl")).unwrap().superseded,
        0
    );
    by_key
}
