//! A deterministic backend for CLI tests and demos without a network: the answer is a
//! hash of the prompt (see [`crate::synth`]), optionally right with a set probability
//! when given the answer key. No randomness from the clock or the OS.

use std::time::Duration;

use async_trait::async_trait;

use crate::synth::{prompt_text, AnswerKey, Answerer};
use crate::types::{
    BackendError, BackendInfo, GenRequest, GenResponse, LoglikRequest, LoglikResponse,
};
use crate::Backend;

#[derive(Debug, Clone)]
pub struct MockConfig {
    pub seed: u64,
    /// Probability of the gold letter for prompts whose question is in the answer key.
    pub accuracy: f64,
    /// Sleep before each reply (simulates a server).
    pub latency: Duration,
    /// Put the reasoning in `reasoning` (as reasoning servers do) instead of `content`.
    pub separate_reasoning: bool,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            seed: 0,
            accuracy: 1.0,
            latency: Duration::ZERO,
            separate_reasoning: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MockBackend {
    cfg: MockConfig,
    answerer: Answerer,
}

impl MockBackend {
    pub fn new(cfg: MockConfig) -> Self {
        let answerer = Answerer {
            seed: cfg.seed,
            accuracy: cfg.accuracy,
            key: None,
        };
        MockBackend { cfg, answerer }
    }

    /// Question text -> gold letter, so `accuracy` means something; e.g.
    /// `items.iter().map(|it| (it.question.clone(), it.answer))`.
    pub fn with_answer_key(mut self, pairs: impl IntoIterator<Item = (String, char)>) -> Self {
        self.answerer.key = Some(AnswerKey::new(pairs));
        self
    }

    /// The letter this mock answers for a prompt text (chat contents joined by blank lines).
    pub fn answer_for(&self, text: &str) -> char {
        self.answerer.answer(text)
    }
}

fn words(s: &str) -> u32 {
    s.split_whitespace().count() as u32
}

#[async_trait]
impl Backend for MockBackend {
    async fn generate(&self, req: &GenRequest) -> Result<GenResponse, BackendError> {
        if !self.cfg.latency.is_zero() {
            tokio::time::sleep(self.cfg.latency).await;
        }
        let text = prompt_text(&req.prompt);
        let letter = self.answerer.answer(&text);
        let reasoning = format!(
            "Considering each option in turn, option {letter} fits the clinical picture best."
        );
        let answer = format!("Answer: {letter}");
        let (content, reasoning) = if self.cfg.separate_reasoning {
            (answer, Some(reasoning))
        } else {
            (format!("{reasoning}\n\n{answer}"), None)
        };
        let reasoning_tokens = reasoning.as_deref().map(words);
        Ok(GenResponse {
            completion_tokens: Some(words(&content) + reasoning_tokens.unwrap_or(0)),
            content: Some(content),
            reasoning,
            finish_reason: Some("stop".into()),
            prompt_tokens: Some(words(&text)),
            reasoning_tokens,
            endpoint: Some("mock".into()),
            mean_logprob: None,
            model_ended: Some(true),
        })
    }

    async fn loglik(&self, req: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        if !self.cfg.latency.is_zero() {
            tokio::time::sleep(self.cfg.latency).await;
        }
        let text = prompt_text(&req.prompt);
        let letter = self.answerer.answer(&text).to_string();
        let n = req.candidates.len().max(1) as f64;
        // The chosen letter gets 0.7 of the mass and the rest share 0.3, so the
        // distribution sums to one whatever the option count.
        let (p_top, p_rest): (f64, f64) = if n > 1.0 {
            (0.7, 0.3 / (n - 1.0))
        } else {
            (1.0, 0.0)
        };
        let logprobs = req
            .candidates
            .iter()
            .map(|c| {
                if c.trim() == letter {
                    p_top.ln()
                } else {
                    f64::ln(p_rest)
                }
            })
            .collect();
        Ok(LoglikResponse {
            logprobs,
            prompt_tokens: Some(words(&text)),
            endpoint: Some("mock".into()),
        })
    }

    fn describe(&self) -> BackendInfo {
        let mut details = serde_json::Map::new();
        details.insert("seed".into(), self.cfg.seed.into());
        details.insert("accuracy".into(), self.cfg.accuracy.into());
        BackendInfo {
            kind: "mock".into(),
            model: "mock".into(),
            endpoints: Vec::new(),
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{GenParams, Prompt};

    #[tokio::test]
    async fn answers_follow_the_key_and_loglik_agrees() {
        let q = "Which agent is an NMDA antagonist?";
        let prompt = format!("{q}\nA. propofol\nB. ketamine\nC. etomidate\nD. midazolam");
        let m = MockBackend::new(MockConfig::default()).with_answer_key([(q.to_string(), 'B')]);
        let r = m
            .generate(&GenRequest {
                prompt: Prompt::Text(prompt.clone()),
                params: GenParams::default(),
            })
            .await
            .unwrap();
        assert!(r.content.unwrap().ends_with("Answer: B"));
        let cands: Vec<String> = ["A", "B", "C", "D"].iter().map(|s| s.to_string()).collect();
        let l = m
            .loglik(&LoglikRequest {
                prompt: Prompt::Text(prompt),
                candidates: cands,
                shared_prefix: None,
            })
            .await
            .unwrap();
        let best = l
            .logprobs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(best, 1);
        let total: f64 = l.logprobs.iter().map(|x| x.exp()).sum();
        assert!((total - 1.0).abs() < 1e-9);
    }
}
