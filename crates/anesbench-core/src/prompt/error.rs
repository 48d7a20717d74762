//! Errors from prompt rendering; each names the template file (and line) and gives a hint.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("cannot read prompt template {}: {source} (hint: check the --template path)", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Syntax errors, undefined variables, failing filters.
    #[error("{}{}: {message} (hint: {hint})", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Template {
        path: PathBuf,
        line: Option<usize>,
        message: String,
        hint: String,
    },
    #[error("{}: the template rendered an empty user message for item {id} (hint: put the prompt in the template body, or in a `{{% block user %}}` when there is a system block)", path.display())]
    EmptyUser { path: PathBuf, id: String },
}

// The runner's prompt preparation reports errors as strings; this keeps `?` working there.
impl From<PromptError> for String {
    fn from(e: PromptError) -> String {
        e.to_string()
    }
}
