//! `anesbench bench http`: client CPU per request of the whole eval path against a local
//! instant server, beside a Python peer doing what the study's script does, with the same
//! number of requests in flight on both sides, on the same server in the same run.
//!
//! Ours is the real path of `anesbench eval`: settings from [`anesbench_run::resolve`], a
//! synthetic benchmark of `-n` items written in the Hugging Face schema and loaded by the
//! loaders, then [`anesbench_run::execute`] (prompt rendering, scheduling with retries,
//! answer extraction, one JSONL line per sample, compaction, summary, manifest) into a
//! real run directory. The peer (`scripts/bench_openai_client.py`) sends the same
//! messages with the Python `openai` package from a thread pool of `--concurrency`
//! threads, extracts the letter with the study-style regex ladder
//! (`scripts/study_extractor.py`) and writes one JSON line per sample.
//!
//! The server runs in a child process (`bench http --serve-only`), so this process's
//! CPU time (getrusage, every thread) is the client's alone; the Python client measures
//! itself (`time.process_time()`, every thread).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anesbench_backend::fake::{FakeConfig, FakeServer};
use anesbench_backend::openai::{OpenAiBackend, OpenAiConfig};
use anesbench_backend::{Backend, GenParams, GenRequest, Prompt};
use anesbench_core::load::{load, Dataset};
use anesbench_run::request::prepare_all;
use anesbench_run::settings::Mode;
use anesbench_run::{execute, resolve, Overrides, ProgressMode, RunRequest, Settings};
use anyhow::{bail, ensure, Context};

use super::Verdict;
use crate::exit;

/// Client CPU per request: the Python peer spends at least this many times ours.
const TARGET_CPU_RATIO: f64 = 20.0;

#[derive(clap::Args)]
pub struct BenchHttpArgs {
    /// Benchmark items (one request each) per client.
    #[arg(long, short = 'n', default_value_t = 10_000)]
    requests: usize,
    /// Requests in flight on both sides: our `--concurrency` and the Python thread pool.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Tokio worker threads for our client (0 = the runtime `anesbench eval` uses, which
    /// is single-threaded; 1 = single-threaded; more = a multi-threaded runtime).
    #[arg(long, default_value_t = 0)]
    client_threads: usize,
    /// Worker threads of the local server.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Python interpreter for the peer client.
    #[arg(long, default_value = "python3")]
    python: String,
    /// The peer client script.
    #[arg(long, default_value = "scripts/bench_openai_client.py")]
    script: PathBuf,
    /// Measure only our client (the target is then not checked).
    #[arg(long)]
    no_python: bool,
    /// Working directory for the benchmark files and both outputs (default: a new
    /// directory under the system temp dir, removed afterwards).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the working directory (run directory, Python output) afterwards.
    #[arg(long)]
    keep: bool,
    /// Also time the parts of our eval path one by one (prompt rendering, prompt hashing,
    /// HTTP client alone, answer extraction, JSONL appends, the final read-back and
    /// summary), on the same items and replies, to show where our CPU goes.
    #[arg(long)]
    breakdown: bool,
    /// Internal: run only the instant server on this port (0 = any) and print its URL.
    #[arg(long, value_name = "PORT", hide = true)]
    serve_only: Option<u16>,
}

const MODEL: &str = "fake-model";
const MAX_TOKENS: u32 = 2048;

pub fn run(args: BenchHttpArgs) -> anyhow::Result<ExitCode> {
    if let Some(port) = args.serve_only {
        serve_only(port, args.server_threads)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.requests == 0 || args.concurrency == 0 {
        bail!("--requests and --concurrency must be at least 1");
    }
    let (work, temp) = match &args.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("anesbench-bench-http-{}", std::process::id())),
            true,
        ),
    };
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let result = bench(&args, &work);
    if args.keep {
        eprintln!("bench http: kept {}", work.display());
    } else if temp || result.is_ok() {
        let _ = std::fs::remove_dir_all(&work);
    }
    result
}

