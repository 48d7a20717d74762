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

/// A reused prompt leaves at least this many tokens to decode, and a prefix slot's decode
/// holds at least this many rows (padded): a decode of a few rows takes another path
/// through llama.cpp's matrix kernels than the same rows inside a longer decode (gemma,
/// 5 rows: 0.165 nats off).
pub(crate) const MIN_REST: usize = 32;

/// A cached prefix is a multiple of this many tokens when the model has repacked weights
/// (see [`row_align`]). llama.cpp's CPU matrix kernels for repacked weights (gemma's Q4_K)
/// take activation rows in groups of 4 and round a row differently in a group than alone,
/// so a token's KV values depend on where it sits in its decode. Prompts are decoded in
/// `n_batch` chunks from position 0; a prefix that ends on a multiple of 32 puts every
/// later token in the same group as a decode of the whole prompt does, and the cached and
/// uncached scores are the same numbers. (A cut at token 1353 instead moved gemma 5-shot
/// scores by up to 0.18 nats.)
pub(crate) const PREFIX_ALIGN: usize = 32;

/// ggml type ids that llama.cpp's CPU backend may repack into row-grouped layouts
/// (`ggml_repack_get_optimal_repack_type` in the pinned ggml, x86-64): Q4_0, Q2_K (with
/// AVX-512), Q4_K, IQ4_NL, MXFP4. Ids above the last type this list was checked against
/// count as repacked too.
const REPACKED_X86: &[u32] = &[2, 10, 12, 20, 39];
const LAST_CHECKED_TYPE: u32 = 39;

/// The alignment of a reuse cut for a model whose tensors have these ggml types:
/// [`PREFIX_ALIGN`] when llama.cpp may repack any of them into row groups, else 1. Without
/// repacked weights every row of a prompt decode is computed on its own (the quantized
/// dot products, norms and attention rows do not read their neighbours), so a prefix may
/// end on any token. Outside x86-64 other types are repacked as well (Q8_0, Q6_K, Q5_K on
/// ARM), and the cut stays aligned.
pub(crate) fn row_align(tensor_types: &[u32]) -> usize {
    let grouped = !cfg!(target_arch = "x86_64")
        || tensor_types
            .iter()
            .any(|t| REPACKED_X86.contains(t) || *t > LAST_CHECKED_TYPE);
    if grouped {
        PREFIX_ALIGN
    } else {
        1
    }
}

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

/// How a run of prompt tokens is split into decodes: at most `n_batch` tokens each, at
/// least `min_rows` when there are that many ([`chunk_lens`]), and chunk starts on
/// multiples of `align` ([`row_align`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunking {
    pub(crate) n_batch: u32,
    pub(crate) min_rows: usize,
    pub(crate) align: usize,
}

/// `len` rounded down to a multiple of `align`.
pub(crate) fn aligned(len: usize, align: usize) -> usize {
    let align = align.max(1);
    len / align * align
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
    /// Of the missed prefixes' tokens, those copied from a work sequence.
    pub(crate) copied_tokens: u64,
}

impl PrefixCache {
    pub(crate) fn new(seqs: std::ops::Range<i32>) -> PrefixCache {
        PrefixCache {
            slots: Vec::new(),
            free: seqs.rev().collect(),
            clock: 0,
            decoded: 0,
            reused: 0,
            copied_tokens: 0,
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

    /// The sequence holding `tokens`; when no slot does, the least recently used prefix
    /// makes way and a slot is filled: with the cells of `from` (a work sequence and how
    /// many leading `tokens` it holds, at most all of them, on an aligned cut) copied in,
    /// and only the rest decoded, or all of it decoded into an empty stream from cell 0.
    /// (A demo item that is another's worked example has a shot set of its own; decoding
    /// each such prefix whole cost 16 of the first 32 5-shot questions two to four seconds
    /// each.)
    ///
    /// A decode of fewer than [`MIN_REST`] (or `min_rows`) tokens is padded with filler
    /// tokens after them, whose cells are then dropped: the prefix's rows then take the
    /// same kernel path as in a decode of a whole prompt (flash attention's tiled path),
    /// and causal attention keeps the filler out of them. (Decoded alone, a 32-token
    /// 0-shot prefix took the one-row path and moved SmolLM2's English scores by up to
    /// 0.37 nats against the uncached decode.)
    pub(crate) fn get_or_decode(
        &mut self,
        ctx: &mut LlamaContext<'_>,
        tokens: &[LlamaToken],
        from: Option<(i32, usize)>,
        rules: Chunking,
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
        let filled = fill(ctx, seq, tokens, from, rules, cancel);
        if let Err(e) = filled {
            let _ = ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
            self.free.push(seq);
            return Err(e);
        }
        self.decoded += 1;
        self.copied_tokens += from.map_or(0, |f| f.1.min(tokens.len()) as u64);
        self.slots.push(Slot {
            seq,
            tokens: tokens.to_vec(),
            last_used: self.clock,
        });
        Ok(seq)
    }
}

/// Put `tokens` into the empty stream of `seq`: `from`'s leading cells copied, the rest
/// decoded (padded, see [`PrefixCache::get_or_decode`]).
fn fill(
    ctx: &mut LlamaContext<'_>,
    seq: i32,
    tokens: &[LlamaToken],
    from: Option<(i32, usize)>,
    rules: Chunking,
    cancel: &Cancel,
) -> Result<(), BackendError> {
    let drop_from = |ctx: &mut LlamaContext<'_>, at: usize| {
        let ok = ctx
            .clear_kv_cache_seq(Some(seq as u32), Some(at as u32), None)
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(BackendError::Other(
                "llama.cpp could not drop cells past a prefix".into(),
            ))
        }
    };
    let start = match from {
        Some((src, n)) if n > 0 => {
            let n = n.min(tokens.len());
            // Streams copy whole, cell for cell (done at the next decode).
            ctx.copy_kv_cache_seq(src, seq, None, None)
                .map_err(|e| BackendError::Other(format!("KV cache copy: {e}")))?;
            drop_from(ctx, n)?;
            n
        }
        _ => 0,
    };
    if start == tokens.len() {
        return Ok(());
    }
    let rows = MIN_REST.max(rules.min_rows).min(rules.n_batch as usize);
    let padded = padded_to(&tokens[start..], rows);
    decode_tokens(ctx, &padded, start, seq, rules, false, cancel)?;
    if padded.len() > tokens.len() - start {
        drop_from(ctx, tokens.len())?;
    }
    Ok(())
}

