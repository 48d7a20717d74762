//! Chat messages to prompt text: the model's own chat template from GGUF metadata when it
//! has one llama.cpp can apply, a plain completion prompt otherwise.

use anesbench_backend::{BackendError, ChatMessage};
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};

/// The GGUF's template, kept only if llama.cpp can actually apply it (it recognises
/// templates by pattern and fails on ones it does not know).
pub(crate) fn from_model(model: &LlamaModel) -> Option<LlamaChatTemplate> {
    let tmpl = model.chat_template(None).ok()?;
    let probe = [
        LlamaChatMessage::new("system".into(), "s".into()).ok()?,
        LlamaChatMessage::new("user".into(), "u".into()).ok()?,
    ];
    model
        .apply_chat_template(&tmpl, &probe, true)
        .ok()
        .map(|_| tmpl)
}

pub(crate) fn render(
    model: &LlamaModel,
    template: Option<&LlamaChatTemplate>,
    messages: &[ChatMessage],
) -> Result<String, BackendError> {
    let Some(tmpl) = template else {
        return Ok(plain(messages));
    };
    let msgs = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            LlamaChatMessage::new(m.role.clone(), m.content.clone())
                .map_err(|e| BackendError::Other(format!("chat message {i} ({}): {e}", m.role)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    // A trailing assistant message is a reply to continue, not a turn to open.
    let open_reply = messages.last().is_none_or(|m| m.role != "assistant");
    model
        .apply_chat_template(tmpl, &msgs, open_reply)
        .map_err(|e| BackendError::Other(format!("applying the model's chat template failed: {e}")))
}

/// Without a template, a base model sees the messages' text, separated by blank lines.
pub(crate) fn plain(messages: &[ChatMessage]) -> String {
    messages
        .iter()
        .map(|m| m.content.as_str())
        .filter(|c| !c.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_prompt_joins_nonempty_messages_with_blank_lines() {
        let msgs = [
            ChatMessage::new("system", "Answer with a letter."),
            ChatMessage::new("user", ""),
            ChatMessage::new("user", "Q?\nA. x"),
        ];
        assert_eq!(plain(&msgs), "Answer with a letter.\n\nQ?\nA. x");
    }
}
