//! The per-sample record: one JSON line of `samples.jsonl` per item x sample.
//!
//! This is a file-format contract. Bump [`RECORD_SCHEMA`] when a field changes meaning;
//! adding an optional field does not need a bump.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::item::{Lang, Level};

/// Version of the `samples.jsonl` record layout.
pub const RECORD_SCHEMA: u32 = 1;

/// Outcome of one model call for one item, as stored in `samples.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// Item id as in the source (unique within a language).
    pub id: String,
    pub lang: Lang,
    pub level: Level,
    /// Sample index, 0-based (several when self-consistency / best-of-N draws more than one).
    pub sample: u32,
    /// Hex SHA-256 of the rendered prompt (messages or text), so a changed prompt is visible.
    pub prompt_hash: String,
    /// Gold answer letter.
    pub gold: char,
    /// Letters the item offered (`"ABCD"`), so rescoring needs no dataset.
    pub letters: String,
    /// Final response text (`content`), `<think>` blocks included as the model gave them.
    #[serde(default)]
    pub response: Option<String>,
    /// Reasoning text kept apart: `reasoning_content` from the server, or a removed
    /// `<think>...</think>` block.
    #[serde(default)]
    pub reasoning: Option<String>,
    /// Extracted answer letter; `None` is "no answer" (counted wrong, reported apart).
    #[serde(default)]
    pub answer: Option<char>,
    /// Name of the extraction rule that fired (or why none did: `no_answer`, `ambiguous`,
    /// `error`, `loglik_argmax`).
    pub rule: String,
    pub correct: bool,
    /// `stop`, `length`, ... as the backend reported it.
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    #[serde(default)]
    pub completion_tokens: Option<u32>,
    #[serde(default)]
    pub reasoning_tokens: Option<u32>,
    /// Wall time of the request(s) for this sample, milliseconds.
    #[serde(default)]
    pub latency_ms: f64,
    /// Base URL (or `embedded:<file>`) that served the sample.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Attempts made (1 = no retry).
    #[serde(default = "one")]
    pub attempts: u32,
    /// Error message when the sample failed after its retries; such a sample is retried
    /// on resume.
    #[serde(default)]
    pub error: Option<String>,
    /// `loglik` mode: log-probability of each option letter (see
    /// [`crate::loglik`] for how spellings combine). A value that is not finite is
    /// written as `null` and read back as NaN, which takes no part in the decision.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "finite_or_null"
    )]
    pub option_logprobs: Option<BTreeMap<char, f64>>,
    /// Mean token log-probability of the response under the policy (best-of-N by
    /// likelihood, vote tie-breaks), when the backend reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_logprob: Option<f64>,
    /// Score from a reward model, where a solver used one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward: Option<f64>,
    /// How many candidates came back from the same model call as this one (`n` in one
    /// request, or one decoded prompt forked into sequences); absent = 1. The call's
    /// latency is on each of them, so per item: requests = sum of 1/batch, wall time =
    /// sum of latency/batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u32>,
    /// `--permute` runs: the option order this candidate was asked in, as the original
    /// letters in displayed order (`"CABD"`: original C was shown as `A`). `answer`,
    /// `gold`, `correct` and `option_logprobs` stay in original letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perm: Option<String>,
    /// `--permute` runs: the displayed letter the model picked (its position), before
    /// mapping back through `perm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<char>,
    /// Process reward of each step of the candidate (steps end at a blank line, or at the
    /// step-token limit in a search), as the reward model gave them, so `rescore` can
    /// recompute every aggregation (`last`, `min`, `prod`, `mean`) offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_rewards: Option<Vec<f64>>,
    /// Hex SHA-256 of the exact text the reward model scored for this candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_input_hash: Option<String>,
    /// What this candidate cost; an item's cost is the sum over its candidates
    /// (see [`Compute`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<Compute>,
}

