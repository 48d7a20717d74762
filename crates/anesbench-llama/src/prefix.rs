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

/// With flash attention, every decode of a prompt holds at least this many tokens (when the
/// prompt has them). llama.cpp's CPU flash-attention kernel takes a decode of at least 64
/// query rows through its tiled path, which accumulates in f32, and a shorter one through
/// a one-row path that accumulates the values in f16; which rows share a decode does not
/// change a row's numbers otherwise. A prompt whose last chunk would be short (1056 tokens
/// in 512-token chunks: 32 rows) therefore has its last chunk boundary moved back, in
/// [`PREFIX_ALIGN`] steps, and a token is computed by the same kernel whether it was
/// decoded with its whole prompt, with a cached prefix, or after one. (Without this, the
/// cached and uncached 5-shot SmolLM2 scores were 0.23 nats apart, one letter changed.)
pub(crate) const FLASH_MIN_ROWS: usize = 64;

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
        min_rows: usize,
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
        if let Err(e) = decode_tokens(ctx, tokens, 0, seq, n_batch, min_rows, false, cancel) {
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

/// Chunk lengths for decoding `len` tokens: `n_batch` each, except that a last chunk
/// shorter than `min_rows` starts earlier, at the latest multiple of [`PREFIX_ALIGN`] that
/// leaves it `min_rows` (the chunk before it stays at least `n_batch - min_rows - 31`
/// long). Every chunk then starts on a multiple of [`PREFIX_ALIGN`] from the first token,
/// as long as `n_batch` is one.
pub(crate) fn chunk_lens(len: usize, n_batch: usize, min_rows: usize) -> Vec<usize> {
    let n_batch = n_batch.max(1);
    let mut out: Vec<usize> = Vec::with_capacity(len / n_batch + 1);
    let mut at = 0;
    while at < len {
        let n = n_batch.min(len - at);
        out.push(n);
        at += n;
    }
    if out.len() >= 2 && *out.last().unwrap() < min_rows {
        let last_start = len - out[out.len() - 1];
        let moved = aligned_prefix(len - min_rows).max(last_start - out[out.len() - 2] + 1);
        let k = out.len();
        out[k - 2] -= last_start - moved;
        out[k - 1] = len - moved;
    }
    out
}

/// Decode `tokens` at positions `start..` of sequence `seq` in chunks of at most
/// `n_batch` (see [`chunk_lens`] for `min_rows`); with `logits`, the last token's logits
/// are kept and its index in the final batch returned.
#[allow(clippy::too_many_arguments)]
pub(crate) fn decode_tokens(
    ctx: &mut LlamaContext<'_>,
    tokens: &[LlamaToken],
    start: usize,
    seq: i32,
    n_batch: u32,
    min_rows: usize,
    logits: bool,
    cancel: &Cancel,
) -> Result<i32, BackendError> {
    let n_batch = n_batch.max(1) as usize;
    let mut batch = LlamaBatch::new(n_batch, 1);
    let mut last = 0;
    let mut base = start;
    for n in chunk_lens(tokens.len(), n_batch, min_rows) {
        cancel.check()?;
        batch.clear();
        let chunk = &tokens[base - start..base - start + n];
        for (i, &t) in chunk.iter().enumerate() {
            let pos = base + i;
            let is_last = logits && pos + 1 == start + tokens.len();
            batch
                .add(t, pos as i32, &[seq], is_last)
                .map_err(|e| BackendError::Other(format!("batch: {e}")))?;
        }
        ctx.decode(&mut batch)
            .map_err(|e| BackendError::Other(format!("llama.cpp decode failed: {e}")))?;
        last = n as i32 - 1;
        base += n;
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

    #[test]
    fn a_short_last_chunk_is_lengthened_on_an_aligned_boundary() {
        // Plain chunks when no minimum is asked for, or the last one is long enough.
        assert_eq!(chunk_lens(1056, 512, 1), vec![512, 512, 32]);
        assert_eq!(chunk_lens(1100, 512, 64), vec![512, 512, 76]);
        assert_eq!(chunk_lens(40, 512, 64), vec![40]);
        assert!(chunk_lens(0, 512, 64).is_empty());
        // 1056 = 512 + 512 + 32: the last chunk starts at 992 and holds 64.
        assert_eq!(chunk_lens(1056, 512, 64), vec![512, 480, 64]);
        // 1030: the latest aligned start leaving 64 is 960 (70 rows).
        assert_eq!(chunk_lens(1030, 512, 64), vec![512, 448, 70]);
        for len in 1..3000 {
            let c = chunk_lens(len, 512, 64);
            assert_eq!(c.iter().sum::<usize>(), len);
            let mut at = 0;
            for &n in &c {
                assert!(n <= 512 && (n >= 64 || c.len() == 1), "{len}: {c:?}");
                assert_eq!(at % PREFIX_ALIGN, 0, "{len}: {c:?}");
                at += n;
            }
        }
    }
}