/// `tokens`, followed by copies of its last token up to `rows` when it is shorter.
pub(crate) fn padded_to(tokens: &[LlamaToken], rows: usize) -> Vec<LlamaToken> {
    let mut out = tokens.to_vec();
    if let Some(&last) = tokens.last() {
        out.resize(rows.max(tokens.len()), last);
    }
    out
}

/// Chunk lengths for decoding `len` tokens: `n_batch` each, except that a last chunk
/// shorter than `min_rows` starts earlier, at the latest multiple of `align` that leaves
/// it `min_rows` (the chunk before it stays at least `n_batch - min_rows - align + 1`
/// long). Every chunk then starts on a multiple of `align` from the first token, as long
/// as `n_batch` is one.
pub(crate) fn chunk_lens(len: usize, n_batch: usize, min_rows: usize, align: usize) -> Vec<usize> {
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
        let moved = aligned(len - min_rows, align).max(last_start - out[out.len() - 2] + 1);
        let k = out.len();
        out[k - 2] -= last_start - moved;
        out[k - 1] = len - moved;
    }
    out
}

/// Decode `tokens` at positions `start..` of sequence `seq` in chunks of at most
/// `rules.n_batch` (see [`chunk_lens`]); with `logits`, the last token's logits
/// are kept and its index in the final batch returned.
pub(crate) fn decode_tokens(
    ctx: &mut LlamaContext<'_>,
    tokens: &[LlamaToken],
    start: usize,
    seq: i32,
    rules: Chunking,
    logits: bool,
    cancel: &Cancel,
) -> Result<i32, BackendError> {
    let n_batch = rules.n_batch.max(1) as usize;
    let mut batch = LlamaBatch::new(n_batch, 1);
    let mut last = 0;
    let mut base = start;
    for n in chunk_lens(tokens.len(), n_batch, rules.min_rows, rules.align) {
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
    fn only_repacked_weight_types_align_the_cut() {
        // SmolLM2 Q4_1: Q4_1, Q8_0, F32. gemma Q4_K_M: Q4_K, Q5_0, Q6_K, Q8_0, F32.
        let smol = row_align(&[0, 3, 8]);
        let gemma = row_align(&[0, 6, 8, 12, 14]);
        assert_eq!(gemma, PREFIX_ALIGN);
        assert_eq!(
            smol,
            if cfg!(target_arch = "x86_64") {
                1
            } else {
                PREFIX_ALIGN
            }
        );
        assert_eq!(row_align(&[0, 2]), PREFIX_ALIGN, "Q4_0");
        assert_eq!(
            row_align(&[0, 41]),
            PREFIX_ALIGN,
            "a type newer than the list"
        );
        assert_eq!(aligned(1030, 32), 1024);
        assert_eq!(aligned(1030, 1), 1030);
    }

    #[test]
    fn a_short_prefix_is_padded_with_its_last_token() {
        let t = |v: &[i32]| v.iter().map(|&x| LlamaToken(x)).collect::<Vec<_>>();
        assert_eq!(padded_to(&t(&[1, 2]), 4), t(&[1, 2, 2, 2]));
        assert_eq!(padded_to(&t(&[1, 2, 3]), 2), t(&[1, 2, 3]));
        assert!(padded_to(&[], 4).is_empty());
    }

    #[test]
    fn a_short_last_chunk_is_lengthened_on_an_aligned_boundary() {
        // Plain chunks when no minimum is asked for, or the last one is long enough.
        assert_eq!(chunk_lens(1056, 512, 1, 32), vec![512, 512, 32]);
        assert_eq!(chunk_lens(1100, 512, 64, 32), vec![512, 512, 76]);
        assert_eq!(chunk_lens(40, 512, 64, 32), vec![40]);
        assert!(chunk_lens(0, 512, 64, 32).is_empty());
        // 1056 = 512 + 512 + 32: the last chunk starts at 992 and holds 64.
        assert_eq!(chunk_lens(1056, 512, 64, 32), vec![512, 480, 64]);
        // 1030: the latest aligned start leaving 64 is 960 (70 rows); unaligned, 966.
        assert_eq!(chunk_lens(1030, 512, 64, 32), vec![512, 448, 70]);
        assert_eq!(chunk_lens(1030, 512, 64, 1), vec![512, 454, 64]);
        for align in [1, 32] {
            for len in 1..3000 {
                let c = chunk_lens(len, 512, 64, align);
                assert_eq!(c.iter().sum::<usize>(), len);
                let mut at = 0;
                for &n in &c {
                    assert!(n <= 512 && (n >= 64 || c.len() == 1), "{len}: {c:?}");
                    assert_eq!(at % align, 0, "{len}: {c:?}");
                    at += n;
                }
            }
        }
    }
}
