//! The loaded model: llama.cpp backend, model and one mutex-guarded context, plus the
//! [`Backend`] implementation that runs each request on a blocking thread.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use anesbench_backend::{
    Backend, BackendError, BackendInfo, GenRequest, GenResponse, LoglikRequest, LoglikResponse,
    Prompt,
};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use serde_json::{json, Map, Value};

use crate::prefix::{
    aligned, common_len, decode_tokens, row_align, Chunking, PrefixCache, FLASH_MIN_ROWS,
    MIN_PREFIX_TOKENS, MIN_REST,
};
use crate::{chat_template, check_gguf, generate, loglik, LlamaConfig, LlamaError};

/// The version of the binding crate; llama.cpp's own version comes from ggml at run time.
const BINDING: &str = "llama-cpp-2 0.1.160";

/// llama.cpp allows one backend initialisation per process.
fn llama_backend() -> Result<&'static LlamaBackend, LlamaError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp logs every tensor while loading; keep stderr for our own progress.
            if std::env::var_os("ANESBENCH_LLAMA_LOG").is_none() {
                llama_cpp_2::send_logs_to_tracing(
                    llama_cpp_2::LogOptions::default().with_logs_enabled(false),
                );
            }
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| LlamaError::Other(format!("llama.cpp backend initialisation failed: {e}")))
}

/// Prefix slots: reserved sequence ids after the work sequences, each a KV stream of its
/// own (a 5-shot run has one prefix per language and option-count phrase).
pub(crate) const PREFIX_SLOTS: u32 = 4;

/// What a work stream holds at cells `0..tokens.len()`: prompt tokens decoded as a prompt
/// (in `n_batch` chunks, each decode starting at a multiple of the model's reuse alignment
/// and, with flash attention, holding at least [`FLASH_MIN_ROWS`] tokens), so that an
/// aligned part of them is the same numbers a fresh decode would give. Tokens a sample
/// generated after them are not listed: they came from one-row decodes, which round
/// differently, and a reuse never reaches them. Nor are the tokens of a prompt shorter
/// than [`FLASH_MIN_ROWS`] under flash attention: its one decode took the one-row path.
///
/// [`FLASH_MIN_ROWS`]: crate::prefix::FLASH_MIN_ROWS
#[derive(Default)]
struct Stream {
    tokens: Vec<LlamaToken>,
    last_used: u64,
}

/// Prompt tokens decoded and reused from a cached stream, for benchmarks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReuseStats {
    /// Prompts prepared.
    pub prompts: u64,
    /// Their tokens in all.
    pub prompt_tokens: u64,
    /// Of those, taken from a cached stream instead of decoded.
    pub reused_tokens: u64,
    /// Tokens of shared prefixes put into prefix slots by copying a work sequence's cells
    /// instead of decoding them.
    pub prefix_copied_tokens: u64,
}

/// The context and what it holds between requests: the cached prefixes, and what each
/// work sequence was last left holding.
pub(crate) struct State {
    pub(crate) ctx: LlamaContext<'static>,
    pub(crate) prefixes: PrefixCache,
    /// Work sequences `0..work.len()`.
    work: Vec<Stream>,
    clock: u64,
    pub(crate) stats: ReuseStats,
    /// Fewest tokens in one prompt decode: [`FLASH_MIN_ROWS`] with flash attention, else 1.
    min_rows: usize,
    /// Reuse cuts fall on multiples of this ([`row_align`] of the model's tensor types).
    align: usize,
}

impl State {
    /// Empty every work sequence and forget what they held (after a failed request,
    /// whose state is unknown, and for the raw-decode benchmarks).
    pub(crate) fn reset_work(&mut self) {
        for (s, w) in self.work.iter_mut().enumerate() {
            let _ = self.ctx.clear_kv_cache_seq(Some(s as u32), None, None);
            w.tokens.clear();
        }
    }

