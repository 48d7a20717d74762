//! What the reward-reading solvers share: where rewards come from, and how a prompt and
//! an answer become a [`ScoreInput`].

use std::sync::Arc;

use anesbench_backend::reward::{ScoreBatch, ScoreInput, Scorer};
use anesbench_backend::{BackendError, Prompt};

use super::CallCtx;
use crate::retry::with_retries_gated;

/// Where a solver's rewards come from.
#[derive(Clone)]
pub enum RewardSource {
    /// A reward model over HTTP.
    Model(Arc<dyn Scorer>),
    /// The policy's own likelihood: a step's reward is `exp(mean token log-probability)`
    /// of the step (the per-token geometric-mean probability, in (0, 1]), so `last`,
    /// `min`, `prod` and `mean` all read as they do for a PRM. No calls.
    Likelihood,
}

/// Renders a chat prompt into the text the model reads, with the reply opened (the
/// embedded model's own chat template), so a search can continue a partial answer as
/// plain text.
pub type Renderer = Arc<dyn Fn(&Prompt) -> Result<String, BackendError> + Send + Sync>;

/// The system text and the question of a prompt, for the reward model.
pub fn question_of(prompt: &Prompt) -> (Option<String>, String) {
    match prompt {
        Prompt::Text(t) => (None, t.clone()),
        Prompt::Chat(msgs) => {
            let system: Vec<&str> = msgs
                .iter()
                .filter(|m| m.role == "system")
                .map(|m| m.content.as_str())
                .collect();
            let rest: Vec<&str> = msgs
                .iter()
                .filter(|m| m.role != "system")
                .map(|m| m.content.as_str())
                .collect();
            (
                (!system.is_empty()).then(|| system.join("\n\n")),
                rest.join("\n\n"),
            )
        }
    }
}

/// A free-form answer's steps: its blank-line separated paragraphs (at least one).
pub fn split_steps(text: &str) -> Vec<String> {
    let steps: Vec<String> = text
        .split("\n\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if steps.is_empty() {
        vec![String::new()]
    } else {
        steps
    }
}

pub fn input(prompt: &Prompt, steps: Vec<String>) -> ScoreInput {
    let (system, question) = question_of(prompt);
    ScoreInput {
        system,
        question,
        steps,
    }
}

/// One scoring call with the run's retries and timeout (outside the policy's gate).
pub async fn score(
    cx: &CallCtx<'_>,
    scorer: &dyn Scorer,
    inputs: &[ScoreInput],
) -> (Result<ScoreBatch, BackendError>, u32) {
    with_retries_gated(
        cx.retry,
        "reward model",
        None,
        || scorer.score(inputs),
        |n| (cx.on_retry)(n),
    )
    .await
}
