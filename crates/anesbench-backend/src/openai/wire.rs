//! JSON bodies sent to and parsed from OpenAI-compatible servers (SGLang, vLLM,
//! llama.cpp's server, hosted APIs). Parsing is lenient about what servers leave out
//! and strict about what the score depends on.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::synth::join_messages;
use crate::types::{GenParams, GenResponse, Prompt};

/// `max_tokens` sent when [`GenParams::max_tokens`] is `None`, by both API styles.
///
/// Servers' own defaults differ by route: OpenAI's, vLLM's and SGLang's
/// `/v1/completions` stop at 16 tokens when `max_tokens` is missing (too short for any
/// answer with reasoning), while chat routes default to the rest of the context. One
/// explicit default makes `--api chat` and `--api completions` generate the same
/// length; pass `--max-tokens` for more (long-thinking models may need it). Not added
/// when `extra_body` sets `max_completion_tokens`.
pub const DEFAULT_MAX_TOKENS: u32 = 2048;

/// Body for `/v1/chat/completions`; a text prompt becomes one user message.
pub fn chat_body(model: &str, prompt: &Prompt, params: &GenParams) -> Value {
    let messages = match prompt {
        Prompt::Chat(msgs) => serde_json::to_value(msgs).unwrap_or(Value::Null),
        Prompt::Text(t) => serde_json::json!([{ "role": "user", "content": t }]),
    };
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert("messages".into(), messages);
    if params.logprobs {
        body.insert("logprobs".into(), true.into());
    }
    add_params(&mut body, params);
    Value::Object(body)
}

/// Body for `/v1/completions`; chat messages are joined by blank lines.
pub fn completions_body(model: &str, prompt: &Prompt, params: &GenParams) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), model.into());
    body.insert("prompt".into(), completion_text(prompt).into());
    if params.logprobs {
        // Legacy completions: an integer asks for token log-probabilities (and that many
        // alternatives; one is the fewest every server accepts).
        body.insert("logprobs".into(), 1.into());
    }
    add_params(&mut body, params);
    Value::Object(body)
}

/// Body asking for the top log-probabilities of the single next token.
pub fn loglik_body(model: &str, prompt: &Prompt, top: u32) -> Value {
    serde_json::json!({
        "model": model,
        "prompt": completion_text(prompt),
        "max_tokens": 1,
        "temperature": 0.0,
        "logprobs": top,
        "echo": false,
    })
}

pub fn completion_text(prompt: &Prompt) -> String {
    match prompt {
        Prompt::Text(t) => t.clone(),
        Prompt::Chat(msgs) => join_messages(msgs),
    }
}

fn add_params(body: &mut Map<String, Value>, p: &GenParams) {
    if let Some(t) = p.temperature {
        body.insert("temperature".into(), t.into());
    }
    if let Some(t) = p.top_p {
        body.insert("top_p".into(), t.into());
    }
    // A caller limiting by `max_completion_tokens` (OpenAI's o-series reject
    // `max_tokens`) gets no default added.
    let own_limit = p
        .extra_body
        .as_ref()
        .is_some_and(|e| e.contains_key("max_completion_tokens"));
    match p.max_tokens {
        Some(m) => {
            body.insert("max_tokens".into(), m.into());
        }
        None if !own_limit => {
            body.insert("max_tokens".into(), DEFAULT_MAX_TOKENS.into());
        }
        None => {}
    }
    if let Some(s) = p.seed {
        body.insert("seed".into(), s.into());
    }
    if !p.stop.is_empty() {
        body.insert("stop".into(), p.stop.clone().into());
    }
    // Last, so a user's extra field can override anything above on purpose.
    if let Some(extra) = &p.extra_body {
        for (k, v) in extra {
            body.insert(k.clone(), v.clone());
        }
    }
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    /// Position among the request's `n` choices.
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    message: Option<Message>,
    /// `/v1/completions` puts the output here.
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    finish_reason: Option<String>,
    /// vLLM: the stop string or token id that ended the choice, `null` for the model's own
    /// end of generation; absent on servers that do not report it.
    #[serde(default, deserialize_with = "present")]
    stop_reason: Option<Value>,
    #[serde(default)]
    logprobs: Option<Value>,
}

