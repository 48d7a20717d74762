//! Errors of the report crate: each names the file, record or item involved and a hint.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a run directory: neither samples.jsonl nor summary.json is there (hint: pass the directory `anesbench eval` wrote, e.g. runs/<name>)")]
    NotARun { path: PathBuf },
    #[error("{path}: cannot read the run header: {source} (hint: the manifest must be a JSON object with at least `model`)")]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A corrupt `samples.jsonl` (a complete line that is not a record).
    #[error(transparent)]
    Samples(anesbench_core::rundir::ReadError),
    #[error("{path}: {source} (hint: delete summary.json; it is recomputed from samples.jsonl)")]
    Summary {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: line {line}: {message}")]
    SizeMap {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A `--pairs` file line that does not parse or names an unknown model.
    #[error("{path}: line {line}: {message}")]
    Pairs {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot compare: {0}")]
    Compare(String),
    #[error("figure `{figure}`: {message}")]
    Plot { figure: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl ReportError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = ReportError> = std::result::Result<T, E>;