fn bench(args: &BenchHttpArgs, work: &Path) -> anyhow::Result<ExitCode> {
    let bench = Bench::prepare(args, work)?;
    let mut server = Server::spawn(args.server_threads)?;
    eprintln!(
        "bench http: instant server at {} (child process {}); {} items, {} in flight",
        server.url,
        server.child.id(),
        bench.dataset.items.len(),
        args.concurrency
    );

    let server_cpu0 = server.cpu_s();
    let ours = run_ours(args, &bench, &server.url, &work.join("run"))?;
    let ours_server_cpu = server.cpu_s().zip(server_cpu0).map(|(b, a)| b - a);

    let parts = if args.breakdown {
        Some(breakdown(args, &bench, &server.url, work)?)
    } else {
        None
    };

    let peer = if args.no_python {
        None
    } else {
        let cpu0 = server.cpu_s();
        match run_python(
            args,
            &server.url,
            &bench.python_input,
            &work.join("python.jsonl"),
        ) {
            Ok(m) => Some((m, server.cpu_s().zip(cpu0).map(|(b, a)| b - a))),
            Err(e) => {
                eprintln!("bench http: Python peer not measured: {e:#}");
                None
            }
        }
    };
    server.stop();

    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "n/a".into());
    println!(
        "bench http: {} benchmark items (chat, CoT prompt, temperature 0, max_tokens {MAX_TOKENS}) per client, {} in flight on each side, against a local instant server; load average {load}",
        args.requests, args.concurrency
    );
    println!(
        "{:<52} {:>7} {:>8} {:>9} {:>7} {:>14} {:>12}",
        "client (whole eval path)",
        "errors",
        "wall s",
        "req/s",
        "cpu s",
        "cpu ms / req",
        "server cpu s"
    );
    let threads = match args.client_threads {
        0 => "eval's runtime: 1 thread".to_string(),
        1 => "1 runtime thread".to_string(),
        n => format!("{n} runtime threads"),
    };
    print_row(
        &format!("anesbench {} (execute, {threads})", ours.version),
        &ours,
        ours_server_cpu,
    );
    let target = format!(
        ">= {TARGET_CPU_RATIO:.0}x less client CPU per request than the Python openai client"
    );
    let verdict = match &peer {
        Some((peer, server_cpu)) => {
            print_row(
                &format!(
                    "python openai {} ({} threads)",
                    peer.version, args.concurrency
                ),
                peer,
                *server_cpu,
            );
            let cpu_ratio = peer.cpu_per_req() / ours.cpu_per_req();
            let wall_ratio = peer.wall_s / ours.wall_s;
            println!(
                "client CPU per request: {:.1} us ours, {:.1} us Python: {cpu_ratio:.1}x less",
                ours.cpu_per_req() * 1e6,
                peer.cpu_per_req() * 1e6
            );
            println!("wall time: {wall_ratio:.1}x shorter than the Python client's");
            match compare_answers(
                &work.join("run").join("samples.jsonl"),
                &work.join("python.jsonl"),
            ) {
                Ok((same, n)) => println!(
                    "answers: the two clients extracted the same letter for {same} of {n} items"
                ),
                Err(e) => println!("answers: not compared ({e:#})"),
            }
            Verdict::from_met(cpu_ratio >= TARGET_CPU_RATIO && peer.errors == 0)
        }
        None if args.no_python => Verdict::NotChecked("--no-python".into()),
        None => Verdict::NotChecked("the Python peer was not measured".into()),
    };
    if let Some(s) = ours_server_cpu {
        println!(
            "server CPU during our run: {:.2} s for {:.2} s wall ({:.0}% of one core); client CPU: {:.2} s",
            s,
            ours.wall_s,
            100.0 * s / ours.wall_s,
            ours.cpu_s
        );
    }
    if let Some(parts) = &parts {
        print_breakdown(parts, &ours);
    }
    verdict.print(&target);
    if ours.errors > 0 {
        println!("our client had {} errors", ours.errors);
        return Ok(ExitCode::from(exit::FAILURE));
    }
    Ok(verdict.exit_code(args.no_python))
}

