//! Errors of the data toolkit; each names the file and, where there is one, the row and column.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable Parquet file: {detail}\n  hint: check the file is complete (not a Git LFS pointer or a partial download)")]
    Parquet { path: PathBuf, detail: String },
    #[error("{path}: no column for {role} (tried {tried}); the file has columns: {available}\n  hint: name the column with {flag}")]
    MissingColumn {
        path: PathBuf,
        role: String,
        tried: String,
        available: String,
        flag: String,
    },
    #[error("{path}: column `{column}` has type {found}, which cannot be read as text")]
    ColumnType {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error("{path}: {detail}")]
    Json { path: PathBuf, detail: String },
    #[error("{path}: unsupported file type (expected .parquet, .jsonl, .ndjson or .json)")]
    UnsupportedFile { path: PathBuf },
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Other(String),
}

impl DataError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