    /// Decode `tokens` into a work sequence, logits for the last token, and return the
    /// sequence and the logits' index in the last batch. With `reuse` (the prefix cache
    /// setting) the longest aligned run of leading tokens some cached stream already holds
    /// is copied instead of decoded: a work sequence left by an earlier request (the same
    /// question's previous beam step, the previous question's instructions), or the
    /// runner-named `prefix`, put into a prefix slot on its first use (from the work
    /// sequence that holds most of it, decoding the rest). Cells are then
    /// where a decode of the whole prompt puts them, with the same values, so the logits
    /// do not depend on what was cached.
    pub(crate) fn prompt(
        &mut self,
        tokens: &[LlamaToken],
        prefix: Option<&[LlamaToken]>,
        reuse: bool,
        n_batch: u32,
        cancel: &Cancel,
    ) -> Result<(i32, i32), BackendError> {
        let out = self.prompt_inner(tokens, prefix, reuse, n_batch, cancel);
        if out.is_err() {
            self.reset_work();
        }
        out
    }

    fn prompt_inner(
        &mut self,
        tokens: &[LlamaToken],
        prefix: Option<&[LlamaToken]>,
        reuse: bool,
        n_batch: u32,
        cancel: &Cancel,
    ) -> Result<(i32, i32), BackendError> {
        self.clock += 1;
        // At least MIN_REST tokens are decoded (the last one's logits are the answer): a
        // decode of a few rows takes another path through llama.cpp's matrix kernels than
        // the same rows inside a longer decode (gemma, 5 rows: 0.165 nats off).
        // With flash attention, at least FLASH_MIN_ROWS (see there).
        let rest = MIN_REST.max(self.min_rows);
        let align = self.align;
        let rules = Chunking {
            n_batch,
            min_rows: self.min_rows,
            align,
        };
        let cap = tokens.len().saturating_sub(rest);
        let usable = |n: usize| aligned(n.min(cap), align);
        // The best work stream to extend in place.
        let (best, best_len) = self.longest_held(tokens, usable);
        // The slot holds the whole (aligned) shared prefix, whatever this prompt's length,
        // so that every question naming it finds the same slot; a short question copies
        // it and drops the cells it must decode itself.
        let slot_full = prefix.map_or(0, |p| aligned(common_len(p, tokens), align));
        let slot_len = usable(slot_full);
        let (root, start) = if reuse && best_len >= MIN_PREFIX_TOKENS && best_len >= slot_len {
            (best, best_len)
        } else {
            let root = self.lru();
            if reuse && slot_len >= MIN_PREFIX_TOKENS {
                let p = &prefix.expect("slot_len > 0 means a prefix")[..slot_full];
                // A slot missing this prefix is filled from the work stream that holds
                // most of it (the previous question's shots), decoding only the rest.
                let from = Some(self.longest_held(p, |n| aligned(n, align)))
                    .filter(|&(_, n)| n >= MIN_PREFIX_TOKENS)
                    .map(|(i, n)| (i as i32, n));
                let seq = self
                    .prefixes
                    .get_or_decode(&mut self.ctx, p, from, rules, cancel)
                    .inspect_err(|_| self.prefixes.clear(&mut self.ctx))?;
                // Streams copy whole, cell for cell (done at the next decode).
                self.ctx
                    .copy_kv_cache_seq(seq, root as i32, None, None)
                    .map_err(|e| BackendError::Other(format!("KV cache copy: {e}")))?;
                (root, slot_len)
            } else {
                (root, 0)
            }
        };
        let seq = root as i32;
        // Drop everything past the reused cells (all of it when nothing is reused).
        let _ = self
            .ctx
            .clear_kv_cache_seq(Some(seq as u32), Some(start as u32), None);
        self.work[root].tokens.clear();
        let last = decode_tokens(
            &mut self.ctx,
            &tokens[start..],
            start,
            seq,
            rules,
            true,
            cancel,
        )?;
        // A prompt too short for flash attention's tiled path was decoded by the one-row
        // path, and its cells are not what a longer prompt's decode gives them.
        let reusable = tokens.len() >= self.min_rows;
        self.work[root] = Stream {
            tokens: if reusable {
                tokens.to_vec()
            } else {
                Vec::new()
            },
            last_used: self.clock,
        };
        self.stats.prompts += 1;
        self.stats.prompt_tokens += tokens.len() as u64;
        self.stats.reused_tokens += start as u64;
        Ok((seq, last))
    }

