//! An in-process OpenAI-compatible server that injects faults, for tests and for
//! `anesbench bench http` (cargo feature `fake`).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use anesbench_backend::fake::{FakeConfig, FakeServer, Fault, FaultRule, Trigger};
//! let server = FakeServer::start(FakeConfig {
//!     faults: vec![FaultRule::new(Trigger::FirstAttempts(1), Fault::Http500)],
//!     ..FakeConfig::default()
//! }).await?;
//! let base = server.url(); // http://127.0.0.1:PORT
//! # Ok(()) }
//! ```
//!
//! Routes: `GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/completions`
//! (with legacy `logprobs` when asked and [`FakeConfig::logprobs`] is on). Replies end
//! with `Answer: X`, where X is [`FakeConfig::answer_for`] of the prompt text (chat
//! contents joined by blank lines), so a test can predict every answer; or, with a
//! [`Script`], say what the script gives for the request's seed. `"n": N` gets N
//! choices unless [`FakeConfig::n_choices`] is off (llama.cpp's server ignores `n`). Faults are
//! chosen per request by [`FaultRule`]s (see [`fault`]). The server stops when the
//! [`FakeServer`] is dropped.

pub mod fault;
mod handlers;
mod reply;
pub mod reward;
pub mod script;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

pub use fault::{Fault, FaultRule, Trigger};
pub use script::{Script, Scripted};

use crate::synth::Answerer;

#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Id listed by `/v1/models`.
    pub model: String,
    /// Seeds the answers and the random fault rolls.
    pub seed: u64,
    /// Picks the answer letter; give it an answer key for a set accuracy.
    pub answerer: Answerer,
    /// Answer this letter to everything instead.
    pub fixed_answer: Option<char>,
    pub faults: Vec<FaultRule>,
    /// How long [`Fault::Hang`] waits (longer than any client timeout in a test).
    pub hang: Duration,
    /// When set, requests without `Authorization: Bearer <key>` get 401.
    pub api_key: Option<String>,
    /// Answer `logprobs` on `/v1/completions`; off: reply with `logprobs: null`.
    pub logprobs: bool,
    /// Keep every generation request body (see [`FakeServer::bodies`]).
    pub record_bodies: bool,
    /// Honour `"n": N` with N choices (vLLM, SGLang). Off: ignore it and return one
    /// choice, as llama.cpp's server does.
    pub n_choices: bool,
    /// Scripted replies per seed (see [`script`]); `None`: answers by [`Self::answer_for`].
    pub script: Option<Script>,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            model: "fake-model".into(),
            seed: 0,
            answerer: Answerer::default(),
            fixed_answer: None,
            faults: Vec::new(),
            hang: Duration::from_secs(3600),
            api_key: None,
            logprobs: true,
            record_bodies: false,
            n_choices: true,
            script: None,
        }
    }
}

impl FakeConfig {
    /// The letter the server answers for this prompt text.
    pub fn answer_for(&self, text: &str) -> char {
        self.fixed_answer.unwrap_or_else(|| {
            Answerer {
                seed: self.seed,
                ..self.answerer.clone()
            }
            .answer(text)
        })
    }
}

/// Counters, for test assertions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FakeStats {
    /// Every request, any route.
    pub total: u64,
    pub models: u64,
    pub chat: u64,
    pub completions: u64,
    /// Injected fault name -> count.
    pub faults: HashMap<String, u64>,
    /// Requests whose `Authorization` header carried the configured key.
    pub authorized: u64,
    /// Choices returned by generation requests (more than the requests when `n` is kept).
    pub choices: u64,
}

pub(crate) struct Shared {
    pub cfg: FakeConfig,
    pub total: AtomicU64,
    pub models: AtomicU64,
    pub chat: AtomicU64,
    pub completions: AtomicU64,
    pub authorized: AtomicU64,
    pub choices: AtomicU64,
    /// Arrival index over generation requests.
    pub gen_index: AtomicU64,
    pub attempts: Mutex<HashMap<u64, u32>>,
    pub faults: Mutex<HashMap<&'static str, u64>>,
    pub bodies: Mutex<Vec<serde_json::Value>>,
    pub last_auth: Mutex<Option<String>>,
}

/// Lets a handler close its own TCP connection without replying.
#[derive(Clone)]
pub(crate) struct ConnKill(pub Arc<Notify>);

/// A running fake server; dropping it stops the server and closes every connection.
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// Binds `127.0.0.1:0` and serves on the current tokio runtime.
    pub async fn start(cfg: FakeConfig) -> std::io::Result<FakeServer> {
        Self::start_on("127.0.0.1:0", cfg).await
    }

    /// Binds the given address (`127.0.0.1:8123`) and serves on the current runtime.
    pub async fn start_on(addr: &str, cfg: FakeConfig) -> std::io::Result<FakeServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            cfg,
            total: AtomicU64::new(0),
            models: AtomicU64::new(0),
            chat: AtomicU64::new(0),
            completions: AtomicU64::new(0),
            authorized: AtomicU64::new(0),
            choices: AtomicU64::new(0),
            gen_index: AtomicU64::new(0),
            attempts: Mutex::new(HashMap::new()),
            faults: Mutex::new(HashMap::new()),
            bodies: Mutex::new(Vec::new()),
            last_auth: Mutex::new(None),
        });
        let router = handlers::router(shared.clone());
        let task = tokio::spawn(accept_loop(listener, router));
        Ok(FakeServer { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT` (no `/v1`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn config(&self) -> &FakeConfig {
        &self.shared.cfg
    }

    pub fn stats(&self) -> FakeStats {
        let s = &self.shared;
        FakeStats {
            total: s.total.load(Ordering::Relaxed),
            models: s.models.load(Ordering::Relaxed),
            chat: s.chat.load(Ordering::Relaxed),
            completions: s.completions.load(Ordering::Relaxed),
            faults: s
                .faults
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            authorized: s.authorized.load(Ordering::Relaxed),
            choices: s.choices.load(Ordering::Relaxed),
        }
    }

    /// Generation requests received (chat + completions).
    pub fn generation_requests(&self) -> u64 {
        self.shared.gen_index.load(Ordering::Relaxed)
    }

    /// Request bodies, when [`FakeConfig::record_bodies`] is on.
    pub fn bodies(&self) -> Vec<serde_json::Value> {
        self.shared
            .bodies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The latest `Authorization` header value received, verbatim.
    pub fn last_authorization(&self) -> Option<String> {
        self.shared
            .last_auth
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Serves until the future ends (e.g. Ctrl-C), for `bench http --serve-only`.
    pub async fn serve_until(self, stop: impl std::future::Future<Output = ()>) {
        stop.await;
        drop(self);
    }
}

async fn accept_loop(listener: TcpListener, router: axum::Router) {
    // Owned here so aborting this task aborts every connection too.
    let mut conns = JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        conns.spawn(async move {
            let kill = Arc::new(Notify::new());
            let k = kill.clone();
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnKill(k.clone()));
                    let router = router.clone();
                    async move { tower::ServiceExt::oneshot(router, req).await }
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                // Dropping the connection future closes the socket with no reply.
                _ = kill.notified() => {}
            }
        });
    }
}
