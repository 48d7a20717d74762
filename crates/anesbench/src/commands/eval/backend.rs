//! Building the backend the settings name: OpenAI-compatible HTTP (with its readiness
//! check and model discovery) or the embedded llama.cpp model.

use std::sync::Arc;
use std::time::Duration;

use anesbench_backend::openai::{OpenAiBackend, OpenAiConfig};
use anesbench_backend::Backend;
use anesbench_llama::{resolve_model, EmbeddedBackend, LlamaConfig};
use anesbench_run::settings::{BackendKind, Mode, Settings};
use anyhow::Context;

/// Build and check the backend; fills `settings.model` when it was discovered.
pub async fn build(settings: &mut Settings) -> anyhow::Result<Arc<dyn Backend>> {
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
            cfg.prefix_cache = prefix_cache_from_env()?;
            let backend = EmbeddedBackend::load(&cfg)
                .with_context(|| format!("cannot load the embedded model {}", spec.display()))?;
            Ok(Arc::new(backend))
        }
    }
}

/// `ANESBENCH_PREFIX_CACHE=on` turns the embedded shared-prefix cache on (off by default
/// until it matches the uncached path); the manifest records the setting (`backend.details.prefix_cache`).
fn prefix_cache_from_env() -> anyhow::Result<bool> {
    match std::env::var("ANESBENCH_PREFIX_CACHE").as_deref() {
        Ok("on") | Ok("1") => Ok(true),
        Err(_) | Ok("") | Ok("off") | Ok("0") => Ok(false),
        Ok(other) => anyhow::bail!("ANESBENCH_PREFIX_CACHE={other}: expected `on` or `off`"),
    }
}