    /// The work sequence holding the longest leading run of `tokens`, and that run's
    /// length after `cut` (the lowest such sequence on a tie).
    fn longest_held(&self, tokens: &[LlamaToken], cut: impl Fn(usize) -> usize) -> (usize, usize) {
        self.work
            .iter()
            .enumerate()
            .map(|(i, w)| (i, cut(common_len(&w.tokens, tokens))))
            .max_by_key(|&(i, n)| (n, std::cmp::Reverse(i)))
            .expect("at least one work sequence")
    }

    /// The least recently used work sequence.
    fn lru(&self) -> usize {
        (0..self.work.len())
            .min_by_key(|&i| (self.work[i].last_used, i))
            .expect("at least one work sequence")
    }

    /// `g` consecutive work sequences holding `root`, the others given a copy of
    /// `root`'s cells (done at the next decode), for `g` samples of its prompt; `root`
    /// comes first. Consecutive, because llama.cpp lays a multi-sequence batch over the
    /// KV streams from the lowest id to the highest as one block; of the windows that hold
    /// `root`, the one whose other streams were used least recently.
    pub(crate) fn fork(&mut self, root: i32, g: usize) -> Result<Vec<i32>, BackendError> {
        let n = self.work.len();
        let g = g.clamp(1, n);
        let r = root as usize;
        let lo = r.saturating_sub(g - 1);
        let hi = r.min(n - g);
        let start = (lo..=hi)
            .min_by_key(|&w| {
                (w..w + g)
                    .filter(|&i| i != r)
                    .map(|i| self.work[i].last_used)
                    .max()
                    .unwrap_or(0)
            })
            .expect("a window of g streams holds root");
        let mut seqs = vec![root];
        for s in (start..start + g).filter(|&i| i != r) {
            self.ctx
                .copy_kv_cache_seq(root, s as i32, None, None)
                .map_err(|e| BackendError::Other(format!("KV cache copy: {e}")))?;
            self.work[s] = Stream {
                tokens: self.work[r].tokens.clone(),
                last_used: self.clock,
            };
            seqs.push(s as i32);
        }
        Ok(seqs)
    }
}

/// Model and context. Field order matters: `state` borrows `*model` and is declared first
/// so that it is dropped first.
pub(crate) struct Engine {
    state: Mutex<State>,
    pub(crate) model: Box<LlamaModel>,
    pub(crate) template: Option<LlamaChatTemplate>,
    pub(crate) cfg: LlamaConfig,
    /// Most tokens one sequence holds (prompt and reply): `ctx_size`, the cells of one
    /// KV stream.
    pub(crate) n_ctx: u32,
    pub(crate) max_choices: u32,
    pub(crate) n_batch: u32,
    info: BackendInfo,
    endpoint: String,
}

