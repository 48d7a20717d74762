//! Option-letter log-probabilities: decode the prompt (after the cached shared prefix,
//! when there is one), then a log-softmax over the full vocabulary at the last position. See the crate docs for how a letter maps to tokens.

use anesbench_backend::{BackendError, LoglikRequest, LoglikResponse, Prompt};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use anesbench_core::loglik::combine_variants;

use crate::engine::{Cancel, Engine};

pub(crate) fn run(
    engine: &Engine,
    req: &LoglikRequest,
    cancel: &Cancel,
) -> Result<LoglikResponse, BackendError> {
    if req.candidates.is_empty() {
        return Err(BackendError::Other(
            "loglik request without candidates".into(),
        ));
    }
    let candidate_tokens = req
        .candidates
        .iter()
        .map(|c| candidate_tokens(&engine.model, c))
        .collect::<Result<Vec<_>, _>>()?;
    let text = engine.render(&req.prompt)?;
    let tokens = engine.tokenize(&text);
    check_prompt(&tokens, engine.n_ctx)?;
    // The shared prefix the runner named (a function of this prompt alone): with the
    // cache on, its KV state comes from a prefix slot (or from a work sequence that holds
    // more of this prompt) and only the rest is decoded; without it the whole prompt is
    // decoded. Both leave the same cells in the same places with the same values (see
    // the engine's KV layout), which is what makes the two paths agree.
    let prefix_tokens = match (&req.prompt, req.shared_prefix) {
        (Prompt::Text(t), Some(at)) if t.is_char_boundary(at) => Some(engine.tokenize(&t[..at])),
        _ => None,
    };
    let mut st = engine.lock();
    let st = &mut *st;
    let (_, last) = st.prompt(
        &tokens,
        prefix_tokens.as_deref(),
        engine.cfg.prefix_cache,
        engine.n_batch,
        cancel,
    )?;
    let logits = st.ctx.get_logits_ith(last);
    let lse = log_sum_exp(logits);
    let logprobs = candidate_tokens
        .iter()
        .map(|toks| {
            let lps: Vec<f64> = toks
                .iter()
                .map(|t| f64::from(logits[t.0 as usize]) - lse)
                .collect();
            // The variant rule shared with the HTTP backend; NaN when nothing is finite
            // (it then takes no part in the decision and is stored as null).
            combine_variants(&lps).unwrap_or(f64::NAN)
        })
        .collect();
    Ok(LoglikResponse {
        logprobs,
        prompt_tokens: Some(tokens.len() as u32),
        endpoint: None,
    })
}

/// The single-token spellings of a candidate: the token that reads exactly `X` and the
/// one that reads exactly ` X` (deduplicated). Each is checked by its decoded text, not
/// trusted from the tokenizer: a SentencePiece tokenizer that adds a space prefix turns a
/// bare `A` into `▁A`, which would score the spaced letter twice and the bare one never.
/// When the tokenizer does that, the vocabulary is searched for the exact piece. Error
/// when neither spelling is one token, because then "the next token" cannot stand for
/// the whole candidate.
pub(crate) fn candidate_tokens(
    model: &LlamaModel,
    candidate: &str,
) -> Result<Vec<LlamaToken>, BackendError> {
    let vocab = model.vocab();
    let bare = candidate.trim();
    let mut out = Vec::with_capacity(2);
    for form in [bare.to_string(), format!(" {bare}")] {
        let toks = vocab.tokenize(form.as_bytes(), false, false);
        let exact = match toks[..] {
            [t] if vocab.token_to_piece(t, false, None) == form.as_bytes() => Some(t),
            _ => vocab
                .tokens()
                .find(|&t| vocab.token_to_piece(t, false, None) == form.as_bytes()),
        };
        if let Some(t) = exact {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    if out.is_empty() {
        return Err(BackendError::Unsupported(format!(
            "candidate `{candidate}` is not a single token of this model's vocabulary in either form (`{bare}` or ` {bare}`)"
        )));
    }
    Ok(out)
}

/// A prompt the context can take: not empty, and shorter than one sequence's room.
pub(crate) fn check_prompt(tokens: &[LlamaToken], n_ctx: u32) -> Result<(), BackendError> {
    if tokens.is_empty() {
        return Err(BackendError::Other("empty prompt".into()));
    }
    if tokens.len() >= n_ctx as usize {
        return Err(BackendError::Other(format!(
            "prompt is {} tokens but the context holds {n_ctx}; raise the context size (--ctx-size)",
            tokens.len()
        )));
    }
    Ok(())
}

/// log(sum(exp(x))) in f64, stable for large logits.
pub(crate) fn log_sum_exp(logits: &[f32]) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    max + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sum_exp_matches_the_direct_formula_and_survives_large_values() {
        let xs = [1.0f32, 2.0, 3.0];
        let direct = (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        assert!((log_sum_exp(&xs) - direct).abs() < 1e-12);
        assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + 2f64.ln())).abs() < 1e-9);
    }
}
