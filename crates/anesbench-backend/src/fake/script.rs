//! Scripted candidates: what the fake server says for each seed, so a test of a sampling
//! strategy can predict every vote.
//!
//! Choice `i` of a request seeded `s` is the script's reply for seed `s + i`, whether the
//! `i` choices came from one request with `"n": N` or from N requests seeded `s`,
//! `s + 1`, ... (as the runner's fallback asks): the two paths give the same candidates.
//! A seeded request whose seed has no reply gets HTTP 400 naming the seed; an unseeded
//! one (the `n` probe, loglik) is answered as without a script.

use std::collections::BTreeMap;

/// One scripted candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Scripted {
    /// The reply's `content`.
    pub text: String,
    /// Mean token log-probability: every token of `text` (split on whitespace) is given
    /// this log-probability when the request asks for `logprobs`.
    pub mean_logprob: f64,
}

/// Seed -> reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    replies: BTreeMap<u64, Scripted>,
}

impl Script {
    /// `(seed, text, mean log-probability)` triples.
    pub fn new<S: Into<String>>(replies: impl IntoIterator<Item = (u64, S, f64)>) -> Script {
        Script {
            replies: replies
                .into_iter()
                .map(|(seed, text, lp)| {
                    (
                        seed,
                        Scripted {
                            text: text.into(),
                            mean_logprob: lp,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Replies for seeds `first`, `first + 1`, ... in order: `(letter or none, logprob)`
    /// becomes "The answer is X." or "I am not sure.".
    pub fn letters(first: u64, votes: &[(Option<char>, f64)]) -> Script {
        Script::new(votes.iter().enumerate().map(|(i, (l, lp))| {
            let text = match l {
                Some(l) => format!("Let me think it through. The answer is {l}."),
                None => "I am not sure about this one.".to_string(),
            };
            (first + i as u64, text, *lp)
        }))
    }

    pub fn get(&self, seed: u64) -> Option<&Scripted> {
        self.replies.get(&seed)
    }

    pub fn len(&self) -> usize {
        self.replies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.replies.is_empty()
    }
}
