//! `anesbench bench solver`: the embedded backend's test-time-compute paths on the instruct
//! demo model and the demo set, each beside a peer measured in the same run:
//! - `sc:8` sampling: 8 samples of one prompt decoded together (the KV cache forked into
//!   8 sequences) against 8 independent generations one after another (each decodes its
//!   own prompt), in generated tokens/s; the same 8 reusing each other's prompt cells are
//!   printed beside them;
//! - 5-shot loglik with the shared-prefix cache against the same backend without it;
//! - with `--llama-server PATH`: 0-shot and 5-shot loglik and `sc:8` against upstream
//!   llama.cpp's `llama-server -np 8` on the same GGUF, sent 8 requests at a time by
//!   anesbench's own HTTP backend; and the letters both choose, against that server and
//!   against one set like the embedded model (`-fa on` or `-fa off`, as the embedded
//!   backend records it), and that server against itself, sent the 5-shot questions
//!   again in reverse order (how far its own letters move with what ran before).

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchSolverArgs {
    /// GGUF path, short name or hf:OWNER/REPO/FILE.gguf.
    #[arg(long, default_value = "smollm2-135m-instruct")]
    model: String,
    /// CPU threads (default: all cores), for both the embedded model and the server.
    #[arg(long)]
    threads: Option<usize>,
    /// Demo questions scored with loglik (default: all, both languages).
    #[arg(long)]
    limit: Option<usize>,
    /// English demo questions sampled with `sc:N`.
    #[arg(long, default_value_t = 2)]
    gen_questions: usize,
    /// Samples per question.
    #[arg(long, default_value_t = 8)]
    samples: u32,
    /// Most tokens per sample.
    #[arg(long, default_value_t = 96)]
    gen_tokens: u32,
    /// A `llama-server` binary to compare with (`-np 8`); its `.so` files must be next to
    /// it or on `LD_LIBRARY_PATH`. Without it that comparison is reported as not checked.
    #[arg(long)]
    llama_server: Option<PathBuf>,
    /// Port for the server.
    #[arg(long, default_value_t = 18093)]
    port: u16,
}

#[cfg(not(feature = "llama"))]
pub fn run(_args: BenchSolverArgs) -> anyhow::Result<ExitCode> {
    Err(anesbench_llama::LlamaError::NotBuilt.into())
}

#[cfg(feature = "llama")]
pub fn run(args: BenchSolverArgs) -> anyhow::Result<ExitCode> {
    imp::run(args)
}

#[cfg(feature = "llama")]
mod imp {
    use super::super::Verdict;
    use super::*;
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use anesbench_backend::openai::{ApiStyle, OpenAiBackend, OpenAiConfig};
    use anesbench_backend::{
        Backend, ChatMessage, GenParams, GenRequest, GenResponse, LoglikRequest, Prompt,
    };
    use anesbench_core::prompt::{
        select_shots, shared_prefix_len, PromptSettings, PromptStyle, Prompter,
    };
    use anesbench_core::{Item, Lang};
    use anesbench_llama::{resolve_model, EmbeddedBackend, LlamaConfig};
    use anyhow::{ensure, Context};

    /// Batched over sequential sampling, in generated tokens/s.
    const TARGET_BATCHED: f64 = 3.0;
    /// Prefix cache over none, 5-shot loglik questions/s.
    const TARGET_PREFIX: f64 = 3.0;
    /// Embedded over `llama-server -np 8` (parity).
    const TARGET_SERVER: f64 = 1.0;
    /// Share of questions where the embedded model and the server choose the same letter.
    const TARGET_AGREE: f64 = 0.97;
    /// Requests in flight to the server, and its slots.
    const SLOTS: usize = 8;

