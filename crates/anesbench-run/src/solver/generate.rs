//! Free generation, then answer extraction (the response decides; a reply cut at the
//! token limit is read for answer statements only).

use std::time::Instant;

use anesbench_backend::{Backend, GenParams, GenRequest, GenResponse};
use anesbench_core::{Item, SampleRecord};

use super::{CallCtx, Solver};
use crate::request::{gen_params, PreparedPrompt};
use crate::score::{join_reasoning, score_text};
use crate::settings::Settings;

pub struct Generate {
    label: String,
    samples: u32,
    /// Parameters of sample 0; each sample's seed is derived from it.
    base: Settings,
}

impl Generate {
    pub fn new(s: &Settings) -> Generate {
        Generate {
            label: s.solver_label(),
            samples: s.samples.max(1),
            base: s.clone(),
        }
    }

    fn params(&self, sample: u32) -> GenParams {
        gen_params(&self.base, sample)
    }
}

#[async_trait::async_trait]
impl Solver for Generate {
    fn label(&self) -> String {
        self.label.clone()
    }
    fn candidates_per_item(&self) -> u32 {
        self.samples
    }
    async fn candidate(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        sample: u32,
        prompt: &PreparedPrompt,
        rec: &mut SampleRecord,
    ) {
        let req = GenRequest {
            prompt: prompt.prompt.clone(),
            params: self.params(sample),
        };
        let (res, attempts) = cx.call(|| cx.backend.generate(&req)).await;
        rec.attempts = attempts;
        match res {
            Ok(resp) => fill(rec, item, resp),
            Err(e) => rec.error = Some(e.to_string()),
        }
    }

    fn batch_limit(&self, backend: &dyn Backend) -> u32 {
        // Only samples that differ by seed share a prompt; greedy asks once.
        if self.samples > 1 {
            backend.max_choices().clamp(1, self.samples)
        } else {
            1
        }
    }

    async fn candidates(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        samples: &[u32],
        prompt: &PreparedPrompt,
        recs: &mut [SampleRecord],
    ) {
        // Samples of one job are consecutive (the runner chunks them so), so choice `i`
        // of the call is sample `samples[0] + i` with seed `seed + samples[0] + i`.
        let consecutive = samples.windows(2).all(|w| w[1] == w[0] + 1);
        if samples.len() < 2 || !consecutive {
            for (s, rec) in samples.iter().zip(recs.iter_mut()) {
                let t0 = Instant::now();
                self.candidate(cx, item, *s, prompt, rec).await;
                rec.latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
            }
            return;
        }
        let req = GenRequest {
            prompt: prompt.prompt.clone(),
            params: self.params(samples[0]),
        };
        let n = samples.len() as u32;
        let t0 = Instant::now();
        let (res, attempts) = cx.call(|| cx.backend.generate_n(&req, n)).await;
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        match res {
            Ok(mut choices) => {
                choices.truncate(samples.len());
                let got = choices.len();
                for (rec, resp) in recs.iter_mut().zip(choices) {
                    rec.attempts = attempts;
                    rec.latency_ms = ms;
                    if got > 1 {
                        rec.batch = Some(got as u32);
                    }
                    fill(rec, item, resp);
                }
                // The backend gave fewer than asked (a server that ignores `n`): the rest
                // one at a time, each with its own seed.
                for (s, rec) in samples.iter().zip(recs.iter_mut()).skip(got) {
                    let t0 = Instant::now();
                    self.candidate(cx, item, *s, prompt, rec).await;
                    rec.latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
                }
            }
            Err(e) => {
                for rec in recs.iter_mut() {
                    rec.attempts = attempts;
                    rec.latency_ms = ms;
                    rec.error = Some(e.to_string());
                }
            }
        }
    }
}

/// A reply into its record: the extracted answer and what the backend reported.
fn fill(rec: &mut SampleRecord, item: &Item, resp: GenResponse) {
    let (think, ex) = score_text(
        resp.content.as_deref(),
        resp.reasoning.as_deref(),
        &item.options,
        resp.finish_reason.as_deref(),
    );
    rec.reasoning = join_reasoning(resp.reasoning, think);
    rec.response = resp.content;
    rec.answer = ex.answer;
    rec.rule = ex.rule;
    rec.finish_reason = resp.finish_reason;
    rec.prompt_tokens = resp.prompt_tokens;
    rec.completion_tokens = resp.completion_tokens;
    rec.reasoning_tokens = resp.reasoning_tokens;
    rec.endpoint = resp.endpoint;
    rec.mean_logprob = resp.mean_logprob;
}
