//! `eval` flags. Their resolution into settings (config file, flags, defaults that depend
//! on other settings) is `anesbench_run::resolve`; this file only maps flags to overrides.

use std::path::PathBuf;

use anesbench_core::prompt::PromptStyle;
use anesbench_core::{Lang, Level};
use anesbench_run::settings::{ApiStyle, ChatTemplate, Mode, NPerRequest, Strategy};
use anesbench_run::shard::ShardSpec;
use anesbench_run::{Overrides, Resolved};

#[derive(clap::Args, Debug, Default)]
pub struct EvalArgs {
    /// Settings file (TOML, YAML or JSON; a run's manifest.json works too). Flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Benchmark source: `demo`, a file or directory, or `hf:OWNER/NAME`.
    #[arg(long, value_name = "SOURCE")]
    pub dataset: Option<String>,
    /// Languages to evaluate, comma-separated (`en,zh`).
    #[arg(long, value_delimiter = ',', value_name = "LANGS")]
    pub lang: Vec<Lang>,
    /// Levels to evaluate, comma-separated (`1,2,3`).
    #[arg(long, value_delimiter = ',', value_name = "LEVELS")]
    pub level: Vec<Level>,
    /// Only the first N items (after the language and level filters).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Take slice i of n (1-based), for running on many machines; see `anesbench merge`.
    /// `auto` takes i and n from a Slurm array or a Kubernetes Indexed Job (`auto/N` gives
    /// n); see docs/SCHEDULERS.md.
    #[arg(long, value_name = "i/n|auto|auto/N")]
    pub shard: Option<ShardSpec>,
    /// Base URL of an OpenAI-compatible server; repeat for several. None: the embedded model.
    #[arg(long = "endpoint", value_name = "URL")]
    pub endpoints: Vec<String>,
    /// Model name as served (default: the first one `/v1/models` lists).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Name of the environment variable holding the API key (the key itself is never stored).
    #[arg(long, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// `chat` (/v1/chat/completions) or `completions` (/v1/completions).
    #[arg(long, value_name = "STYLE", value_parser = parse_api)]
    pub api: Option<ApiStyle>,
    /// GGUF file for the embedded backend (default: the demo model).
    #[arg(long, alias = "model-path", value_name = "PATH")]
    pub gguf: Option<PathBuf>,
    /// `generate` (answer extraction) or `loglik` (option-letter log-probabilities).
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<Mode>,
    /// Built-in prompt: `cot` or `direct` [default: cot; direct in loglik mode].
    #[arg(long, value_name = "STYLE")]
    pub prompt: Option<PromptStyle>,
    /// Worked examples before each question (taken from the demo set).
    #[arg(long, value_name = "K")]
    pub shots: Option<usize>,
    /// minijinja prompt template file, overriding --prompt.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Chat template: `model` (the server's, or the GGUF's for the embedded model) or
    /// `none` (plain text) [default: model for chat generation; none in loglik mode and
    /// with --api completions].
    #[arg(long, value_name = "HOW")]
    pub chat_template: Option<ChatTemplate>,
    /// Sampling temperature [default: 0 (greedy) for one sample per item; required above 0
    /// with --samples N>1].
    #[arg(long, value_name = "T")]
    pub temperature: Option<f64>,
    /// Nucleus sampling threshold in (0, 1] [default: the server's].
    #[arg(long, value_name = "P")]
    pub top_p: Option<f64>,
    /// Most tokens generated per reply [default: 2048, sent with every generation request].
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Sampling seed; sample k of an item uses seed + k [default: none (the server's)].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Stop sequence; repeat for several.
    #[arg(long, value_name = "TEXT")]
    pub stop: Vec<String>,
    /// JSON object merged into each request body, e.g. '{"chat_template_kwargs":{"enable_thinking":false}}'.
    #[arg(long, value_name = "JSON")]
    pub extra_body: Option<String>,
    /// How an item becomes an answer: `greedy` (one sample), `sc:N` (self-consistency: N
    /// samples, majority vote; a tie goes to the tied letter whose samples have the higher
    /// mean token log-probability, else no answer), `bon:N:likelihood` (N samples, the one
    /// with the highest mean token log-probability decides), `bon:N:prm[:AGG[:SEL]]` /
    /// `bon:N:orm[:SEL]` (N samples scored by a reward model), `beam:W,B,T[:AGG[:SEL]]`
    /// (step-level beam search: W expansions per beam, B kept, steps of at most T tokens),
    /// `dvts:N,M[,T][:AGG[:SEL]]`, or a preset `study:bon4|bon8|beam4|beam8`; AGG =
    /// last|min|prod|mean, SEL = max|weighted [default: greedy].
    #[arg(long, value_name = "S")]
    pub strategy: Option<Strategy>,
    /// Ask each item in several option orders, each one candidate record: `circular`
    /// (every rotation, choice_num orders; OpenCompass CircularEval) or `shuffle:K:SEED`
    /// (the original order and K-1 seeded shuffles). Answers are mapped back to the
    /// original letters; the plain accuracy is the original order's, and the report adds
    /// circular accuracy (right in every order) and the picked positions.
    #[arg(long, value_name = "MODE")]
    pub permute: Option<anesbench_run::settings::Permute>,
    /// Samples per item; `--samples N` alone is `--strategy sc:N`.
    #[arg(long, value_name = "N")]
    pub samples: Option<u32>,
    /// Requests in flight at once [default: 64 over HTTP, 1 for the embedded model].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Per-request timeout in seconds (default 600).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Retries of a failed request (429, 5xx, timeout, connection, bad body; default 5).
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
    /// Several samples of one item (`sc:N`, `bon:N`) in one HTTP request with `"n": N`, so
    /// the server prefills the prompt once: `auto` (ask each server once whether it keeps
    /// `n`; llama.cpp's server does not), `on` (send it without asking), `off` (one
    /// request per sample, each with its own seed) [default: auto].
    #[arg(long, value_name = "auto|on|off")]
    pub n_per_request: Option<NPerRequest>,
    /// Embedded model, loglik mode: decode the prompt part the questions share (system
    /// text, instructions, `--shots K` examples) once and copy its KV state into each
    /// question. The scores are the same numbers as without it [default: on].
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub prefix_cache: Option<bool>,
    /// Embedded model: llama.cpp's flash attention (f32 attention sums). About 1.3x faster
    /// on 5-shot prompts; scores move against `off` (SmolLM2 5-shot: up to 0.23 nats), so
    /// a run resumes only with the setting it started with, and `off` reproduces runs made
    /// before it existed. Cached and uncached prompts give the same numbers either way
    /// [default: on].
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    pub flash_attn: Option<bool>,
    /// Run directory (default runs/<model>-<dataset>-<time>); an existing one is resumed.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Parameter count in billions, for reports (default: parsed from the model name).
    #[arg(long, value_name = "B")]
    pub param_count: Option<f64>,
    /// Continue the run in `--out` with the settings in its manifest (flags still override;
    /// a changed setting that affects results is refused). Re-running the same command
    /// into the same directory resumes too.
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// On resume, run again the finished samples whose prompt differs from the one that
    /// would be sent now (an edited template, other prompt wording); without it such a
    /// resume is refused.
    #[arg(long)]
    pub rerun_changed_prompts: bool,
    /// Reward-model server (vLLM or SGLang) for `bon:N:prm|orm`, `beam`, `dvts`; without
    /// one, a search scores steps by the policy's own likelihood.
    #[arg(long, value_name = "URL")]
    pub reward_endpoint: Option<String>,
    /// Reward model name as served (default: the first one its `/v1/models` lists).
    #[arg(long, value_name = "NAME")]
    pub reward_model: Option<String>,
    /// `vllm-pooling` (PRM, per-step `[p_neg, p_pos]`), `vllm-classify`, `vllm-score`
    /// or `sglang-classify`.
    #[arg(long, value_name = "API")]
    pub reward_api: Option<anesbench_run::settings::RewardApi>,
    /// `qwen-prm` (ChatML, steps each followed by `<extra_0>`) or `plain` [default: qwen-prm].
    #[arg(long, value_name = "FORMAT")]
    pub reward_format: Option<anesbench_run::settings::RewardFormat>,
    /// Environment variable holding the reward server's API key (never stored).
    #[arg(long, value_name = "VAR")]
    pub reward_api_key_env: Option<String>,
    /// Progress display: `auto` (bar on a terminal), `plain`, `none`.
    #[arg(long, default_value = "auto", value_name = "HOW")]
    pub progress: String,
}

fn parse_api(s: &str) -> Result<ApiStyle, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "chat" => Ok(ApiStyle::Chat),
        "completions" | "completion" => Ok(ApiStyle::Completions),
        o => Err(format!(
            "unknown API style `{o}` (expected chat or completions)"
        )),
    }
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "generate" | "gen" => Ok(Mode::Generate),
        "loglik" | "logprob" | "likelihood" => Ok(Mode::Loglik),
        o => Err(format!("unknown mode `{o}` (expected generate or loglik)")),
    }
}