    pub fn run(args: BenchSolverArgs) -> anyhow::Result<ExitCode> {
        let model = resolve_model(&args.model)?;
        let cfg = |prefix_cache: bool| LlamaConfig {
            threads: args.threads,
            prefix_cache,
            max_choices: args.samples.clamp(1, LlamaConfig::MAX_CHOICES_LIMIT),
            ..LlamaConfig::new(&model)
        };
        let cached = EmbeddedBackend::load(&cfg(true))?;
        let uncached = EmbeddedBackend::load(&cfg(false))?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let mut items = anesbench_core::demo::items();
        if let Some(n) = args.limit {
            items.truncate(n);
        }
        ensure!(!items.is_empty(), "the demo set is empty");
        let pool = anesbench_core::demo::items();
        let zero = loglik_requests(&items, &pool, 0)?;
        let five = loglik_requests(&items, &pool, 5)?;
        let gens = gen_requests(&pool, args.gen_questions, args.gen_tokens)?;
        let d = cached.describe().details;
        println!(
            "bench solver: {} | threads {} | {} loglik questions | sc:{} on {} questions, <= {} tokens each",
            d["model_file"].as_str().unwrap_or(""),
            d["threads"],
            items.len(),
            args.samples,
            gens.len(),
            args.gen_tokens
        );
        let mut verdicts = Vec::new();

        // (a) sc:N, batched vs one at a time. The peer is N independent generations, each
        // decoding its own prompt (the backend without the prefix cache): what a run
        // without KV forking does. The same generations reusing the previous one's prompt
        // cells are timed too and printed beside it.
        let seq = timed(|| sample_sequential(&uncached, &gens, args.samples))?;
        let reuse = timed(|| sample_sequential(&cached, &gens, args.samples))?;
        let bat = timed(|| sample_batched(&cached, &gens, args.samples))?;
        let same = seq
            .0
            .iter()
            .zip(&bat.0)
            .zip(&reuse.0)
            .filter(|((a, b), c)| a.content == b.content && a.content == c.content)
            .count();
        let (seq_tps, bat_tps) = (tokens(&seq.0) / seq.1, tokens(&bat.0) / bat.1);
        let reuse_tps = tokens(&reuse.0) / reuse.1;
        println!(
            "sc:{n} generated tokens/s: batched {bat_tps:.1} ({} tokens, {:.2}s), {n} independent sequential generations {seq_tps:.1} ({} tokens, {:.2}s), ratio {:.2}x; identical samples {same}/{}",
            tokens(&bat.0),
            bat.1,
            tokens(&seq.0),
            seq.1,
            bat_tps / seq_tps,
            seq.0.len(),
            n = args.samples,
        );
        println!(
            "  (sequential generations reusing the previous one's prompt cells: {reuse_tps:.1} tokens/s, {:.2}s; batched is {:.2}x that)",
            reuse.1,
            bat_tps / reuse_tps
        );
        let v = Verdict::from_met(bat_tps / seq_tps >= TARGET_BATCHED);
        v.print(&format!(
            "sc:{} batched >= {TARGET_BATCHED}x {} independent sequential generations, generated tokens/s",
            args.samples, args.samples
        ));
        verdicts.push(v);

        // (b) 5-shot loglik, prefix cache on vs off.
        let warm = &five[..1];
        embedded_loglik(&cached, warm)?;
        embedded_loglik(&uncached, warm)?;
        let (off, off_s) = timed(|| embedded_loglik(&uncached, &five))?;
        let (before, slots_before) = (cached.reuse_stats(), cached.prefix_stats());
        let (on, on_s) = timed(|| embedded_loglik(&cached, &five))?;
        let (after, slots_after) = (cached.reuse_stats(), cached.prefix_stats());
        let (agree, worst) = compare(&on, &off);
        let q = five.len() as f64;
        println!(
            "5-shot loglik questions/s: prefix cache {:.2} ({on_s:.2}s), none {:.2} ({off_s:.2}s), ratio {:.2}x; same letter {agree}/{}, max |delta logprob| {worst:.2e} nats",
            q / on_s,
            q / off_s,
            off_s / on_s,
            five.len()
        );
        let prompt_tokens = after.prompt_tokens - before.prompt_tokens;
        let decoded = prompt_tokens - (after.reused_tokens - before.reused_tokens);
        println!(
            "  (prefix cache: {decoded} of {prompt_tokens} prompt tokens decoded with their question, {:.0} per question; {} prefix slots filled, {} of their tokens copied from a work sequence, {} slot hits)",
            decoded as f64 / q,
            slots_after.0 - slots_before.0,
            after.prefix_copied_tokens - before.prefix_copied_tokens,
            slots_after.1 - slots_before.1,
        );
        let v =
            Verdict::from_met(off_s / on_s >= TARGET_PREFIX && agree == five.len() && worst < 1e-3);
        v.print(&format!(
            "prefix cache >= {TARGET_PREFIX}x 5-shot loglik questions/s, same letters, |delta| < 1e-3 nats"
        ));
        verdicts.push(v);

        // (c) against llama-server -np 8.
        let target = format!("embedded >= {TARGET_SERVER}x llama-server -np {SLOTS} (0-shot, 5-shot loglik questions/s; sc:{} tokens/s)", args.samples);
        match &args.llama_server {
            None => {
                println!(
                    "llama-server: not given (--llama-server PATH); the comparison was not run"
                );
                let v = Verdict::NotChecked("no llama-server binary given".into());
                v.print(&target);
                verdicts.push(v);
            }
            Some(bin) if !bin.is_file() => {
                println!(
                    "llama-server: {} does not exist; the comparison was not run",
                    bin.display()
                );
                let v = Verdict::NotChecked(format!("{} not found", bin.display()));
                v.print(&target);
                verdicts.push(v);
            }
            Some(bin) => {
                let threads = cached.describe().details["threads"].as_u64().unwrap_or(2);
                let server = Server::start(bin, &model, args.port, threads, &[])?;
                let http = rt.block_on(server.backend())?;
                let mut met = true;
                let (e0, e0_s) = timed(|| embedded_loglik(&cached, &zero))?;
                let (s0, s0_s) = rt.block_on(http_loglik(&http, &zero))?;
                met &= row("0-shot loglik questions/s", &zero, e0_s, s0_s, &e0, &s0);
                let (s5, s5_s) = rt.block_on(http_loglik(&http, &five))?;
                met &= row("5-shot loglik questions/s", &five, on_s, s5_s, &on, &s5);
                let (sg, sg_s) = rt.block_on(http_sample(&http, &gens, args.samples))?;
                let srv_tps = tokens(&sg) / sg_s;
                println!(
                    "sc:{} generated tokens/s: embedded {bat_tps:.1}, llama-server {srv_tps:.1} ({} tokens, {sg_s:.2}s), ratio {:.2}x",
                    args.samples,
                    tokens(&sg),
                    bat_tps / srv_tps
                );
                met &= bat_tps / srv_tps >= TARGET_SERVER;
                drop(server);
                let v = Verdict::from_met(met);
                v.print(&target);
                verdicts.push(v);

                // (d) Letters, against a server set like the embedded model: flash
                // attention as the embedded backend records it (`-fa auto` may pick
                // either), so only the scoring rule, the prompt handling and the
                // server's batching can differ.
                let fa = if cached.describe().details["flash_attn"] == true {
                    "on"
                } else {
                    "off"
                };
                let like = Server::start(bin, &model, args.port, threads, &["-fa", fa])?;
                let http = rt.block_on(like.backend())?;
                let (l0, l0_s) = rt.block_on(http_loglik(&http, &zero))?;
                let (l5, l5_s) = rt.block_on(http_loglik(&http, &five))?;
                // The server against itself: the same 5-shot questions in reverse order.
                // Its prompt cache and slot batching put other rows beside each question,
                // so this is how far its own letters move with what ran before.
                let reversed: Vec<LoglikRequest> = five.iter().rev().cloned().collect();
                let (mut r5, _) = rt.block_on(http_loglik(&http, &reversed))?;
                r5.reverse();
                drop(like);
                let (self_agree, self_worst) = compare(&l5, &r5);
                println!(
                    "5-shot llama-server -fa {fa} against itself, questions in reverse order: same letter {self_agree}/{} ({:.1}%), max |delta logprob| {self_worst:.3} nats",
                    l5.len(),
                    100.0 * self_agree as f64 / l5.len().max(1) as f64
                );
                let mut agree_met = true;
                for (name, ours, theirs, secs) in
                    [("0-shot", &e0, &l0, l0_s), ("5-shot", &on, &l5, l5_s)]
                {
                    let (agree, worst) = compare(ours, theirs);
                    let share = agree as f64 / ours.len().max(1) as f64;
                    println!(
                        "{name} letters vs llama-server -fa {fa} ({:.2} questions/s): same letter {agree}/{} ({:.1}%), max |delta logprob| {worst:.3} nats",
                        ours.len() as f64 / secs,
                        ours.len(),
                        100.0 * share
                    );
                    for (i, (a, b)) in ours.iter().zip(theirs.iter()).enumerate() {
                        if let (Some(x), Some(y)) = (top_two(a), top_two(b)) {
                            if x.0 != y.0 {
                                println!(
                                    "  question {i}: embedded {} by {:.4} nats over the next option, server {} by {:.4}",
                                    letter(x.0),
                                    x.1,
                                    letter(y.0),
                                    y.1
                                );
                            }
                        }
                    }
                    agree_met &= share >= TARGET_AGREE;
                }
                let v = Verdict::from_met(agree_met);
                v.print(&format!(
                    "embedded and llama-server -np {SLOTS} -fa {fa} choose the same letter on >= {:.0}% of questions (0-shot, 5-shot)",
                    100.0 * TARGET_AGREE
                ));
                verdicts.push(v);
            }
        }
        let missed = verdicts.iter().any(|v| v != &Verdict::Met);
        Ok(if missed {
            ExitCode::from(crate::exit::FAILURE)
        } else {
            ExitCode::SUCCESS
        })
    }

