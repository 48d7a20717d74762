//! Prompt rendering: chain-of-thought and direct prompts in English and Chinese, k-shot
//! prompts, user templates. (Skeleton: the prompt issue fills this in.)

use crate::item::Item;

/// Which built-in prompt, or a user template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStyle {
    Cot,
    Direct,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PromptSettings {
    pub style: PromptStyle,
    /// Number of worked examples placed before the question.
    pub shots: usize,
    /// minijinja template file, overriding `style`.
    pub template: Option<std::path::PathBuf>,
}

/// A rendered prompt: optional system message and the user message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rendered {
    pub system: Option<String>,
    pub user: String,
}

pub fn render(item: &Item, settings: &PromptSettings, shots: &[Item]) -> Result<Rendered, String> {
    let _ = (settings, shots);
    let mut user = item.question.clone();
    for (l, o) in item.lettered_options() {
        user.push_str(&format!("\n{l}. {o}"));
    }
    Ok(Rendered { system: None, user })
}
