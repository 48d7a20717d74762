//! Embedded llama.cpp backend (GGUF) behind the `llama` cargo feature.
//! (Skeleton: the embedded-backend issue fills this in.)

use std::path::PathBuf;

use anesbench_backend::{Backend, BackendError, BackendInfo, GenRequest, GenResponse, LoglikRequest, LoglikResponse};

/// Settings of the embedded model; all of them go into the manifest.
#[derive(Debug, Clone)]
pub struct LlamaConfig {
    /// Local GGUF path (already resolved; see [`resolve_model`]).
    pub model: PathBuf,
    /// CPU threads; `None` = all cores.
    pub threads: Option<usize>,
    pub ctx_size: u32,
    pub batch_size: u32,
    pub seed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LlamaError {
    #[error("anesbench was built without the `llama` feature; rebuild with `cargo build --features llama` or use --endpoint")]
    NotBuilt,
    #[error("{0}")]
    Other(String),
}

/// Where the demo model lives: `$ANESBENCH_HOME/models/...` (default `~/.cache/anesbench/models`).
pub fn default_model_path() -> PathBuf {
    let home = std::env::var_os("ANESBENCH_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/anesbench"));
    home.join("models").join("gemma-3-270m-Q4_K_M.gguf")
}

/// Resolve a model spec: a local path, or `hf:OWNER/REPO/FILE.gguf` through the hf-hub cache.
pub fn resolve_model(spec: &str) -> Result<PathBuf, LlamaError> {
    Ok(PathBuf::from(spec))
}

/// The embedded backend: one model loaded once, shared by all samples of a run.
pub struct EmbeddedBackend {
    _private: (),
}

impl EmbeddedBackend {
    pub fn load(_cfg: &LlamaConfig) -> Result<EmbeddedBackend, LlamaError> {
        Err(LlamaError::NotBuilt)
    }
}

#[async_trait::async_trait]
impl Backend for EmbeddedBackend {
    async fn generate(&self, _req: &GenRequest) -> Result<GenResponse, BackendError> {
        Err(BackendError::Unsupported("embedded backend not built".into()))
    }
    async fn loglik(&self, _req: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        Err(BackendError::Unsupported("embedded backend not built".into()))
    }
    fn describe(&self) -> BackendInfo {
        BackendInfo { kind: "llama".into(), ..BackendInfo::default() }
    }
}
