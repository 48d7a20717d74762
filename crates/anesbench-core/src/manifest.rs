//! The part of a run's `manifest.json` that every reader relies on (reports, leaderboard,
//! compare, merge). The runner writes these fields at the top level of the manifest,
//! beside its full resolved settings; readers ignore what they do not know.

use serde::{Deserialize, Serialize};

/// Version of the run-directory layout (`manifest.json`, `samples.jsonl`, `summary.json`).
pub const RUN_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    #[serde(default)]
    pub run_schema: u32,
    /// anesbench version that wrote the run.
    #[serde(default)]
    pub tool_version: String,
    /// Model name as served (or the GGUF file stem for the embedded backend).
    #[serde(default)]
    pub model: String,
    /// Parameter count in billions, from `--param-count` or parsed from the model name.
    #[serde(default)]
    pub param_count_b: Option<f64>,
    /// `generate` or `loglik`.
    #[serde(default)]
    pub mode: String,
    /// Prompt style (`cot`, `direct`, `template:<file>`) and shots, e.g. `cot/0-shot`.
    #[serde(default)]
    pub prompt: String,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub samples_per_item: u32,
    /// `greedy`, `self-consistency`, `best-of-n`, `beam`.
    #[serde(default)]
    pub solver: String,
    /// Benchmark source as given, and its fingerprint.
    #[serde(default)]
    pub dataset_source: String,
    #[serde(default)]
    pub dataset_fingerprint: String,
    /// RFC 3339 times.
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}

impl RunInfo {
    /// Read the header from a `manifest.json` file's text.
    pub fn from_manifest_json(text: &str) -> Result<RunInfo, serde_json::Error> {
        serde_json::from_str(text)
    }
}
