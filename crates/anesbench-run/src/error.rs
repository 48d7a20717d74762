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
    #[error("{path}, line {line}{id}: {message}\nhint: a complete line that is not a record (not a torn last line): the file was changed by something else; restore it or start a new run directory")]
    Corrupt {
        path: PathBuf,
        line: usize,
        /// ` (id "x")` where the line's id could be read.
        id: String,
        message: String,
    },
    #[error("run directory {dir}: {changed} of {finished} finished samples were made with another prompt than the one that would be sent now (first: {first}){why}\nhint: `--rerun-changed-prompts` drops those samples and runs them again with the current prompt; or restore the old template, or choose another `--out`")]
    PromptChanged {
        dir: PathBuf,
        changed: usize,
        finished: usize,
        first: String,
        why: String,
    },
    #[error(
        "writing the run failed, so the run stopped; every sample written before this is kept: {0}"
    )]
    WriteFailed(Box<RunError>),
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

impl From<anesbench_core::rundir::ReadError> for RunError {
    fn from(e: anesbench_core::rundir::ReadError) -> RunError {
        use anesbench_core::rundir::ReadError;
        match e {
            ReadError::Io { path, source } => RunError::Io { path, source },
            ReadError::Corrupt {
                path,
                line,
                id,
                message,
            } => RunError::Corrupt {
                path,
                line,
                id,
                message,
            },
        }
    }
}

impl RunError {
    pub fn io(path: &Path, source: std::io::Error) -> RunError {
        RunError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
