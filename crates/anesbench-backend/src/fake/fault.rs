//! Which fault a request gets. Rules are checked in order and the first that fires
//! wins. Random rules roll on a hash of (seed, prompt, attempt number of that prompt,
//! rule index), so the outcome does not depend on request arrival order: a retry of
//! the same prompt rolls again, and a rerun with the same seed sees the same faults.

use std::time::Duration;

use crate::synth::{stable_hash, unit};

/// A misbehaviour the fake server can inject.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// HTTP 500 with a JSON error body.
    Http500,
    /// HTTP 429 with `Retry-After: <secs>`.
    RateLimited { retry_after_secs: u64 },
    /// Never answers (sleeps for [`super::FakeConfig::hang`]), so the client times out.
    Hang,
    /// Closes the TCP connection after reading the request, without any reply.
    DropConnection,
    /// HTTP 200 whose JSON body is cut in half.
    TruncatedJson,
    /// `content: null`; the reasoning and the answer are in `reasoning_content`.
    NullContent,
    /// Normal answer in `content`, thinking apart in `reasoning_content`.
    Reasoning,
    /// `finish_reason: "length"` and a reply cut off before any answer.
    Length,
    /// A normal reply after a delay.
    Slow(Duration),
}

impl Fault {
    /// Short name, used as the key of [`super::FakeStats::faults`].
    pub fn name(&self) -> &'static str {
        match self {
            Fault::Http500 => "http500",
            Fault::RateLimited { .. } => "rate_limited",
            Fault::Hang => "hang",
            Fault::DropConnection => "drop_connection",
            Fault::TruncatedJson => "truncated_json",
            Fault::NullContent => "null_content",
            Fault::Reasoning => "reasoning",
            Fault::Length => "length",
            Fault::Slow(_) => "slow",
        }
    }
}

/// When a rule fires. Only generation requests (`/v1/chat/completions`,
/// `/v1/completions`) count; `/v1/models` is never faulted.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Every request.
    Always,
    /// The n-th generation request the server receives (0-based, arrival order).
    Nth(u64),
    /// Requests `from..to` (0-based, arrival order).
    Range(u64, u64),
    /// The first `n` attempts of each distinct prompt (then it succeeds).
    FirstAttempts(u32),
    /// Each attempt independently with this probability (deterministic, see module docs).
    Probability(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub trigger: Trigger,
    pub fault: Fault,
}

impl FaultRule {
    pub fn new(trigger: Trigger, fault: Fault) -> Self {
        FaultRule { trigger, fault }
    }
}

/// The fault for one request, if any.
/// `index`: arrival number; `attempt`: 0 for the first time this prompt is seen.
pub fn choose(
    rules: &[FaultRule],
    seed: u64,
    prompt_hash: u64,
    index: u64,
    attempt: u32,
) -> Option<&Fault> {
    rules.iter().enumerate().find_map(|(i, r)| {
        let fires = match r.trigger {
            Trigger::Always => true,
            Trigger::Nth(n) => index == n,
            Trigger::Range(a, b) => (a..b).contains(&index),
            Trigger::FirstAttempts(n) => attempt < n,
            Trigger::Probability(p) => {
                let mut key = [0u8; 20];
                key[..8].copy_from_slice(&prompt_hash.to_le_bytes());
                key[8..12].copy_from_slice(&attempt.to_le_bytes());
                key[12..].copy_from_slice(&(i as u64).to_le_bytes());
                unit(stable_hash(seed, &key)) < p
            }
        };
        fires.then_some(&r.fault)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule_wins_and_rolls_are_stable() {
        let rules = vec![
            FaultRule::new(Trigger::Nth(3), Fault::Http500),
            FaultRule::new(Trigger::FirstAttempts(1), Fault::Length),
            FaultRule::new(Trigger::Probability(0.5), Fault::TruncatedJson),
        ];
        assert_eq!(choose(&rules, 1, 42, 3, 0), Some(&Fault::Http500));
        assert_eq!(choose(&rules, 1, 42, 4, 0), Some(&Fault::Length));
        let a: Vec<_> = (0..200)
            .map(|p| choose(&rules, 1, p, 10, 1).cloned())
            .collect();
        let b: Vec<_> = (0..200)
            .map(|p| choose(&rules, 1, p, 99, 1).cloned())
            .collect();
        assert_eq!(a, b, "random faults do not depend on arrival order");
        let hits = a.iter().filter(|f| f.is_some()).count();
        assert!((70..=130).contains(&hits), "p=0.5 fired {hits}/200");
        assert!(choose(&[], 0, 0, 0, 0).is_none());
    }
}
