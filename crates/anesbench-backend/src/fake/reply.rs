//! Reply bodies in the shapes real servers send.

use serde_json::{json, Value};

fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

/// What the model "said".
#[derive(Clone)]
pub struct Said {
    pub content: Option<String>,
    pub reasoning: Option<String>,
    pub finish_reason: &'static str,
}

impl Said {
    pub fn normal(letter: char) -> Self {
        Said {
            content: Some(format!("{}\nAnswer: {letter}", thinking(letter))),
            reasoning: None,
            finish_reason: "stop",
        }
    }
    pub fn null_content(letter: char) -> Self {
        Said {
            content: None,
            reasoning: Some(format!("{}\nAnswer: {letter}", thinking(letter))),
            finish_reason: "stop",
        }
    }
    pub fn reasoning(letter: char) -> Self {
        Said {
            content: Some(format!("Answer: {letter}")),
            reasoning: Some(thinking(letter)),
            finish_reason: "stop",
        }
    }
    pub fn length() -> Self {
        Said {
            content: Some("Let me analyse each option in turn. Option A describes".into()),
            reasoning: None,
            finish_reason: "length",
        }
    }
}

fn thinking(letter: char) -> String {
    format!(
        "Let me analyse each option in turn. Option {letter} matches the clinical findings best."
    )
}

impl Said {
    /// A scripted reply (see [`super::script`]).
    pub fn scripted(text: &str) -> Self {
        Said {
            content: Some(text.to_string()),
            reasoning: None,
            finish_reason: "stop",
        }
    }

    fn completion_words(&self) -> u64 {
        self.content.as_deref().map(words).unwrap_or(0)
            + self.reasoning.as_deref().map(words).unwrap_or(0)
    }
}

/// One choice of a reply: what was said and its `logprobs` value, if any.
pub struct Out {
    pub said: Said,
    pub logprobs: Option<Value>,
}

fn usage(prompt: &str, choices: &[Out]) -> Value {
    let completion: u64 = choices.iter().map(|c| c.said.completion_words()).sum();
    let mut u = json!({
        "prompt_tokens": words(prompt),
        "completion_tokens": completion,
        "total_tokens": words(prompt) + completion,
    });
    if choices.iter().any(|c| c.said.reasoning.is_some()) {
        let reasoning: u64 = choices
            .iter()
            .map(|c| c.said.reasoning.as_deref().map(words).unwrap_or(0))
            .sum();
        u["completion_tokens_details"] = json!({ "reasoning_tokens": reasoning });
    }
    u
}

/// Token log-probabilities of a text, one per whitespace-separated word, all `lp`:
/// `chat` in the chat shape (`content[]`), else the legacy completions shape.
pub fn token_logprobs(text: &str, lp: f64, chat: bool) -> Value {
    let toks: Vec<&str> = text.split_whitespace().collect();
    if chat {
        json!({ "content": toks.iter().map(|t| json!({"token": t, "logprob": lp})).collect::<Vec<_>>() })
    } else {
        json!({ "tokens": toks, "token_logprobs": toks.iter().map(|_| lp).collect::<Vec<_>>() })
    }
}

pub fn chat(model: &str, prompt: &str, choices: &[Out]) -> Value {
    let list: Vec<Value> = choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut message = json!({ "role": "assistant", "content": c.said.content });
            if let Some(r) = &c.said.reasoning {
                message["reasoning_content"] = r.clone().into();
            }
            let mut choice =
                json!({ "index": i, "message": message, "finish_reason": c.said.finish_reason });
            if let Some(lp) = &c.logprobs {
                choice["logprobs"] = lp.clone();
            }
            choice
        })
        .collect();
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": list,
        "usage": usage(prompt, choices),
    })
}

pub fn completion(model: &str, prompt: &str, choices: &[Out]) -> Value {
    let list: Vec<Value> = choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let said = &c.said;
            let text = match (&said.reasoning, &said.content) {
                (Some(r), Some(c)) => format!("{r}\n{c}"),
                (Some(r), None) => r.clone(),
                (None, c) => c.clone().unwrap_or_default(),
            };
            json!({ "index": i, "text": text, "logprobs": c.logprobs, "finish_reason": said.finish_reason })
        })
        .collect();
    json!({
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": 0,
        "model": model,
        "choices": list,
        "usage": usage(prompt, choices),
    })
}

/// Legacy completions `logprobs` for one generated token: the chosen letter first
/// (as `" X"`, and `"X"` a little lower, as tokenizers split it both ways), then the
/// other letters and a filler word, cut to `top` entries.
pub fn top_logprobs(letter: char, letters: &[char], top: usize) -> Value {
    let mut list: Vec<(String, f64)> =
        vec![(format!(" {letter}"), -0.05), (letter.to_string(), -3.5)];
    for (i, l) in letters.iter().filter(|&&l| l != letter).enumerate() {
        list.push((format!(" {l}"), -2.0 - i as f64));
    }
    list.push((" The".into(), -6.0));
    list.sort_by(|a, b| b.1.total_cmp(&a.1));
    list.truncate(top.max(1));
    let map: serde_json::Map<String, Value> =
        list.iter().map(|(t, l)| (t.clone(), (*l).into())).collect();
    json!({
        "tokens": [format!(" {letter}")],
        "token_logprobs": [-0.05],
        "top_logprobs": [map],
        "text_offset": [0],
    })
}
