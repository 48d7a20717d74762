//! Resolved run settings: one serde struct that a config file (TOML, YAML or JSON, or a
//! run's own `manifest.json`) fills, command-line flags override, and the manifest stores.
//!
//! Fields are split into those that change results (a resumed run or a merged shard must
//! match on them) and those that only change how the run is carried out (concurrency,
//! timeouts, which server), listed in [`OPERATIONAL_FIELDS`].

use std::path::{Path, PathBuf};

pub use anesbench_core::permute::Permute;
use anesbench_core::prompt::PromptStyle;
use anesbench_core::{Lang, Level};
use serde::{Deserialize, Serialize};

use crate::shard::Shard;

/// Default number of requests in flight: enough to keep a batching server (vLLM, SGLang) busy.
pub const DEFAULT_CONCURRENCY: usize = 64;
pub const DEFAULT_MAX_RETRIES: u32 = 5;
pub const DEFAULT_TIMEOUT_SECS: f64 = 600.0;

/// Settings that may differ between a run and its resume: they change how fast or where
/// a run goes, not what it produces. The shard is not among them: a resumed shard with
/// another slice would mix two selections in one directory.
pub const OPERATIONAL_FIELDS: &[&str] = &[
    "concurrency",
    "timeout_secs",
    "max_retries",
    "out",
    "endpoints",
    "api_key_env",
    "n_per_request",
    "prefix_cache",
    "reward_endpoint",
    "reward_api_key_env",
];

/// Default output limit for generation, sent whatever the API style: without one,
/// `/v1/completions` on vLLM, SGLang and OpenAI stops after 16 tokens.
pub const DEFAULT_MAX_TOKENS: u32 = 2048;

/// Config-file keys are the long flag names (`-` or `_`); these differ from the field.
pub const KEY_ALIASES: &[(&str, &str)] = &[
    ("prompt", "prompt_style"),
    ("endpoint", "endpoints"),
    ("gguf", "model_path"),
    ("api", "api_style"),
    ("timeout", "timeout_secs"),
];

/// Fields that hold a list; a config file may give one value as a plain string.
const LIST_FIELDS: &[&str] = &["endpoints", "stop", "lang", "level"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// OpenAI-compatible HTTP server(s).
    #[default]
    Http,
    /// llama.cpp linked into the binary, reading a GGUF file.
    Embedded,
}

/// The one API style type: the HTTP backend's own (`chat` or `completions`).
pub use anesbench_backend::openai::ApiStyle;

/// Whether several samples of one prompt go out as one HTTP request with `n`
/// (`--n-per-request auto|on|off`); how a run is carried out, not what it asks for.
pub use anesbench_backend::openai::NPerRequest;

/// How an item becomes an answer (`--strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Strategy {
    /// One sample (temperature 0 unless set otherwise): today's plain run.
    #[default]
    Greedy,
    /// `sc:N`: N samples, majority vote on the extracted letter
    /// ([`anesbench_core::vote`]).
    SelfConsistency(u32),
    /// `bon:N:likelihood`: N samples; the one with the highest mean token
    /// log-probability under the policy itself decides.
    BestOfNLikelihood(u32),
    /// `bon:N:prm[:AGG[:SEL]]` / `bon:N:orm[:SEL]`: N samples scored by a reward model
    /// (per step, or as a whole), the decision by [`Aggregation::Reward`].
    BestOfNReward {
        n: u32,
        kind: RewardKind,
        agg: StepAgg,
        select: Selection,
    },
    /// `beam:W,B,T[:AGG[:SEL]]`: step-level beam search; W expansions per beam, the B
    /// best kept, a step ends at a blank line or after T tokens.
    Beam {
        width: u32,
        beams: u32,
        step_tokens: u32,
        agg: StepAgg,
        select: Selection,
    },
    /// `dvts:N,M[,T][:AGG[:SEL]]`: N/M independent subtrees, each expanding M
    /// continuations of its one best beam per step.
    Dvts {
        n: u32,
        width: u32,
        step_tokens: u32,
        agg: StepAgg,
        select: Selection,
    },
}

/// Which reward a best-of-N strategy reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RewardKind {
    /// Per-step rewards from a process reward model.
    Prm,
    /// One reward per answer from an outcome reward model.
    Orm,
}

/// Step tokens of a DVTS step when the strategy does not say (the study's value).
pub const DEFAULT_STEP_TOKENS: u32 = 32;
/// Most steps a search takes before its unfinished beams end (search-and-learn's
/// `num_iterations`).
pub const MAX_SEARCH_STEPS: u32 = 40;

/// `--strategy study:NAME` and what each stands for.
pub const PRESETS: &[(&str, &str)] = &[
    ("study:bon4", "bon:4:prm:last:max"),
    ("study:bon8", "bon:8:prm:last:max"),
    ("study:beam4", "beam:4,4,32:last:max"),
    ("study:beam8", "beam:8,8,32:last:max"),
];

