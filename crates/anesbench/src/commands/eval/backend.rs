//! Building the backend the settings name: OpenAI-compatible HTTP (with its readiness
//! check and model discovery) or the embedded llama.cpp model.

use std::sync::Arc;
use std::time::Duration;

use anesbench_backend::openai::{OpenAiBackend, OpenAiConfig};
use anesbench_backend::reward::{HttpScorer, Scorer};
use anesbench_backend::Backend;
use anesbench_llama::{resolve_model, EmbeddedBackend, LlamaConfig};
use anesbench_run::settings::{BackendKind, Mode, Settings};
use anesbench_run::solver::SolverDeps;
use anyhow::Context;

fn key_from_env(flag: &str, var: &Option<String>) -> anyhow::Result<Option<String>> {
    match var {
        Some(var) => Ok(Some(std::env::var(var).map_err(|_| {
            anyhow::anyhow!("`--{flag} {var}`: environment variable `{var}` is not set")
        })?)),
        None => Ok(None),
    }
}

/// Build and check the reward model the settings name; fills `settings.reward_model`
/// when it was discovered.
pub async fn build_scorer(settings: &mut Settings) -> anyhow::Result<Option<Arc<dyn Scorer>>> {
    let (Some(url), Some(api)) = (settings.reward_endpoint.clone(), settings.reward_api) else {
        return Ok(None);
    };
    let cfg = OpenAiConfig {
        endpoints: vec![url],
        model: settings.reward_model.clone(),
        api_key: key_from_env("reward-api-key-env", &settings.reward_api_key_env)?,
        request_timeout: Duration::from_secs_f64(settings.timeout_secs),
        ..OpenAiConfig::default()
    };
    let scorer = HttpScorer::new(cfg, api, settings.reward_format.unwrap_or_default())?;
    scorer
        .client()
        .ready()
        .await
        .context("reward model readiness check (GET /v1/models) failed")?;
    if settings.reward_model.is_none() {
        let m = scorer.client().discover_model().await?;
        eprintln!("reward model: {m} (from /v1/models)");
        settings.reward_model = Some(m);
    }
    Ok(Some(Arc::new(scorer)))
}

/// Build and check the backend; fills `settings.model` when it was discovered. `deps`
/// gets the embedded model's prompt renderer (searches continue answers as text).
pub async fn build(
    settings: &mut Settings,
    deps: &mut SolverDeps,
) -> anyhow::Result<Arc<dyn Backend>> {
    match settings.backend {
        BackendKind::Http => {
            let api_key = match &settings.api_key_env {
                Some(var) => Some(std::env::var(var).map_err(|_| {
                    anyhow::anyhow!(
                        "`--api-key-env {var}`: environment variable `{var}` is not set"
                    )
                })?),
                None => None,
            };
            let cfg = OpenAiConfig {
                endpoints: settings.endpoints.clone(),
                model: settings.model.clone(),
                api_key,
                style: settings.api_style,
                request_timeout: Duration::from_secs_f64(settings.timeout_secs),
                n_per_request: settings.n_per_request,
                ..OpenAiConfig::default()
            };
            let backend = OpenAiBackend::new(cfg)?;
            backend
                .ready()
                .await
                .context("readiness check (GET /v1/models) failed")?;
            for h in backend.endpoint_health() {
                if !h.alive {
                    eprintln!(
                        "warning: endpoint {} is down and left out: {}",
                        h.url,
                        h.last_error.unwrap_or_default()
                    );
                }
            }
            if settings.model.is_none() {
                let m = backend.discover_model().await?;
                eprintln!("model: {m} (from /v1/models)");
                settings.model = Some(m);
            }
            if settings.samples > 1 && settings.mode == Mode::Generate {
                for p in backend.probe_n().await {
                    match (p.keeps_n, p.error) {
                        (Some(true), _) => eprintln!("{}: keeps `n`; one request per item", p.url),
                        (Some(false), _) => eprintln!(
                            "{}: ignores `n`; one request per sample, each with its own seed",
                            p.url
                        ),
                        (None, e) => eprintln!(
                            "warning: {}: could not tell whether it keeps `n` ({}); learnt from the first reply",
                            p.url,
                            e.unwrap_or_default()
                        ),
                    }
                }
            }
            Ok(Arc::new(backend))
        }
        BackendKind::Embedded => {
            let spec = settings
                .model_path
                .clone()
                .context("no GGUF file given (`--gguf PATH`)")?;
            let path = resolve_model(&spec.to_string_lossy())?;
            let mut cfg = LlamaConfig::new(path);
            if let Some(seed) = settings.seed {
                cfg.seed = seed;
            }
            cfg.prefix_cache = settings.prefix_cache;
            cfg.flash_attn = settings.resolved_flash_attn().unwrap_or(true);
            let backend =
                Arc::new(EmbeddedBackend::load(&cfg).with_context(|| {
                    format!("cannot load the embedded model {}", spec.display())
                })?);
            // Without llama.cpp the load above has already failed.
            #[cfg(feature = "llama")]
            {
                let b = backend.clone();
                deps.render = Some(Arc::new(move |p| b.render_prompt(p)));
            }
            #[cfg(not(feature = "llama"))]
            let _ = deps;
            Ok(backend)
        }
    }
}