    fn row(
        name: &str,
        reqs: &[LoglikRequest],
        ours_s: f64,
        theirs_s: f64,
        ours: &[Vec<f64>],
        theirs: &[Vec<f64>],
    ) -> bool {
        let q = reqs.len() as f64;
        let (agree, worst) = compare(ours, theirs);
        println!(
            "{name}: embedded {:.2} ({ours_s:.2}s), llama-server {:.2} ({theirs_s:.2}s), ratio {:.2}x; same letter {agree}/{}, max |delta logprob| {worst:.2} nats",
            q / ours_s,
            q / theirs_s,
            theirs_s / ours_s,
            reqs.len()
        );
        theirs_s / ours_s >= TARGET_SERVER
    }

    fn timed<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, f64)> {
        let t0 = Instant::now();
        let out = f()?;
        Ok((out, t0.elapsed().as_secs_f64()))
    }

    fn tokens(rs: &[GenResponse]) -> f64 {
        rs.iter()
            .map(|r| f64::from(r.completion_tokens.unwrap_or(0)))
            .sum()
    }

    /// The best option's index and its margin over the runner-up, in nats.
    fn top_two(v: &[f64]) -> Option<(usize, f64)> {
        let best = (0..v.len()).max_by(|&x, &y| v[x].total_cmp(&v[y]))?;
        let next = (0..v.len())
            .filter(|&i| i != best)
            .map(|i| v[i])
            .fold(f64::NEG_INFINITY, f64::max);
        Some((best, v[best] - next))
    }

    fn letter(i: usize) -> char {
        anesbench_core::item::letter(i)
    }

    /// Letters chosen alike, and the largest option log-probability gap.
    fn compare(a: &[Vec<f64>], b: &[Vec<f64>]) -> (usize, f64) {
        let best = |v: &Vec<f64>| (0..v.len()).max_by(|&x, &y| v[x].total_cmp(&v[y]));
        let agree = a.iter().zip(b).filter(|(x, y)| best(x) == best(y)).count();
        let worst = a
            .iter()
            .zip(b)
            .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
            .filter(|d| d.is_finite())
            .fold(0.0, f64::max);
        (agree, worst)
    }

    /// Loglik prompts as `eval --mode loglik --shots K` renders them, with the prefix hint.
    fn loglik_requests(
        items: &[Item],
        pool: &[Item],
        shots: usize,
    ) -> anyhow::Result<Vec<LoglikRequest>> {
        let prompter = Prompter::new(&PromptSettings {
            style: PromptStyle::Direct,
            shots,
            template: None,
        })?;
        items
            .iter()
            .map(|item| {
                let chosen = if shots == 0 {
                    Vec::new()
                } else {
                    select_shots(item, pool, shots)
                };
                let text = prompter
                    .render(item, &chosen)
                    .with_context(|| format!("rendering demo item {}", item.key()))?
                    .to_text();
                Ok(LoglikRequest {
                    shared_prefix: shared_prefix_len(&text, item),
                    prompt: Prompt::Text(text),
                    candidates: item.letters().iter().map(char::to_string).collect(),
                })
            })
            .collect()
    }

    /// Chain-of-thought chat prompts of English demo items, sampled at temperature 0.7.
    fn gen_requests(pool: &[Item], n: usize, max_tokens: u32) -> anyhow::Result<Vec<GenRequest>> {
        let prompter = Prompter::new(&PromptSettings {
            style: PromptStyle::Cot,
            shots: 0,
            template: None,
        })?;
        pool.iter()
            .filter(|i| i.lang == Lang::En)
            .take(n)
            .map(|item| {
                let r = prompter.render(item, &[])?;
                Ok(GenRequest {
                    prompt: Prompt::Chat(
                        r.messages()
                            .into_iter()
                            .map(|(role, c)| ChatMessage::new(role, c))
                            .collect(),
                    ),
                    params: GenParams {
                        temperature: Some(0.7),
                        max_tokens: Some(max_tokens),
                        seed: Some(1234),
                        // As an `sc:N` run asks (the tie rule reads the mean log-probability).
                        logprobs: true,
                        ..GenParams::default()
                    },
                })
            })
            .collect()
    }

    fn with_seed(req: &GenRequest, i: u32) -> GenRequest {
        let mut r = req.clone();
        r.params.seed = r.params.seed.map(|s| s + u64::from(i));
        r
    }

    fn sample_sequential(
        b: &EmbeddedBackend,
        gens: &[GenRequest],
        n: u32,
    ) -> anyhow::Result<Vec<GenResponse>> {
        let mut out = Vec::new();
        for g in gens {
            for i in 0..n {
                out.push(b.generate_blocking(&with_seed(g, i))?);
            }
        }
        Ok(out)
    }

    fn sample_batched(
        b: &EmbeddedBackend,
        gens: &[GenRequest],
        n: u32,
    ) -> anyhow::Result<Vec<GenResponse>> {
        let mut out = Vec::new();
        for g in gens {
            let got = b.generate_n_blocking(g, n)?;
            ensure!(
                got.len() == n as usize,
                "asked {n} samples, got {}",
                got.len()
            );
            out.extend(got);
        }
        Ok(out)
    }

    fn embedded_loglik(
        b: &EmbeddedBackend,
        reqs: &[LoglikRequest],
    ) -> anyhow::Result<Vec<Vec<f64>>> {
        reqs.iter()
            .map(|r| Ok(b.loglik_blocking(r)?.logprobs))
            .collect()
    }

    /// `SLOTS` requests in flight; results in request order, and the wall time.
    async fn in_flight<Q, R>(
        reqs: Vec<Q>,
        f: impl Fn(
                Arc<OpenAiBackend>,
                Q,
            )
                -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<R>> + Send>>
            + Send
            + Sync
            + 'static,
        http: &Arc<OpenAiBackend>,
    ) -> anyhow::Result<(Vec<R>, f64)>
    where
        Q: Clone + Send + Sync + 'static,
        R: Send + 'static,
    {
        let reqs = Arc::new(reqs);
        let next = Arc::new(AtomicUsize::new(0));
        let f = Arc::new(f);
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..SLOTS {
            let (reqs, next, f, http) = (reqs.clone(), next.clone(), f.clone(), http.clone());
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(q) = reqs.get(i) else { break };
                    got.push((i, f(http.clone(), q.clone()).await?));
                }
                Ok::<_, anyhow::Error>(got)
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        let secs = t0.elapsed().as_secs_f64();
        all.sort_by_key(|(i, _)| *i);
        Ok((all.into_iter().map(|(_, r)| r).collect(), secs))
    }

    async fn http_loglik(
        http: &Arc<OpenAiBackend>,
        reqs: &[LoglikRequest],
    ) -> anyhow::Result<(Vec<Vec<f64>>, f64)> {
        in_flight(
            reqs.to_vec(),
            |b, r| Box::pin(async move { Ok(b.loglik(&r).await?.logprobs) }),
            http,
        )
        .await
    }

    async fn http_sample(
        http: &Arc<OpenAiBackend>,
        gens: &[GenRequest],
        n: u32,
    ) -> anyhow::Result<(Vec<GenResponse>, f64)> {
        let reqs: Vec<GenRequest> = gens
            .iter()
            .flat_map(|g| (0..n).map(move |i| with_seed(g, i)))
            .collect();
        in_flight(
            reqs,
            |b, r| Box::pin(async move { Ok(b.generate(&r).await?) }),
            http,
        )
        .await
    }

    /// A `llama-server` child process, killed when dropped.
    struct Server {
        child: Child,
        url: String,
    }

    impl Server {
        fn start(
            bin: &std::path::Path,
            model: &std::path::Path,
            port: u16,
            threads: u64,
            extra: &[&str],
        ) -> anyhow::Result<Server> {
            let dir = bin.parent().map(|p| p.to_path_buf()).unwrap_or_default();
            let ld = match std::env::var_os("LD_LIBRARY_PATH") {
                Some(old) => {
                    let mut v = dir.clone().into_os_string();
                    v.push(":");
                    v.push(old);
                    v
                }
                None => dir.clone().into_os_string(),
            };
            let ctx = (LlamaConfig::DEFAULT_CTX as usize * SLOTS).to_string();
            let child = Command::new(bin)
                .env("LD_LIBRARY_PATH", ld)
                .args(["-m"])
                .arg(model)
                .args([
                    "-np",
                    &SLOTS.to_string(),
                    "-c",
                    &ctx,
                    "-t",
                    &threads.to_string(),
                ])
                .args(extra)
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("cannot start {}", bin.display()))?;
            eprintln!(
                "bench solver: started {} -np {SLOTS} -c {ctx} -t {threads} {} on port {port}",
                bin.display(),
                extra.join(" ")
            );
            Ok(Server {
                child,
                url: format!("http://127.0.0.1:{port}"),
            })
        }

        async fn backend(&self) -> anyhow::Result<Arc<OpenAiBackend>> {
            let b = OpenAiBackend::new(OpenAiConfig {
                endpoints: vec![self.url.clone()],
                model: Some("model".into()),
                style: ApiStyle::Chat,
                ..OpenAiConfig::default()
            })?;
            let t0 = Instant::now();
            loop {
                match b.ready().await {
                    Ok(_) => break,
                    Err(e) if t0.elapsed() > Duration::from_secs(180) => {
                        anyhow::bail!("llama-server at {} not ready after 180s: {e}", self.url)
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                }
            }
            // Until the model is loaded the server answers 503; one tiny request waits it out.
            let probe = LoglikRequest {
                prompt: Prompt::Text("Answer:".into()),
                candidates: vec!["A".into()],
                shared_prefix: None,
            };
            loop {
                match b.loglik(&probe).await {
                    Ok(_) => break,
                    Err(e) if t0.elapsed() > Duration::from_secs(180) => {
                        anyhow::bail!("llama-server at {} not answering after 180s: {e}", self.url)
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                }
            }
            Ok(Arc::new(b))
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
