//! `anesbench bench http`: harness overhead per request against a local instant server,
//! beside the study's own client design (Python `openai` package, 16-thread pool) on
//! the same server in the same run.
//!
//! The server runs in a child process (`bench http --serve-only`), so this process's
//! CPU time (getrusage) is the client's alone; the Python client measures itself.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anesbench_backend::fake::{FakeConfig, FakeServer};
use anesbench_backend::openai::{OpenAiBackend, OpenAiConfig};
use anesbench_backend::{Backend, ChatMessage, GenParams, GenRequest, Prompt};
use anyhow::{bail, Context};

#[derive(clap::Args)]
pub struct BenchHttpArgs {
    /// Requests per client.
    #[arg(long, short = 'n', default_value_t = 10_000)]
    requests: usize,
    /// Requests in flight for our client.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Tokio worker threads for our client (1 = single-threaded runtime).
    #[arg(long, default_value_t = 1)]
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
    /// Thread-pool size of the peer client (the study used 16).
    #[arg(long, default_value_t = 16)]
    python_threads: usize,
    /// Measure only our client.
    #[arg(long)]
    no_python: bool,
    /// Internal: run only the instant server on this port (0 = any) and print its URL.
    #[arg(long, value_name = "PORT", hide = true)]
    serve_only: Option<u16>,
}

const MODEL: &str = "fake-model";
const MAX_TOKENS: u32 = 2048;
const SYSTEM: &str =
    "You are an experienced anaesthesiologist helping with board-style questions. \
Reason carefully and end with the single letter of the best option.";
const USER: &str = "Question {i}: A 67-year-old man with severe aortic stenosis is scheduled for \
hip arthroplasty. Which anaesthetic plan best preserves his haemodynamic stability?\n\
A. Single-shot spinal anaesthesia with a high dose of bupivacaine\n\
B. General anaesthesia with careful titration, maintaining sinus rhythm and systemic vascular resistance\n\
C. Rapid induction with a large bolus of propofol\n\
D. Deliberate hypotension to reduce blood loss\n\
Analyse each option step by step, then give exactly one letter from A, B, C, D as the final answer.";

pub fn run(args: BenchHttpArgs) -> anyhow::Result<ExitCode> {
    if let Some(port) = args.serve_only {
        serve_only(port, args.server_threads)?;
        return Ok(ExitCode::SUCCESS);
    }
    if args.requests == 0 || args.concurrency == 0 || args.client_threads == 0 {
        bail!("--requests, --concurrency and --client-threads must be at least 1");
    }
    let mut server = Server::spawn(args.server_threads)?;
    eprintln!(
        "bench http: instant server at {} (child process {})",
        server.url,
        server.child.id()
    );

    let server_cpu0 = server.cpu_s();
    let ours = run_ours(&args, &server.url)?;
    let ours_server_cpu = server.cpu_s().zip(server_cpu0).map(|(b, a)| b - a);

    let peer = if args.no_python {
        None
    } else {
        let cpu0 = server.cpu_s();
        match run_python(&args, &server.url) {
            Ok(m) => Some((m, server.cpu_s().zip(cpu0).map(|(b, a)| b - a))),
            Err(e) => {
                eprintln!("bench http: Python peer not measured: {e:#}");
                None
            }
        }
    };
    server.stop();

    println!(
        "bench http: {} chat requests per client against a local instant server",
        args.requests
    );
    println!(
        "{:<44} {:>8} {:>9} {:>10} {:>8} {:>14} {:>14}",
        "client", "errors", "wall s", "req/s", "cpu s", "cpu s / 1k req", "server cpu s"
    );
    print_row(
        &format!(
            "anesbench (Rust, {} in flight, {} thread)",
            args.concurrency, args.client_threads
        ),
        &ours,
        ours_server_cpu,
    );
    if let Some((peer, server_cpu)) = &peer {
        print_row(
            &format!(
                "python openai {} ({} threads)",
                peer.version, args.python_threads
            ),
            peer,
            *server_cpu,
        );
        let cpu_ratio = peer.cpu_per_1k() / ours.cpu_per_1k();
        let rate_ratio = ours.rate() / peer.rate();
        println!("client CPU per request: {cpu_ratio:.1}x less than the Python openai client (target: >= 20x)");
        println!("throughput: {rate_ratio:.1}x the Python openai client's requests/s");
    }
    if let Some(s) = ours_server_cpu {
        // With the client this cheap, the server's own CPU is what limits the rate.
        println!(
            "server CPU during our run: {:.2} s for {:.2} s wall ({:.0}% of one core); client CPU: {:.2} s",
            s,
            ours.wall_s,
            100.0 * s / ours.wall_s,
            ours.cpu_s
        );
    }
    Ok(if ours.errors > 0 {
        crate::exit::FAILURE.into()
    } else {
        ExitCode::SUCCESS
    })
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
    fn cpu_per_1k(&self) -> f64 {
        self.cpu_s * 1000.0 / self.requests as f64
    }
}

