//! Embedded llama.cpp backend (GGUF) behind the `llama` cargo feature.
//!
//! One model is loaded once and shared by every sample of a run; inference runs on a
//! blocking thread against one mutex-guarded llama.cpp context (contexts are not `Sync`,
//! and on a few cores a second context would only compete for the same cores).
//!
//! Scoring choices, fixed so that two runs with the same settings give identical records:
//! - one question per decode; its sequences are cleared between requests. Packing several
//!   questions into one decode was measured at only 1.04-1.19x faster and moved option
//!   log-probabilities by up to 0.12 nats, so it is not done.
//! - one KV stream per sequence (llama.cpp's non-unified cache): `max_choices` work
//!   sequences and a few cached prefixes, each with `ctx_size` cells. Copying a sequence
//!   copies its cells in place, so every sequence holds its tokens at cells 0.. exactly as
//!   a fresh decode of the same tokens would, and attention sums in the same order. Scores
//!   and samples therefore do not depend on what else is cached, ran before, or runs in the
//!   same batch. (One shared cell pool, the first design, put copied sequences' new tokens
//!   wherever cells were free and moved 5-shot scores by up to 0.13 nats.)
//! - shared prompt prefix (loglik, [`LlamaConfig::prefix_cache`], on by default): the
//!   prefix the runner names (system text, instructions, worked examples) is decoded once
//!   from its own tokens alone into a reserved sequence and copied into each question's;
//!   only the rest of the prompt is decoded per question. When the model has weights that
//!   llama.cpp repacks into row groups (gemma's Q4_K; `details.prefix_align` = 32), the
//!   cut falls on a multiple of 32 tokens, which keeps every later token in the same row
//!   group of the matrix kernels as in a decode of the whole prompt; without them
//!   (SmolLM2's Q4_1, on x86-64) every row is computed on its own and the cut may fall on
//!   any token. Either way the cached and uncached scores are the same numbers
//!   (tests/solver.rs, both demo models, 0-shot and 5-shot).
//! - samples of one prompt (`generate_n`): the prompt is decoded once into sequence 0 and
//!   copied into up to [`LlamaConfig::max_choices`] sequences; one token per sequence is
//!   decoded per step, each sequence with its own sampler (seed + i) and stop conditions.
//!   A single generation runs the same code with one sequence. On SmolLM2 (Q4_1) it gives
//!   the same reply as the batched sample with the same seed; gemma's repacked Q4_K
//!   kernels round a batch of several rows differently from one row, so there a batched
//!   sample can drift from the one-at-a-time one after its first token (each is still
//!   the same on every run).
//! - prompt reuse across requests (with the prefix cache on): each work sequence keeps
//!   what its last prompt left, and a new prompt starts from the longest aligned run of
//!   leading tokens some sequence holds (the previous beam step of the same answer, the
//!   previous question's instructions), decoding only the rest, and at least 32 tokens
//!   (a decode of a few rows rounds differently from the same rows in a longer one: the
//!   same gemma question asked twice was 0.165 nats off). Only prompt-decoded cells
//!   are reused, never a sample's generated ones, so replies and scores are the numbers
//!   a fresh decode gives.
//! - flash attention on ([`LlamaConfig::flash_attn`]; about 1.3x faster on 5-shot
//!   prompts), batch and threads fixed by [`LlamaConfig`] and recorded in
//!   [`anesbench_backend::BackendInfo::details`]. llama.cpp's CPU flash-attention kernel
//!   takes a decode of 64 or more query rows through a tiled path (f32 sums) and a shorter
//!   one through a one-row path (f16 sums of the values), so with it every prompt decode
//!   holds at least 64 tokens: the last chunk of a prompt starts earlier when it would be
//!   short, a reused prefix leaves at least 64 tokens to decode, a cached prefix shorter
//!   than 64 tokens is decoded with filler tokens after it (their cells then dropped), and
//!   a prompt shorter than 64 tokens is never reused from. A prompt token is then
//!   computed by the same kernel whether its prompt was decoded whole or after a cached
//!   prefix. One-token sampling steps take the one-row path (a single sequence with 512
//!   or more cells splits its cells over the threads instead), so a batched sample can
//!   drift from a one-at-a-time one after its first token on long prompts.
//! - `loglik` scores a candidate letter `X` as the log of P(next token = `X`) + P(next token
//!   = ` X`) under the full-vocabulary softmax of the last prompt position: SentencePiece and
//!   BPE vocabularies both have the bare and the space-prefixed letter as single tokens, and
//!   which one the model prefers depends on how the prompt ends (`Answer:` vs a newline), so
//!   summing both keeps the score independent of trailing whitespace. Forms that are not a
//!   single token are left out; a candidate with neither form is an error.
//!
//! Built without the feature, [`EmbeddedBackend::load`] returns [`LlamaError::NotBuilt`].

