//! `eval` flags and their resolution into [`Settings`]: config file first, flags over it,
//! then the no-endpoint default (embedded model, loglik, demo set).

use std::path::PathBuf;

use anesbench_core::prompt::PromptStyle;
use anesbench_core::{Lang, Level};
use anesbench_run::settings::{ApiStyle, BackendKind, Mode, Settings};
use anesbench_run::Shard;
use anyhow::Context;

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
    #[arg(long, value_name = "i/n")]
    pub shard: Option<Shard>,
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
    #[arg(long)]
    pub temperature: Option<f64>,
    #[arg(long)]
    pub top_p: Option<f64>,
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop sequence; repeat for several.
    #[arg(long, value_name = "TEXT")]
    pub stop: Vec<String>,
    /// JSON object merged into each request body, e.g. '{"chat_template_kwargs":{"enable_thinking":false}}'.
    #[arg(long, value_name = "JSON")]
    pub extra_body: Option<String>,
    /// Samples per item.
    #[arg(long, value_name = "N")]
    pub samples: Option<u32>,
    /// Requests in flight at once (default 64).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Per-request timeout in seconds (default 600).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Retries of a failed request (429, 5xx, timeout, connection, bad body; default 5).
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
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

/// Merge config file and flags into validated settings.
pub fn resolve(a: &EvalArgs) -> anyhow::Result<Settings> {
    let resume_manifest = match (&a.out, a.resume) {
        (Some(out), true) => {
            let m = out.join("manifest.json");
            anyhow::ensure!(
                m.exists(),
                "`--resume`: {} holds no run (no manifest.json)",
                out.display()
            );
            Some(m)
        }
        _ => None,
    };
    let (mut s, keys) = match a.config.as_ref().or(resume_manifest.as_ref()) {
        Some(p) => Settings::from_file_with_keys(p)?,
        None => (Settings::default(), Vec::new()),
    };
    let in_file = |k: &str| keys.iter().any(|x| x == k);
    macro_rules! set {
        ($field:ident) => {
            if let Some(v) = a.$field.clone() {
                s.$field = v.into();
            }
        };
    }
    set!(dataset);
    set!(limit);
    set!(shard);
    set!(model);
    set!(api_key_env);
    set!(shots);
    set!(template);
    set!(temperature);
    set!(top_p);
    set!(max_tokens);
    set!(seed);
    set!(samples);
    set!(concurrency);
    set!(max_retries);
    set!(out);
    set!(param_count);
    if let Some(v) = a.api {
        s.api_style = v;
    }
    if let Some(v) = &a.prompt {
        s.prompt_style = v.clone();
    }
    if let Some(v) = a.timeout {
        s.timeout_secs = v;
    }
    if !a.lang.is_empty() {
        s.lang = a.lang.clone();
    }
    if !a.level.is_empty() {
        s.level = a.level.clone();
    }
    if !a.endpoints.is_empty() {
        s.endpoints = a.endpoints.clone();
    }
    if !a.stop.is_empty() {
        s.stop = a.stop.clone();
    }
    if let Some(j) = &a.extra_body {
        let v: serde_json::Value =
            serde_json::from_str(j).context("invalid `--extra-body`: not JSON")?;
        match v {
            serde_json::Value::Object(m) => s.extra_body = Some(m),
            _ => anyhow::bail!("invalid `--extra-body`: must be a JSON object like '{{\"chat_template_kwargs\":{{}}}}'"),
        }
    }
    if let Some(p) = &a.gguf {
        s.model_path = Some(p.clone());
    }
    // Without a server, use the embedded model: loglik on the demo set unless told otherwise.
    if s.endpoints.is_empty() {
        s.backend = BackendKind::Embedded;
        if s.model_path.is_none() && s.model.is_none() {
            s.model_path = Some(anesbench_llama::default_model_path());
        }
        if a.mode.is_none() && !in_file("mode") {
            s.mode = Mode::Loglik;
        }
    } else {
        s.backend = BackendKind::Http;
    }
    if let Some(m) = a.mode {
        s.mode = m;
    }
    // Loglik reads the letter right after the prompt, so a prompt that asks for step-by-step
    // analysis first works against it (base models start reasoning, not answering). Unless the
    // user or the config chose a prompt, loglik uses the direct-answer one.
    if s.mode == Mode::Loglik && a.prompt.is_none() && !in_file("prompt_style") {
        s.prompt_style = PromptStyle::Direct;
    }
    s.validate()?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_endpoint_means_embedded_loglik_on_the_demo_set() {
        let s = resolve(&EvalArgs::default()).unwrap();
        assert_eq!(s.backend, BackendKind::Embedded);
        assert_eq!(s.mode, Mode::Loglik);
        assert_eq!(s.dataset, "demo");
        assert_eq!(s.model_path, Some(anesbench_llama::default_model_path()));
        assert_eq!(s.prompt_style, PromptStyle::Direct);
        // A prompt the user chose wins.
        let s = resolve(&EvalArgs {
            prompt: Some(PromptStyle::Cot),
            ..EvalArgs::default()
        })
        .unwrap();
        assert_eq!((s.mode, s.prompt_style), (Mode::Loglik, PromptStyle::Cot));
        // A mode the user chose wins.
        let s = resolve(&EvalArgs {
            mode: Some(Mode::Generate),
            ..EvalArgs::default()
        })
        .unwrap();
        assert_eq!(s.mode, Mode::Generate);
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, "dataset = \"x.json\"\nendpoints = [\"http://a:1\"]\ntemperature = 0.2\nconcurrency = 8\n").unwrap();
        let a = EvalArgs {
            config: Some(cfg),
            temperature: Some(0.9),
            ..EvalArgs::default()
        };
        let s = resolve(&a).unwrap();
        assert_eq!(
            (s.temperature, s.concurrency, s.backend),
            (Some(0.9), 8, BackendKind::Http)
        );
        assert_eq!(s.mode, Mode::Generate);
        let bad = EvalArgs {
            extra_body: Some("[1]".into()),
            ..EvalArgs::default()
        };
        assert!(resolve(&bad)
            .unwrap_err()
            .to_string()
            .contains("--extra-body"));
    }
}