use anesbench_core::vote::{Aggregation, Selection, StepAgg};

impl Strategy {
    /// Candidates per item.
    pub fn candidates(self) -> u32 {
        match self {
            Strategy::Greedy => 1,
            Strategy::SelfConsistency(n) | Strategy::BestOfNLikelihood(n) => n,
            Strategy::BestOfNReward { n, .. } => n,
            Strategy::Beam { beams, .. } => beams,
            Strategy::Dvts { n, width, .. } => n / width.max(1),
        }
    }
    /// How the per-item decision is derived from the candidates.
    pub fn aggregation(self) -> Aggregation {
        match self {
            Strategy::BestOfNLikelihood(_) => Aggregation::BestLikelihood,
            Strategy::BestOfNReward { agg, select, .. }
            | Strategy::Beam { agg, select, .. }
            | Strategy::Dvts { agg, select, .. } => Aggregation::Reward(agg, select),
            _ => Aggregation::Majority,
        }
    }
    /// Whether candidates need their token log-probabilities.
    pub fn needs_logprobs(self) -> bool {
        !matches!(self, Strategy::Greedy)
    }
    /// A step-level search (`beam`, `dvts`): one search per item makes all its candidates.
    pub fn is_search(self) -> bool {
        matches!(self, Strategy::Beam { .. } | Strategy::Dvts { .. })
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Greedy => write!(f, "greedy"),
            Strategy::SelfConsistency(n) => write!(f, "sc:{n}"),
            Strategy::BestOfNLikelihood(n) => write!(f, "bon:{n}:likelihood"),
            Strategy::BestOfNReward {
                n,
                kind: RewardKind::Prm,
                agg,
                select,
            } => write!(f, "bon:{n}:prm:{}:{}", agg.name(), select.name()),
            Strategy::BestOfNReward {
                n,
                kind: RewardKind::Orm,
                select,
                ..
            } => write!(f, "bon:{n}:orm:{}", select.name()),
            Strategy::Beam {
                width,
                beams,
                step_tokens,
                agg,
                select,
            } => write!(
                f,
                "beam:{width},{beams},{step_tokens}:{}:{}",
                agg.name(),
                select.name()
            ),
            Strategy::Dvts {
                n,
                width,
                step_tokens,
                agg,
                select,
            } => write!(
                f,
                "dvts:{n},{width},{step_tokens}:{}:{}",
                agg.name(),
                select.name()
            ),
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hint = "expected `greedy`, `sc:N`, `bon:N:likelihood`, `bon:N:prm[:AGG[:SEL]]`, `bon:N:orm[:SEL]`, `beam:W,B,T[:AGG[:SEL]]`, `dvts:N,M[,T][:AGG[:SEL]]` (AGG last|min|prod|mean, SEL max|weighted) or a preset (study:bon4, study:bon8, study:beam4, study:beam8)";
        let t = s.trim().to_ascii_lowercase();
        if let Some((_, x)) = PRESETS.iter().find(|(p, _)| *p == t) {
            return x.parse();
        }
        let parts: Vec<&str> = t.split(':').collect();
        let n = |x: &str| -> Result<u32, String> {
            match x.parse::<u32>() {
                Ok(n) if n >= 2 => Ok(n),
                _ => Err(format!(
                    "`{s}`: N must be a whole number of at least 2; {hint}"
                )),
            }
        };
        let pos = |x: &str, what: &str| -> Result<u32, String> {
            match x.trim().parse::<u32>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(format!(
                    "`{s}`: {what} must be a whole number of at least 1; {hint}"
                )),
            }
        };
        let agg_sel = |rest: &[&str]| -> Result<(StepAgg, Selection), String> {
            let agg = match rest.first() {
                Some(a) => StepAgg::parse(a)
                    .ok_or_else(|| format!("`{s}`: `{a}` is not an aggregation; {hint}"))?,
                None => StepAgg::Last,
            };
            let sel = match rest.get(1) {
                Some(x) => Selection::parse(x)
                    .ok_or_else(|| format!("`{s}`: `{x}` is not a selection; {hint}"))?,
                None => Selection::Max,
            };
            if rest.len() > 2 {
                return Err(format!("`{s}`: too many parts; {hint}"));
            }
            Ok((agg, sel))
        };
        match parts.as_slice() {
            ["greedy"] => Ok(Strategy::Greedy),
            ["sc", k] => Ok(Strategy::SelfConsistency(n(k)?)),
            ["bon", k] | ["bon", k, "likelihood"] => Ok(Strategy::BestOfNLikelihood(n(k)?)),
            ["bon", k, "prm", rest @ ..] => {
                let (agg, select) = agg_sel(rest)?;
                Ok(Strategy::BestOfNReward {
                    n: n(k)?,
                    kind: RewardKind::Prm,
                    agg,
                    select,
                })
            }
            ["bon", k, "orm", rest @ ..] => {
                let select = match rest {
                    [] => Selection::Max,
                    [x] => Selection::parse(x)
                        .ok_or_else(|| format!("`{s}`: `{x}` is not a selection; {hint}"))?,
                    _ => return Err(format!("`{s}`: too many parts; {hint}")),
                };
                Ok(Strategy::BestOfNReward {
                    n: n(k)?,
                    kind: RewardKind::Orm,
                    agg: StepAgg::Last,
                    select,
                })
            }
            ["bon", _, other, ..] => {
                Err(format!("`{s}`: scorer `{other}` is not available; {hint}"))
            }
            ["beam", knobs, rest @ ..] => {
                let k: Vec<&str> = knobs.split(',').collect();
                let [w, b, tk] = k.as_slice() else {
                    return Err(format!("`{s}`: beam takes W,B,T; {hint}"));
                };
                let (agg, select) = agg_sel(rest)?;
                Ok(Strategy::Beam {
                    width: pos(w, "W (expansions per beam)")?,
                    beams: pos(b, "B (beams kept)")?,
                    step_tokens: pos(tk, "T (step tokens)")?,
                    agg,
                    select,
                })
            }
            ["dvts", knobs, rest @ ..] => {
                let k: Vec<&str> = knobs.split(',').collect();
                let (nn, m, tk) = match k.as_slice() {
                    [nn, m] => (pos(nn, "N")?, pos(m, "M")?, DEFAULT_STEP_TOKENS),
                    [nn, m, tk] => (pos(nn, "N")?, pos(m, "M")?, pos(tk, "T (step tokens)")?),
                    _ => return Err(format!("`{s}`: dvts takes N,M or N,M,T; {hint}")),
                };
                if nn % m != 0 {
                    return Err(format!(
                        "`{s}`: N ({nn}) must be a multiple of M ({m}): N/M subtrees of width M"
                    ));
                }
                let (agg, select) = agg_sel(rest)?;
                Ok(Strategy::Dvts {
                    n: nn,
                    width: m,
                    step_tokens: tk,
                    agg,
                    select,
                })
            }
            _ => Err(format!("unknown strategy `{s}`; {hint}")),
        }
    }
}

