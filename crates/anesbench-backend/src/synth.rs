//! Deterministic synthetic answers shared by the mock backend and the fake server, so
//! a test can predict exactly which letter a prompt will get.
//!
//! The letter is chosen from the option lines found in the prompt (`A. ...`, `B) ...`,
//! `C．...`). With an [`AnswerKey`] (question text -> gold letter) the answer is the gold
//! with probability `accuracy` and a hash-chosen wrong letter otherwise; without one it
//! is a hash-chosen letter (chance level). The same prompt and seed always give the same
//! letter, on every platform.

use std::collections::HashMap;

use crate::types::{ChatMessage, Prompt};

/// FNV-1a, 64-bit: stable across platforms and Rust versions (unlike `DefaultHasher`).
pub fn stable_hash(seed: u64, data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Final avalanche (splitmix64) so nearby seeds give unrelated streams.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A hash mapped to `[0, 1)`.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The text a server would see: chat contents joined by blank lines.
pub fn prompt_text(prompt: &Prompt) -> String {
    match prompt {
        Prompt::Text(t) => t.clone(),
        Prompt::Chat(msgs) => join_messages(msgs),
    }
}

pub(crate) fn join_messages(msgs: &[ChatMessage]) -> String {
    let mut out = String::new();
    for (i, m) in msgs.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&m.content);
    }
    out
}

/// Option letters listed in the prompt, in order of first appearance, without repeats.
/// A line counts when it starts (after spaces) with `A`..`I` followed by `.`, `)`, `．`,
/// `、` or `:` . Falls back to `A`..`D` when the prompt lists none.
pub fn option_letters(text: &str) -> Vec<char> {
    let mut found = Vec::new();
    for line in text.lines() {
        let mut chars = line.trim_start().chars();
        let (Some(l), Some(sep)) = (chars.next(), chars.next()) else {
            continue;
        };
        if ('A'..='I').contains(&l)
            && matches!(sep, '.' | ')' | '．' | '、' | ':' | '：')
            && !found.contains(&l)
        {
            found.push(l);
        }
    }
    if found.is_empty() {
        found = vec!['A', 'B', 'C', 'D'];
    }
    found
}

/// Question text -> gold letter. A prompt matches the first key it contains; keys are
/// checked longest first so a question that is a prefix of another cannot steal it.
#[derive(Debug, Clone, Default)]
pub struct AnswerKey {
    keys: Vec<(String, char)>,
    exact: HashMap<String, char>,
}

impl AnswerKey {
    pub fn new(pairs: impl IntoIterator<Item = (String, char)>) -> Self {
        let mut keys: Vec<(String, char)> = pairs
            .into_iter()
            .filter(|(q, _)| !q.trim().is_empty())
            .collect();
        keys.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let exact = keys.iter().cloned().collect();
        AnswerKey { keys, exact }
    }

    /// Gold letter for the question contained in `text`, if any.
    pub fn lookup(&self, text: &str) -> Option<char> {
        if let Some(&c) = self.exact.get(text) {
            return Some(c);
        }
        self.keys
            .iter()
            .find(|(q, _)| text.contains(q.as_str()))
            .map(|&(_, c)| c)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Picks the answer letter for a prompt; see the module docs.
#[derive(Debug, Clone)]
pub struct Answerer {
    pub seed: u64,
    /// Probability of giving the gold letter when the prompt's question is in `key`.
    pub accuracy: f64,
    pub key: Option<AnswerKey>,
}

impl Default for Answerer {
    fn default() -> Self {
        Answerer {
            seed: 0,
            accuracy: 1.0,
            key: None,
        }
    }
}

impl Answerer {
    pub fn answer(&self, text: &str) -> char {
        let letters = option_letters(text);
        let h = stable_hash(self.seed, text.as_bytes());
        let gold = self.key.as_ref().and_then(|k| k.lookup(text));
        match gold {
            Some(g) if unit(h) < self.accuracy => g,
            Some(g) => {
                let wrong: Vec<char> = letters.iter().copied().filter(|&c| c != g).collect();
                if wrong.is_empty() {
                    g
                } else {
                    wrong[(stable_hash(h, b"wrong") % wrong.len() as u64) as usize]
                }
            }
            None => letters[(h % letters.len() as u64) as usize],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_from_option_lines() {
        let t = "Which drug?\nA. propofol\nB) ketamine\n C．etomidate\nD、midazolam\nA. again";
        assert_eq!(option_letters(t), vec!['A', 'B', 'C', 'D']);
        assert_eq!(option_letters("no options here"), vec!['A', 'B', 'C', 'D']);
        assert_eq!(option_letters("Q\nA. x\nB. y"), vec!['A', 'B']);
    }

    #[test]
    fn answers_are_deterministic_and_respect_accuracy() {
        let prompts: Vec<String> = (0..400)
            .map(|i| format!("Question {i}?\nA. a\nB. b\nC. c\nD. d"))
            .collect();
        let key = AnswerKey::new(
            prompts
                .iter()
                .map(|p| (p.lines().next().unwrap().to_string(), 'B')),
        );
        let a = Answerer {
            seed: 7,
            accuracy: 0.75,
            key: Some(key),
        };
        let right = prompts.iter().filter(|p| a.answer(p) == 'B').count();
        assert!(
            (260..=340).contains(&right),
            "got {right}/400 right at accuracy 0.75"
        );
        assert!(prompts.iter().all(|p| a.answer(p) == a.answer(p)));
        let perfect = Answerer {
            accuracy: 1.0,
            ..a.clone()
        };
        assert!(prompts.iter().all(|p| perfect.answer(p) == 'B'));
        let never = Answerer { accuracy: 0.0, ..a };
        assert!(prompts
            .iter()
            .all(|p| never.answer(p) != 'B' && option_letters(p).contains(&never.answer(p))));
    }

    #[test]
    fn longest_key_wins() {
        let key = AnswerKey::new([
            ("Dose of drug".to_string(), 'A'),
            ("Dose of drug X".to_string(), 'C'),
        ]);
        assert_eq!(key.lookup("Q: Dose of drug X in adults"), Some('C'));
        assert_eq!(key.lookup("Q: Dose of drug Y"), Some('A'));
        assert_eq!(key.lookup("unrelated"), None);
    }
}
