//! Option-letter log-probabilities after the answer cue; the answer is the single best
//! option, and a tie at the top is no answer ([`anesbench_core::loglik::decide`]).

use anesbench_backend::LoglikRequest;
use anesbench_core::{Item, SampleRecord};

use super::{CallCtx, Solver};
use crate::request::PreparedPrompt;
use crate::score::loglik_answer;

pub struct Loglik;

#[async_trait::async_trait]
impl Solver for Loglik {
    fn label(&self) -> String {
        "loglik".into()
    }
    fn candidates_per_item(&self) -> u32 {
        1
    }
    async fn candidate(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        _sample: u32,
        prompt: &PreparedPrompt,
        rec: &mut SampleRecord,
    ) {
        let req = LoglikRequest {
            prompt: prompt.prompt.clone(),
            candidates: item.letters().iter().map(char::to_string).collect(),
            shared_prefix: prompt.shared_prefix,
        };
        let (res, attempts) = cx.call(|| cx.backend.loglik(&req)).await;
        rec.attempts = attempts;
        match res {
            Ok(resp) if resp.logprobs.len() == item.options.len() => {
                let (answer, rule) = loglik_answer(&resp.logprobs);
                rec.answer = answer;
                rec.rule = rule.into();
                rec.option_logprobs = Some(item.letters().into_iter().zip(resp.logprobs).collect());
                rec.prompt_tokens = resp.prompt_tokens;
                rec.endpoint = resp.endpoint;
            }
            Ok(resp) => {
                rec.error = Some(format!(
                    "backend returned {} log-probabilities for {} options",
                    resp.logprobs.len(),
                    item.options.len()
                ))
            }
            Err(e) => rec.error = Some(e.to_string()),
        }
    }
}
