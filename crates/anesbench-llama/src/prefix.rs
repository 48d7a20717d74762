//! The shared-prefix cache: the decoded KV state of prompt prefixes that many questions
//! share (system text, instructions, worked examples), each kept in a reserved sequence of
//! the one context, and copied into a question's sequence before the rest of its prompt
//! is decoded.
//!
//! A prefix is decoded from its own tokens alone, from position 0, in `n_batch` chunks,
//! whichever question first needs it, so every question that uses it starts from the same
//! state. Which prefix a question uses is a function of its own prompt (the runner's
//! hint, [`anesbench_backend::LoglikRequest::shared_prefix`]), never of the question before.

use anesbench_backend::BackendError;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::token::LlamaToken;

use crate::engine::Cancel;

/// A prefix shorter than this is decoded with its question (copying it saves nothing).
pub(crate) const MIN_PREFIX_TOKENS: usize = 16;

/// A cached prefix is a multiple of this many tokens. llama.cpp's CPU matrix kernels
/// for repacked weights (gemma's Q4_K) take activation rows in groups of 4 and round a
/// row differently in a group than alone, so a token's KV values depend on where it sits
/// in its decode. Prompts are decoded in `n_batch` chunks from position 0; a prefix that
/// ends on a multiple of 32 puts every later token in the same group as a decode of the
/// whole prompt does, and the cached and uncached scores are the same numbers. (A cut at
/// token 1353 instead moved gemma 5-shot scores by up to 0.18 nats.)
pub(crate) const PREFIX_ALIGN: usize = 32;

/// `len` rounded down to a multiple of [`PREFIX_ALIGN`].
pub(crate) fn aligned_prefix(len: usize) -> usize {
    len / PREFIX_ALIGN * PREFIX_ALIGN
}

struct Slot {
    seq: i32,
    tokens: Vec<LlamaToken>,
    last_used: u64,
}

/// Prefixes resident in the context, at most one per reserved sequence id (its own KV
/// stream, so a prefix never competes with a question for cells).
pub(crate) struct PrefixCache {
    slots: Vec<Slot>,
    /// Reserved sequence ids not holding a prefix.
    free: Vec<i32>,
    clock: u64,
    /// Prefixes decoded (a miss) and reused (a hit), for benchmarks and tests.
    pub(crate) decoded: u64,
    pub(crate) reused: u64,
}

impl PrefixCache {
    pub(crate) fn new(seqs: std::ops::Range<i32>) -> PrefixCache {
        PrefixCache {
            slots: Vec::new(),
            free: seqs.rev().collect(),
            clock: 0,
            decoded: 0,
            reused: 0,
        }
    }

    fn evict(&mut self, ctx: &mut LlamaContext<'_>, i: usize) {
        let slot = self.slots.swap_remove(i);
        let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None);
        self.free.push(slot.seq);
    }

    /// Drop every prefix (after a failed decode, whose state is unknown).
    pub(crate) fn clear(&mut self, ctx: &mut LlamaContext<'_>) {
        while !self.slots.is_empty() {
            self.evict(ctx, 0);
        }
    }

    /// The sequence holding `tokens`, decoding them first (into an empty stream, from
    /// cell 0) when no slot does; the least recently used prefix makes way.
    pub(crate) fn get_or_decode(
        &mut self,
        ctx: &mut LlamaContext<'_>,
        tokens: &[LlamaToken],
        n_batch: u32,
        cancel: &Cancel,
    ) -> Result<i32, BackendError> {
        self.clock += 1;
        if let Some(slot) = self.slots.iter_mut().find(|s| s.tokens == tokens) {
            slot.last_used = self.clock;
            self.reused += 1;
            return Ok(slot.seq);
        }
        if self.free.is_empty() {
            let lru = (0..self.slots.len())
                .min_by_key(|&i| self.slots[i].last_used)
                .expect("no free sequence means at least one slot");
            self.evict(ctx, lru);
        }
        let seq = self.free.pop().expect("a sequence was freed above");
        if let Err(e) = decode_tokens(ctx, tokens, 0, seq, n_batch, false, cancel) {
            let _ = ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
            self.free.push(seq);
            return Err(e);
        }
        self.decoded += 1;
        self.slots.push(Slot {
            seq,
            tokens: tokens.to_vec(),
            last_used: self.clock,
        });
        Ok(seq)
    }
}

/// Decode `tokens` at positions `start..` of sequence `seq` in `n_batch` chunks; with
/// `logits`, the last token's logits are kept and its index in the final batch returned.
pub(crate) fn decode_tokens(
    ctx: &mut LlamaContext<'_>,
    tokens: &[LlamaToken],
    start: usize,
    seq: i32,
    n_batch: u32,
    logits: bool,
    cancel: &Cancel,
) -> Result<i32, BackendError> {
    let n_batch = n_batch.max(1) as usize;
    let mut batch = LlamaBatch::new(n_batch, 1);
    let mut last = 0;
    for (chunk_no, chunk) in tokens.chunks(n_batch).enumerate() {
        cancel.check()?;
        batch.clear();
        let base = start + chunk_no * n_batch;
        for (i, &t) in chunk.iter().enumerate() {
            let pos = base + i;
            let is_last = logits && pos + 1 == start + tokens.len();
            batch
                .add(t, pos as i32, &[seq], is_last)
                .map_err(|e| BackendError::Other(format!("batch: {e}")))?;
        }
        ctx.decode(&mut batch)
            .map_err(|e| BackendError::Other(format!("llama.cpp decode failed: {e}")))?;
        last = chunk.len() as i32 - 1;
    }
    Ok(last)
}

/// Length of the common leading run of two token lists.
pub(crate) fn common_len(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_len_counts_the_shared_leading_tokens() {
        let t = |v: &[i32]| v.iter().map(|&x| LlamaToken(x)).collect::<Vec<_>>();
        assert_eq!(common_len(&t(&[1, 2, 3]), &t(&[1, 2, 4])), 2);
        assert_eq!(common_len(&t(&[1, 2]), &t(&[1, 2, 4])), 2);
        assert_eq!(common_len(&t(&[5]), &t(&[1])), 0);
    }
}