/// Compute spent, summable over the candidates of an item. A search (`beam`, `dvts`)
/// puts the whole item's cost on candidate 0 and zeros on the others.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Compute {
    /// Tokens the policy generated, pruned branches included.
    pub generated_tokens: u64,
    /// Policy requests made.
    pub requests: u64,
    /// Reward-model requests made (0 for the likelihood scorer).
    pub reward_calls: u64,
    /// Tokens the reward model read, as it reported them.
    pub reward_input_tokens: u64,
    /// Wall time, milliseconds.
    pub wall_ms: f64,
}

impl Compute {
    pub fn add(&mut self, o: &Compute) {
        self.generated_tokens += o.generated_tokens;
        self.requests += o.requests;
        self.reward_calls += o.reward_calls;
        self.reward_input_tokens += o.reward_input_tokens;
        self.wall_ms += o.wall_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_finite_logprob_survives_a_round_trip_through_jsonl() {
        let mut r = SampleRecord::new("1", Lang::En, Level::S1, 0, 'A', "AB");
        r.option_logprobs = Some([('A', f64::NEG_INFINITY), ('B', -0.5)].into());
        let line = serde_json::to_string(&r).unwrap();
        let back: SampleRecord = serde_json::from_str(&line).unwrap();
        let lp = back.option_logprobs.unwrap();
        assert!(lp[&'A'].is_nan());
        assert_eq!(lp[&'B'], -0.5);
        // Records without the field still read.
        let mut r = SampleRecord::new("2", Lang::En, Level::S1, 0, 'A', "AB");
        r.option_logprobs = None;
        let back: SampleRecord = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert!(back.option_logprobs.is_none());
    }
}

fn one() -> u32 {
    1
}

impl SampleRecord {
    /// A sample of one item before anything came back: no response, no answer, no rule,
    /// one attempt. Callers fill in what happened with struct update syntax.
    pub fn new(
        id: impl Into<String>,
        lang: Lang,
        level: Level,
        sample: u32,
        gold: char,
        letters: impl Into<String>,
    ) -> SampleRecord {
        SampleRecord {
            id: id.into(),
            lang,
            level,
            sample,
            prompt_hash: String::new(),
            gold,
            letters: letters.into(),
            response: None,
            reasoning: None,
            answer: None,
            rule: String::new(),
            correct: false,
            finish_reason: None,
            prompt_tokens: None,
            completion_tokens: None,
            reasoning_tokens: None,
            latency_ms: 0.0,
            endpoint: None,
            attempts: 1,
            error: None,
            option_logprobs: None,
            mean_logprob: None,
            reward: None,
            batch: None,
            perm: None,
            position: None,
            step_rewards: None,
            reward_input_hash: None,
            compute: None,
        }
    }

    /// Key of the (item, sample) pair, unique within a run.
    pub fn key(&self) -> (Lang, String, u32) {
        (self.lang, self.id.clone(), self.sample)
    }
    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }
    pub fn is_no_answer(&self) -> bool {
        self.error.is_none() && self.answer.is_none()
    }
    pub fn is_truncated(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }
}

/// JSON has no NaN or infinity: serde_json writes them as `null`, which an `f64` field then
/// refuses to read, so one bad value from a backend would make the whole run unreadable
/// on resume. Non-finite values go out as `null` and come back as NaN.
mod finite_or_null {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        v: &Option<BTreeMap<char, f64>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|m| {
                m.iter()
                    .map(|(k, x)| (*k, x.is_finite().then_some(*x)))
                    .collect::<BTreeMap<char, Option<f64>>>()
            })
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BTreeMap<char, f64>>, D::Error> {
        let m = Option::<BTreeMap<char, Option<f64>>>::deserialize(d)?;
        Ok(m.map(|m| {
            m.into_iter()
                .map(|(k, x)| (k, x.unwrap_or(f64::NAN)))
                .collect()
        }))
    }
}

/// Hex SHA-256 of some bytes; used for prompt hashes and dataset fingerprints.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