/// A field that is there, even as `null` (`Some(Value::Null)`), apart from one that is
/// absent (`None`, by `#[serde(default)]`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// [`GenResponse::model_ended`] from the finish reason and vLLM's `stop_reason`.
fn model_ended(finish: Option<&str>, stop_reason: Option<&Value>) -> Option<bool> {
    match (finish, stop_reason) {
        (Some("length"), _) => Some(false),
        (Some("stop"), Some(Value::Null)) => Some(true),
        (Some("stop"), Some(_)) => Some(false),
        _ => None,
    }
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    reasoning_content: Option<String>,
    /// Name used by some servers (vLLM >= 0.10, OpenRouter) for the same thing.
    #[serde(default)]
    reasoning: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    #[serde(default)]
    pub completion_tokens: Option<u32>,
    #[serde(default)]
    pub completion_tokens_details: Option<TokenDetails>,
}

#[derive(Deserialize, Default)]
pub struct TokenDetails {
    #[serde(default)]
    pub reasoning_tokens: Option<u32>,
}

/// Parses a chat or completions reply (its first choice). `Err` carries a message for
/// `BadBody`.
pub fn parse_generation(bytes: &[u8]) -> Result<GenResponse, String> {
    parse_generations(bytes).map(|mut v| v.swap_remove(0))
}

/// Every choice of a reply, in `index` order (at least one, or `Err`).
///
/// `usage` covers the whole request. With one choice its counts are the choice's. With
/// several, each choice's `completion_tokens` is the number of token log-probabilities
/// it lists, when every choice lists them (they were asked for); otherwise the request's
/// total is shared out evenly (the remainder to the first choices), so an item's sum is
/// still the server's count. `reasoning_tokens` is shared out the same way, and every
/// choice carries the request's `prompt_tokens` (the prompt is prefilled once).
pub fn parse_generations(bytes: &[u8]) -> Result<Vec<GenResponse>, String> {
    let reply: Reply = serde_json::from_slice(bytes)
        .map_err(|e| format!("{e}; body starts {}", snippet(bytes)))?;
    if reply.choices.is_empty() {
        return Err(format!(
            "no `choices` in reply; body starts {}",
            snippet(bytes)
        ));
    }
    let mut choices = reply.choices;
    // Stable: choices without an index keep the order they came in.
    choices.sort_by_key(|c| c.index.unwrap_or(u32::MAX));
    let usage = reply.usage.unwrap_or_default();
    let n = choices.len() as u32;
    let counted: Vec<Option<u32>> = choices
        .iter()
        .map(|c| c.logprobs.as_ref().and_then(token_count))
        .collect();
    let per_choice = n > 1 && counted.iter().all(Option::is_some);
    let share = |total: Option<u32>, i: u32| total.map(|t| t / n + u32::from(i < t % n));
    let reasoning_total = usage
        .completion_tokens_details
        .as_ref()
        .and_then(|d| d.reasoning_tokens);
    let mut out = Vec::with_capacity(choices.len());
    for (i, choice) in choices.into_iter().enumerate() {
        let i = i as u32;
        let (content, reasoning) = match choice.message {
            Some(m) => (
                content_text(m.content)?,
                m.reasoning_content.or(m.reasoning),
            ),
            None => match choice.text {
                Some(t) => (Some(t), None),
                None => {
                    return Err(format!(
                        "choice has neither `message` nor `text`; body starts {}",
                        snippet(bytes)
                    ))
                }
            },
        };
        let mean_logprob = choice.logprobs.as_ref().and_then(mean_token_logprob);
        let completion_tokens = if per_choice {
            counted[i as usize]
        } else {
            share(usage.completion_tokens, i)
        };
        out.push(GenResponse {
            mean_logprob,
            content,
            reasoning,
            model_ended: model_ended(choice.finish_reason.as_deref(), choice.stop_reason.as_ref()),
            finish_reason: choice.finish_reason,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens,
            reasoning_tokens: share(reasoning_total, i),
            endpoint: None,
        });
    }
    Ok(out)
}

/// Generated tokens a choice's `logprobs` lists (chat `content[]`, legacy
/// `token_logprobs`).
fn token_count(lp: &Value) -> Option<u32> {
    lp.get("content")
        .and_then(Value::as_array)
        .or_else(|| lp.get("token_logprobs").and_then(Value::as_array))
        .map(|a| a.len() as u32)
}