/// Flags to overrides, then the library's resolution.
pub fn resolve(a: &EvalArgs) -> anyhow::Result<Resolved> {
    // The scheduler's environment is read here, at the edge, before anything runs.
    let shard = match a.shard {
        Some(spec) => Some(
            spec.resolve_from_process_env()
                .map_err(|e| anyhow::anyhow!("invalid `--shard {spec}`: {e}"))?,
        ),
        None => None,
    };
    let o = Overrides {
        config: a.config.clone(),
        resume: a.resume.then(|| a.out.clone()).flatten(),
        dataset: a.dataset.clone(),
        lang: a.lang.clone(),
        level: a.level.clone(),
        limit: a.limit,
        shard,
        endpoints: a.endpoints.clone(),
        model: a.model.clone(),
        api_key_env: a.api_key_env.clone(),
        api: a.api,
        gguf: a.gguf.clone(),
        mode: a.mode,
        prompt: a.prompt.clone(),
        shots: a.shots,
        template: a.template.clone(),
        chat_template: a.chat_template,
        temperature: a.temperature,
        top_p: a.top_p,
        max_tokens: a.max_tokens,
        seed: a.seed,
        stop: a.stop.clone(),
        extra_body: a.extra_body.clone(),
        samples: a.samples,
        strategy: a.strategy,
        concurrency: a.concurrency,
        timeout: a.timeout,
        max_retries: a.max_retries,
        n_per_request: a.n_per_request,
        prefix_cache: a.prefix_cache,
        flash_attn: a.flash_attn,
        out: a.out.clone(),
        param_count: a.param_count,
        permute: a.permute,
        reward_endpoint: a.reward_endpoint.clone(),
        reward_model: a.reward_model.clone(),
        reward_api: a.reward_api,
        reward_format: a.reward_format,
        reward_api_key_env: a.reward_api_key_env.clone(),
    };
    Ok(anesbench_run::resolve(
        &o,
        anesbench_llama::default_model_path,
    )?)
}

/// `on` / `off` (also `true` / `false`, `1` / `0`).
fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        other => Err(format!("`{other}`: expected `on` or `off`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_reach_the_resolver() {
        let r = resolve(&EvalArgs {
            temperature: Some(0.5),
            mode: Some(Mode::Generate),
            chat_template: Some(ChatTemplate::None),
            ..EvalArgs::default()
        })
        .unwrap();
        assert_eq!(r.settings.temperature, Some(0.5));
        assert_eq!(r.settings.chat_template, ChatTemplate::None);
        assert_eq!(
            r.settings.model_path,
            Some(anesbench_llama::default_model_path())
        );
    }
}