#[derive(Debug)]
struct Measured {
    requests: usize,
    errors: usize,
    wall_s: f64,
    cpu_s: f64,
    version: String,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.wall_s
    }
    /// Client CPU seconds per request.
    fn cpu_per_req(&self) -> f64 {
        self.cpu_s / self.requests as f64
    }
}

fn print_row(name: &str, m: &Measured, server_cpu: Option<f64>) {
    let server = server_cpu
        .map(|s| format!("{s:.2}"))
        .unwrap_or_else(|| "n/a".into());
    println!(
        "{:<52} {:>7} {:>8.2} {:>9.0} {:>7.2} {:>14.4} {:>12}",
        name,
        m.errors,
        m.wall_s,
        m.rate(),
        m.cpu_s,
        m.cpu_per_req() * 1e3,
        server
    );
}

/// The benchmark on disk and loaded, the settings `anesbench eval` would resolve for it,
/// and the same prompts written out for the Python peer.
struct Bench {
    dataset: Dataset,
    settings: Settings,
    python_input: PathBuf,
}

impl Bench {
    fn prepare(args: &BenchHttpArgs, work: &Path) -> anyhow::Result<Bench> {
        let data = work.join("benchmark");
        write_benchmark(&data, args.requests)?;
        let source = data.to_string_lossy().into_owned();
        // What `anesbench eval --dataset DIR --endpoint URL --model fake-model --mode
        // generate --temperature 0 --max-tokens 2048 --concurrency N` resolves to; the
        // endpoint is set once the server runs.
        let resolved = resolve(
            &Overrides {
                dataset: Some(source.clone()),
                endpoints: vec!["http://127.0.0.1:9".into()],
                model: Some(MODEL.into()),
                mode: Some(Mode::Generate),
                temperature: Some(0.0),
                max_tokens: Some(MAX_TOKENS),
                concurrency: Some(args.concurrency),
                ..Overrides::default()
            },
            PathBuf::new,
        )?;
        let settings = resolved.settings;
        let dataset = load(&source, &settings.load_options())
            .with_context(|| format!("cannot load the synthetic benchmark {source}"))?;
        ensure!(
            dataset.items.len() == args.requests,
            "the synthetic benchmark has {} items, not {}",
            dataset.items.len(),
            args.requests
        );
        let python_input = work.join("python-input.jsonl");
        write_python_input(&python_input, &dataset, &settings)?;
        Ok(Bench {
            dataset,
            settings,
            python_input,
        })
    }
}

/// `n` board-style items in the Hugging Face release schema, split between
/// `anesbench_en.json` and `anesbench_zh.json`; every question differs.
fn write_benchmark(dir: &Path, n: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (n_en, n_zh) = (n.div_ceil(2), n / 2);
    for (lang, count) in [("en", n_en), ("zh", n_zh)] {
        let items: Vec<serde_json::Value> = (0..count)
            .map(|i| {
                let (question, options) = if lang == "en" {
                    (
                        format!("Question {i}: A 67-year-old man with severe aortic stenosis is scheduled for hip arthroplasty. Which anaesthetic plan best preserves his haemodynamic stability?"),
                        [
                            "Single-shot spinal anaesthesia with a high dose of bupivacaine",
                            "General anaesthesia with careful titration, maintaining sinus rhythm and systemic vascular resistance",
                            "Rapid induction with a large bolus of propofol",
                            "Deliberate hypotension to reduce blood loss",
                        ],
                    )
                } else {
                    (
                        format!("问题 {i}：一名67岁重度主动脉瓣狭窄男性拟行髋关节置换术。哪种麻醉方案最能维持其血流动力学稳定？"),
                        [
                            "大剂量布比卡因单次脊髓麻醉",
                            "全身麻醉，谨慎滴定，维持窦性心律和体循环阻力",
                            "大剂量丙泊酚快速诱导",
                            "控制性降压以减少出血",
                        ],
                    )
                };
                let target = ["A", "B", "C", "D"][i % 4];
                serde_json::json!({
                    "id": format!("{lang}{i}"),
                    "question": question,
                    "A": options[0],
                    "B": options[1],
                    "C": options[2],
                    "D": options[3],
                    "choice_num": 4,
                    "target": target,
                    "category": 1 + i % 3,
                })
            })
            .collect();
        std::fs::write(
            dir.join(format!("anesbench_{lang}.json")),
            serde_json::to_vec(&items)?,
        )?;
    }
    Ok(())
}