/// Mean of the generated tokens' log-probabilities: chat replies list them under
/// `logprobs.content[].logprob`, legacy completions under `logprobs.token_logprobs`.
fn mean_token_logprob(lp: &Value) -> Option<f64> {
    let values: Vec<f64> = if let Some(c) = lp.get("content").and_then(Value::as_array) {
        c.iter()
            .filter_map(|t| t.get("logprob").and_then(Value::as_f64))
            .collect()
    } else if let Some(t) = lp.get("token_logprobs").and_then(Value::as_array) {
        t.iter().filter_map(Value::as_f64).collect()
    } else {
        return None;
    };
    let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    (!finite.is_empty()).then(|| finite.iter().sum::<f64>() / finite.len() as f64)
}

/// `content` may be a string, `null`, or (rarely) a list of `{type: text, text}` parts.
fn content_text(v: Option<Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Array(parts)) => Ok(Some(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
        )),
        Some(other) => Err(format!(
            "`content` is neither text nor null: {}",
            snippet(other.to_string().as_bytes())
        )),
    }
}

/// Top log-probabilities of the first generated token, as (token, logprob).
pub type TopLogprobs = Vec<(String, f64)>;

/// What a log-probability reply carries.
pub struct FirstToken {
    /// `None` when the server sent no log-probabilities at all.
    pub top: Option<TopLogprobs>,
    pub prompt_tokens: Option<u32>,
}

/// The reply's first-token top log-probabilities plus `usage.prompt_tokens`.
pub fn parse_top_logprobs(bytes: &[u8]) -> Result<FirstToken, String> {
    let reply: Reply = serde_json::from_slice(bytes)
        .map_err(|e| format!("{e}; body starts {}", snippet(bytes)))?;
    let prompt_tokens = reply.usage.as_ref().and_then(|u| u.prompt_tokens);
    let choice = reply
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| format!("no `choices` in reply; body starts {}", snippet(bytes)))?;
    let Some(lp) = choice.logprobs.filter(|v| !v.is_null()) else {
        return Ok(FirstToken {
            top: None,
            prompt_tokens,
        });
    };
    // Legacy completions shape: {"top_logprobs": [{"tok": lp, ...}, ...]}.
    if let Some(first) = lp.get("top_logprobs").and_then(|t| t.get(0)) {
        let Some(obj) = first.as_object() else {
            return Err("`logprobs.top_logprobs[0]` is not an object of token -> logprob".into());
        };
        let list = obj
            .iter()
            .filter_map(|(k, v)| v.as_f64().map(|f| (k.clone(), f)))
            .collect();
        return Ok(FirstToken {
            top: Some(list),
            prompt_tokens,
        });
    }
    // Chat shape, also used by llama.cpp's /v1/completions:
    // {"content": [{"token", "logprob", "top_logprobs": [{"token", "logprob"}]}]}.
    if let Some(first) = lp.get("content").and_then(|c| c.get(0)) {
        let listed: Vec<&Value> = first
            .get("top_logprobs")
            .and_then(Value::as_array)
            .map(|arr| arr.iter().collect())
            .unwrap_or_default();
        let mut list: Vec<(String, f64)> = listed.iter().filter_map(|v| token_logprob(v)).collect();
        // The chosen token is normally in its own top list too (llama.cpp and vLLM put
        // it there); counted twice, its letter would gain ln 2 nats. It is added only
        // when the list lacks it (a sampled token outside the top k).
        if let Some(own) = token_logprob(first) {
            if !listed.iter().any(|v| same_token(v, first)) {
                list.push(own);
            }
        }
        return Ok(FirstToken {
            top: Some(list),
            prompt_tokens,
        });
    }
    Ok(FirstToken {
        top: None,
        prompt_tokens,
    })
}

/// Whether two logprob entries name the same token: by `id` when both carry one
/// (llama.cpp), else by the token text.
fn same_token(a: &Value, b: &Value) -> bool {
    match (
        a.get("id").and_then(Value::as_i64),
        b.get("id").and_then(Value::as_i64),
    ) {
        (Some(x), Some(y)) => x == y,
        _ => a.get("token").is_some() && a.get("token") == b.get("token"),
    }
}

fn token_logprob(v: &Value) -> Option<(String, f64)> {
    Some((
        v.get("token")?.as_str()?.to_string(),
        v.get("logprob")?.as_f64()?,
    ))
}

/// The first 120 characters of a body, for error messages.
pub fn snippet(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    let cut: String = s.chars().take(120).collect();
    if cut.len() < s.len() {
        format!("`{cut}...`")
    } else {
        format!("`{cut}`")
    }
}

