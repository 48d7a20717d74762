//! From an item and the settings to what the backend is asked, rendered once per item
//! before the run starts (so a broken template fails before any model call).

use anesbench_backend::{ChatMessage, GenParams, Prompt};
use anesbench_core::prompt::{select_shots, shared_prefix_len, PromptSettings, Prompter};
use anesbench_core::record::sha256_hex;
use anesbench_core::Item;

use crate::settings::{ApiStyle, Mode, Settings};

/// A prompt ready to send, with the hash recorded in each sample.
#[derive(Debug, Clone)]
pub struct PreparedPrompt {
    pub prompt: Prompt,
    pub hash: String,
    /// Bytes of a text prompt that other items share (system text, instructions, worked
    /// examples), a hint for backends that cache decoded prefixes; not in the hash.
    pub shared_prefix: Option<usize>,
}

pub fn prompt_settings(s: &Settings) -> PromptSettings {
    PromptSettings {
        style: s.prompt_style.clone(),
        shots: s.shots,
        template: s.template.clone(),
    }
}

/// Render every item once, so a broken template fails before any model call.
pub fn prepare_all(
    items: &[Item],
    s: &Settings,
    pool: &[Item],
) -> Result<Vec<PreparedPrompt>, (usize, String)> {
    let prompter = Prompter::new(&prompt_settings(s)).map_err(|e| (0, e.to_string()))?;
    items
        .iter()
        .enumerate()
        .map(|(i, it)| prepare(&prompter, it, s, pool).map_err(|e| (i, e)))
        .collect()
}

pub fn prepare(
    prompter: &Prompter,
    item: &Item,
    s: &Settings,
    pool: &[Item],
) -> Result<PreparedPrompt, String> {
    let shots = if s.shots == 0 {
        Vec::new()
    } else {
        select_shots(item, pool, s.shots)
    };
    let r = prompter.render(item, &shots).map_err(|e| e.to_string())?;
    let prompt = match (s.mode, s.api_style) {
        // Loglik: plain text ending in the answer cue, so the next token is the letter.
        (Mode::Loglik, _) => Prompt::Text(r.to_text()),
        (Mode::Generate, ApiStyle::Completions) => Prompt::Text(r.to_plain()),
        (Mode::Generate, ApiStyle::Chat) => Prompt::Chat(
            r.messages()
                .into_iter()
                .map(|(role, c)| ChatMessage::new(role, c))
                .collect(),
        ),
    };
    let hash = sha256_hex(&serde_json::to_vec(&prompt).unwrap_or_default());
    let shared_prefix = match &prompt {
        Prompt::Text(t) => shared_prefix_len(t, item),
        Prompt::Chat(_) => None,
    };
    Ok(PreparedPrompt {
        prompt,
        hash,
        shared_prefix,
    })
}

/// Generation settings for sample `sample`: with a seed, each sample gets `seed + sample`
/// so self-consistency samples differ but repeat exactly.
pub fn gen_params(s: &Settings, sample: u32) -> GenParams {
    GenParams {
        temperature: s.temperature,
        top_p: s.top_p,
        max_tokens: s.max_tokens,
        seed: s.seed.map(|x| x.wrapping_add(u64::from(sample))),
        stop: s.stop.clone(),
        extra_body: s.extra_body.clone(),
        logprobs: s.strategy.needs_logprobs(),
    }
}
