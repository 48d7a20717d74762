//! Settings resolution, in one place: a config file (or a run's own manifest when
//! resuming), then the command-line values over it, then the defaults that depend on
//! other settings, then validation. The CLI only turns its flags into [`Overrides`].
//!
//! Defaults that depend on other settings:
//! - no endpoint: the embedded model (the demo GGUF unless one is given), in loglik mode;
//! - loglik mode: the direct-answer prompt (a reasoning prompt asks for text that loglik
//!   never reads; choosing `cot` explicitly is allowed, with a warning);
//! - chat template: `none` in loglik mode and with `--api completions`, else `model`;
//! - generate mode: an explicit temperature 0 for one sample per item (so `greedy` means
//!   greedy, not the server's default), and [`DEFAULT_MAX_TOKENS`] output tokens;
//! - concurrency: 64 requests in flight over HTTP; 1 for the embedded model, which has
//!   one context (more would only queue for it).

use std::path::PathBuf;

use anesbench_core::prompt::PromptStyle;
use anesbench_core::{Lang, Level};

use crate::settings::{
    ApiStyle, BackendKind, ChatTemplate, Mode, Settings, SettingsError, Strategy,
    DEFAULT_CONCURRENCY, DEFAULT_MAX_TOKENS,
};
use crate::shard::Shard;

/// Requests in flight for the embedded backend: its engine runs one decode at a time.
pub const EMBEDDED_CONCURRENCY: usize = 1;

/// Values given on the command line (`None` / empty = not given).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Settings file (TOML, YAML, JSON, or a run's manifest.json).
    pub config: Option<PathBuf>,
    /// Resume this run directory with the settings in its manifest.
    pub resume: Option<PathBuf>,
    pub dataset: Option<String>,
    pub lang: Vec<Lang>,
    pub level: Vec<Level>,
    pub limit: Option<usize>,
    pub shard: Option<Shard>,
    pub endpoints: Vec<String>,
    pub model: Option<String>,
    pub api_key_env: Option<String>,
    pub api: Option<ApiStyle>,
    pub gguf: Option<PathBuf>,
    pub mode: Option<Mode>,
    pub prompt: Option<PromptStyle>,
    pub shots: Option<usize>,
    pub template: Option<PathBuf>,
    pub chat_template: Option<ChatTemplate>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    pub stop: Vec<String>,
    /// A JSON object, as text.
    pub extra_body: Option<String>,
    pub samples: Option<u32>,
    /// `greedy`, `sc:N`, `bon:N:likelihood|prm|orm`, `beam:W,B,T`, `dvts:N,M`, `study:*`.
    pub strategy: Option<Strategy>,
    pub concurrency: Option<usize>,
    pub timeout: Option<f64>,
    pub max_retries: Option<u32>,
    pub n_per_request: Option<crate::settings::NPerRequest>,
    /// `--prefix-cache on|off`.
    pub prefix_cache: Option<bool>,
    /// `--flash-attn on|off` (embedded model only).
    pub flash_attn: Option<bool>,
    pub out: Option<PathBuf>,
    pub param_count: Option<f64>,
    /// `--permute circular | shuffle:K:SEED`.
    pub permute: Option<crate::settings::Permute>,
    pub reward_endpoint: Option<String>,
    pub reward_model: Option<String>,
    pub reward_api: Option<crate::settings::RewardApi>,
    pub reward_format: Option<crate::settings::RewardFormat>,
    pub reward_api_key_env: Option<String>,
}

/// Resolved settings and what the user should be told about them.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub settings: Settings,
    pub warnings: Vec<String>,
}