fn print_row(name: &str, m: &Measured, server_cpu: Option<f64>) {
    let server = server_cpu
        .map(|s| format!("{s:.2}"))
        .unwrap_or_else(|| "n/a".into());
    println!(
        "{:<44} {:>8} {:>9.2} {:>10.0} {:>8.2} {:>14.3} {:>14}",
        name,
        m.errors,
        m.wall_s,
        m.rate(),
        m.cpu_s,
        m.cpu_per_1k(),
        server
    );
}

fn request(i: usize) -> GenRequest {
    GenRequest {
        prompt: Prompt::Chat(vec![
            ChatMessage::new("system", SYSTEM),
            ChatMessage::new("user", USER.replace("{i}", &i.to_string())),
        ]),
        params: GenParams {
            temperature: Some(0.0),
            max_tokens: Some(MAX_TOKENS),
            ..GenParams::default()
        },
    }
}

fn run_ours(args: &BenchHttpArgs, url: &str) -> anyhow::Result<Measured> {
    let rt = if args.client_threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.client_threads)
            .enable_all()
            .build()?
    };
    let backend = Arc::new(OpenAiBackend::new(OpenAiConfig {
        model: Some(MODEL.into()),
        request_timeout: Duration::from_secs(60),
        ..OpenAiConfig::new(url)
    })?);
    rt.block_on(async {
        backend.ready().await?;
        // Warm-up (connections opened, allocator settled), not counted.
        drive(
            &backend,
            0..args.concurrency.min(args.requests),
            args.concurrency,
        )
        .await;
        let cpu0 = cpu_time_s();
        let t0 = Instant::now();
        let errors = drive(&backend, 0..args.requests, args.concurrency).await;
        let wall_s = t0.elapsed().as_secs_f64();
        let cpu_s = cpu_time_s() - cpu0;
        Ok(Measured {
            requests: args.requests,
            errors,
            wall_s,
            cpu_s,
            version: env!("CARGO_PKG_VERSION").into(),
        })
    })
}

/// `concurrency` workers pull request numbers from a shared counter; returns the error count.
async fn drive(
    backend: &Arc<OpenAiBackend>,
    range: std::ops::Range<usize>,
    concurrency: usize,
) -> usize {
    let next = Arc::new(AtomicUsize::new(range.start));
    let errors = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (backend, next, errors, end) =
            (backend.clone(), next.clone(), errors.clone(), range.end);
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                if backend.generate(&request(i)).await.is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
    errors.load(Ordering::Relaxed)
}

fn run_python(args: &BenchHttpArgs, url: &str) -> anyhow::Result<Measured> {
    if !args.script.is_file() {
        bail!(
            "{} not found (hint: run from the repository root or pass --script)",
            args.script.display()
        );
    }
    let mut child = Command::new(&args.python)
        .arg(&args.script)
        .args([
            "--base-url",
            &format!("{url}/v1"),
            "--requests",
            &args.requests.to_string(),
        ])
        .args(["--threads", &args.python_threads.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!(
                "cannot start `{}` (hint: pass --python, or --no-python)",
                args.python
            )
        })?;
    let spec = serde_json::json!({"model": MODEL, "system": SYSTEM, "user": USER, "temperature": 0.0, "max_tokens": MAX_TOKENS});
    child
        .stdin
        .take()
        .context("python stdin")?
        .write_all(spec.to_string().as_bytes())?;
    let out = child.wait_with_output()?;
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

    #[test]
    fn our_client_completes_every_request_and_counts_cpu() {
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
        let url = rx.recv().unwrap();
        let args = Cli::parse_from(["x", "-n", "300", "--concurrency", "8"]).args;
        let m = run_ours(&args, &url).unwrap();
        assert_eq!((m.requests, m.errors), (300, 0));
        assert!(m.cpu_s > 0.0 && m.wall_s > 0.0 && m.rate() > 0.0);
    }

    #[test]
    fn missing_peer_script_is_reported() {
        let args = Cli::parse_from(["x", "--script", "/nonexistent/bench.py"]).args;
        let e = run_python(&args, "http://127.0.0.1:9").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/bench.py"), "{e}");
    }
}