impl TryFrom<String> for Strategy {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Strategy> for String {
    fn from(s: Strategy) -> String {
        s.to_string()
    }
}

/// Whether the prompt goes through a chat template before the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatTemplate {
    /// The prompt is sent as plain text (loglik mode, `--api completions`).
    #[default]
    None,
    /// Chat messages, formatted by the model's own template: the server's for
    /// `/v1/chat/completions`, the GGUF's for the embedded backend.
    Model,
}

impl ChatTemplate {
    pub fn name(self) -> &'static str {
        match self {
            ChatTemplate::None => "none",
            ChatTemplate::Model => "model",
        }
    }
}

impl std::str::FromStr for ChatTemplate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "plain" => Ok(ChatTemplate::None),
            "model" | "gguf" | "server" => Ok(ChatTemplate::Model),
            o => Err(format!(
                "unknown chat template `{o}` (expected none or model)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Free generation, then answer extraction.
    #[default]
    Generate,
    /// Log-probability of each option letter after the answer cue; answer = argmax.
    Loglik,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Generate => "generate",
            Mode::Loglik => "loglik",
        }
    }
}

/// Everything a run needs to know, resolved and validated. Secrets are never held here:
/// only the *name* of the environment variable that holds the API key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Benchmark source as the loaders accept it (`demo`, a path, `hf:OWNER/NAME`).
    pub dataset: String,
    /// Languages to keep; empty keeps all.
    pub lang: Vec<Lang>,
    /// Levels to keep; empty keeps all.
    pub level: Vec<Level>,
    /// First N items after the language/level filters (applied before sharding, so shards
    /// of a limited run still add up to the limited run).
    pub limit: Option<usize>,
    /// `i/n`, 1-based: this run takes slice i of n.
    pub shard: Option<Shard>,
    pub backend: BackendKind,
    /// Base URLs of OpenAI-compatible servers (`http://host:port` or `.../v1`).
    pub endpoints: Vec<String>,
    /// Model name as served; discovered from `/v1/models` when absent.
    pub model: Option<String>,
    /// Name of the environment variable holding the API key (never the key).
    pub api_key_env: Option<String>,
    pub api_style: ApiStyle,
    /// GGUF file (or `hf:` spec) for the embedded backend.
    pub model_path: Option<PathBuf>,
    pub mode: Mode,
    pub prompt_style: PromptStyle,
    pub shots: usize,
    /// minijinja template file, overriding `prompt_style`.
    pub template: Option<PathBuf>,
    /// Chat template applied to the prompt (resolved: `none` in loglik mode and with
    /// `--api completions`, `model` for chat generation).
    pub chat_template: ChatTemplate,
    /// Sampling temperature; resolved to an explicit 0 for a single greedy sample.
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    pub stop: Vec<String>,
    /// Extra JSON fields merged into each request body (`chat_template_kwargs`, ...).
    pub extra_body: Option<serde_json::Map<String, serde_json::Value>>,
    /// How an item becomes an answer; its N is `samples`.
    pub strategy: Strategy,
    /// Candidates per item (the strategy's N; 1 for greedy).
    pub samples: u32,
    pub concurrency: usize,
    /// Per-request timeout, seconds.
    pub timeout_secs: f64,
    /// Retries after the first attempt on retryable errors.
    pub max_retries: u32,
    /// HTTP: several samples of one item in one request with `"n": N` where the server
    /// keeps it (`auto`, probed), always (`on`) or never (`off`).
    pub n_per_request: NPerRequest,
    /// Embedded, loglik: decode the prompt prefix the questions share once and copy its
    /// KV state into each question (`--prefix-cache on|off`). Scores are the same numbers
    /// either way (tests/solver.rs in anesbench-llama), so it may change on resume.
    pub prefix_cache: bool,
    /// Embedded: llama.cpp's flash attention (`--flash-attn on|off`, on by default). It
    /// sums attention in f32 where the path without it rounds to f16, so scores move (by
    /// up to 0.23 nats on SmolLM2 5-shot) and a run resumes only with the setting it
    /// started with. `None` on HTTP runs,
    /// whose server decides (`llama-server -fa`). An embedded run written before the
    /// setting existed ran without it ([`Settings::resolved_flash_attn`]).
    pub flash_attn: Option<bool>,
    /// Run directory.
    pub out: Option<PathBuf>,
    /// Parameter count in billions, for reports (parsed from the model name when absent).
    pub param_count: Option<f64>,
    /// `--permute`: ask each item in several option orders ([`Permute`]); each order is
    /// one candidate. Always serialised (as `null` when off), so the resume check sees it.
    pub permute: Option<Permute>,
    /// Reward-model server (`bon:N:prm|orm`; `beam`/`dvts` use the policy's likelihood
    /// without one).
    pub reward_endpoint: Option<String>,
    /// Reward model name as served; discovered from `/v1/models` when absent.
    pub reward_model: Option<String>,
    /// Which API the reward server speaks.
    pub reward_api: Option<RewardApi>,
    /// How a candidate becomes the text the reward model reads.
    pub reward_format: Option<RewardFormat>,
    /// Name of the environment variable holding the reward server's API key.
    pub reward_api_key_env: Option<String>,
}