impl Engine {
    fn load(cfg: &LlamaConfig) -> Result<Engine, LlamaError> {
        if cfg.ctx_size < 16 {
            return Err(LlamaError::Config {
                setting: "ctx_size",
                message: format!("{} is below 16 tokens", cfg.ctx_size),
            });
        }
        if cfg.batch_size == 0 {
            return Err(LlamaError::Config {
                setting: "batch_size",
                message: "must be at least 1".into(),
            });
        }
        let header = check_gguf(&cfg.model)?;
        let backend = llama_backend()?;
        let model = LlamaModel::load_from_file(backend, &cfg.model, &LlamaModelParams::default())
            .map_err(|e| LlamaError::Load {
            path: cfg.model.clone(),
            message: format!("{e} (set ANESBENCH_LLAMA_LOG=1 to see llama.cpp's log)"),
        })?;
        let model = Box::new(model);
        if !(1..=LlamaConfig::MAX_CHOICES_LIMIT).contains(&cfg.max_choices) {
            return Err(LlamaError::Config {
                setting: "max_choices",
                message: format!(
                    "{} is outside 1..={}",
                    cfg.max_choices,
                    LlamaConfig::MAX_CHOICES_LIMIT
                ),
            });
        }
        let work_seqs = cfg.max_choices;
        let n_seqs = work_seqs + PREFIX_SLOTS;
        let kv_cells = cfg.ctx_size.saturating_mul(n_seqs);
        let threads = i32::try_from(cfg.effective_threads()).unwrap_or(i32::MAX);
        let flash = cfg.flash_attn_applies();
        let align = row_align(&header.tensor_types);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(kv_cells))
            .with_n_batch(cfg.batch_size)
            .with_n_ubatch(cfg.batch_size)
            // One KV stream per sequence. A copy (a cached prefix into a question's
            // sequence, a prompt into each sample's) then copies the cells in place, so
            // every sequence holds its tokens at cells 0.. exactly as a fresh decode of
            // the same tokens would: attention sums over the cells in the same order, and
            // a score does not depend on what else is cached or ran before. (One shared
            // pool placed a copied sequence's new tokens wherever cells were free; that
            // moved 5-shot scores by up to 0.16 nats.) Full-size sliding-window layers
            // (gemma 3), so no cell is reused while its sequence still holds it.
            .with_n_seq_max(n_seqs)
            .with_kv_unified(false)
            .with_swa_full(true)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            // "auto" may pick either path; fixing it keeps scores reproducible. Flash
            // attention is about 1.3x faster on 5-shot prompts; with it, prompts are
            // decoded in chunks of at least FLASH_MIN_ROWS tokens (see there).
            .with_flash_attention_policy(if flash {
                llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED
            } else {
                llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED
            });
        let ctx = model
            .new_context(backend, params)
            .map_err(|e| LlamaError::Load {
                path: cfg.model.clone(),
                message: format!("cannot create a context of {kv_cells} KV cells: {e}"),
            })?;
        let ctx = extend_context_lifetime(ctx);
        let kv_cells = ctx.n_ctx();
        let n_ctx = cfg.ctx_size.min(kv_cells / n_seqs);
        let n_batch = ctx.n_batch();
        let template = chat_template::from_model(&model);
        let file = cfg
            .model
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut details = Map::new();
        details.insert("model_file".into(), json!(file));
        details.insert("model_path".into(), json!(cfg.model.display().to_string()));
        details.insert("model_bytes".into(), json!(header.file_size));
        details.insert("gguf_version".into(), json!(header.version));
        details.insert("n_params".into(), json!(model.n_params()));
        details.insert("n_vocab".into(), json!(model.n_vocab()));
        details.insert("threads".into(), json!(threads));
        details.insert("ctx_size".into(), json!(n_ctx));
        details.insert("kv_cells".into(), json!(kv_cells));
        details.insert(
            "kv_layout".into(),
            json!(format!(
                "one stream of {n_ctx} cells per sequence: {work_seqs} work, {PREFIX_SLOTS} cached prefixes"
            )),
        );
        details.insert("max_choices".into(), json!(cfg.max_choices));
        details.insert("prefix_cache".into(), json!(cfg.prefix_cache));
        details.insert("batch_size".into(), json!(n_batch));
        details.insert("ubatch_size".into(), json!(ctx.n_ubatch()));
        details.insert("flash_attn".into(), json!(flash));
        // 32 when llama.cpp may repack a weight type into row groups, else 1.
        details.insert("prefix_align".into(), json!(align));
        details.insert("seed".into(), json!(cfg.seed));
        // What the file offers; whether a run applies it is the run's `chat_template`
        // setting (never in loglik mode, where prompts are plain text).
        details.insert("gguf_chat_template".into(), json!(template.is_some()));
        details.insert(
            "decode".into(),
            json!(if cfg.prefix_cache {
                "one question per decode; shared prompt prefix decoded once and its KV stream copied (loglik); samples of one prompt decoded together"
            } else {
                "one question per decode, whole prompt decoded per request; samples of one prompt decoded together"
            }),
        );
        details.insert(
            "loglik_candidates".into(),
            json!("logsumexp of `X` and ` X` single tokens, full-vocab log-softmax"),
        );
        details.insert("binding".into(), json!(BINDING));
        details.insert("llama_cpp".into(), Value::Object(build_info()));
        let info = BackendInfo {
            kind: "llama".into(),
            model: file.clone(),
            endpoints: vec![format!("embedded:{file}")],
            details,
        };
        Ok(Engine {
            state: Mutex::new(State {
                ctx,
                prefixes: PrefixCache::new(work_seqs as i32..(work_seqs + PREFIX_SLOTS) as i32),
                work: (0..work_seqs).map(|_| Stream::default()).collect(),
                clock: 0,
                stats: ReuseStats::default(),
                min_rows: if flash { FLASH_MIN_ROWS } else { 1 },
                align,
            }),
            model,
            template,
            cfg: cfg.clone(),
            n_ctx,
            max_choices: cfg.max_choices,
            n_batch,
            info,
            endpoint: format!("embedded:{file}"),
        })
    }

    /// The context, even if a previous request panicked while holding it: then the work
    /// sequences are cleared (a failed request clears them itself), and a prefix is only
    /// registered once fully decoded, so no state from the failed request leaks into the
    /// next.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(st) => st,
            Err(poisoned) => {
                let mut st = poisoned.into_inner();
                st.reset_work();
                st
            }
        }
    }

    /// The exact text handed to the tokenizer for a prompt.
    pub(crate) fn render(&self, prompt: &Prompt) -> Result<String, BackendError> {
        match prompt {
            Prompt::Text(t) => Ok(t.clone()),
            Prompt::Chat(messages) => {
                chat_template::render(&self.model, self.template.as_ref(), messages)
            }
        }
    }

    /// Prompt text to tokens, with one BOS (templates that write `<bos>` themselves would
    /// otherwise get two).
    pub(crate) fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), true, true);
        let bos = vocab.bos();
        if tokens.len() >= 2 && tokens[0] == bos && tokens[1] == bos {
            tokens.remove(0);
        }
        tokens
    }
}

