//! [`HttpScorer`]: a reward model over HTTP, on the OpenAI client's transport.

use async_trait::async_trait;

use super::wire;
use super::{RewardApi, RewardFormat, ScoreBatch, ScoreInput, Scored, Scorer};
use crate::openai::{OpenAiBackend, OpenAiConfig};
use crate::types::{BackendError, BackendInfo};
use crate::Backend;
use anesbench_core::record::sha256_hex;

pub struct HttpScorer {
    client: OpenAiBackend,
    api: RewardApi,
    format: RewardFormat,
}

impl HttpScorer {
    /// `cfg` names the reward server (endpoints, model, API key, timeouts); its `style`
    /// is unused. Per-step scores need `/pooling` with the `qwen-prm` format.
    pub fn new(
        cfg: OpenAiConfig,
        api: RewardApi,
        format: RewardFormat,
    ) -> Result<HttpScorer, BackendError> {
        if api == RewardApi::VllmPooling && format != RewardFormat::QwenPrm {
            return Err(BackendError::Other(
                "`--reward-api vllm-pooling` reads one score per step separator: use `--reward-format qwen-prm`".into(),
            ));
        }
        Ok(HttpScorer {
            client: OpenAiBackend::new(cfg)?,
            api,
            format,
        })
    }

    /// The client, for its readiness check and model discovery.
    pub fn client(&self) -> &OpenAiBackend {
        &self.client
    }

    async fn one_request(
        &self,
        query: Option<&str>,
        texts: &[String],
        steps: &[usize],
    ) -> Result<wire::Parsed, BackendError> {
        let model = self.client.model().ok_or_else(|| {
            BackendError::Other("no reward model name: pass --reward-model".into())
        })?;
        let body = wire::body(self.api, model, query, texts);
        let api = self.api;
        let (parsed, _endpoint) = self
            .client
            .post_json(api.path(), &body, |b| wire::parse(api, b, steps))
            .await?;
        Ok(parsed)
    }
}

#[async_trait]
impl Scorer for HttpScorer {
    async fn score(&self, inputs: &[ScoreInput]) -> Result<ScoreBatch, BackendError> {
        let mut batch = ScoreBatch::default();
        if inputs.is_empty() {
            return Ok(batch);
        }
        let steps: Vec<usize> = inputs.iter().map(|i| i.steps.len().max(1)).collect();
        let mut rewards: Vec<Vec<f64>> = Vec::with_capacity(inputs.len());
        let mut hashes = Vec::with_capacity(inputs.len());
        if self.api == RewardApi::VllmScore {
            // One request per question (`text_1`); a search scores one item at a time, so
            // this is one request in practice.
            let mut i = 0;
            while i < inputs.len() {
                let q = self.format.query(&inputs[i]);
                let mut j = i;
                while j < inputs.len() && self.format.query(&inputs[j]) == q {
                    j += 1;
                }
                let answers: Vec<String> = inputs[i..j]
                    .iter()
                    .map(|x| self.format.answer(&x.steps))
                    .collect();
                for a in &answers {
                    hashes.push(sha256_hex(format!("{q}\0{a}").as_bytes()));
                }
                let p = self.one_request(Some(&q), &answers, &steps[i..j]).await?;
                batch.requests += 1;
                batch.input_tokens += p.input_tokens;
                rewards.extend(p.rewards);
                i = j;
            }
        } else {
            let texts: Vec<String> = inputs.iter().map(|x| self.format.render(x)).collect();
            hashes.extend(texts.iter().map(|t| sha256_hex(t.as_bytes())));
            let p = self.one_request(None, &texts, &steps).await?;
            batch.requests += 1;
            batch.input_tokens += p.input_tokens;
            rewards = p.rewards;
        }
        let per_step = self.per_step();
        batch.scores = rewards
            .into_iter()
            .zip(hashes)
            .map(|(r, input_hash)| Scored {
                reward: r.last().copied().unwrap_or(f64::NAN),
                step_rewards: per_step.then_some(r),
                input_hash,
            })
            .collect();
        Ok(batch)
    }

    fn per_step(&self) -> bool {
        self.api == RewardApi::VllmPooling
    }

    fn describe(&self) -> BackendInfo {
        let mut info = self.client.describe();
        info.kind = format!("reward-{}", self.api.name());
        info.details
            .insert("reward_format".into(), self.format.name().into());
        info
    }
}