/// One line per item: the exact chat messages our runner sends, the options and the gold
/// letter, so the peer asks the same and extracts from the same replies.
fn write_python_input(path: &Path, dataset: &Dataset, s: &Settings) -> anyhow::Result<()> {
    let prompts = prepare_all(&dataset.items, s, &anesbench_core::demo::items())
        .map_err(|(i, e)| anyhow::anyhow!("rendering item {i}: {e}"))?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (item, p) in dataset.items.iter().zip(&prompts) {
        let Prompt::Chat(messages) = &p.prompt else {
            bail!("expected chat messages for the Python peer");
        };
        let options: serde_json::Map<String, serde_json::Value> = item
            .letters()
            .into_iter()
            .zip(&item.options)
            .map(|(l, o)| (l.to_string(), o.clone().into()))
            .collect();
        let line = serde_json::json!({
            "id": item.id,
            "lang": item.lang,
            "messages": messages,
            "options": options,
            "target": item.answer.to_string(),
        });
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn runtime(client_threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    if client_threads == 0 {
        return crate::commands::eval::runtime();
    }
    let mut b = match client_threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        _ => tokio::runtime::Builder::new_multi_thread(),
    };
    if client_threads > 1 {
        b.worker_threads(client_threads);
    }
    Ok(b.enable_all().build()?)
}

fn run_ours(
    args: &BenchHttpArgs,
    bench: &Bench,
    url: &str,
    out: &Path,
) -> anyhow::Result<Measured> {
    let rt = runtime(args.client_threads)?;
    let mut settings = bench.settings.clone();
    settings.endpoints = vec![url.to_string()];
    settings.out = Some(out.to_path_buf());
    // The backend as `anesbench eval` builds it (commands/eval/backend.rs).
    let backend = Arc::new(OpenAiBackend::new(OpenAiConfig {
        endpoints: settings.endpoints.clone(),
        model: settings.model.clone(),
        style: settings.api_style,
        request_timeout: Duration::from_secs_f64(settings.timeout_secs),
        ..OpenAiConfig::default()
    })?);
    let m = rt.block_on(async {
        backend.ready().await?;
        warm_up(&backend, args.concurrency.min(args.requests)).await;
        let mut req = RunRequest::new(
            settings,
            bench.dataset.clone(),
            backend.clone(),
            out.to_path_buf(),
        );
        req.progress = ProgressMode::Quiet;
        let cpu0 = cpu_time_s();
        let t0 = Instant::now();
        let outcome = execute(req).await?;
        let wall_s = t0.elapsed().as_secs_f64();
        let cpu_s = cpu_time_s() - cpu0;
        ensure!(
            outcome.ran == bench.dataset.items.len(),
            "the run sent {} samples, not {}",
            outcome.ran,
            bench.dataset.items.len()
        );
        anyhow::Ok(Measured {
            requests: outcome.ran,
            errors: outcome.errors,
            wall_s,
            cpu_s,
            version: env!("CARGO_PKG_VERSION").into(),
        })
    })?;
    Ok(m)
}

/// CPU seconds of one part of our eval path, timed on its own over all items.
struct Part {
    name: &'static str,
    cpu_s: f64,
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let c0 = cpu_time_s();
    let v = f();
    (v, cpu_time_s() - c0)
}

/// The parts of `execute` that can be run on their own, each over all items, with the
/// replies of our measured run; what `execute` spends beyond their sum is scheduling
/// (tasks, channel, retry and timeout wrappers, record building) and run-directory
/// bookkeeping (manifest, lock, resume check).
fn breakdown(
    args: &BenchHttpArgs,
    bench: &Bench,
    url: &str,
    work: &Path,
) -> anyhow::Result<Vec<Part>> {
    use anesbench_core::record::sha256_hex;
    use anesbench_run::rundir::{read_samples, SampleAppender};

    let s = &bench.settings;
    let items = &bench.dataset.items;
    let pool = anesbench_core::demo::items();
    let mut parts = Vec::new();
    let (prompts, cpu) = timed(|| prepare_all(items, s, &pool));
    let prompts = prompts.map_err(|(i, e)| anyhow::anyhow!("rendering item {i}: {e}"))?;
    let (_, hash_cpu) = timed(|| {
        prompts
            .iter()
            .map(|p| sha256_hex(&serde_json::to_vec(&p.prompt).unwrap_or_default()).len())
            .sum::<usize>()
    });
    parts.push(Part {
        name: "prompt rendering (prepare_all less hashing)",
        cpu_s: cpu - hash_cpu,
    });
    parts.push(Part {
        name: "prompt hash (JSON + SHA-256 per prompt)",
        cpu_s: hash_cpu,
    });

    // The HTTP client alone: the same prompts and parameters, as many in flight, no runner.
    let rt = runtime(args.client_threads)?;
    let backend = Arc::new(OpenAiBackend::new(OpenAiConfig {
        endpoints: vec![url.to_string()],
        model: s.model.clone(),
        style: s.api_style,
        request_timeout: Duration::from_secs_f64(s.timeout_secs),
        ..OpenAiConfig::default()
    })?);
    let params = anesbench_run::request::gen_params(s, 0);
    let reqs: Vec<GenRequest> = prompts
        .iter()
        .map(|p| GenRequest {
            prompt: p.prompt.clone(),
            params: params.clone(),
        })
        .collect();
    let reqs = Arc::new(reqs);
    let http_cpu = rt.block_on(async {
        backend.ready().await?;
        warm_up(&backend, args.concurrency.min(reqs.len())).await;
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c0 = cpu_time_s();
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..args.concurrency {
            let (b, r, next) = (backend.clone(), reqs.clone(), next.clone());
            set.spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(req) = r.get(i) else { break };
                    let _ = b.generate(req).await;
                }
            });
        }
        while set.join_next().await.is_some() {}
        anyhow::Ok(cpu_time_s() - c0)
    })?;
    parts.push(Part {
        name: "HTTP client alone (OpenAiBackend::generate)",
        cpu_s: http_cpu,
    });

    let samples = work.join("run").join(anesbench_run::rundir::SAMPLES);
    let records = read_samples(&samples)?.records;
    let by_key: std::collections::HashMap<String, &anesbench_core::Item> =
        items.iter().map(|i| (i.key(), i)).collect();
    let (_, cpu) = timed(|| {
        records
            .iter()
            .filter_map(|r| {
                let item = by_key.get(&format!("{}:{}", r.lang, r.id))?;
                let (_, ex) = anesbench_run::score::score_text(
                    r.response.as_deref(),
                    r.reasoning.as_deref(),
                    &item.options,
                    r.finish_reason.as_deref(),
                );
                ex.answer
            })
            .count()
    });
    parts.push(Part {
        name: "answer extraction (score_text)",
        cpu_s: cpu,
    });

    let copy = work.join("breakdown-samples.jsonl");
    let (res, cpu) = timed(|| -> anyhow::Result<()> {
        let mut a = SampleAppender::open(&copy)?;
        for r in &records {
            a.append(r)?;
        }
        Ok(())
    });
    res?;
    parts.push(Part {
        name: "JSONL appends (SampleAppender::append)",
        cpu_s: cpu,
    });
    let (res, cpu) = timed(|| -> anyhow::Result<usize> {
        let back = read_samples(&copy)?;
        let summary = anesbench_core::Summary::from_records(back.records.iter());
        Ok(serde_json::to_vec(&summary)?.len())
    });
    res?;
    parts.push(Part {
        name: "read-back and summary (read_samples, Summary)",
        cpu_s: cpu,
    });
    let _ = std::fs::remove_file(&copy);
    Ok(parts)
}

