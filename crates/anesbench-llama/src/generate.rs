//! Free generation: greedy (temperature 0 or unset) or seeded sampling, stop strings,
//! max tokens, finish reason and token counts; several samples of one prompt decoded
//! together in one batch per step.

use anesbench_backend::{BackendError, GenParams, GenRequest, GenResponse};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;

use crate::engine::{Cancel, Engine};
use crate::loglik::{check_prompt, log_sum_exp};

/// `n` samples of one prompt (at most `max_choices`, which the caller enforces). The prompt
/// is decoded once into a work sequence (reusing cached cells, see [`State::prompt`]) and
/// its KV stream copied into `n - 1` more; one token per unfinished sample is decoded per
/// step, all in one batch. Sample `i` draws with seed `seed + i` and stops on its own (end
/// of generation, a stop string, the token limit). Each sample's cells sit where a
/// generation of that sample alone would put them, so it is the same reply.
///
/// [`State::prompt`]: crate::engine::State::prompt
pub(crate) fn run(
    engine: &Engine,
    req: &GenRequest,
    n: u32,
    cancel: &Cancel,
) -> Result<Vec<GenResponse>, BackendError> {
    let text = engine.render(&req.prompt)?;
    let tokens = engine.tokenize(&text);
    check_prompt(&tokens, engine.n_ctx)?;
    let room = engine.n_ctx as usize - tokens.len();
    let max_tokens = req
        .params
        .max_tokens
        .map_or(room, |m| (m as usize).min(room));
    let n = (n.max(1) as usize).min(engine.max_choices as usize);

    let mut st = engine.lock();
    let st = &mut *st;
    let (root, last) = st.prompt(
        &tokens,
        None,
        engine.cfg.prefix_cache,
        engine.n_batch,
        cancel,
    )?;
    let prompt_logits = st.ctx.get_logits_ith(last).to_vec();
    let base_seed = req.params.seed.unwrap_or(engine.cfg.seed);
    let result = st.fork(root, n).and_then(|seqs| {
        let mut samples: Vec<Sample> = seqs
            .iter()
            .enumerate()
            .map(|(j, &seq)| {
                let seed = base_seed.wrapping_add(j as u64);
                Sample::new(seq, sampler(&req.params, seed), max_tokens)
            })
            .collect();
        decode_group(
            engine,
            &mut st.ctx,
            &req.params,
            tokens.len(),
            &prompt_logits,
            &mut samples,
            cancel,
        )?;
        Ok(samples)
    });
    match result {
        Ok(samples) => Ok(samples
            .into_iter()
            .map(|s| s.response(tokens.len()))
            .collect()),
        Err(e) => {
            st.reset_work();
            Err(e)
        }
    }
}

/// One sample in flight: its sampler, text so far and how it ended.
struct Sample {
    seq: i32,
    sampler: LlamaSampler,
    bytes: Vec<u8>,
    produced: usize,
    cut: Option<usize>,
    finish: &'static str,
    done: bool,
    /// Sum and count of the chosen tokens' log-probabilities under the full-vocabulary
    /// softmax of the raw logits (temperature 1), when the request asks for them.
    lp_sum: f64,
    lp_n: u32,
    /// Index of this sample's logits in the last batch.
    idx: i32,
    max_tokens: usize,
}

impl Sample {
    fn new(seq: i32, sampler: LlamaSampler, max_tokens: usize) -> Sample {
        Sample {
            seq,
            sampler,
            bytes: Vec::new(),
            produced: 0,
            cut: None,
            finish: "length",
            done: max_tokens == 0,
            lp_sum: 0.0,
            lp_n: 0,
            idx: 0,
            max_tokens,
        }
    }