pub use anesbench_backend::reward::{RewardApi, RewardFormat};

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dataset: "demo".into(),
            lang: Vec::new(),
            level: Vec::new(),
            limit: None,
            shard: None,
            backend: BackendKind::Http,
            endpoints: Vec::new(),
            model: None,
            api_key_env: None,
            api_style: ApiStyle::Chat,
            model_path: None,
            mode: Mode::Generate,
            prompt_style: PromptStyle::Cot,
            shots: 0,
            template: None,
            chat_template: ChatTemplate::None,
            temperature: None,
            top_p: None,
            max_tokens: None,
            seed: None,
            stop: Vec::new(),
            extra_body: None,
            strategy: Strategy::Greedy,
            samples: 1,
            concurrency: DEFAULT_CONCURRENCY,
            timeout_secs: DEFAULT_TIMEOUT_SECS,
            max_retries: DEFAULT_MAX_RETRIES,
            n_per_request: NPerRequest::Auto,
            prefix_cache: true,
            flash_attn: None,
            out: None,
            param_count: None,
            permute: None,
            reward_endpoint: None,
            reward_model: None,
            reward_api: None,
            reward_format: None,
            reward_api_key_env: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path}: {message}\nhint: keys are the long flag names, with `-` or `_` (e.g. `max-tokens`, `endpoint`, `prompt`, `gguf`, `api-key-env`)")]
    Parse { path: PathBuf, message: String },
    #[error("invalid `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        field,
        message: message.into(),
    }
}

impl Settings {
    /// Read a config file: TOML (`.toml`), YAML (`.yaml`/`.yml`) or JSON (anything else).
    /// A run's `manifest.json` is accepted too: its `settings` object is the config.
    pub fn from_file(path: &Path) -> Result<Settings, SettingsError> {
        Settings::from_file_with_keys(path).map(|(s, _)| s)
    }

