//! The part of a run's `manifest.json` that every reader relies on (reports, leaderboard,
//! compare, merge). The runner writes these fields at the top level of the manifest,
//! beside its full resolved settings; readers ignore what they do not know.

use serde::{Deserialize, Serialize};

use crate::size::SizeSource;

/// Version of the run-directory layout (`manifest.json`, `samples.jsonl`, `summary.json`).
pub const RUN_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    #[serde(default)]
    pub run_schema: u32,
    /// anesbench version that created the run.
    #[serde(default)]
    pub tool_version: String,
    /// Every invocation that wrote to the run (first creation, each resume), oldest first,
    /// as `version` strings, so a run continued by a newer release says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_versions: Vec<String>,
    /// Model name as served (or the GGUF file stem for the embedded backend).
    #[serde(default)]
    pub model: String,
    /// Parameter count in billions, from `--param-count`, the known table, or parsed from
    /// the model name; `param_count_source` says which.
    #[serde(default)]
    pub param_count_b: Option<f64>,
    /// Where `param_count_b` came from; absent in runs written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param_count_source: Option<SizeSource>,
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
    /// What was done per item: `greedy` (one sample at temperature 0), `sampled`
    /// (one sample at temperature > 0 or the server's default), `loglik`,
    /// `self-consistency:N` (N samples, majority vote).
    #[serde(default)]
    pub solver: String,
    /// `--permute` mode (`circular`, `shuffle:K:SEED`); absent for runs asked in the
    /// original option order only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permute: Option<String>,
    /// Candidates the run plans in all, where items differ in their count (circular
    /// runs ask each item once per option); absent = items x `samples_per_item`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_samples: Option<usize>,
    /// Benchmark source as given, and its fingerprint.
    #[serde(default)]
    pub dataset_source: String,
    #[serde(default)]
    pub dataset_fingerprint: String,
    /// Items selected by the filters, limit and shard (before samples per item).
    #[serde(default)]
    pub selected_items: usize,
    /// How the selection differs from the whole dataset (`limit 12`, `shard 2/4`,
    /// `level system1`, `lang en`); empty = every item of the dataset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subset: Vec<String>,
    /// RFC 3339 times. `finished_at` is set only when every selected sample finished
    /// without error.
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}

impl RunInfo {
    /// The size as recorded, with its source (`manifest` for runs that predate sources).
    pub fn recorded_size(&self) -> Option<(f64, SizeSource)> {
        self.param_count_b
            .map(|b| (b, self.param_count_source.unwrap_or(SizeSource::Manifest)))
    }

    /// Samples the run set out to produce: selected items x samples per item.
    pub fn expected_samples(&self) -> usize {
        if let Some(n) = self.planned_samples {
            return n;
        }
        self.selected_items * self.samples_per_item.max(1) as usize
    }

    /// The per-item candidate count a summary may require before it decides an item;
    /// `None` for permuted runs, whose items differ in their count.
    pub fn summary_per_item(&self) -> Option<u32> {
        if self.permute.is_some() {
            None
        } else {
            Some(self.samples_per_item.max(1))
        }
    }

    /// True when the run covers part of its dataset on purpose (limit, shard, filters).
    pub fn is_subset(&self) -> bool {
        !self.subset.is_empty()
    }

    /// Read the header from a `manifest.json` file's text.
    pub fn from_manifest_json(text: &str) -> Result<RunInfo, serde_json::Error> {
        serde_json::from_str(text)
    }
}
