//! Free generation, then answer extraction (the response decides; a reply cut at the
//! token limit is read for answer statements only).

use anesbench_backend::{GenParams, GenRequest};
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
            Ok(resp) => {
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
            Err(e) => rec.error = Some(e.to_string()),
        }
    }
}
