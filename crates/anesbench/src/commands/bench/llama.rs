//! `anesbench bench llama`: throughput of the embedded backend on the demo set beside raw
//! llama.cpp (same build, same model, same context, measured in the same run).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchLlamaArgs {
    /// GGUF path or hf:OWNER/REPO/FILE.gguf (default: the demo model).
    #[arg(long)]
    model: Option<String>,
    /// CPU threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long, default_value_t = 2048)]
    ctx_size: u32,
    #[arg(long, default_value_t = 512)]
    batch_size: u32,
    /// Demo questions scored with loglik (default: all, both languages).
    #[arg(long)]
    limit: Option<usize>,
    /// Questions used for the generation figures.
    #[arg(long, default_value_t = 4)]
    gen_questions: usize,
    /// Tokens generated per question (greedy, no stop strings).
    #[arg(long, default_value_t = 64)]
    gen_tokens: u32,
    /// Alternating raw / harness rounds; the best round of each side is reported.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
}

#[cfg(not(feature = "llama"))]
pub fn run(_args: BenchLlamaArgs) -> anyhow::Result<ExitCode> {
    Err(anesbench_llama::LlamaError::NotBuilt.into())
}

#[cfg(feature = "llama")]
pub fn run(args: BenchLlamaArgs) -> anyhow::Result<ExitCode> {
    imp::run(args)
}

#[cfg(feature = "llama")]
mod imp {
    use super::super::Verdict;
    use super::*;
    use std::path::PathBuf;
    use std::time::Instant;

    use anesbench_backend::{Backend, GenParams, GenRequest, LoglikRequest, Prompt};
    use anesbench_core::prompt::{PromptSettings, PromptStyle, Prompter};
    use anesbench_llama::bench::{self, Timing};
    use anesbench_llama::{default_model_path, resolve_model, EmbeddedBackend, LlamaConfig};
    use anyhow::Context;

    /// Harness keeps at least this share of raw throughput.
    const TARGET: f64 = 0.90;

    pub fn run(args: BenchLlamaArgs) -> anyhow::Result<ExitCode> {
        let model: PathBuf = match &args.model {
            Some(spec) => resolve_model(spec)?,
            None => default_model_path(),
        };
        let cfg = LlamaConfig {
            threads: args.threads,
            ctx_size: args.ctx_size,
            batch_size: args.batch_size,
            ..LlamaConfig::new(model)
        };
        let t0 = Instant::now();
        let backend = EmbeddedBackend::load(&cfg)?;
        eprintln!(
            "bench llama: loaded {} in {:.2}s",
            cfg.model.display(),
            t0.elapsed().as_secs_f64()
        );

        let prompter = Prompter::new(&PromptSettings {
            style: PromptStyle::Direct,
            shots: 0,
            template: None,
        })?;
        let mut items = anesbench_core::demo::items();
        if let Some(n) = args.limit {
            items.truncate(n);
        }
        anyhow::ensure!(!items.is_empty(), "the demo set is empty");
        let mut reqs = Vec::with_capacity(items.len());
        for item in &items {
            let text = prompter
                .render(item, &[])
                .with_context(|| format!("rendering demo item {}", item.key()))?
                .to_text();
            let candidates = item.letters().iter().map(|c| c.to_string()).collect();
            reqs.push(LoglikRequest {
                prompt: Prompt::Text(text),
                candidates,
                // Raw llama.cpp decodes every prompt whole; so does the harness here.
                shared_prefix: None,
            });
        }
        let prepared = reqs
            .iter()
            .map(|r| bench::prepare(&backend, &r.prompt))
            .collect::<Result<Vec<_>, _>>()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;

        // Warm-up: page in the weights and let the allocator settle on both paths.
        bench::prompt_decode(&backend, &prepared[..1])?;
        rt.block_on(backend.loglik(&reqs[0]))?;

        let (mut raw_best, mut harness_best) = (f64::INFINITY, f64::INFINITY);
        let mut prompt_tokens = 0usize;
        for round in 0..args.rounds.max(1) {
            let raw = bench::prompt_decode(&backend, &prepared)?;
            let start = Instant::now();
            let mut tokens = 0usize;
            rt.block_on(async {
                for r in &reqs {
                    tokens += backend.loglik(r).await?.prompt_tokens.unwrap_or(0) as usize;
                }
                Ok::<_, anesbench_backend::BackendError>(())
            })?;
            let harness = start.elapsed().as_secs_f64();
            anyhow::ensure!(
                tokens == raw.tokens,
                "harness decoded {tokens} prompt tokens, raw {}",
                raw.tokens
            );
            eprintln!(
                "bench llama: loglik round {}: raw {:.2}s, harness {:.2}s ({} questions, {} tokens)",
                round + 1,
                raw.seconds,
                harness,
                reqs.len(),
                tokens
            );
            raw_best = raw_best.min(raw.seconds);
            harness_best = harness_best.min(harness);
            prompt_tokens = tokens;
        }

        // Generation: the harness call includes its prompt decode, so the raw prompt time of
        // the same prompt is taken off; any harness overhead counts against generation.
        let n_gen = args.gen_questions.min(reqs.len());
        let (mut raw_gen, mut harness_gen) = (Timing::default(), Timing::default());
        for (req, prep) in reqs.iter().zip(&prepared).take(n_gen) {
            let gen_req = GenRequest {
                prompt: req.prompt.clone(),
                params: GenParams {
                    temperature: Some(0.0),
                    max_tokens: Some(args.gen_tokens),
                    ..GenParams::default()
                },
            };
            let start = Instant::now();
            let resp = rt.block_on(backend.generate(&gen_req))?;
            let wall = start.elapsed().as_secs_f64();
            let n = resp.completion_tokens.unwrap_or(0) as usize;
            let (raw_prompt, raw_tokens) = bench::generate(&backend, prep, n)?;
            harness_gen.tokens += n;
            harness_gen.seconds += (wall - raw_prompt.seconds).max(1e-9);
            raw_gen.tokens += raw_tokens.tokens;
            raw_gen.seconds += raw_tokens.seconds;
        }

        let q = reqs.len() as f64;
        let rows = [
            ("loglik questions/s", q / harness_best, q / raw_best),
            (
                "prompt tokens/s",
                prompt_tokens as f64 / harness_best,
                prompt_tokens as f64 / raw_best,
            ),
            (
                "generated tokens/s",
                harness_gen.per_second(),
                raw_gen.per_second(),
            ),
        ];
        let d = backend.describe().details;
        println!(
            "bench llama: {} | threads {} | ctx {} | batch {} | {} questions ({} prompt tokens), {} generations ({} tokens)",
            d["model_file"].as_str().unwrap_or(""),
            d["threads"],
            d["ctx_size"],
            d["batch_size"],
            reqs.len(),
            prompt_tokens,
            n_gen,
            harness_gen.tokens
        );
        println!(
            "{:<22}{:>12}{:>16}{:>9}",
            "", "anesbench", "raw llama.cpp", "ratio"
        );
        let mut met = true;
        for (name, ours, raw) in rows {
            let ratio = if raw > 0.0 { ours / raw } else { 0.0 };
            met &= ratio >= TARGET;
            println!("{name:<22}{ours:>12.2}{raw:>16.2}{:>8.1}%", ratio * 100.0);
        }
        let verdict = Verdict::from_met(met);
        verdict.print(&format!(
            "anesbench keeps >= {:.0}% of raw llama.cpp throughput on every figure",
            TARGET * 100.0
        ));
        Ok(verdict.exit_code(false))
    }
}
