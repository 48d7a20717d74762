//! Best-of-N with a reward model (`bon:N:prm`, `bon:N:orm`): N samples as for
//! self-consistency, each scored by the reward model (per blank-line step for a PRM, as
//! a whole for an ORM); the decision is derived from the stored scores
//! ([`anesbench_core::vote::by_reward`]), so `rescore` recomputes every aggregation.

use std::sync::Arc;
use std::time::Instant;

use anesbench_backend::reward::Scorer;
use anesbench_backend::Backend;
use anesbench_core::record::Compute;
use anesbench_core::vote::StepAgg;
use anesbench_core::{Item, SampleRecord};

use super::generate::Generate;
use super::reward::{input, score, split_steps};
use super::{CallCtx, Solver};
use crate::request::PreparedPrompt;
use crate::settings::Settings;

pub struct BonReward {
    gen: Generate,
    label: String,
    scorer: Arc<dyn Scorer>,
    agg: StepAgg,
}

impl BonReward {
    pub fn new(s: &Settings, scorer: Arc<dyn Scorer>) -> BonReward {
        let agg = match s.strategy.aggregation() {
            anesbench_core::vote::Aggregation::Reward(a, _) => a,
            _ => StepAgg::Last,
        };
        BonReward {
            gen: Generate::new(s),
            label: s.solver_label(),
            scorer,
            agg,
        }
    }

    /// Score the records that have a response, in one call; the call's cost goes on the
    /// first of them.
    async fn score_all(
        &self,
        cx: &CallCtx<'_>,
        prompt: &PreparedPrompt,
        recs: &mut [SampleRecord],
    ) {
        let idx: Vec<usize> = (0..recs.len())
            .filter(|&i| recs[i].error.is_none())
            .collect();
        let inputs: Vec<_> = idx
            .iter()
            .map(|&i| {
                let text = recs[i].response.as_deref().unwrap_or("");
                input(&prompt.prompt, split_steps(text))
            })
            .collect();
        for (k, rec) in recs.iter_mut().enumerate() {
            let first_of_call = rec.batch.is_none() || k == 0;
            rec.compute = Some(Compute {
                generated_tokens: u64::from(rec.completion_tokens.unwrap_or(0)),
                requests: u64::from(first_of_call),
                wall_ms: rec.latency_ms / f64::from(rec.batch.unwrap_or(1)),
                ..Compute::default()
            });
        }
        if inputs.is_empty() {
            return;
        }
        let t0 = Instant::now();
        let (res, _attempts) = score(cx, self.scorer.as_ref(), &inputs).await;
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        match res {
            Ok(batch) if batch.scores.len() == idx.len() => {
                for (j, (&i, sc)) in idx.iter().zip(batch.scores).enumerate() {
                    let rec = &mut recs[i];
                    rec.reward = Some(match &sc.step_rewards {
                        Some(st) => self.agg.apply(st).unwrap_or(f64::NAN),
                        None => sc.reward,
                    });
                    rec.step_rewards = sc.step_rewards;
                    rec.reward_input_hash = Some(sc.input_hash);
                    if j == 0 {
                        if let Some(c) = rec.compute.as_mut() {
                            c.reward_calls = batch.requests;
                            c.reward_input_tokens = batch.input_tokens;
                            c.wall_ms += ms;
                        }
                    }
                }
            }
            Ok(batch) => {
                let msg = format!(
                    "reward model returned {} scores for {} candidates",
                    batch.scores.len(),
                    idx.len()
                );
                for &i in &idx {
                    recs[i].error = Some(msg.clone());
                }
            }
            Err(e) => {
                for &i in &idx {
                    recs[i].error = Some(format!("reward model: {e}"));
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Solver for BonReward {
    fn label(&self) -> String {
        self.label.clone()
    }
    fn candidates_per_item(&self) -> u32 {
        self.gen.candidates_per_item()
    }
    async fn candidate(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        sample: u32,
        prompt: &PreparedPrompt,
        rec: &mut SampleRecord,
    ) {
        let t0 = Instant::now();
        self.gen.candidate(cx, item, sample, prompt, rec).await;
        rec.latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
        self.score_all(cx, prompt, std::slice::from_mut(rec)).await;
    }
    fn batch_limit(&self, backend: &dyn Backend) -> u32 {
        self.gen.batch_limit(backend)
    }
    async fn candidates(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        samples: &[u32],
        prompt: &PreparedPrompt,
        recs: &mut [SampleRecord],
    ) {
        self.gen.candidates(cx, item, samples, prompt, recs).await;
        self.score_all(cx, prompt, recs).await;
    }
}
