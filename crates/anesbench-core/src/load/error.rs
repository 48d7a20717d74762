//! Load errors and the per-record problems that validation collects.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a source: where (file, line, record index and id, field) and what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// File the record came from; `None` for the built-in demo set.
    pub file: Option<PathBuf>,
    /// 1-based line, where the format has lines (JSONL, malformed JSON).
    pub line: Option<usize>,
    /// 0-based position of the record in its file.
    pub index: Option<usize>,
    /// The record's id, when it has a readable one.
    pub id: Option<String>,
    /// The field at fault (`target`, `en_C`, ...).
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    /// A problem with the whole file (unreadable bytes, not JSON, no records).
    pub fn file(file: Option<PathBuf>, message: impl Into<String>) -> Self {
        Problem {
            file,
            line: None,
            index: None,
            id: None,
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}", p.display())?,
            None => f.write_str("<demo>")?,
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(i) = self.index {
            write!(f, ": record[{i}]")?;
        }
        if let Some(id) = &self.id {
            write!(f, " (id {id:?})")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Errors from [`crate::load::load`]. `Display` names file, record and field, with a hint.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The source could not be read at all (missing path, I/O error).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The source string names nothing loadable.
    #[error("source `{spec}` not found: {hint}")]
    NotFound { spec: String, hint: String },
    /// An `hf:` source that could not be resolved to local files.
    #[error("{0}")]
    Hub(String),
    /// An explicit field mapping that cannot work (bad file, missing keys).
    #[error("field mapping: {0}")]
    Mapping(String),
    /// Validation found bad records; every one is listed.
    #[error("{}", render_invalid(problems, *records))]
    Invalid {
        problems: Vec<Problem>,
        records: usize,
    },
    /// Nothing to evaluate after loading.
    #[error("source `{spec}` holds no items{detail}")]
    Empty { spec: String, detail: String },
    #[error("{0}")]
    Other(String),
}

impl LoadError {
    /// True when the source was read but its content is wrong (validation failed), as
    /// opposed to a source that could not be read.
    pub fn is_invalid_data(&self) -> bool {
        matches!(self, LoadError::Invalid { .. } | LoadError::Empty { .. })
    }
    /// The individual problems, for errors that carry them.
    pub fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn render_invalid(problems: &[Problem], records: usize) -> String {
    let mut s = format!(
        "{} problem(s) in {} record(s) or file(s):",
        problems.len(),
        records.max(1)
    );
    for p in problems {
        s.push_str("\n  ");
        s.push_str(&p.to_string());
    }
    s.push_str("\nhint: fix the records above, or pass --lenient to skip them with a warning");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_display_names_file_line_record_id_and_field() {
        let p = Problem {
            file: Some("x/anesbench_en.jsonl".into()),
            line: Some(3),
            index: Some(2),
            id: Some("q7".into()),
            field: Some("target".into()),
            message: "bad".into(),
        };
        assert_eq!(
            p.to_string(),
            "x/anesbench_en.jsonl:3: record[2] (id \"q7\"), field `target`: bad"
        );
    }
}
