//! Settings for the OpenAI-compatible client. `Debug` is written by hand so the API key
//! can never reach a log line through `{:?}`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::redact::redact_url;

/// Which OpenAI route generation uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiStyle {
    /// `POST {base}/v1/chat/completions` with `messages` (the default).
    #[default]
    Chat,
    /// `POST {base}/v1/completions` with a `prompt` string (chat messages are joined by
    /// blank lines; no chat template is applied).
    Completions,
}

impl ApiStyle {
    pub fn kind(self) -> &'static str {
        match self {
            ApiStyle::Chat => "openai-chat",
            ApiStyle::Completions => "openai-completions",
        }
    }
}

impl std::str::FromStr for ApiStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "chat" => Ok(ApiStyle::Chat),
            "completions" | "completion" => Ok(ApiStyle::Completions),
            other => Err(format!(
                "unknown API style `{other}` (expected chat or completions)"
            )),
        }
    }
}

/// Whether several samples of one prompt go out as one request with `"n": N`
/// (`--n-per-request`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NPerRequest {
    /// Send `n` where the endpoint keeps it: [`super::OpenAiBackend::probe_n`] asks each
    /// endpoint once (a two-choice, one-token request), and an endpoint that returns
    /// fewer choices than asked, at the probe or later, gets one sample per request from
    /// then on. The default.
    #[default]
    Auto,
    /// Send `n` without probing. A reply with fewer choices still marks the endpoint as
    /// ignoring `n`, and the missing samples are asked for one at a time.
    On,
    /// One sample per request, each with its own seed (llama.cpp's server ignores `n`).
    Off,
}

impl NPerRequest {
    pub fn name(self) -> &'static str {
        match self {
            NPerRequest::Auto => "auto",
            NPerRequest::On => "on",
            NPerRequest::Off => "off",
        }
    }
}

impl std::str::FromStr for NPerRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(NPerRequest::Auto),
            "on" | "yes" | "true" => Ok(NPerRequest::On),
            "off" | "no" | "false" => Ok(NPerRequest::Off),
            other => Err(format!(
                "unknown n-per-request setting `{other}` (expected auto, on or off)"
            )),
        }
    }
}

/// Everything [`super::OpenAiBackend::new`] needs.
#[derive(Clone)]
pub struct OpenAiConfig {
    /// Base URLs, with or without a trailing `/v1` (`http://host:8000`, `http://host:8000/v1/`).
    pub endpoints: Vec<String>,
    /// Model name sent in each request. `None`: call `discover_model()` before the run.
    pub model: Option<String>,
    /// Sent as `Authorization: Bearer <key>`. Read by the caller from an environment
    /// variable; never logged, never in `describe()` or `Debug`.
    pub api_key: Option<String>,
    pub style: ApiStyle,
    /// Whole-request limit (connect + send + wait + read).
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Consecutive connection failures (refused, unreachable, connect timeout) after
    /// which an endpoint is taken out of rotation.
    pub dead_after: u32,
    /// First wait before an endpoint taken out is probed again (`GET /v1/models`); it
    /// doubles after each failed probe up to [`Self::probe_backoff_max`], and resets
    /// when the endpoint answers and is put back in.
    pub probe_backoff: Duration,
    pub probe_backoff_max: Duration,
    /// Largest reply body read, in bytes; a bigger one fails with
    /// [`crate::BackendError::BadBody`] instead of being buffered.
    pub max_body_bytes: usize,
    /// Several samples of one prompt in one request (`"n": N`), see [`NPerRequest`].
    pub n_per_request: NPerRequest,
}

/// Default [`OpenAiConfig::max_body_bytes`]: 64 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 << 20;

impl Default for OpenAiConfig {
    fn default() -> Self {
        OpenAiConfig {
            endpoints: Vec::new(),
            model: None,
            api_key: None,
            style: ApiStyle::Chat,
            request_timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(10),
            dead_after: 3,
            probe_backoff: Duration::from_millis(500),
            probe_backoff_max: Duration::from_secs(30),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            n_per_request: NPerRequest::Auto,
        }
    }
}

impl OpenAiConfig {
    /// One endpoint, everything else default.
    pub fn new(endpoint: impl Into<String>) -> Self {
        OpenAiConfig {
            endpoints: vec![endpoint.into()],
            ..Default::default()
        }
    }
}

impl fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field(
                "endpoints",
                &self
                    .endpoints
                    .iter()
                    .map(|e| redact_url(e))
                    .collect::<Vec<_>>(),
            )
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("style", &self.style)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("dead_after", &self.dead_after)
            .field("probe_backoff", &self.probe_backoff)
            .field("probe_backoff_max", &self.probe_backoff_max)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("n_per_request", &self.n_per_request)
            .finish()
    }
}

/// `http://h:8000/v1/` -> `http://h:8000`; the client appends `/v1/...` itself.
/// A query string is kept and moved after the path the client appends
/// (`http://h/v1?k=x` -> `http://h?k=x`, requests go to `http://h/v1/...?k=x`).
/// Error messages show the URL redacted ([`redact_url`]).
pub fn normalize_base(url: &str) -> Result<String, String> {
    let url = url.trim();
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (url, None),
    };
    let trimmed = path.trim_end_matches('/');
    let base = trimmed
        .strip_suffix("/v1")
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    let shown = redact_url(url);
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(format!(
            "endpoint `{shown}` is not an http(s) URL (hint: write it like http://127.0.0.1:8000 or https://api.example.com/v1)"
        ));
    }
    if base.len() <= "https://".len() {
        return Err(format!("endpoint `{shown}` has no host"));
    }
    Ok(match query.filter(|q| !q.is_empty()) {
        Some(q) => format!("{base}?{q}"),
        None => base.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_accept_v1_and_slashes() {
        for u in [
            "http://h:8000",
            "http://h:8000/",
            "http://h:8000/v1",
            "http://h:8000/v1/",
            " http://h:8000/v1 ",
        ] {
            assert_eq!(normalize_base(u).unwrap(), "http://h:8000", "{u}");
        }
        assert_eq!(
            normalize_base("https://api.x.com/openai/v1").unwrap(),
            "https://api.x.com/openai"
        );
        assert!(normalize_base("h:8000").unwrap_err().contains("h:8000"));
        assert!(normalize_base("http://").is_err());
        assert_eq!(
            normalize_base("http://u:p@h:1/v1/?api_key=k").unwrap(),
            "http://u:p@h:1?api_key=k"
        );
        let e = normalize_base("ftp://u:hunter2@h?k=sekrit").unwrap_err();
        assert!(
            !e.contains("hunter2") && !e.contains("sekrit") && e.contains("***@h"),
            "{e}"
        );
    }

    #[test]
    fn debug_redacts_key() {
        let c = OpenAiConfig {
            api_key: Some("sk-secret-123".into()),
            ..OpenAiConfig::new("http://u:hunter2@x?k=sekrit")
        };
        let s = format!("{c:?}");
        assert!(
            !s.contains("sk-secret-123")
                && s.contains("<redacted>")
                && !s.contains("hunter2")
                && !s.contains("sekrit"),
            "{s}"
        );
    }
}
