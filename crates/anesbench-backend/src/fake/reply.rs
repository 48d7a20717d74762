//! Reply bodies in the shapes real servers send.

use serde_json::{json, Value};

fn words(s: &str) -> u64 {
    s.split_whitespace().count() as u64
}

/// What the model "said".
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

fn usage(prompt: &str, said: &Said) -> Value {
    let reasoning = said.reasoning.as_deref().map(words).unwrap_or(0);
    let completion = said.content.as_deref().map(words).unwrap_or(0) + reasoning;
    let mut u = json!({
        "prompt_tokens": words(prompt),
        "completion_tokens": completion,
        "total_tokens": words(prompt) + completion,
    });
    if said.reasoning.is_some() {
        u["completion_tokens_details"] = json!({ "reasoning_tokens": reasoning });
    }
    u
}

pub fn chat(model: &str, prompt: &str, said: &Said) -> Value {
    let mut message = json!({ "role": "assistant", "content": said.content });
    if let Some(r) = &said.reasoning {
        message["reasoning_content"] = r.clone().into();
    }
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{ "index": 0, "message": message, "finish_reason": said.finish_reason }],
        "usage": usage(prompt, said),
    })
}

pub fn completion(model: &str, prompt: &str, said: &Said, logprobs: Option<Value>) -> Value {
    let text = match (&said.reasoning, &said.content) {
        (Some(r), Some(c)) => format!("{r}\n{c}"),
        (Some(r), None) => r.clone(),
        (None, c) => c.clone().unwrap_or_default(),
    };
    json!({
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": 0,
        "model": model,
        "choices": [{ "index": 0, "text": text, "logprobs": logprobs, "finish_reason": said.finish_reason }],
        "usage": usage(prompt, said),
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
