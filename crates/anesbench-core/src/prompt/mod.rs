//! Prompt rendering: the built-in chain-of-thought and direct-answer prompts in English and
//! Chinese, k-shot prompts from a separate example pool, and user template files
//! (minijinja) for reproducing an exact published prompt.
//!
//! A prompt renders to a [`Rendered`] (system + user message), which a chat backend sends
//! as messages and a completion backend sends as [`Rendered::to_text`].

mod builtin;
mod error;
mod prefix;
mod shots;
mod template;

use std::path::PathBuf;

use crate::item::{Item, Lang};

pub use builtin::{answer_cue, letters_phrase, question_block};
pub use error::PromptError;
pub use prefix::shared_prefix_len;
pub use shots::select_shots;
pub use template::PromptTemplate;

/// Which built-in prompt, or a user template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStyle {
    /// Analyse each option step by step, finish with `Answer: X` / `答案：X`.
    Cot,
    /// Reply with the letter only.
    Direct,
}

impl PromptStyle {
    pub fn name(&self) -> &'static str {
        match self {
            PromptStyle::Cot => "cot",
            PromptStyle::Direct => "direct",
        }
    }
}

impl std::str::FromStr for PromptStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "cot" | "chain-of-thought" | "chain_of_thought" => Ok(PromptStyle::Cot),
            "direct" => Ok(PromptStyle::Direct),
            other => Err(format!("unknown prompt style `{other}` (expected cot or direct; use --template FILE for your own)")),
        }
    }
}

/// A built-in prompt, for listings (`--prompt` values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinPrompt {
    pub style: PromptStyle,
    pub name: &'static str,
    pub description: &'static str,
}

/// The built-in prompts, each available in English and Chinese.
pub fn builtins() -> Vec<BuiltinPrompt> {
    vec![
        BuiltinPrompt {
            style: PromptStyle::Cot,
            name: "cot",
            description: "anesthesiologist system role; analyse each option step by step, end with `Answer: X` (zh: `答案：X`)",
        },
        BuiltinPrompt {
            style: PromptStyle::Direct,
            name: "direct",
            description: "anesthesiologist system role; reply with the option letter only",
        },
    ]
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PromptSettings {
    pub style: PromptStyle,
    /// Number of worked examples placed before the question.
    pub shots: usize,
    /// minijinja template file, overriding `style`.
    pub template: Option<PathBuf>,
}

/// A rendered prompt: optional system message and the user message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rendered {
    pub system: Option<String>,
    pub user: String,
    /// Language of the item, which sets the completion cue of [`Rendered::to_text`].
    #[serde(default = "default_lang")]
    pub lang: Lang,
}

fn default_lang() -> Lang {
    Lang::En
}

impl Rendered {
    /// Chat messages as `(role, content)`: the system message when there is one, then the user.
    pub fn messages(&self) -> Vec<(&'static str, &str)> {
        let mut m = Vec::with_capacity(2);
        if let Some(sys) = self.system.as_deref().filter(|s| !s.trim().is_empty()) {
            m.push(("system", sys));
        }
        m.push(("user", self.user.as_str()));
        m
    }

    /// System and user message as one plain text, for completion endpoints (no cue).
    pub fn to_plain(&self) -> String {
        match self.system.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(sys) => format!("{sys}\n\n{}", self.user),
            None => self.user.clone(),
        }
    }

    /// Plain-text completion form for base models and log-likelihood scoring: the prompt
    /// followed by `Answer:` (en) or `答案：` (zh), so the next token is the letter.
    pub fn to_text(&self) -> String {
        format!("{}\n{}", self.to_plain().trim_end(), answer_cue(self.lang))
    }
}

/// Renders prompts for many items with one compiled template.
#[derive(Debug)]
pub struct Prompter {
    style: PromptStyle,
    template: Option<PromptTemplate>,
}

impl Prompter {
    /// Compile the settings' template, if any, so a broken one fails before any item.
    pub fn new(settings: &PromptSettings) -> Result<Self, PromptError> {
        let template = settings
            .template
            .as_deref()
            .map(PromptTemplate::from_file)
            .transpose()?;
        Ok(Prompter {
            style: settings.style.clone(),
            template,
        })
    }

    /// Render `item` with worked examples `shots` (as chosen by [`select_shots`]); a shot
    /// that is the item itself is dropped, so a prompt never contains its own answer.
    pub fn render(&self, item: &Item, shots: &[Item]) -> Result<Rendered, PromptError> {
        let shots: Vec<Item> = shots
            .iter()
            .filter(|s| !shots::same_question(item, s))
            .cloned()
            .collect();
        match &self.template {
            Some(t) => t.render(item, &shots),
            None => Ok(builtin::render(item, &self.style, &shots)),
        }
    }
}

/// Render one item (compiles the template each call; use [`Prompter`] for many items).
pub fn render(
    item: &Item,
    settings: &PromptSettings,
    shots: &[Item],
) -> Result<Rendered, PromptError> {
    Prompter::new(settings)?.render(item, shots)
}
