//! Requests, responses and errors shared by every backend.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// What to send: chat messages (for `/v1/chat/completions` or a chat template), or a
/// plain text prompt (for `/v1/completions` or raw completion).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    Chat(Vec<ChatMessage>),
    Text(String),
}

/// Generation settings. `None` leaves the server's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenParams {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Extra JSON fields merged into the request body (e.g. `chat_template_kwargs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_body: Option<serde_json::Map<String, serde_json::Value>>,
    /// Ask for the log-probability of each generated token (for
    /// [`GenResponse::mean_logprob`]: best-of-N by likelihood, vote tie-breaks).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub logprobs: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GenRequest {
    pub prompt: Prompt,
    pub params: GenParams,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenResponse {
    /// `content` of the reply; `None` when the server sent `null`.
    pub content: Option<String>,
    /// `reasoning_content` (or `reasoning`) when the server keeps thinking apart.
    pub reasoning: Option<String>,
    pub finish_reason: Option<String>,
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    pub reasoning_tokens: Option<u32>,
    /// Which endpoint served it (base URL or `embedded:<file>`).
    pub endpoint: Option<String>,
    /// Mean log-probability of the generated tokens under the model (at temperature 1,
    /// before any sampling transform), when [`GenParams::logprobs`] asked for it and the
    /// backend reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_logprob: Option<f64>,
    /// Whether the model itself ended the reply (its end-of-generation token): `Some(true)`;
    /// `Some(false)` when a stop string or the token limit did; `None` when the backend
    /// does not say (`finish_reason: "stop"` covers both a stop string and the model's
    /// end; vLLM tells them apart with `stop_reason`, null for the model's own end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_ended: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LoglikRequest {
    pub prompt: Prompt,
    /// Candidate continuations, e.g. `["A", "B", "C", "D"]`.
    pub candidates: Vec<String>,
    /// Byte length of the leading part of a [`Prompt::Text`] prompt that other requests
    /// of the run share (system text, instructions, worked examples;
    /// [`anesbench_core::prompt::shared_prefix_len`]). A backend may decode it once and
    /// reuse its state; it never changes what is asked. `None`: no hint.
    pub shared_prefix: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoglikResponse {
    /// Log-probability per candidate, same order as the request.
    pub logprobs: Vec<f64>,
    pub prompt_tokens: Option<u32>,
    pub endpoint: Option<String>,
}

/// What a backend is, for the manifest. Never holds a secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// `openai-chat`, `openai-completions`, `llama`, `mock`.
    pub kind: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
    /// Settings that change scores (threads, batch, build, context) for the manifest.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// Why a backend call failed. `retryable()` tells the runner whether to try again.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BackendError {
    #[error("HTTP {status} from {url}: {body}")]
    Http {
        status: u16,
        url: String,
        body: String,
        retry_after: Option<std::time::Duration>,
    },
    #[error("request to {url} timed out after {secs:.1}s")]
    Timeout { url: String, secs: f64 },
    #[error("connection to {url} failed: {message}")]
    Connect { url: String, message: String },
    #[error("unparseable response from {url}: {message}")]
    BadBody { url: String, message: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("no endpoint left: {0}")]
    NoEndpoint(String),
    #[error("{0}")]
    Other(String),
}

impl BackendError {
    /// 429, 5xx, timeouts, connection errors, unparseable bodies and "no endpoint left"
    /// are retried. `NoEndpoint` is retryable because endpoints taken out are probed
    /// again with backoff and come back when their server does (a restart), so a later
    /// attempt can succeed; the runner's retry limit still bounds the wait.
    pub fn retryable(&self) -> bool {
        match self {
            BackendError::Http { status, .. } => *status == 429 || *status >= 500,
            BackendError::Timeout { .. }
            | BackendError::Connect { .. }
            | BackendError::BadBody { .. }
            | BackendError::NoEndpoint(_) => true,
            BackendError::Unsupported(_) | BackendError::Other(_) => false,
        }
    }

    /// The same error with every URL redacted ([`crate::redact_url`]) and `secrets`,
    /// bearer tokens and `sk-...` keys masked in every message and body.
    pub fn redacted(self, secrets: &[String]) -> Self {
        use crate::redact::{redact_text, redact_url};
        let text = |s: String| redact_text(&s, secrets);
        let url = |u: String| redact_text(&redact_url(&u), secrets);
        match self {
            BackendError::Http {
                status,
                url: u,
                body,
                retry_after,
            } => BackendError::Http {
                status,
                url: url(u),
                body: text(body),
                retry_after,
            },
            BackendError::Timeout { url: u, secs } => BackendError::Timeout { url: url(u), secs },
            BackendError::Connect { url: u, message } => BackendError::Connect {
                url: url(u),
                message: text(message),
            },
            BackendError::BadBody { url: u, message } => BackendError::BadBody {
                url: url(u),
                message: text(message),
            },
            BackendError::Unsupported(m) => BackendError::Unsupported(text(m)),
            BackendError::NoEndpoint(m) => BackendError::NoEndpoint(text(m)),
            BackendError::Other(m) => BackendError::Other(text(m)),
        }
    }
    /// Server-requested wait (`Retry-After`), if any.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            BackendError::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}