    /// Draw the next token from `logits`; returns it when it is to be decoded next.
    fn step(
        &mut self,
        logits: &[f32],
        model: &LlamaModel,
        params: &GenParams,
    ) -> Option<LlamaToken> {
        let tok = draw(&mut self.sampler, logits);
        if params.logprobs {
            self.lp_sum += f64::from(logits[tok.0 as usize]) - log_sum_exp(logits);
            self.lp_n += 1;
        }
        let vocab = model.vocab();
        if vocab.is_eog(tok) {
            self.finish = "stop";
            self.done = true;
            return None;
        }
        self.produced += 1;
        let before = self.bytes.len();
        vocab.token_to_piece_into(tok, &mut self.bytes, false, None);
        if let Some(at) = find_stop(&self.bytes, before, &params.stop) {
            self.cut = Some(at);
            self.finish = "stop";
            self.done = true;
            return None;
        }
        if self.produced >= self.max_tokens {
            self.done = true;
            return None;
        }
        Some(tok)
    }

    fn response(mut self, prompt_tokens: usize) -> GenResponse {
        if let Some(at) = self.cut {
            self.bytes.truncate(at);
        }
        // Tokens can end inside a multi-byte character (a reply cut at the limit); drop
        // that partial character rather than turn it into U+FFFD.
        self.bytes.truncate(complete_utf8_len(&self.bytes));
        GenResponse {
            content: Some(String::from_utf8_lossy(&self.bytes).into_owned()),
            reasoning: None,
            finish_reason: Some(self.finish.into()),
            prompt_tokens: Some(prompt_tokens as u32),
            completion_tokens: Some(self.produced as u32),
            reasoning_tokens: None,
            endpoint: None,
            mean_logprob: (self.lp_n > 0).then(|| self.lp_sum / f64::from(self.lp_n)),
            // "stop" without a stop string cut is the end-of-generation token.
            model_ended: Some(self.finish == "stop" && self.cut.is_none()),
        }
    }
}

/// Steps until every sample of the group is done: draw a token per unfinished sample, then
/// decode all of them in one batch (the draws on the engine's threads).
fn decode_group(
    engine: &Engine,
    ctx: &mut LlamaContext<'static>,
    params: &GenParams,
    prompt_len: usize,
    prompt_logits: &[f32],
    samples: &mut [Sample],
    cancel: &Cancel,
) -> Result<(), BackendError> {
    let model: &LlamaModel = &engine.model;
    let threads = engine.cfg.effective_threads();
    let mut batch = LlamaBatch::new(samples.len().max(1), 1);
    let mut first_step = true;
    loop {
        // A request whose caller gave up (timeout, Ctrl-C) stops here, freeing the engine
        // for the retry instead of decoding on for nobody.
        cancel.check()?;
        batch.clear();
        let mut active: Vec<(&mut Sample, &[f32])> = Vec::with_capacity(samples.len());
        for s in samples.iter_mut().filter(|s| !s.done) {
            let logits = if first_step {
                prompt_logits
            } else {
                ctx.get_logits_ith(s.idx)
            };
            active.push((s, logits));
        }
        let drawn = draw_all(&mut active, model, params, threads);
        for ((s, _), tok) in active.into_iter().zip(drawn) {
            if let Some(tok) = tok {
                let pos = (prompt_len + s.produced - 1) as i32;
                s.idx = batch.n_tokens();
                batch
                    .add(tok, pos, &[s.seq], true)
                    .map_err(|e| BackendError::Other(format!("batch: {e}")))?;
            }
        }
        first_step = false;
        if batch.n_tokens() == 0 {
            return Ok(());
        }
        ctx.decode(&mut batch)
            .map_err(|e| BackendError::Other(format!("llama.cpp decode failed: {e}")))?;
    }
}

