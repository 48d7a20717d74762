//! The search tree of one item, as one line of `trees.jsonl` (docs/RECORDS.md).

use serde::Serialize;

/// What became of a step.
pub const KEPT: &str = "kept";
pub const PRUNED: &str = "pruned";
pub const CUT: &str = "cut";
pub const FINAL: &str = "final";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Node {
    /// Index in `nodes`.
    pub n: usize,
    /// The step this one continues; `None` for a first step.
    pub parent: Option<usize>,
    pub text: String,
    pub tokens: u32,
    /// The step's reward (`null` for an empty closing step, which is not scored).
    pub reward: Option<f64>,
    /// `kept`, `pruned`, `cut` (kept, and ended at the step-token limit) or `final`.
    pub status: &'static str,
    /// Ended at the step-token limit (whatever its status).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TreeLine {
    pub id: String,
    pub lang: anesbench_core::Lang,
    pub strategy: String,
    pub nodes: Vec<Node>,
}
