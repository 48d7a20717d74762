//! Model backends behind one trait. The runner only sees [`Backend`]; each transport
//! (OpenAI-compatible HTTP, embedded llama.cpp in `anesbench-llama`, the test mock)
//! implements it.
//!
//! - [`openai`]: `OpenAiBackend` / `OpenAiConfig` / `ApiStyle` for SGLang, vLLM,
//!   llama.cpp's server and hosted APIs: readiness check, model discovery, several
//!   endpoints by least outstanding requests, dead endpoints taken out, log-likelihood
//!   over `/v1/completions`. One attempt per call; the runner retries on
//!   [`BackendError::retryable`] and waits [`BackendError::retry_after`].
//! - [`mock`]: `MockBackend`, deterministic answers for CLI tests without a network.
//! - `fake` (cargo feature `fake`): `FakeServer`, an in-process OpenAI-compatible
//!   server that injects faults (`Fault`, `FaultRule`, `Trigger`) for tests and benchmarks.
//! - [`reward`]: the [`reward::Scorer`] trait and reward-model clients (vLLM `/pooling`,
//!   `/classify`, `/score`; SGLang `/classify`) over the same HTTP machinery.
//! - [`synth`]: the answer picker the mock and the fake server share, so a test can
//!   predict every answer.

#[cfg(feature = "fake")]
pub mod fake;
pub mod mock;
pub mod openai;
pub mod redact;
pub mod reward;
pub mod synth;
pub mod types;

pub use redact::redact_url;
pub use types::*;

use async_trait::async_trait;

/// A model that can answer prompts. Implementations must be cheap to share (`Arc`).
#[async_trait]
pub trait Backend: Send + Sync {
    /// Free text generation (chat messages or a plain completion prompt).
    async fn generate(&self, req: &GenRequest) -> Result<GenResponse, BackendError>;

    /// Log-probability of each candidate continuation (option letters) as the next
    /// token after `prompt`. Backends that cannot do it return
    /// [`BackendError::Unsupported`] with a message saying why.
    async fn loglik(&self, req: &LoglikRequest) -> Result<LoglikResponse, BackendError>;

    /// What this backend is, for the manifest (no secrets).
    fn describe(&self) -> BackendInfo;

    /// How many requests the backend works on at once, when it is a fixed number (the
    /// embedded engine has one context). The runner queues requests beyond it itself, so
    /// a request's timeout never counts time spent waiting for the backend to be free.
    /// `None` (HTTP): the server queues and batches.
    fn capacity(&self) -> Option<usize> {
        None
    }

    /// Most samples of one prompt that [`Backend::generate_n`] returns from one call:
    /// 1 (the default) when the backend has no way to share the prompt between samples,
    /// so the runner asks for each sample on its own and keeps its concurrency.
    fn max_choices(&self) -> u32 {
        1
    }

    /// `n` samples of one prompt from one call, so the prompt is prefilled once (HTTP:
    /// `n` in the request body; embedded: one decoded prompt forked into `n` sequences).
    /// Choice `i` answers for sample `first + i`, where `req.params.seed` is the seed of
    /// sample `first`: a backend that seeds each choice uses `seed + i`; an HTTP server
    /// seeds the whole batch with `seed`.
    ///
    /// It may return fewer than `n` choices (a server that ignores `n`): the caller asks
    /// for the rest one at a time. The default returns one, from [`Backend::generate`].
    async fn generate_n(&self, req: &GenRequest, n: u32) -> Result<Vec<GenResponse>, BackendError> {
        let _ = n;
        self.generate(req).await.map(|r| vec![r])
    }
}
