//! Raw llama.cpp throughput on the backend's own model and context, with no harness
//! around it: no prompt rendering, no log-softmax, no stop strings, no async hop. The
//! `bench llama` command sets these beside the same work done through [`crate::EmbeddedBackend`].

use std::time::Instant;

use anesbench_backend::{BackendError, Prompt};
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

use crate::EmbeddedBackend;

/// A prompt already rendered and tokenized (outside any timed section).
#[derive(Debug, Clone)]
pub struct Prepared {
    tokens: Vec<LlamaToken>,
}

impl Prepared {
    pub fn len(&self) -> usize {
        self.tokens.len()
    }
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// Render and tokenize a prompt exactly as the backend does.
pub fn prepare(backend: &EmbeddedBackend, prompt: &Prompt) -> Result<Prepared, BackendError> {
    let text = backend.engine.render(prompt)?;
    Ok(Prepared {
        tokens: backend.engine.tokenize(&text),
    })
}

/// Tokens processed and the seconds they took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    pub tokens: usize,
    pub seconds: f64,
}

impl Timing {
    pub fn per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.tokens as f64 / self.seconds
        } else {
            0.0
        }
    }
}

fn decode_err(e: impl std::fmt::Display) -> BackendError {
    BackendError::Other(format!("llama.cpp decode failed: {e}"))
}

/// Prompt processing: for each prompt, clear the cache and decode it in `n_batch` chunks
/// (logits for the last token only). Same work as a `loglik` call minus the harness.
pub fn prompt_decode(
    backend: &EmbeddedBackend,
    prompts: &[Prepared],
) -> Result<Timing, BackendError> {
    let engine = &backend.engine;
    let mut st = engine.lock();
    let n_batch = engine.n_batch as usize;
    let mut total = Timing::default();
    for p in prompts {
        let start = Instant::now();
        st.reset_work();
        let ctx = &mut st.ctx;
        for chunk in p.tokens.chunks(n_batch) {
            let mut batch = LlamaBatch::get_one(chunk).map_err(decode_err)?;
            ctx.decode(&mut batch).map_err(decode_err)?;
        }
        total.seconds += start.elapsed().as_secs_f64();
        total.tokens += p.tokens.len();
    }
    Ok(total)
}

/// Prompt decode, then exactly `n_tokens` greedy tokens one at a time (end-of-generation
/// tokens are not special here). Returns (prompt, generation) timings.
pub fn generate(
    backend: &EmbeddedBackend,
    prompt: &Prepared,
    n_tokens: usize,
) -> Result<(Timing, Timing), BackendError> {
    let engine = &backend.engine;
    let mut st = engine.lock();
    st.reset_work();
    let ctx = &mut st.ctx;
    let n_batch = engine.n_batch as usize;
    let start = Instant::now();
    let chunks: Vec<&[LlamaToken]> = prompt.tokens.chunks(n_batch).collect();
    for chunk in &chunks {
        let mut batch = LlamaBatch::get_one(chunk).map_err(decode_err)?;
        ctx.decode(&mut batch).map_err(decode_err)?;
    }
    let prompt_t = Timing {
        tokens: prompt.tokens.len(),
        seconds: start.elapsed().as_secs_f64(),
    };
    let start = Instant::now();
    let mut sampler = LlamaSampler::greedy();
    let mut last = chunks.last().map_or(0, |c| c.len() as i32 - 1);
    for _ in 0..n_tokens {
        let tok = [sampler.sample(ctx, last)];
        let mut batch = LlamaBatch::get_one(&tok).map_err(decode_err)?;
        ctx.decode(&mut batch).map_err(decode_err)?;
        last = 0;
    }
    let gen_t = Timing {
        tokens: n_tokens,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((prompt_t, gen_t))
}
