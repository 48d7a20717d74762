//! User prompt templates (minijinja), for reproducing an exact published prompt.
//!
//! The template body is the user message. A template that also wants a system message
//! defines `{% block system %}...{% endblock %}` and puts the user message in
//! `{% block user %}...{% endblock %}`. Variables: `question`, `options` (list of
//! `{letter, text}`), `letters` (list), `lang` (`en`/`zh`), `level` (1, 2, 3),
//! `level_name`, `id`, `answer_cue`, and `shots` (list of worked examples, each with
//! `question`, `options`, `letters`, `answer`, `rationale`, `level`, `id`). Undefined
//! variables are errors, so a typo fails before any model is called. `trim_blocks` and
//! `lstrip_blocks` are on, as in most chat templates; nothing is HTML-escaped.

use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};
use serde::Serialize;

use crate::item::Item;

use super::builtin::answer_cue;
use super::{PromptError, Rendered};

/// A compiled template file.
#[derive(Debug)]
pub struct PromptTemplate {
    path: PathBuf,
    env: Environment<'static>,
}

#[derive(Serialize)]
struct OptionCtx<'a> {
    letter: String,
    text: &'a str,
}

#[derive(Serialize)]
struct ItemCtx<'a> {
    id: &'a str,
    question: &'a str,
    options: Vec<OptionCtx<'a>>,
    letters: Vec<String>,
    level: u8,
    level_name: &'static str,
    answer: String,
    rationale: Option<&'a str>,
}

impl<'a> ItemCtx<'a> {
    fn new(item: &'a Item) -> Self {
        ItemCtx {
            id: &item.id,
            question: item.question.trim(),
            options: item
                .lettered_options()
                .map(|(l, t)| OptionCtx {
                    letter: l.to_string(),
                    text: t.trim(),
                })
                .collect(),
            letters: item.letters().iter().map(char::to_string).collect(),
            level: item.level.code(),
            level_name: item.level.name(),
            answer: item.answer.to_string(),
            rationale: item.rationale.as_deref(),
        }
    }
}

const NAME: &str = "prompt";

impl PromptTemplate {
    /// Read and compile a template file; syntax errors name the file and line.
    pub fn from_file(path: &Path) -> Result<Self, PromptError> {
        let source = std::fs::read_to_string(path).map_err(|source| PromptError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_source(path, source)
    }

    /// Compile template text; `path` is what errors name.
    pub fn from_source(path: &Path, source: String) -> Result<Self, PromptError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build();
        env.set_syntax(syntax.map_err(|e| template_error(path, &e))?);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.add_template_owned(NAME, source)
            .map_err(|e| template_error(path, &e))?;
        Ok(PromptTemplate {
            path: path.to_path_buf(),
            env,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Render for one item. The item's own gold answer and rationale are NOT visible to the
    /// template (only the shots' are), so a template cannot leak the answer.
    pub fn render(&self, item: &Item, shots: &[Item]) -> Result<Rendered, PromptError> {
        let me = ItemCtx::new(item);
        let shots: Vec<ItemCtx> = shots.iter().map(ItemCtx::new).collect();
        let ctx = minijinja::context! {
            id => me.id,
            question => me.question,
            options => Value::from(Serde(&me.options)),
            letters => Value::from(Serde(&me.letters)),
            lang => item.lang.code(),
            level => me.level,
            level_name => me.level_name,
            answer_cue => answer_cue(item.lang),
            shots => Value::from(Serde(&shots)),
        };
        let err = |e: minijinja::Error| template_error(&self.path, &e);
        let tmpl = self.env.get_template(NAME).map_err(err)?;
        let mut captured = tmpl.render_captured(ctx).map_err(err)?;
        let system = captured
            .with_state_mut(|st| optional_block(st.render_block("system")))
            .map_err(err)?;
        let user_block = captured
            .with_state_mut(|st| optional_block(st.render_block("user")))
            .map_err(err)?;
        let user = match (user_block, &system) {
            (Some(u), _) => u,
            (None, None) => captured.into_output(),
            (None, Some(_)) => {
                return Err(PromptError::Template {
                    path: self.path.clone(),
                    line: None,
                    message: "the template has a `system` block but no `user` block".into(),
                    hint: "wrap the user message in {% block user %}...{% endblock %}".into(),
                })
            }
        };
        let user = user.trim_end().to_string();
        if user.trim().is_empty() {
            return Err(PromptError::EmptyUser {
                path: self.path.clone(),
                id: item.id.clone(),
            });
        }
        let system = system
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        Ok(Rendered {
            system,
            user,
            lang: item.lang,
        })
    }
}

fn optional_block(r: Result<String, minijinja::Error>) -> Result<Option<String>, minijinja::Error> {
    match r {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == ErrorKind::UnknownBlock => Ok(None),
        Err(e) => Err(e),
    }
}

fn template_error(path: &Path, e: &minijinja::Error) -> PromptError {
    let message = match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    let hint = match e.kind() {
        ErrorKind::UndefinedError => {
            "variables are question, options (letter, text), letters, lang, level, level_name, id, answer_cue, shots"
        }
        ErrorKind::SyntaxError => "check the {{ }} / {% %} pairs on that line",
        _ => "see the minijinja template syntax",
    };
    PromptError::Template {
        path: path.to_path_buf(),
        line: e.line(),
        message,
        hint: hint.into(),
    }
}
