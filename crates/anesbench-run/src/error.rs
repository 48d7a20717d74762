//! Errors of the runner and the run directory; each names the file or record at fault
//! and says what to do.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("run directory {dir} is locked by another run{holder}\nhint: wait for it to finish, or choose another `--out`")]
    Locked { dir: PathBuf, holder: String },
    #[error("{path}, line {line}: {message}\nhint: the file is damaged in the middle (not a torn last line); restore it or start a new run directory")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("run directory {dir} was started with different settings:\n{changes}\nhint: use the same settings to resume, or choose another `--out`")]
    SettingsChanged { dir: PathBuf, changes: String },
    #[error("{dir}: {message}")]
    BadRun { dir: PathBuf, message: String },
    #[error("merge: {0}")]
    Merge(String),
    #[error("item {index} (id {id}): prompt: {message}")]
    Prompt {
        index: usize,
        id: String,
        message: String,
    },
    #[error("backend not ready: {0}")]
    NotReady(String),
}

impl RunError {
    pub fn io(path: &Path, source: std::io::Error) -> RunError {
        RunError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