    /// [`Settings::from_file`], plus the fields the file set (so a caller can tell a value
    /// the file chose from a default).
    pub fn from_file_with_keys(path: &Path) -> Result<(Settings, Vec<String>), SettingsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.into(),
            source,
        })?;
        let parse_err = |message: String| SettingsError::Parse {
            path: path.into(),
            message,
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let value: serde_json::Value = match ext.as_str() {
            "toml" => toml::from_str(&text).map_err(|e| parse_err(e.to_string()))?,
            "yaml" | "yml" => {
                serde_yaml_ng::from_str(&text).map_err(|e| parse_err(e.to_string()))?
            }
            _ => serde_json::from_str(&text).map_err(|e| parse_err(e.to_string()))?,
        };
        let value = match value {
            serde_json::Value::Object(mut m)
                if m.contains_key("run_schema") && m.contains_key("settings") =>
            {
                m.remove("settings").unwrap_or_default()
            }
            v => v,
        };
        let value = normalize_keys(value).map_err(parse_err)?;
        let keys = value
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let settings = serde_json::from_value(value).map_err(|e| parse_err(e.to_string()))?;
        Ok((settings, keys))
    }

    /// Check values that serde cannot; errors name the flag / field at fault.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.dataset.trim().is_empty() {
            return Err(invalid(
                "dataset",
                "empty; use `demo`, a path or `hf:OWNER/NAME`",
            ));
        }
        if self.concurrency == 0 {
            return Err(invalid("concurrency", "must be at least 1"));
        }
        if self.samples == 0 {
            return Err(invalid("samples", "must be at least 1"));
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0) {
            return Err(invalid(
                "timeout",
                format!(
                    "must be a positive number of seconds, got {}",
                    self.timeout_secs
                ),
            ));
        }
        if self.limit == Some(0) {
            return Err(invalid(
                "limit",
                "must be at least 1 (leave it out for all items)",
            ));
        }
        if let Some(t) = self.temperature {
            if !(0.0..=5.0).contains(&t) {
                return Err(invalid("temperature", format!("{t} is outside 0..=5")));
            }
        }
        if let Some(p) = self.top_p {
            if !(p > 0.0 && p <= 1.0) {
                return Err(invalid("top_p", format!("{p} is outside (0, 1]")));
            }
        }
        if self.max_tokens == Some(0) {
            return Err(invalid("max_tokens", "must be at least 1"));
        }
        match self.backend {
            BackendKind::Http => {
                if self.endpoints.is_empty() {
                    return Err(invalid(
                        "endpoint",
                        "the http backend needs at least one `--endpoint URL`",
                    ));
                }
                for e in &self.endpoints {
                    if !(e.starts_with("http://") || e.starts_with("https://")) {
                        return Err(invalid(
                            "endpoint",
                            format!("`{e}` is not an http:// or https:// URL"),
                        ));
                    }
                }
                if self.model_path.is_some() {
                    return Err(invalid(
                        "model_path",
                        "only the embedded backend reads a GGUF file; drop --endpoint to use it",
                    ));
                }
            }
            BackendKind::Embedded => {
                if !self.endpoints.is_empty() {
                    return Err(invalid(
                        "endpoint",
                        "the embedded backend takes no endpoints",
                    ));
                }
                if self.model_path.is_none() {
                    return Err(invalid(
                        "model_path",
                        "with no `--endpoint` the embedded backend runs and needs a GGUF file (`--gguf PATH`); give `--endpoint URL` for a served model",
                    ));
                }
            }
        }
        if let Some(var) = &self.api_key_env {
            if var.is_empty() || var.contains('=') || var.chars().any(char::is_whitespace) {
                return Err(invalid(
                    "api_key_env",
                    format!("`{var}` is not an environment variable name"),
                ));
            }
        }
        if self.samples != self.strategy.candidates() {
            return Err(invalid(
                "samples",
                format!(
                    "{} samples per item do not match strategy `{}` ({} candidates)",
                    self.samples,
                    self.strategy,
                    self.strategy.candidates()
                ),
            ));
        }
        if self.mode == Mode::Loglik && self.samples > 1 {
            return Err(invalid(
                "samples",
                "loglik mode is deterministic: use one sample per item",
            ));
        }
        if self.mode == Mode::Generate && self.samples > 1 {
            match self.temperature {
                Some(t) if t > 0.0 => {}
                Some(_) => {
                    return Err(invalid(
                        "samples",
                        format!(
                            "{} samples at temperature 0 are {} copies of one answer; give `--temperature` above 0 for self-consistency",
                            self.samples, self.samples
                        ),
                    ))
                }
                None => {
                    return Err(invalid(
                        "temperature",
                        "several samples per item need an explicit `--temperature` above 0 (the server's default is unknown)",
                    ))
                }
            }
        }
        self.validate_permute()?;
        if self.chat_template == ChatTemplate::Model {
            if self.mode == Mode::Loglik {
                return Err(invalid(
                    "chat_template",
                    "loglik mode scores the token after a plain-text prompt; a chat template is not applied there (use `--chat-template none`)",
                ));
            }
            if self.api_style == ApiStyle::Completions && self.backend == BackendKind::Http {
                return Err(invalid(
                    "chat_template",
                    "`--api completions` sends plain text, which the server does not template; use `--api chat` for the model's template",
                ));
            }
        }
        self.validate_reward()?;
        Ok(())
    }

    /// The reward model and the strategies that read it.
    fn validate_reward(&self) -> Result<(), SettingsError> {
        let uses_reward =
            matches!(self.strategy, Strategy::BestOfNReward { .. }) || self.strategy.is_search();
        if let Some(e) = &self.reward_endpoint {
            if !uses_reward {
                return Err(invalid(
                    "reward_endpoint",
                    format!("strategy `{}` reads no reward model", self.strategy),
                ));
            }
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(invalid(
                    "reward_endpoint",
                    format!(
                        "`{}` is not an http:// or https:// URL",
                        anesbench_backend::redact_url(e)
                    ),
                ));
            }
            if self.reward_api.is_none() {
                return Err(invalid(
                    "reward_api",
                    "a reward endpoint needs `--reward-api vllm-pooling|vllm-classify|vllm-score|sglang-classify`",
                ));
            }
        } else if self.reward_api.is_some() || self.reward_model.is_some() {
            return Err(invalid(
                "reward_endpoint",
                "`--reward-api` / `--reward-model` need `--reward-endpoint URL`",
            ));
        }
        if let Strategy::BestOfNReward { kind, .. } = self.strategy {
            if self.reward_endpoint.is_none() {
                return Err(invalid(
                    "reward_endpoint",
                    format!(
                        "strategy `{}` needs a reward model (`--reward-endpoint URL --reward-api ...`); `bon:N:likelihood` needs none",
                        self.strategy
                    ),
                ));
            }
            if kind == RewardKind::Prm && self.reward_api != Some(RewardApi::VllmPooling) {
                return Err(invalid(
                    "reward_api",
                    "`bon:N:prm` reads per-step rewards, which only `--reward-api vllm-pooling` gives; use `bon:N:orm` for one score per answer",
                ));
            }
        }
        if self.strategy.is_search() && self.mode != Mode::Generate {
            return Err(invalid(
                "mode",
                format!(
                    "strategy `{}` generates steps: use `--mode generate`",
                    self.strategy
                ),
            ));
        }
        if let Strategy::Beam { width, beams, .. }
        | Strategy::Dvts {
            width, n: beams, ..
        } = self.strategy
        {
            if width * beams > 1 && !self.temperature.is_some_and(|t| t > 0.0) {
                return Err(invalid(
                    "temperature",
                    format!(
                        "strategy `{}` expands several continuations per step, which are copies of one another at temperature 0; give `--temperature` above 0",
                        self.strategy
                    ),
                ));
            }
        }
        if let Some(var) = &self.reward_api_key_env {
            if var.is_empty() || var.contains('=') || var.chars().any(char::is_whitespace) {
                return Err(invalid(
                    "reward_api_key_env",
                    format!("`{var}` is not an environment variable name"),
                ));
            }
        }
        Ok(())
    }

    /// How to load the dataset: a single `--lang` also tells the loader the language of
    /// files that do not say it. Eval and rescore both use this, so they read the same items.
    pub fn load_options(&self) -> anesbench_core::load::LoadOptions {
        anesbench_core::load::LoadOptions {
            lang: (self.lang.len() == 1).then(|| self.lang[0]),
            ..Default::default()
        }
    }

    /// Model name for the manifest and the default run name.
    pub fn model_label(&self) -> String {
        if let Some(m) = &self.model {
            return m.clone();
        }
        if let Some(p) = &self.model_path {
            return p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "model".into());
        }
        "model".into()
    }

    /// What the run does per item, for the manifest: `loglik`, `greedy` (one sample at
    /// an explicit temperature 0), `sampled` (one sample at another or the server's
    /// temperature), `self-consistency:N`.
    pub fn solver_label(&self) -> String {
        match (self.mode, self.strategy) {
            (Mode::Loglik, _) => "loglik".into(),
            (Mode::Generate, Strategy::SelfConsistency(n)) => format!("self-consistency:{n}"),
            (Mode::Generate, Strategy::BestOfNLikelihood(n)) => {
                format!("best-of-n:{n}:likelihood")
            }
            (
                Mode::Generate,
                Strategy::BestOfNReward {
                    n,
                    kind,
                    agg,
                    select,
                },
            ) => {
                let k = match kind {
                    RewardKind::Prm => "prm",
                    RewardKind::Orm => "orm",
                };
                format!("best-of-n:{n}:{k}:{}:{}", agg.name(), select.name())
            }
            (Mode::Generate, st @ (Strategy::Beam { .. } | Strategy::Dvts { .. })) => {
                st.to_string()
            }
            (Mode::Generate, Strategy::Greedy) if self.temperature == Some(0.0) => "greedy".into(),
            (Mode::Generate, Strategy::Greedy) => "sampled".into(),
        }
    }

    /// `--permute` asks one candidate per order: it combines with one candidate per
    /// order (`greedy` or loglik), not with sampling strategies.
    fn validate_permute(&self) -> Result<(), SettingsError> {
        if self.permute.is_some() && self.samples > 1 {
            return Err(invalid(
                "permute",
                format!(
                    "each option order is one candidate; it does not combine with `--strategy {}` ({} samples per item); use greedy or loglik",
                    self.strategy, self.samples
                ),
            ));
        }
        Ok(())
    }

    /// The solver label with the permutation (`loglik+circular`,
    /// `greedy+shuffle:4:7`), so readers pick the identity-order decision
    /// ([`anesbench_core::vote::Aggregation::for_solver`]).
    pub fn permuted_label(&self, solver: &str) -> String {
        match self.permute {
            Some(p) => format!("{solver}+{p}"),
            None => solver.to_string(),
        }
    }

    /// The per-item decision rule of the run.
    pub fn aggregation(&self) -> anesbench_core::vote::Aggregation {
        match self.permute {
            Some(_) => anesbench_core::vote::Aggregation::IdentityOrder,
            None => self.strategy.aggregation(),
        }
    }

    /// How the selection differs from the whole dataset, for the manifest.
    pub fn subset(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.lang.is_empty() {
            let l: Vec<_> = self.lang.iter().map(|l| l.code()).collect();
            out.push(format!("lang {}", l.join(",")));
        }
        if !self.level.is_empty() {
            let l: Vec<_> = self.level.iter().map(|l| l.key()).collect();
            out.push(format!("level {}", l.join(",")));
        }
        if let Some(n) = self.limit {
            out.push(format!("limit {n}"));
        }
        if let Some(s) = self.shard {
            out.push(format!("shard {s}"));
        }
        out
    }

    /// Fields that may not change between a run and its resume.
    pub fn resume_changes(&self, new: &Settings) -> Vec<(String, String, String)> {
        // Both sides as they ran, so an old shard merges with a new one either way round.
        let (mut old, mut new) = (self.clone(), new.clone());
        old.flash_attn = old.resolved_flash_attn();
        new.flash_attn = new.resolved_flash_attn();
        old.changes(&new, OPERATIONAL_FIELDS)
    }

    /// What the embedded model ran with: the setting, or `false` for an embedded run
    /// whose settings predate it (flash attention was always off then); `None` for HTTP.
    pub fn resolved_flash_attn(&self) -> Option<bool> {
        match self.backend {
            BackendKind::Embedded => Some(self.flash_attn.unwrap_or(false)),
            BackendKind::Http => None,
        }
    }

    /// `cot/0-shot`, `direct/3-shot`, `template:<file>/0-shot`.
    pub fn prompt_label(&self) -> String {
        let style = match &self.template {
            Some(t) => format!("template:{}", t.display()),
            None => self.prompt_style.name().to_string(),
        };
        format!("{style}/{}-shot", self.shots)
    }

    /// Fields that differ between two shards of one run (what `merge` checks): the
    /// resume check ([`Settings::resume_changes`]) without the shard, which is what shards
    /// differ in. `(field, old, new)` with values as JSON.
    pub fn result_changes(&self, new: &Settings) -> Vec<(String, String, String)> {
        self.resume_changes(new)
            .into_iter()
            .filter(|(f, _, _)| f != "shard")
            .collect()
    }

    /// Fields that differ, ignoring the named ones.
    pub fn changes(&self, new: &Settings, ignore: &[&str]) -> Vec<(String, String, String)> {
        let a = serde_json::to_value(self).unwrap_or_default();
        let b = serde_json::to_value(new).unwrap_or_default();
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, va) in a {
            if ignore.contains(&k.as_str()) {
                continue;
            }
            let vb = b.get(k).cloned().unwrap_or_default();
            if *va != vb {
                out.push((k.clone(), va.to_string(), vb.to_string()));
            }
        }
        out
    }
}