/// Resolve settings. `default_gguf` gives the demo model's path, asked for only when the
/// embedded backend runs without a GGUF file.
pub fn resolve(
    o: &Overrides,
    default_gguf: impl FnOnce() -> PathBuf,
) -> Result<Resolved, SettingsError> {
    let resume_manifest = match &o.resume {
        Some(dir) => {
            let m = dir.join(anesbench_core::rundir::MANIFEST);
            if !m.exists() {
                return Err(SettingsError::Invalid {
                    field: "resume",
                    message: format!("{} holds no run (no manifest.json)", dir.display()),
                });
            }
            Some(m)
        }
        None => None,
    };
    let (mut s, keys) = match o.config.as_ref().or(resume_manifest.as_ref()) {
        Some(p) => Settings::from_file_with_keys(p)?,
        None => (Settings::default(), Vec::new()),
    };
    let chosen = |k: &str| keys.iter().any(|x| x == k);
    let mut warnings = Vec::new();
    macro_rules! set {
        ($from:ident => $field:ident) => {
            if let Some(v) = o.$from.clone() {
                s.$field = v.into();
            }
        };
    }
    set!(dataset => dataset);
    set!(limit => limit);
    set!(shard => shard);
    set!(model => model);
    set!(api_key_env => api_key_env);
    set!(shots => shots);
    set!(template => template);
    set!(temperature => temperature);
    set!(top_p => top_p);
    set!(max_tokens => max_tokens);
    set!(seed => seed);
    set!(samples => samples);
    set!(concurrency => concurrency);
    set!(max_retries => max_retries);
    set!(n_per_request => n_per_request);
    set!(prefix_cache => prefix_cache);
    set!(out => out);
    set!(param_count => param_count);
    set!(permute => permute);
    set!(gguf => model_path);
    set!(reward_endpoint => reward_endpoint);
    set!(reward_model => reward_model);
    set!(reward_api => reward_api);
    set!(reward_format => reward_format);
    set!(reward_api_key_env => reward_api_key_env);
    if let Some(v) = o.api {
        s.api_style = v;
    }
    if let Some(v) = &o.prompt {
        s.prompt_style = v.clone();
    }
    if let Some(v) = o.timeout {
        s.timeout_secs = v;
    }
    if let Some(v) = o.mode {
        s.mode = v;
    }
    if let Some(v) = o.chat_template {
        s.chat_template = v;
    }
    // The strategy and `--samples N` name the same count: `--samples N` alone means
    // self-consistency over N; both given must agree.
    match (o.strategy, o.samples) {
        (Some(st), Some(n)) if st.candidates() != n => {
            return Err(SettingsError::Invalid {
                field: "samples",
                message: format!(
                "`--samples {n}` contradicts `--strategy {st}` ({} candidates); give one of them",
                st.candidates()
            ),
            })
        }
        (Some(st), _) => {
            s.strategy = st;
            s.samples = st.candidates();
        }
        (None, Some(n)) if n > 1 => s.strategy = Strategy::SelfConsistency(n),
        (None, Some(_)) => s.strategy = Strategy::Greedy,
        (None, None) if s.samples > 1 && s.strategy == Strategy::Greedy => {
            // A config file (or an older manifest) that gives only `samples`.
            s.strategy = Strategy::SelfConsistency(s.samples);
        }
        (None, None) => {}
    }
    for (from, to) in [(&o.endpoints, &mut s.endpoints), (&o.stop, &mut s.stop)] {
        if !from.is_empty() {
            *to = from.clone();
        }
    }
    if !o.lang.is_empty() {
        s.lang = o.lang.clone();
    }
    if !o.level.is_empty() {
        s.level = o.level.clone();
    }
    if let Some(j) = &o.extra_body {
        let v: serde_json::Value = serde_json::from_str(j).map_err(|e| SettingsError::Invalid {
            field: "extra_body",
            message: format!("not JSON: {e}"),
        })?;
        match v {
            serde_json::Value::Object(m) => s.extra_body = Some(m),
            _ => {
                return Err(SettingsError::Invalid {
                    field: "extra_body",
                    message: "must be a JSON object like '{\"chat_template_kwargs\":{}}'".into(),
                })
            }
        }
    }

    // Backend: a server when one is named, else the embedded model.
    if s.endpoints.is_empty() {
        s.backend = BackendKind::Embedded;
        if s.model_path.is_none() && s.model.is_none() {
            s.model_path = Some(default_gguf());
        }
        if o.mode.is_none() && !chosen("mode") {
            s.mode = Mode::Loglik;
        }
    } else {
        s.backend = BackendKind::Http;
    }
    // Flash attention: the embedded model's own setting. A resumed run keeps what it
    // ran with (`false` for one whose manifest predates the setting); a new one
    // defaults to on.
    match s.backend {
        BackendKind::Embedded => {
            s.flash_attn = Some(match o.flash_attn {
                Some(v) => v,
                None if o.resume.is_some() => s.resolved_flash_attn().unwrap_or(false),
                None => s.flash_attn.unwrap_or(true),
            });
        }
        BackendKind::Http => {
            if o.flash_attn.is_some() {
                return Err(SettingsError::Invalid {
                    field: "flash_attn",
                    message: "applies to the embedded model only; a server sets its own (llama-server -fa on|off)".into(),
                });
            }
            s.flash_attn = None;
        }
    }
    let given = |flag: bool, key: &str| flag || chosen(key);
    if !given(o.concurrency.is_some(), "concurrency") {
        s.concurrency = match s.backend {
            BackendKind::Embedded => EMBEDDED_CONCURRENCY,
            BackendKind::Http => DEFAULT_CONCURRENCY,
        };
    }
    match s.mode {
        Mode::Loglik => {
            if !given(o.prompt.is_some(), "prompt_style") {
                s.prompt_style = PromptStyle::Direct;
            } else if s.prompt_style == PromptStyle::Cot && s.template.is_none() {
                warnings.push(
                    "`--prompt cot` in loglik mode: the model is told to reason first, but only the token right after the prompt is scored; `--prompt direct` (the loglik default) asks for the letter at once".into(),
                );
            }
        }
        Mode::Generate => {
            if s.samples <= 1 && !given(o.temperature.is_some(), "temperature") {
                s.temperature = Some(0.0);
            }
            if !given(o.max_tokens.is_some(), "max_tokens") {
                s.max_tokens = Some(DEFAULT_MAX_TOKENS);
            }
        }
    }
    if !given(o.chat_template.is_some(), "chat_template") {
        s.chat_template = match (s.mode, s.backend, s.api_style) {
            (Mode::Loglik, _, _) => ChatTemplate::None,
            (Mode::Generate, BackendKind::Http, ApiStyle::Completions) => ChatTemplate::None,
            (Mode::Generate, _, _) => ChatTemplate::Model,
        };
    }
    s.validate()?;
    Ok(Resolved {
        settings: s,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> PathBuf {
        PathBuf::from("/models/demo.gguf")
    }

    fn run(o: Overrides) -> Settings {
        resolve(&o, demo).unwrap().settings
    }

    #[test]
    fn no_endpoint_means_embedded_loglik_on_the_demo_set() {
        let s = run(Overrides::default());
        assert_eq!(s.backend, BackendKind::Embedded);
        assert_eq!(s.mode, Mode::Loglik);
        assert_eq!(s.dataset, "demo");
        assert_eq!(s.model_path, Some(demo()));
        assert_eq!(s.prompt_style, PromptStyle::Direct);
        assert_eq!(s.chat_template, ChatTemplate::None);
        assert_eq!(s.concurrency, EMBEDDED_CONCURRENCY);
        // A prompt the user chose wins, with a warning for cot.
        let r = resolve(
            &Overrides {
                prompt: Some(PromptStyle::Cot),
                ..Overrides::default()
            },
            demo,
        )
        .unwrap();
        assert_eq!(
            (r.settings.mode, r.settings.prompt_style),
            (Mode::Loglik, PromptStyle::Cot)
        );
        assert!(r.warnings[0].contains("only the token right after"));
        let s = run(Overrides {
            mode: Some(Mode::Generate),
            ..Overrides::default()
        });
        assert_eq!(s.mode, Mode::Generate);
        assert_eq!(s.chat_template, ChatTemplate::Model);
    }

    #[test]
    fn loglik_records_no_chat_template_and_refuses_one() {
        let s = run(Overrides::default());
        assert_eq!(s.chat_template, ChatTemplate::None);
        let e = resolve(
            &Overrides {
                chat_template: Some(ChatTemplate::Model),
                ..Overrides::default()
            },
            demo,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`chat_template`"), "{e}");
    }

    #[test]
    fn completions_without_max_tokens_sends_the_chat_default() {
        let s = run(Overrides {
            endpoints: vec!["http://127.0.0.1:1".into()],
            api: Some(ApiStyle::Completions),
            ..Overrides::default()
        });
        assert_eq!(s.max_tokens, Some(DEFAULT_MAX_TOKENS));
        assert_eq!(s.chat_template, ChatTemplate::None);
        let s = run(Overrides {
            endpoints: vec!["http://127.0.0.1:1".into()],
            ..Overrides::default()
        });
        assert_eq!(s.max_tokens, Some(DEFAULT_MAX_TOKENS));
        assert_eq!(s.chat_template, ChatTemplate::Model);
        assert_eq!(s.concurrency, DEFAULT_CONCURRENCY);
    }

    #[test]
    fn greedy_means_an_explicit_temperature_zero() {
        let s = run(Overrides {
            endpoints: vec!["http://127.0.0.1:1".into()],
            ..Overrides::default()
        });
        assert_eq!(s.temperature, Some(0.0));
        assert_eq!(s.solver_label(), "greedy");
        let s = run(Overrides {
            endpoints: vec!["http://127.0.0.1:1".into()],
            temperature: Some(0.7),
            ..Overrides::default()
        });
        assert_eq!(s.solver_label(), "sampled");
    }

    #[test]
    fn several_samples_at_temperature_zero_are_refused() {
        let http = || Overrides {
            endpoints: vec!["http://127.0.0.1:1".into()],
            samples: Some(5),
            ..Overrides::default()
        };
        let e = resolve(&http(), demo).unwrap_err().to_string();
        assert!(e.contains("--temperature"), "{e}");
        let e = resolve(
            &Overrides {
                temperature: Some(0.0),
                ..http()
            },
            demo,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("5 copies"), "{e}");
        let s = run(Overrides {
            temperature: Some(0.8),
            ..http()
        });
        assert_eq!(s.solver_label(), "self-consistency:5");
    }

    #[test]
    fn strategies_set_the_candidate_count_and_the_label() {
        let http = |strategy: &str| Overrides {
            endpoints: vec!["http://127.0.0.1:1".into()],
            strategy: Some(strategy.parse().unwrap()),
            temperature: Some(0.7),
            ..Overrides::default()
        };
        let s = run(http("sc:8"));
        assert_eq!(
            (s.samples, s.solver_label().as_str()),
            (8, "self-consistency:8")
        );
        let s = run(http("bon:4:likelihood"));
        assert_eq!(
            (s.samples, s.solver_label().as_str()),
            (4, "best-of-n:4:likelihood")
        );
        let e = resolve(
            &Overrides {
                samples: Some(3),
                ..http("sc:8")
            },
            demo,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("contradicts"), "{e}");
        assert!("bon:4:oracle"
            .parse::<Strategy>()
            .unwrap_err()
            .contains("not available"));
        assert!("sc:1".parse::<Strategy>().is_err());
    }

    #[test]
    fn config_keys_are_the_long_flag_names() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(
            &cfg,
            "prompt = \"cot\"\nendpoint = \"http://127.0.0.1:9\"\nmax-tokens = 64\napi = \"completions\"\ntimeout = 5\n",
        )
        .unwrap();
        let s = run(Overrides {
            config: Some(cfg.clone()),
            ..Overrides::default()
        });
        assert_eq!(s.prompt_style, PromptStyle::Cot);
        assert_eq!(s.endpoints, vec!["http://127.0.0.1:9".to_string()]);
        assert_eq!(s.max_tokens, Some(64));
        assert_eq!(s.api_style, ApiStyle::Completions);
        assert_eq!(s.timeout_secs, 5.0);
        std::fs::write(&cfg, "gguf = \"/m/x.gguf\"\nmode = \"loglik\"\n").unwrap();
        let s = run(Overrides {
            config: Some(cfg.clone()),
            ..Overrides::default()
        });
        assert_eq!(s.model_path, Some(PathBuf::from("/m/x.gguf")));
        std::fs::write(&cfg, "prompt = \"cot\"\nprompt_style = \"direct\"\n").unwrap();
        let e = resolve(
            &Overrides {
                config: Some(cfg),
                ..Overrides::default()
            },
            demo,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("already set"), "{e}");
    }

    #[test]
    fn flags_override_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, "dataset = \"x.json\"\nendpoints = [\"http://a:1\"]\ntemperature = 0.2\nconcurrency = 8\n").unwrap();
        let s = run(Overrides {
            config: Some(cfg),
            temperature: Some(0.9),
            ..Overrides::default()
        });
        assert_eq!(
            (s.temperature, s.concurrency, s.backend),
            (Some(0.9), 8, BackendKind::Http)
        );
        assert_eq!(s.mode, Mode::Generate);
        let e = resolve(
            &Overrides {
                extra_body: Some("[1]".into()),
                ..Overrides::default()
            },
            demo,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`extra_body`"), "{e}");
    }
    #[test]
    fn flash_attn_is_on_for_a_new_embedded_run_and_absent_over_http() {
        assert_eq!(run(Overrides::default()).flash_attn, Some(true));
        let off = run(Overrides {
            flash_attn: Some(false),
            ..Overrides::default()
        });
        assert_eq!(off.flash_attn, Some(false));
        let http = run(Overrides {
            endpoints: vec!["http://a:1".into()],
            ..Overrides::default()
        });
        assert_eq!(http.flash_attn, None);
        let e = resolve(
            &Overrides {
                endpoints: vec!["http://a:1".into()],
                flash_attn: Some(true),
                ..Overrides::default()
            },
            demo,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`flash_attn`") && e.contains("embedded"), "{e}");
    }

    /// An embedded run written before the setting existed ran without flash attention:
    /// its resume keeps it off (its scores would otherwise mix two kinds of arithmetic),
    /// and turning it on is a settings change the resume check refuses.
    #[test]
    fn a_run_from_before_flash_attn_resumes_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut old = run(Overrides::default());
        old.flash_attn = None;
        let mut settings = serde_json::to_value(&old).unwrap();
        settings.as_object_mut().unwrap().remove("flash_attn");
        let manifest = serde_json::json!({"run_schema": 1, "settings": settings});
        std::fs::write(
            dir.path().join(anesbench_core::rundir::MANIFEST),
            manifest.to_string(),
        )
        .unwrap();
        let resumed = run(Overrides {
            resume: Some(dir.path().to_path_buf()),
            ..Overrides::default()
        });
        assert_eq!(resumed.flash_attn, Some(false));
        assert!(old.resume_changes(&resumed).is_empty());
        let on = run(Overrides {
            resume: Some(dir.path().to_path_buf()),
            flash_attn: Some(true),
            ..Overrides::default()
        });
        let changes = old.resume_changes(&on);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(
            changes[0],
            (
                "flash_attn".to_string(),
                "false".to_string(),
                "true".to_string()
            )
        );
    }
}