use std::path::PathBuf;

mod gguf_check;
mod resolve;

#[cfg(feature = "llama")]
pub mod bench;
#[cfg(feature = "llama")]
mod chat_template;
#[cfg(feature = "llama")]
mod engine;
#[cfg(feature = "llama")]
mod generate;
#[cfg(feature = "llama")]
mod loglik;
#[cfg(feature = "llama")]
mod prefix;
#[cfg(not(feature = "llama"))]
mod stub;

#[cfg(feature = "llama")]
pub use engine::{EmbeddedBackend, ReuseStats};
pub use gguf_check::{check_gguf, GgufHeader};
pub use resolve::{
    anesbench_home, default_model_path, known_model, models_dir, resolve_model, resolve_model_in,
    resolve_model_with, KnownModel, DEFAULT_MODEL_FILE, FETCH_COMMAND, KNOWN_MODELS,
    SMOLLM2_MODEL_FILE,
};
#[cfg(not(feature = "llama"))]
pub use stub::EmbeddedBackend;

/// Whether this build contains llama.cpp.
pub const BUILT: bool = cfg!(feature = "llama");

/// Settings of the embedded model; all of them go into the manifest.
#[derive(Debug, Clone)]
pub struct LlamaConfig {
    /// Local GGUF path (already resolved; see [`resolve_model`]).
    pub model: PathBuf,
    /// CPU threads; `None` = all cores.
    pub threads: Option<usize>,
    pub ctx_size: u32,
    pub batch_size: u32,
    /// Sampling seed when a request sets none (greedy requests ignore it).
    pub seed: u64,
    /// Keep the decoded state of shared prompt prefixes (loglik) and reuse it.
    pub prefix_cache: bool,
    /// Most samples of one prompt decoded together (`Backend::generate_n`), 1 to 16.
    pub max_choices: u32,
    /// llama.cpp's flash attention (on by default). It applies only with a batch size
    /// that is a multiple of 32 and at least 128 (see
    /// [`LlamaConfig::flash_attn_applies`]); the manifest records what ran.
    pub flash_attn: bool,
}

impl LlamaConfig {
    pub const DEFAULT_CTX: u32 = 2048;
    pub const DEFAULT_BATCH: u32 = 512;
    pub const DEFAULT_MAX_CHOICES: u32 = 8;
    /// Upper bound of [`LlamaConfig::max_choices`].
    pub const MAX_CHOICES_LIMIT: u32 = 16;

    /// Defaults: all cores, 2048-token context, 512-token batch, seed 0, prefix cache on,
    /// 8 samples per decode.
    pub fn new(model: impl Into<PathBuf>) -> LlamaConfig {
        LlamaConfig {
            model: model.into(),
            threads: None,
            ctx_size: Self::DEFAULT_CTX,
            batch_size: Self::DEFAULT_BATCH,
            seed: 0,
            prefix_cache: true,
            max_choices: Self::DEFAULT_MAX_CHOICES,
            flash_attn: true,
        }
    }

    /// Whether flash attention is used: asked for, and a batch size whose prompt chunks
    /// can all be given at least 64 tokens on 32-token boundaries (the condition for a
    /// cached prefix to leave the scores unchanged under flash attention).
    pub fn flash_attn_applies(&self) -> bool {
        self.flash_attn && self.batch_size >= 128 && self.batch_size.is_multiple_of(32)
    }

    /// The thread count actually used.
    pub fn effective_threads(&self) -> usize {
        self.threads.filter(|&t| t > 0).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LlamaError {
    #[error("anesbench was built without the `llama` feature; rebuild with `cargo build --features llama` or use --endpoint")]
    NotBuilt,
    #[error("model file not found: {}\n  hint: {hint}", path.display())]
    NotFound { path: PathBuf, hint: String },
    #[error("{} is not a valid GGUF model: {reason}", path.display())]
    InvalidGguf { path: PathBuf, reason: String },
    #[error("cannot resolve model `{spec}`: {message}")]
    HfCache { spec: String, message: String },
    #[error("llama.cpp could not load {}: {message}", path.display())]
    Load { path: PathBuf, message: String },
    #[error("invalid setting {setting}: {message}")]
    Config {
        setting: &'static str,
        message: String,
    },
    #[error("{0}")]
    Other(String),
}