/// Each sample's next token ([`Sample::step`]), in sample order. With several samples the
/// draws run on up to `threads` threads (the model's own threads are idle between
/// decodes): a draw reads the whole vocabulary's logits (the sampler chain, and the
/// log-softmax when log-probabilities are asked for), which for eight samples is a
/// noticeable part of a step. Every sample has its own sampler and seed, so the tokens
/// are the same however the samples are split.
fn draw_all(
    active: &mut [(&mut Sample, &[f32])],
    model: &LlamaModel,
    params: &GenParams,
    threads: usize,
) -> Vec<Option<LlamaToken>> {
    let threads = threads.clamp(1, active.len().max(1));
    if threads == 1 {
        return active
            .iter_mut()
            .map(|(s, logits)| s.step(logits, model, params))
            .collect();
    }
    let per = active.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = active
            .chunks_mut(per)
            .map(|part| {
                scope.spawn(move || {
                    part.iter_mut()
                        .map(|(s, logits)| s.step(logits, model, params))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().expect("a sampling thread panicked"))
            .collect()
    })
}

/// Sample and accept a token from `logits`, as `llama_sampler_sample` does from a context.
fn draw(sampler: &mut LlamaSampler, logits: &[f32]) -> LlamaToken {
    let mut data = LlamaTokenDataArray::from_iter(
        logits
            .iter()
            .enumerate()
            .map(|(i, &l)| LlamaTokenData::new(LlamaToken(i as i32), l, 0.0)),
        false,
    );
    data.apply_sampler(sampler);
    let tok = data
        .selected_token()
        .expect("greedy and dist samplers select a token");
    sampler.accept(tok);
    tok
}

/// Length of `bytes` without a trailing incomplete UTF-8 sequence.
pub(crate) fn complete_utf8_len(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        // `error_len() == None`: the input ended in the middle of a character.
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => {
            // Invalid bytes earlier (kept, shown as U+FFFD); only trim a cut tail.
            let tail_start = bytes.len().saturating_sub(3);
            (tail_start..bytes.len())
                .find(|&i| {
                    bytes[i] >= 0xC0
                        && std::str::from_utf8(&bytes[i..])
                            .err()
                            .is_some_and(|e| e.error_len().is_none())
                })
                .unwrap_or(bytes.len())
        }
    }
}

/// Greedy when temperature is unset or zero; otherwise top-p (if set), temperature and a
/// draw seeded with `seed` (the sample's own: the request's seed plus its index), so a
/// given seed reproduces its sample.
fn sampler(params: &GenParams, seed: u64) -> LlamaSampler {
    let temp = params.temperature.unwrap_or(0.0);
    if temp <= 0.0 {
        return LlamaSampler::greedy();
    }
    let seed = seed as u32;
    let mut chain = Vec::with_capacity(3);
    if let Some(p) = params.top_p.filter(|p| *p > 0.0 && *p < 1.0) {
        chain.push(LlamaSampler::top_p(p as f32, 1));
    }
    chain.push(LlamaSampler::temp(temp as f32));
    chain.push(LlamaSampler::dist(seed));
    LlamaSampler::chain_simple(chain)
}

/// Byte offset where the earliest stop string starts, looking only at matches that end in
/// the bytes added since `before` (earlier text was already checked).
pub(crate) fn find_stop(bytes: &[u8], before: usize, stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let s = s.as_bytes();
            let from = before.saturating_sub(s.len() - 1);
            bytes[from..]
                .windows(s.len())
                .position(|w| w == s)
                .map(|p| from + p)
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_cut_inside_a_character_loses_the_partial_character_not_gains_u_fffd() {
        let full = "答案是 B".as_bytes();
        let cut = &full[..2]; // first byte pair of a 3-byte character
        assert_eq!(complete_utf8_len(cut), 0);
        let mut text = b"The answer is B. ".to_vec();
        text.extend_from_slice(&"麻".as_bytes()[..2]);
        assert_eq!(complete_utf8_len(&text), 17);
        assert_eq!(complete_utf8_len(full), full.len());
        // Invalid bytes in the middle are not cut away.
        let odd = [b'a', 0xFF, b'b'];
        assert_eq!(complete_utf8_len(&odd), 3);
    }

    #[test]
    fn stop_strings_are_found_across_token_boundaries() {
        let stops = vec!["\n\nQ:".to_string(), "###".to_string()];
        let text = b"The answer is B.\n\nQ: next";
        // The stop string straddles the last piece ("Q: next") and the one before.
        assert_eq!(find_stop(text, 18, &stops), Some(16));
        assert_eq!(find_stop(b"no stop here", 3, &stops), None);
        assert_eq!(find_stop(b"a ### b ###", 0, &stops), Some(2));
        assert_eq!(find_stop(b"abc", 0, &[String::new()]), None);
    }
}
