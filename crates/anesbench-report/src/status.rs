//! Whether a run is whole: samples done against samples selected, and a status word a
//! reader sees wherever the run is named (`complete`, `interrupted`, `errors: 3`,
//! `subset: limit 12`).

use serde::Serialize;

use crate::rundir::RunDir;

/// How much of what it set out to do a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Completion {
    /// Samples that finished without error.
    pub done: usize,
    /// Samples the run selected (selected items x samples per item); for runs whose
    /// manifest does not say, the samples it holds.
    pub expected: usize,
    /// Samples whose last attempt ended in an error.
    pub errors: usize,
    /// Every selected sample done and the runner marked the run finished.
    pub complete: bool,
    /// How the selection differs from the whole dataset (`limit 12`, `shard 2/4`).
    pub subset: Vec<String>,
    /// `complete`, `interrupted`, `errors: N`, `subset: ...`, joined with `; `.
    pub status: String,
}

impl Completion {
    pub fn of(run: &RunDir) -> Completion {
        let info = &run.info;
        let s = &run.summary;
        let errors = s.overall.errors as usize;
        let held = s.samples as usize;
        let done = held.saturating_sub(errors);
        let expected = match info.expected_samples() {
            0 => held,
            n => n,
        };
        let complete = done == expected && info.finished_at.is_some();
        let mut words = Vec::new();
        if errors > 0 {
            words.push(format!("errors: {errors}"));
        }
        if !complete && (done + errors < expected || errors == 0) {
            words.push("interrupted".to_string());
        }
        if info.is_subset() {
            words.push(format!("subset: {}", info.subset.join(", ")));
        }
        if words.is_empty() {
            words.push("complete".into());
        }
        Completion {
            done,
            expected,
            errors,
            complete,
            subset: info.subset.clone(),
            status: words.join("; "),
        }
    }

    /// `12/120`.
    pub fn counts(&self) -> String {
        format!("{}/{}", self.done, self.expected)
    }

    /// Whether the run may be ranked beside full runs: complete and not a subset.
    pub fn rankable(&self) -> bool {
        self.complete && self.subset.is_empty()
    }

    /// Why the run is left out of a ranking, when it is.
    pub fn unranked_reason(&self) -> Option<String> {
        (!self.rankable()).then(|| format!("{} samples, {}", self.counts(), self.status))
    }
}