fn print_breakdown(parts: &[Part], ours: &Measured) {
    println!(
        "where our client CPU goes (each part timed alone over the {} items):",
        ours.requests
    );
    let n = ours.requests as f64;
    let row = |name: &str, cpu_s: f64| {
        println!(
            "  {name:<50} {:>8.1} us / req {:>5.0}%",
            cpu_s / n * 1e6,
            100.0 * cpu_s / ours.cpu_s
        );
    };
    let mut sum = 0.0;
    for p in parts {
        row(p.name, p.cpu_s);
        sum += p.cpu_s;
    }
    row(
        "rest of execute (scheduling, records, run dir)",
        ours.cpu_s - sum,
    );
    row("execute, measured whole", ours.cpu_s);
}

/// Warm-up (connections opened, allocator settled), not counted: `n` requests at once.
async fn warm_up(backend: &Arc<OpenAiBackend>, n: usize) {
    let req = GenRequest {
        prompt: Prompt::Chat(vec![anesbench_backend::ChatMessage::new(
            "user",
            "Warm-up. A. yes B. no",
        )]),
        params: GenParams {
            temperature: Some(0.0),
            max_tokens: Some(MAX_TOKENS),
            ..GenParams::default()
        },
    };
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (b, r) = (backend.clone(), req.clone());
        set.spawn(async move {
            let _ = b.generate(&r).await;
        });
    }
    while set.join_next().await.is_some() {}
}