/// Config keys as flag names -> field names; one string where a list is expected becomes
/// a list of one. Two keys naming one field (`prompt` and `prompt_style`) are an error.
fn normalize_keys(value: serde_json::Value) -> Result<serde_json::Value, String> {
    let serde_json::Value::Object(m) = value else {
        return Ok(value);
    };
    let mut out = serde_json::Map::new();
    for (k, v) in m {
        let flat = k.replace('-', "_");
        let field = KEY_ALIASES
            .iter()
            .find(|(a, _)| *a == flat)
            .map_or(flat.as_str(), |(_, f)| f)
            .to_string();
        let v = match v {
            serde_json::Value::String(_) | serde_json::Value::Number(_)
                if LIST_FIELDS.contains(&field.as_str()) =>
            {
                serde_json::Value::Array(vec![v])
            }
            v => v,
        };
        if out.insert(field.clone(), v).is_some() {
            return Err(format!(
                "`{k}` sets `{field}`, which another key already set"
            ));
        }
    }
    Ok(serde_json::Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http() -> Settings {
        Settings {
            endpoints: vec!["http://127.0.0.1:8000".into()],
            model: Some("m".into()),
            ..Settings::default()
        }
    }

    #[test]
    fn validation_names_the_field() {
        let mut s = http();
        s.concurrency = 0;
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`concurrency`"));
        let mut s = http();
        s.endpoints = vec!["localhost:8000".into()];
        assert!(s.validate().unwrap_err().to_string().contains("`endpoint`"));
        let mut s = http();
        s.api_key_env = Some("A B".into());
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`api_key_env`"));
        assert!(http().validate().is_ok());
    }

    #[test]
    fn settings_from_before_flash_attn_compare_as_off_on_either_side() {
        let mut legacy = http();
        legacy.endpoints = Vec::new();
        legacy.backend = BackendKind::Embedded;
        legacy.flash_attn = None;
        let mut off = legacy.clone();
        off.flash_attn = Some(false);
        assert!(legacy.result_changes(&off).is_empty());
        assert!(off.result_changes(&legacy).is_empty());
        let mut on = legacy.clone();
        on.flash_attn = Some(true);
        assert_eq!(on.result_changes(&legacy)[0].0, "flash_attn");
        assert_eq!(legacy.result_changes(&on)[0].0, "flash_attn");
    }

    #[test]
    fn operational_changes_are_not_result_changes() {
        let a = http();
        let mut b = http();
        b.concurrency = 3;
        b.endpoints = vec!["http://other:1".into()];
        assert!(a.result_changes(&b).is_empty());
        assert!(a.resume_changes(&b).is_empty());
        // Shards of one run differ in their slice; a resume may not.
        b.shard = Some(Shard { index: 2, count: 4 });
        assert!(a.result_changes(&b).is_empty());
        assert_eq!(a.resume_changes(&b)[0].0, "shard");
        b.shard = None;
        b.temperature = Some(0.7);
        b.lang = vec![Lang::Zh];
        let fields: Vec<_> = a.result_changes(&b).into_iter().map(|c| c.0).collect();
        assert_eq!(fields, vec!["lang", "temperature"]);
    }

    #[test]
    fn a_permutation_takes_part_in_the_resume_check_and_old_manifests_read_as_none() {
        let a = http();
        let mut b = http();
        b.permute = Some(Permute::Circular);
        let c = a.resume_changes(&b);
        assert_eq!(c[0].0, "permute");
        assert_eq!(c[0].2, "\"circular\"");
        // Either direction: the old manifest may be the one with the permutation.
        assert_eq!(b.resume_changes(&a)[0].0, "permute");
        // A manifest written before the field existed reads as no permutation.
        let mut v = serde_json::to_value(http()).unwrap();
        v.as_object_mut().unwrap().remove("permute");
        let old: Settings = serde_json::from_value(v).unwrap();
        assert!(old.resume_changes(&a).is_empty());
        let mut s = http();
        s.permute = Some(Permute::Circular);
        s.strategy = Strategy::SelfConsistency(3);
        s.samples = 3;
        s.temperature = Some(0.7);
        assert!(s.validate().unwrap_err().to_string().contains("`permute`"));
    }

    #[test]
    fn toml_yaml_and_manifest_configs_parse() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("c.toml");
        std::fs::write(&t, "dataset = \"x.json\"\nendpoints = [\"http://a\"]\nlang = [\"zh\"]\nlevel = [1, 3]\nshard = \"2/4\"\nmax_tokens = 10\n").unwrap();
        let s = Settings::from_file(&t).unwrap();
        assert_eq!(s.lang, vec![Lang::Zh]);
        assert_eq!(s.level, vec![Level::S1, Level::S2]);
        assert_eq!(s.shard, Some(Shard { index: 2, count: 4 }));
        assert_eq!(s.concurrency, DEFAULT_CONCURRENCY);
        let y = dir.path().join("c.yaml");
        std::fs::write(
            &y,
            "dataset: demo\nmode: loglik\nbackend: embedded\nmodel_path: /m.gguf\n",
        )
        .unwrap();
        let s = Settings::from_file(&y).unwrap();
        assert_eq!(s.mode, Mode::Loglik);
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "max_tokenz = 3\n").unwrap();
        let e = Settings::from_file(&bad).unwrap_err().to_string();
        assert!(e.contains("max_tokenz") && e.contains("bad.toml"), "{e}");
        let m = dir.path().join("manifest.json");
        let manifest = serde_json::json!({"run_schema": 1, "model": "m", "settings": serde_json::to_value(http()).unwrap()});
        std::fs::write(&m, manifest.to_string()).unwrap();
        assert_eq!(Settings::from_file(&m).unwrap(), http());
    }
}