// SAFETY: the context only borrows the model, which lives in a `Box` owned by the same
// `Engine` and declared after `ctx`, so it outlives the context; the box's heap address
// does not change when the `Engine` moves.
#[allow(unsafe_code)]
fn extend_context_lifetime(ctx: LlamaContext<'_>) -> LlamaContext<'static> {
    unsafe { std::mem::transmute::<LlamaContext<'_>, LlamaContext<'static>>(ctx) }
}

/// ggml version and commit, and the CPU features this build uses.
#[allow(unsafe_code)]
fn build_info() -> Map<String, Value> {
    let text = |p: *const std::os::raw::c_char| {
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: ggml returns pointers to static NUL-terminated strings.
            unsafe { std::ffi::CStr::from_ptr(p) }
                .to_string_lossy()
                .trim()
                .to_string()
        }
    };
    let mut m = Map::new();
    // SAFETY: plain getters of static strings, no arguments.
    m.insert(
        "ggml_version".into(),
        json!(text(unsafe { llama_cpp_sys_2::ggml_version() })),
    );
    m.insert(
        "ggml_commit".into(),
        json!(text(unsafe { llama_cpp_sys_2::ggml_commit() })),
    );
    m.insert(
        "system_info".into(),
        json!(text(unsafe { llama_cpp_sys_2::llama_print_system_info() })),
    );
    m
}

/// Set when the caller of a request no longer waits for it (its future was dropped by a
/// timeout or Ctrl-C); the decode loops check it between steps and stop.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub(crate) fn check(&self) -> Result<(), BackendError> {
        if self.0.load(Ordering::Relaxed) {
            Err(BackendError::Other(
                "request abandoned by its caller (timed out or interrupted)".into(),
            ))
        } else {
            Ok(())
        }
    }
}

/// Cancels its request when dropped, unless the request finished first.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0 .0.store(true, Ordering::Relaxed);
    }
}

/// The embedded backend: one model loaded once, shared by all samples of a run.
#[derive(Clone)]
pub struct EmbeddedBackend {
    pub(crate) engine: Arc<Engine>,
}

impl EmbeddedBackend {
    /// Validate the GGUF file, load it and create the context.
    pub fn load(cfg: &LlamaConfig) -> Result<EmbeddedBackend, LlamaError> {
        Ok(EmbeddedBackend {
            engine: Arc::new(Engine::load(cfg)?),
        })
    }

    /// Blocking generate, for callers without a runtime.
    pub fn generate_blocking(&self, req: &GenRequest) -> Result<GenResponse, BackendError> {
        self.generate_cancellable(req, &Cancel::default())
    }

    fn generate_cancellable(
        &self,
        req: &GenRequest,
        cancel: &Cancel,
    ) -> Result<GenResponse, BackendError> {
        let mut resp = generate::run(&self.engine, req, 1, cancel)?;
        let mut resp = resp.pop().expect("one choice asked, one returned");
        resp.endpoint = Some(self.engine.endpoint.clone());
        Ok(resp)
    }