fn run_python(
    args: &BenchHttpArgs,
    url: &str,
    input: &Path,
    output: &Path,
) -> anyhow::Result<Measured> {
    if !args.script.is_file() {
        bail!(
            "{} not found (hint: run from the repository root or pass --script)",
            args.script.display()
        );
    }
    let out = Command::new(&args.python)
        .arg(&args.script)
        .args(["--base-url", &format!("{url}/v1"), "--model", MODEL])
        .args(["--concurrency", &args.concurrency.to_string()])
        .args(["--max-tokens", &MAX_TOKENS.to_string()])
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .output()
        .with_context(|| {
            format!(
                "cannot start `{}` (hint: pass --python, or --no-python)",
                args.python
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line).with_context(|| {
        format!(
            "{} printed no result line (exit {})",
            args.script.display(),
            out.status
        )
    })?;
    if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
        bail!("{e}");
    }
    let num = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_f64())
            .with_context(|| format!("result line has no `{k}`: {line}"))
    };
    Ok(Measured {
        requests: num("requests")? as usize,
        errors: num("errors")? as usize,
        wall_s: num("wall_s")?,
        cpu_s: num("cpu_s")?,
        version: v
            .get("openai_version")
            .and_then(|x| x.as_str())
            .unwrap_or("?")
            .into(),
    })
}

/// How many items got the same answer letter from both clients (the server answers by
/// prompt, so equal prompts and working extractors agree), of the items in our run.
fn compare_answers(ours: &Path, python: &Path) -> anyhow::Result<(usize, usize)> {
    let read = |p: &Path| -> anyhow::Result<std::collections::HashMap<String, Option<String>>> {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l)?;
                let key = format!(
                    "{}:{}",
                    v["lang"].as_str().unwrap_or(""),
                    v["id"].as_str().unwrap_or("")
                );
                Ok((key, v["answer"].as_str().map(str::to_string)))
            })
            .collect()
    };
    let (a, b) = (read(ours)?, read(python)?);
    let same = a
        .iter()
        .filter(|(k, v)| v.is_some() && b.get(*k) == Some(v))
        .count();
    Ok((same, a.len()))
}