/// Model ids from a `/v1/models` reply.
pub fn parse_models(bytes: &[u8]) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("{e}; body starts {}", snippet(bytes)))?;
    let data = v
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("no `data` list; body starts {}", snippet(bytes)))?;
    Ok(data
        .iter()
        .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ChatMessage;

    #[test]
    fn params_and_extra_body_are_merged() {
        let mut extra = Map::new();
        extra.insert(
            "chat_template_kwargs".into(),
            serde_json::json!({"enable_thinking": false}),
        );
        extra.insert("temperature".into(), 0.3.into());
        let p = GenParams {
            temperature: Some(0.0),
            top_p: Some(0.9),
            max_tokens: Some(64),
            seed: Some(5),
            stop: vec!["\n\n".into()],
            extra_body: Some(extra),
            logprobs: true,
        };
        let c = completions_body("m", &Prompt::Text("hi".into()), &p);
        assert_eq!(
            c["logprobs"], 1,
            "completions ask for token log-probabilities by count"
        );
        let b = chat_body("m", &Prompt::Chat(vec![ChatMessage::new("user", "hi")]), &p);
        assert_eq!(b["messages"][0]["content"], "hi");
        assert_eq!(b["temperature"], 0.3, "extra body overrides");
        assert_eq!(b["top_p"], 0.9);
        assert_eq!(b["max_tokens"], 64);
        assert_eq!(b["seed"], 5);
        assert_eq!(b["logprobs"], true);
        assert_eq!(b["stop"][0], "\n\n");
        assert_eq!(b["chat_template_kwargs"]["enable_thinking"], false);
        let c = completions_body(
            "m",
            &Prompt::Chat(vec![
                ChatMessage::new("system", "s"),
                ChatMessage::new("user", "u"),
            ]),
            &GenParams::default(),
        );
        assert_eq!(c["prompt"], "s\n\nu");
        assert!(c.get("temperature").is_none());
        assert_eq!(c["max_tokens"], DEFAULT_MAX_TOKENS);
    }

    #[test]
    fn parses_null_content_reasoning_and_usage() {
        let body = br#"{"choices":[{"message":{"content":null,"reasoning_content":"think"},"finish_reason":"length"}],
            "usage":{"prompt_tokens":10,"completion_tokens":20,"completion_tokens_details":{"reasoning_tokens":15}}}"#;
        let r = parse_generation(body).unwrap();
        assert_eq!(r.content, None);
        assert_eq!(r.reasoning.as_deref(), Some("think"));
        assert_eq!(r.finish_reason.as_deref(), Some("length"));
        assert_eq!(
            (r.prompt_tokens, r.completion_tokens, r.reasoning_tokens),
            (Some(10), Some(20), Some(15))
        );
        let alt = parse_generation(br#"{"choices":[{"message":{"content":"x","reasoning":"r"}}]}"#)
            .unwrap();
        assert_eq!(alt.reasoning.as_deref(), Some("r"));
        let text =
            parse_generation(br#"{"choices":[{"text":"Answer: B","finish_reason":"stop"}]}"#)
                .unwrap();
        assert_eq!(text.content.as_deref(), Some("Answer: B"));
    }

    #[test]
    fn rejects_truncated_and_empty_bodies() {
        assert!(
            parse_generation(br#"{"choices":[{"message":{"content":"The ans"#)
                .unwrap_err()
                .contains("body starts")
        );
        assert!(parse_generation(br#"{"choices":[]}"#)
            .unwrap_err()
            .contains("no `choices`"));
        assert!(parse_generation(br#"{"choices":[{"message":{"content":5}}]}"#).is_err());
    }

    #[test]
    fn mean_token_logprob_reads_chat_and_completions_shapes() {
        let chat = br#"{"choices":[{"message":{"content":"B"},"finish_reason":"stop","logprobs":{"content":[{"token":"The","logprob":-1.0},{"token":" B","logprob":-0.5}]}}]}"#;
        assert_eq!(parse_generation(chat).unwrap().mean_logprob, Some(-0.75));
        let comp = br#"{"choices":[{"text":" B","finish_reason":"stop","logprobs":{"tokens":[" B","."],"token_logprobs":[-0.2,-0.4]}}]}"#;
        let m = parse_generation(comp).unwrap().mean_logprob.unwrap();
        assert!((m + 0.3).abs() < 1e-12);
        let none = br#"{"choices":[{"text":" B","finish_reason":"stop"}]}"#;
        assert_eq!(parse_generation(none).unwrap().mean_logprob, None);
    }

    #[test]
    fn parses_both_logprob_shapes() {
        let legacy = br#"{"choices":[{"text":" B","logprobs":{"tokens":[" B"],"top_logprobs":[{" B":-0.1," A":-2.5}]}}],"usage":{"prompt_tokens":7}}"#;
        let r = parse_top_logprobs(legacy).unwrap();
        assert_eq!(r.prompt_tokens, Some(7));
        assert_eq!(r.top.unwrap().len(), 2);
        let chat = br#"{"choices":[{"text":"B","logprobs":{"content":[{"token":"B","logprob":-0.2,"top_logprobs":[{"token":"C","logprob":-1.9}]}]}}]}"#;
        let l = parse_top_logprobs(chat).unwrap().top;
        assert_eq!(
            l.unwrap(),
            vec![("C".to_string(), -1.9), ("B".to_string(), -0.2)]
        );
        let none = parse_top_logprobs(br#"{"choices":[{"text":"B","logprobs":null}]}"#).unwrap();
        assert!(none.top.is_none());
    }
}

#[cfg(test)]
mod n_tests {
    use super::*;

    #[test]
    fn several_choices_share_usage_by_their_own_token_counts_else_evenly() {
        // Choices out of order; per-choice log-probabilities: 2 and 3 tokens.
        let with_lp = br#"{"choices":[
            {"index":1,"message":{"content":"C"},"finish_reason":"length","logprobs":{"content":[{"token":"a","logprob":-1.0},{"token":"b","logprob":-2.0},{"token":"c","logprob":-3.0}]}},
            {"index":0,"message":{"content":"B"},"finish_reason":"stop","logprobs":{"content":[{"token":"a","logprob":-0.5},{"token":"b","logprob":-0.5}]}}],
            "usage":{"prompt_tokens":11,"completion_tokens":5}}"#;
        let v = parse_generations(with_lp).unwrap();
        assert_eq!(v[0].content.as_deref(), Some("B"));
        assert_eq!(v[1].finish_reason.as_deref(), Some("length"));
        assert_eq!(
            (v[0].completion_tokens, v[1].completion_tokens),
            (Some(2), Some(3))
        );
        assert_eq!(
            (v[0].mean_logprob, v[1].mean_logprob),
            (Some(-0.5), Some(-2.0))
        );
        assert!(v.iter().all(|r| r.prompt_tokens == Some(11)));
        // No per-choice counts: 10 tokens over 3 choices is 4, 3, 3 (the sum is kept).
        let bare = br#"{"choices":[{"text":"A"},{"text":"B"},{"text":"C"}],
            "usage":{"completion_tokens":10,"completion_tokens_details":{"reasoning_tokens":5}}}"#;
        let v = parse_generations(bare).unwrap();
        let toks: Vec<_> = v.iter().map(|r| r.completion_tokens.unwrap()).collect();
        assert_eq!(toks, vec![4, 3, 3]);
        let think: Vec<_> = v.iter().map(|r| r.reasoning_tokens.unwrap()).collect();
        assert_eq!(think, vec![2, 2, 1]);
        // One choice keeps the server's counts as they are.
        let one = parse_generation(
            br#"{"choices":[{"message":{"content":"B"},"logprobs":{"content":[{"token":"B","logprob":-0.1}]}}],"usage":{"completion_tokens":7}}"#,
        )
        .unwrap();
        assert_eq!(one.completion_tokens, Some(7));
    }

    #[test]
    fn vllm_stop_reason_tells_the_model_s_own_end_from_a_stop_string() {
        let one = |body: &str| parse_generation(body.as_bytes()).unwrap().model_ended;
        assert_eq!(
            one(r#"{"choices":[{"text":"B","finish_reason":"stop","stop_reason":null}]}"#),
            Some(true)
        );
        assert_eq!(
            one(r#"{"choices":[{"text":"B","finish_reason":"stop","stop_reason":"\n\n"}]}"#),
            Some(false)
        );
        assert_eq!(
            one(r#"{"choices":[{"text":"B","finish_reason":"stop"}]}"#),
            None,
            "no stop_reason: cannot tell"
        );
        assert_eq!(
            one(r#"{"choices":[{"text":"B","finish_reason":"length"}]}"#),
            Some(false)
        );
    }
}
