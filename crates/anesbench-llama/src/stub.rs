//! The backend when built without the `llama` feature: loading fails with a message that
//! says how to get a build that has it, so the rest of the API always compiles.

use anesbench_backend::{
    Backend, BackendError, BackendInfo, GenRequest, GenResponse, LoglikRequest, LoglikResponse,
};

use crate::{LlamaConfig, LlamaError};

/// Never constructed in this build: [`EmbeddedBackend::load`] always fails.
pub struct EmbeddedBackend {
    _private: (),
}

impl EmbeddedBackend {
    pub fn load(_cfg: &LlamaConfig) -> Result<EmbeddedBackend, LlamaError> {
        Err(LlamaError::NotBuilt)
    }
}

fn not_built() -> BackendError {
    BackendError::Unsupported(LlamaError::NotBuilt.to_string())
}

#[async_trait::async_trait]
impl Backend for EmbeddedBackend {
    async fn generate(&self, _req: &GenRequest) -> Result<GenResponse, BackendError> {
        Err(not_built())
    }
    async fn loglik(&self, _req: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        Err(not_built())
    }
    fn describe(&self) -> BackendInfo {
        BackendInfo {
            kind: "llama".into(),
            ..BackendInfo::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_without_the_feature_says_how_to_rebuild() {
        let err = EmbeddedBackend::load(&LlamaConfig::new("/nonexistent.gguf"))
            .err()
            .unwrap();
        assert!(matches!(err, LlamaError::NotBuilt));
        assert!(err.to_string().contains("--features llama"), "{err}");
    }
}