    /// Blocking `generate_n`, for callers without a runtime.
    pub fn generate_n_blocking(
        &self,
        req: &GenRequest,
        n: u32,
    ) -> Result<Vec<GenResponse>, BackendError> {
        self.generate_n_cancellable(req, n, &Cancel::default())
    }

    fn generate_n_cancellable(
        &self,
        req: &GenRequest,
        n: u32,
        cancel: &Cancel,
    ) -> Result<Vec<GenResponse>, BackendError> {
        let n = n.clamp(1, self.engine.max_choices);
        let mut out = generate::run(&self.engine, req, n, cancel)?;
        for r in &mut out {
            r.endpoint = Some(self.engine.endpoint.clone());
        }
        Ok(out)
    }

    /// Prefixes decoded and reused so far (shared-prefix cache), for benchmarks and tests.
    pub fn prefix_stats(&self) -> (u64, u64) {
        let st = self.engine.lock();
        (st.prefixes.decoded, st.prefixes.reused)
    }

    /// Prompt tokens decoded and reused from cached streams so far.
    pub fn reuse_stats(&self) -> ReuseStats {
        let st = self.engine.lock();
        ReuseStats {
            prefix_copied_tokens: st.prefixes.copied_tokens,
            ..st.stats
        }
    }

    /// Blocking loglik, for callers without a runtime.
    pub fn loglik_blocking(&self, req: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        self.loglik_cancellable(req, &Cancel::default())
    }

    fn loglik_cancellable(
        &self,
        req: &LoglikRequest,
        cancel: &Cancel,
    ) -> Result<LoglikResponse, BackendError> {
        let mut resp = loglik::run(&self.engine, req, cancel)?;
        resp.endpoint = Some(self.engine.endpoint.clone());
        Ok(resp)
    }

    /// The decoded text of the tokens a loglik candidate is scored on (`"A"`, `" A"`),
    /// so a test can check the spellings on a given vocabulary.
    pub fn candidate_pieces(&self, candidate: &str) -> Result<Vec<String>, BackendError> {
        let vocab = self.engine.model.vocab();
        Ok(loglik::candidate_tokens(&self.engine.model, candidate)?
            .into_iter()
            .map(|t| String::from_utf8_lossy(&vocab.token_to_piece(t, false, None)).into_owned())
            .collect())
    }

    /// Whether the model's GGUF metadata carries a chat template that llama.cpp can apply.
    pub fn has_chat_template(&self) -> bool {
        self.engine.template.is_some()
    }

    /// The text a prompt becomes before tokenization (chat template applied).
    pub fn render_prompt(&self, prompt: &Prompt) -> Result<String, BackendError> {
        self.engine.render(prompt)
    }
}

/// Run `f` on a blocking thread; if this future is dropped before it finishes (a timeout,
/// Ctrl-C), `f`'s [`Cancel`] is set and its decode loop stops at the next step.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce(&Cancel) -> Result<T, BackendError> + Send + 'static,
) -> Result<T, BackendError> {
    let cancel = Cancel::default();
    let guard = CancelOnDrop(cancel.clone());
    let out = tokio::task::spawn_blocking(move || f(&cancel))
        .await
        .map_err(|e| BackendError::Other(format!("embedded llama.cpp worker failed: {e}")))?;
    std::mem::forget(guard);
    out
}

#[async_trait::async_trait]
impl Backend for EmbeddedBackend {
    async fn generate(&self, req: &GenRequest) -> Result<GenResponse, BackendError> {
        let (this, req) = (self.clone(), req.clone());
        blocking(move |c| this.generate_cancellable(&req, c)).await
    }
    async fn loglik(&self, req: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        let (this, req) = (self.clone(), req.clone());
        blocking(move |c| this.loglik_cancellable(&req, c)).await
    }
    fn describe(&self) -> BackendInfo {
        self.engine.info.clone()
    }
    /// One context, one decode at a time.
    fn capacity(&self) -> Option<usize> {
        Some(1)
    }
    fn max_choices(&self) -> u32 {
        self.engine.max_choices
    }
    async fn generate_n(&self, req: &GenRequest, n: u32) -> Result<Vec<GenResponse>, BackendError> {
        let (this, req) = (self.clone(), req.clone());
        blocking(move |c| this.generate_n_cancellable(&req, n, c)).await
    }
}
