//! Reward models behind one trait, beside [`crate::Backend`]: a [`Scorer`] rates
//! candidate answers, step by step (a process reward model, PRM) or as a whole (an
//! outcome reward model, ORM).
//!
//! Clients ([`HttpScorer`], one per [`RewardApi`]) speak:
//! - vLLM `POST /pooling` with `"task": "token_classify"` (PRMs such as
//!   Qwen2.5-Math-PRM): one `[p_neg, p_pos]` pair per step separator; step reward = `p_pos`;
//! - vLLM `POST /classify` (`probs`; reward = the probability of the last class, or the
//!   only one);
//! - vLLM `POST /score` (`text_1` = the question, `text_2` = the answers; reward = `score`);
//! - SGLang `POST /classify` (`{"model", "text": [...]}`; reward = `embedding[0]`).
//!
//! The text a model reads is rendered here ([`RewardFormat`]) and hashed, so each record
//! says exactly what was scored. Transport, endpoint pool, timeouts and secret masking
//! are the OpenAI client's ([`crate::openai::OpenAiBackend::post_json`]); retries are
//! the caller's, as for generation.

mod http;
mod wire;

pub use http::HttpScorer;

use async_trait::async_trait;

use crate::types::{BackendError, BackendInfo};

/// Step separator of Qwen2.5-Math-PRM's format.
pub const QWEN_STEP_TOKEN: &str = "<extra_0>";

/// One candidate to score: the question it answers and its steps.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreInput {
    pub system: Option<String>,
    pub question: String,
    pub steps: Vec<String>,
}

/// The score of one candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// One reward per step (PRMs); `None` for an outcome model.
    pub step_rewards: Option<Vec<f64>>,
    /// The outcome reward (an ORM's score, or a PRM's last step).
    pub reward: f64,
    /// Hex SHA-256 of the exact text scored.
    pub input_hash: String,
}

/// What one [`Scorer::score`] call returned and cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScoreBatch {
    /// Same order as the inputs.
    pub scores: Vec<Scored>,
    /// HTTP requests made.
    pub requests: u64,
    /// Tokens the reward model read, as it reported them (0 when it does not).
    pub input_tokens: u64,
}

#[async_trait]
pub trait Scorer: Send + Sync {
    /// Score candidates together (one request where the API allows a list). One attempt;
    /// the caller retries on [`BackendError::retryable`].
    async fn score(&self, inputs: &[ScoreInput]) -> Result<ScoreBatch, BackendError>;
    /// Whether scores come per step (a PRM) rather than per answer.
    fn per_step(&self) -> bool;
    /// For the manifest (no secrets).
    fn describe(&self) -> BackendInfo;
}

/// Which reward API a server speaks (`--reward-api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewardApi {
    VllmPooling,
    VllmClassify,
    VllmScore,
    SglangClassify,
}

impl RewardApi {
    pub fn name(self) -> &'static str {
        match self {
            RewardApi::VllmPooling => "vllm-pooling",
            RewardApi::VllmClassify => "vllm-classify",
            RewardApi::VllmScore => "vllm-score",
            RewardApi::SglangClassify => "sglang-classify",
        }
    }
    pub fn path(self) -> &'static str {
        match self {
            RewardApi::VllmPooling => "/pooling",
            RewardApi::VllmClassify | RewardApi::SglangClassify => "/classify",
            RewardApi::VllmScore => "/score",
        }
    }
}

impl std::str::FromStr for RewardApi {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vllm-pooling" => Ok(RewardApi::VllmPooling),
            "vllm-classify" => Ok(RewardApi::VllmClassify),
            "vllm-score" => Ok(RewardApi::VllmScore),
            "sglang-classify" => Ok(RewardApi::SglangClassify),
            o => Err(format!(
                "unknown reward API `{o}` (expected vllm-pooling, vllm-classify, vllm-score or sglang-classify)"
            )),
        }
    }
}

/// How a candidate becomes the text a reward model reads (`--reward-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewardFormat {
    /// Qwen2.5-Math-PRM's: the ChatML chat template (system, user = the question,
    /// assistant = the steps), no generation prompt, each step followed by `<extra_0>`.
    #[default]
    QwenPrm,
    /// The system text, the question and the steps, separated by blank lines.
    Plain,
}

impl RewardFormat {
    pub fn name(self) -> &'static str {
        match self {
            RewardFormat::QwenPrm => "qwen-prm",
            RewardFormat::Plain => "plain",
        }
    }

    /// The answer part: steps with their separators.
    pub fn answer(self, steps: &[String]) -> String {
        match self {
            RewardFormat::QwenPrm => {
                let mut s = String::new();
                for st in steps {
                    s.push_str(st);
                    s.push_str(QWEN_STEP_TOKEN);
                }
                s
            }
            RewardFormat::Plain => steps.join("\n\n"),
        }
    }

    /// The question part (what `/score` takes as `text_1`).
    pub fn query(self, input: &ScoreInput) -> String {
        match (self, &input.system) {
            (RewardFormat::QwenPrm, Some(sys)) => format!(
                "<|im_start|>system\n{sys}<|im_end|>\n<|im_start|>user\n{}<|im_end|>\n",
                input.question
            ),
            (RewardFormat::QwenPrm, None) => {
                format!("<|im_start|>user\n{}<|im_end|>\n", input.question)
            }
            (RewardFormat::Plain, Some(sys)) => format!("{sys}\n\n{}", input.question),
            (RewardFormat::Plain, None) => input.question.clone(),
        }
    }

    /// The whole text scored.
    pub fn render(self, input: &ScoreInput) -> String {
        let q = self.query(input);
        let a = self.answer(&input.steps);
        match self {
            RewardFormat::QwenPrm => format!("{q}<|im_start|>assistant\n{a}<|im_end|>\n"),
            RewardFormat::Plain => format!("{q}\n\n{a}"),
        }
    }
}

impl std::str::FromStr for RewardFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "qwen-prm" => Ok(RewardFormat::QwenPrm),
            "plain" => Ok(RewardFormat::Plain),
            o => Err(format!(
                "unknown reward format `{o}` (expected qwen-prm or plain)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qwen_prm_text_has_one_separator_per_step_and_no_generation_prompt() {
        let input = ScoreInput {
            system: Some("Reason step by step.".into()),
            question: "Q?".into(),
            steps: vec!["a".into(), "b".into()],
        };
        let t = RewardFormat::QwenPrm.render(&input);
        assert_eq!(
            t,
            "<|im_start|>system\nReason step by step.<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\na<extra_0>b<extra_0><|im_end|>\n"
        );
        assert_eq!(t.matches(QWEN_STEP_TOKEN).count(), 2);
        assert_eq!(
            RewardFormat::Plain.render(&input),
            "Reason step by step.\n\nQ?\n\na\n\nb"
        );
    }
}
