//! Solvers: how one item becomes model calls and candidate records. The runner schedules
//! (item, candidate) jobs, retries and records; a solver only says what to ask and how to
//! read the answer. Each strategy is one file here.
//!
//! - [`generate::Generate`]: free generation and answer extraction; one candidate per item
//!   (`greedy` at temperature 0, `sampled` otherwise), or N for self-consistency, whose
//!   per-item majority vote is derived from the records ([`anesbench_core::vote`]).
//! - [`loglik::Loglik`]: option-letter log-probabilities; answer = the single best option
//!   ([`anesbench_core::loglik`]).
//! - [`bon_reward::BonReward`]: best-of-N scored by a reward model (`bon:N:prm|orm`).
//! - [`search::Search`]: step-level beam search and DVTS (`beam:W,B,T`, `dvts:N,M`), one
//!   search per item making all its candidates, its tree in `trees.jsonl`.

pub mod bon_reward;
pub mod generate;
pub mod loglik;
pub mod reward;
pub mod search;
pub mod tree;

use std::sync::Arc;

use anesbench_backend::{Backend, BackendError};
use anesbench_core::{Item, SampleRecord};

use crate::request::PreparedPrompt;
use crate::retry::{with_retries_gated, RetryNotice, RetryPolicy};
use crate::settings::{Mode, Settings};

/// What a solver may use to call the model.
pub struct CallCtx<'a> {
    pub backend: &'a dyn Backend,
    pub retry: &'a RetryPolicy,
    /// Where requests go, for timeout messages.
    pub what: &'a str,
    pub on_retry: &'a (dyn Fn(RetryNotice) + Send + Sync),
    /// The backend's capacity ([`Backend::capacity`]): requests wait here, outside their
    /// timeout, rather than inside the backend.
    pub gate: Option<&'a tokio::sync::Semaphore>,
    /// Where a search leaves its item's tree (a `trees.jsonl` line), written after the
    /// item's records; `None` where nobody collects trees.
    pub tree: Option<&'a TreeSlot>,
}

/// A search's tree of one item, as JSON.
pub type TreeSlot = std::sync::Mutex<Option<serde_json::Value>>;

impl CallCtx<'_> {
    /// One model call with the run's retries, timeout and capacity gate; returns the
    /// outcome and the attempts made.
    pub async fn call<T, F, Fut>(&self, f: F) -> (Result<T, BackendError>, u32)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, BackendError>>,
    {
        with_retries_gated(self.retry, self.what, self.gate, f, |n| (self.on_retry)(n)).await
    }
}

#[async_trait::async_trait]
pub trait Solver: Send + Sync {
    /// What the manifest calls it (`greedy`, `sampled`, `loglik`, `self-consistency:N`).
    fn label(&self) -> String;
    /// Candidate records per item (each is one line of `samples.jsonl`).
    fn candidates_per_item(&self) -> u32;
    /// Produce candidate `sample` of `item`: fill the response, answer, rule, tokens,
    /// attempts and error of `rec` (which arrives with the item's fields set).
    async fn candidate(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        sample: u32,
        prompt: &PreparedPrompt,
        rec: &mut SampleRecord,
    );

    /// One call makes all the item's candidates together (a search): a resume runs an
    /// item again from the start unless every candidate of it is in, and never redoes
    /// one whose candidates all are.
    fn whole_item(&self) -> bool {
        false
    }

    /// Most candidates of one item this solver makes in one call to `backend`
    /// ([`Solver::candidates`]); 1 (the default): the runner schedules each candidate as
    /// its own job.
    fn batch_limit(&self, backend: &dyn Backend) -> u32 {
        let _ = backend;
        1
    }

    /// Produce the candidates `samples` of `item` together (`recs[i]` is sample
    /// `samples[i]`). Each record's `latency_ms` is set here: the wall time of the call
    /// that made it. The default makes them one after another.
    async fn candidates(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        samples: &[u32],
        prompt: &PreparedPrompt,
        recs: &mut [SampleRecord],
    ) {
        for (s, rec) in samples.iter().zip(recs.iter_mut()) {
            let t0 = std::time::Instant::now();
            self.candidate(cx, item, *s, prompt, rec).await;
            rec.latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
        }
    }
}

/// What reward-reading solvers need besides the settings.
#[derive(Clone, Default)]
pub struct SolverDeps {
    /// The reward model (`--reward-endpoint`); searches fall back to the likelihood.
    pub scorer: Option<Arc<dyn anesbench_backend::reward::Scorer>>,
    /// Renders a chat prompt as the embedded model reads it, for continuing answers.
    pub render: Option<reward::Renderer>,
}

/// The solver the settings ask for. A reward strategy without a scorer is refused by
/// [`Settings::validate`]; here it is an error too, not a silent fallback.
pub fn for_settings(s: &Settings, deps: &SolverDeps) -> Result<Arc<dyn Solver>, String> {
    use crate::settings::Strategy;
    Ok(match (s.mode, s.strategy) {
        (Mode::Loglik, _) => Arc::new(loglik::Loglik),
        (Mode::Generate, Strategy::BestOfNReward { .. }) => {
            let scorer = deps.scorer.clone().ok_or_else(|| {
                format!(
                    "strategy `{}` needs a reward model (`--reward-endpoint`)",
                    s.strategy
                )
            })?;
            Arc::new(bon_reward::BonReward::new(s, scorer))
        }
        (Mode::Generate, st) if st.is_search() => {
            let rewards = match &deps.scorer {
                Some(sc) => reward::RewardSource::Model(sc.clone()),
                None => reward::RewardSource::Likelihood,
            };
            Arc::new(search::Search::new(s, rewards, deps.render.clone()))
        }
        (Mode::Generate, _) => Arc::new(generate::Generate::new(s)),
    })
}