/// User + system CPU seconds of this whole process (every thread).
#[allow(unsafe_code)]
fn cpu_time_s() -> f64 {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct we own; RUSAGE_SELF is always valid.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
        ru.assume_init()
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The server child process; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn spawn(threads: usize) -> anyhow::Result<Server> {
        let exe = std::env::current_exe().context("cannot find the anesbench executable")?;
        let mut child = Command::new(exe)
            .args([
                "bench",
                "http",
                "--serve-only",
                "0",
                "--server-threads",
                &threads.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start the local server process")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("server stdout")?).read_line(&mut line)?;
        let url = line.trim().strip_prefix("listening ").map(str::to_string);
        match url {
            Some(url) => Ok(Server { child, url }),
            None => {
                let _ = child.kill();
                bail!("the local server did not start (it printed {line:?})")
            }
        }
    }

    /// The child's CPU seconds from /proc (Linux); `None` elsewhere.
    #[allow(unsafe_code)]
    fn cpu_s(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the `(comm)` part; utime and stime are fields 14 and 15.
        let rest = &stat[stat.rfind(')')? + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (hz > 0).then(|| ticks / hz as f64)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs the instant server until stdin closes (the parent exited or hung up).
fn serve_only(port: u16, threads: usize) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async {
        let server = FakeServer::start_on(
            &format!("127.0.0.1:{port}"),
            FakeConfig {
                model: MODEL.into(),
                ..FakeConfig::default()
            },
        )
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
        println!("listening {}", server.url());
        std::io::stdout().flush()?;
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        });
        server.serve_until(async { drop(stdin_closed.await) }).await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchHttpArgs,
    }

    fn fake_server() -> String {
        // The server gets its own runtime on its own thread, as in the child process.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let server = FakeServer::start(FakeConfig {
                    model: MODEL.into(),
                    ..FakeConfig::default()
                })
                .await
                .unwrap();
                tx.send(server.url()).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    }

    #[test]
    fn our_eval_path_writes_a_run_directory_and_counts_cpu() {
        let url = fake_server();
        let work = tempfile::tempdir().unwrap();
        let args = Cli::parse_from(["x", "-n", "301", "--concurrency", "8"]).args;
        let bench = Bench::prepare(&args, work.path()).unwrap();
        let s = &bench.settings;
        assert_eq!(
            (s.mode, s.temperature, s.max_tokens, s.concurrency),
            (Mode::Generate, Some(0.0), Some(MAX_TOKENS), 8)
        );
        let out = work.path().join("run");
        let m = run_ours(&args, &bench, &url, &out).unwrap();
        assert_eq!((m.requests, m.errors), (301, 0));
        assert!(m.cpu_s > 0.0 && m.wall_s > 0.0 && m.rate() > 0.0);
        let lines = std::fs::read_to_string(out.join("samples.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 301);
        assert!(out.join("manifest.json").is_file());
        // Every reply states its letter; the runner extracted each one.
        let answered = lines
            .lines()
            .filter(|l| l.contains("\"answer\":\""))
            .count();
        assert_eq!(answered, 301);
        // The peer's input holds the same items.
        let input = std::fs::read_to_string(&bench.python_input).unwrap();
        assert_eq!(input.lines().count(), 301);
        assert!(input.contains("\"messages\""));
    }

    #[test]
    fn missing_peer_script_is_reported() {
        let args = Cli::parse_from(["x", "--script", "/nonexistent/bench.py"]).args;
        let e = run_python(
            &args,
            "http://127.0.0.1:9",
            Path::new("/nonexistent/in"),
            Path::new("/nonexistent/out"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/bench.py"), "{e}");
    }
}
