//! Free generation: greedy (temperature 0 or unset) or seeded sampling, stop strings,
//! max tokens, finish reason and token counts.

use anesbench_backend::{BackendError, GenParams, GenRequest, GenResponse};
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;

use crate::engine::{Cancel, Engine};
use crate::loglik::{decode_prompt, log_sum_exp};

pub(crate) fn run(
    engine: &Engine,
    req: &GenRequest,
    cancel: &Cancel,
) -> Result<GenResponse, BackendError> {
    let text = engine.render(&req.prompt)?;
    let tokens = engine.tokenize(&text);
    let mut sampler = sampler(&req.params, engine.cfg.seed);
    let vocab = engine.model.vocab();
    let room = engine.n_ctx as usize - tokens.len().min(engine.n_ctx as usize);
    let max_tokens = req
        .params
        .max_tokens
        .map_or(room, |m| (m as usize).min(room));

    let mut ctx = engine.lock();
    let mut idx = decode_prompt(&mut ctx, &tokens, engine.n_ctx, engine.n_batch, cancel)?;
    let mut batch = LlamaBatch::new(1, 1);
    let mut bytes = Vec::new();
    let mut produced = 0usize;
    let mut cut: Option<usize> = None;
    let mut finish = "length";
    // Sum of the chosen tokens' log-probabilities under the full-vocabulary softmax of
    // the raw logits (temperature 1), when the request asks for it.
    let mut lp_sum = 0.0f64;
    let mut lp_n = 0u32;
    while produced < max_tokens {
        // A request whose caller gave up (timeout, Ctrl-C) stops here, freeing the engine
        // for the retry instead of decoding on for nobody.
        cancel.check()?;
        let tok = sampler.sample(&ctx, idx);
        if req.params.logprobs {
            let logits = ctx.get_logits_ith(idx);
            lp_sum += f64::from(logits[tok.0 as usize]) - log_sum_exp(logits);
            lp_n += 1;
        }
        if vocab.is_eog(tok) {
            finish = "stop";
            break;
        }
        produced += 1;
        let before = bytes.len();
        vocab.token_to_piece_into(tok, &mut bytes, false, None);
        if let Some(at) = find_stop(&bytes, before, &req.params.stop) {
            cut = Some(at);
            finish = "stop";
            break;
        }
        if produced == max_tokens {
            break;
        }
        batch.clear();
        let pos = (tokens.len() + produced - 1) as i32;
        batch
            .add(tok, pos, &[0], true)
            .map_err(|e| BackendError::Other(format!("batch: {e}")))?;
        ctx.decode(&mut batch)
            .map_err(|e| BackendError::Other(format!("llama.cpp decode failed: {e}")))?;
        idx = 0;
    }
    drop(ctx);
    if let Some(at) = cut {
        bytes.truncate(at);
    }
    // Tokens can end inside a multi-byte character (a reply cut at the limit); drop that
    // partial character rather than turn it into U+FFFD.
    bytes.truncate(complete_utf8_len(&bytes));
    Ok(GenResponse {
        content: Some(String::from_utf8_lossy(&bytes).into_owned()),
        reasoning: None,
        finish_reason: Some(finish.into()),
        prompt_tokens: Some(tokens.len() as u32),
        completion_tokens: Some(produced as u32),
        reasoning_tokens: None,
        endpoint: None,
        mean_logprob: (lp_n > 0).then(|| lp_sum / f64::from(lp_n)),
    })
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
/// seeded draw, so a given seed reproduces its sample.
fn sampler(params: &GenParams, default_seed: u64) -> LlamaSampler {
    let temp = params.temperature.unwrap_or(0.0);
    if temp <= 0.0 {
        return LlamaSampler::greedy();
    }
    let seed = params.seed.unwrap_or(default_seed) as u32;
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
