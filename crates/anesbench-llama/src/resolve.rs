//! Where models come from: the default demo model path, local paths, and
//! `hf:OWNER/REPO/FILE.gguf` looked up in the Hugging Face cache (never downloaded:
//! the hub is not reachable from where anesbench runs its tests).

use std::path::{Path, PathBuf};

use crate::LlamaError;

/// File name of the demo model written by `scripts/fetch-demo-model.sh`.
pub const DEFAULT_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";

/// The command that fetches the demo model, quoted in errors.
pub const FETCH_COMMAND: &str = "bash scripts/fetch-demo-model.sh";

/// `$ANESBENCH_HOME`, default `~/.cache/anesbench`.
pub fn anesbench_home() -> PathBuf {
    std::env::var_os("ANESBENCH_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/anesbench")
        })
}

/// Where the demo model lives: `$ANESBENCH_HOME/models/gemma-3-270m-q4_k_m.gguf`.
pub fn default_model_path() -> PathBuf {
    anesbench_home().join("models").join(DEFAULT_MODEL_FILE)
}

/// Resolve a model spec: a local path, or `hf:OWNER/REPO/FILE.gguf` through the
/// hf-hub cache at `$HF_HOME/hub` (default `~/.cache/huggingface/hub`).
pub fn resolve_model(spec: &str) -> Result<PathBuf, LlamaError> {
    resolve_model_in(spec, &hf_hub::Cache::from_env())
}

/// [`resolve_model`] against an explicit hf-hub cache (tests use a pre-filled one).
pub fn resolve_model_in(spec: &str, cache: &hf_hub::Cache) -> Result<PathBuf, LlamaError> {
    let Some(rest) = spec.strip_prefix("hf:") else {
        return Ok(PathBuf::from(spec));
    };
    let hf_err = |message: String| LlamaError::HfCache {
        spec: spec.to_string(),
        message,
    };
    let mut parts = rest.splitn(3, '/');
    let (owner, repo, file) = match (parts.next(), parts.next(), parts.next()) {
        (Some(o), Some(r), Some(f)) if !o.is_empty() && !r.is_empty() && !f.is_empty() => (o, r, f),
        _ => return Err(hf_err("expected hf:OWNER/REPO/FILE.gguf".into())),
    };
    let repo_id = format!("{owner}/{repo}");
    cache.model(repo_id.clone()).get(file).ok_or_else(|| {
        hf_err(format!(
            "{file} of {repo_id} is not in the Hugging Face cache at {} (the hub is not contacted); \
             download it elsewhere with `huggingface-cli download {repo_id} {file}` and copy the cache, \
             or pass a local path",
            cache.path().display()
        ))
    })
}

/// Error for a model file that does not exist, with the fetch command when it is the demo model.
pub(crate) fn missing_model(path: &Path) -> LlamaError {
    let hint =
        if path == default_model_path() || path.file_name() == Some(DEFAULT_MODEL_FILE.as_ref()) {
            format!(
            "the demo model is not fetched yet: run `{FETCH_COMMAND}` from the repository root \
             (it writes {}; set ANESBENCH_HOME to change where)",
            default_model_path().display()
        )
        } else {
            "check the path, or pass hf:OWNER/REPO/FILE.gguf for a file in the Hugging Face cache"
                .to_string()
        };
    LlamaError::NotFound {
        path: path.to_path_buf(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill_cache(root: &Path, repo_folder: &str, commit: &str, file: &str) -> PathBuf {
        let repo = root.join(repo_folder);
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), commit).unwrap();
        let snap = repo.join("snapshots").join(commit);
        let target = snap.join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, b"GGUF").unwrap();
        target
    }

    #[test]
    fn local_paths_pass_through() {
        assert_eq!(
            resolve_model("/x/y.gguf").unwrap(),
            PathBuf::from("/x/y.gguf")
        );
    }

    #[test]
    fn hf_spec_resolves_from_a_prefilled_cache() {
        let dir = tempfile::tempdir().unwrap();
        let want = fill_cache(
            dir.path(),
            "models--acme--tiny-GGUF",
            "abc123",
            "sub/tiny-Q4.gguf",
        );
        let cache = hf_hub::Cache::new(dir.path().to_path_buf());
        let got = resolve_model_in("hf:acme/tiny-GGUF/sub/tiny-Q4.gguf", &cache).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn hf_spec_missing_from_cache_names_repo_file_and_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = hf_hub::Cache::new(dir.path().to_path_buf());
        let err = resolve_model_in("hf:acme/tiny-GGUF/tiny.gguf", &cache)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tiny.gguf") && err.contains("acme/tiny-GGUF"),
            "{err}"
        );
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }

    #[test]
    fn malformed_hf_spec_is_rejected() {
        let cache = hf_hub::Cache::new(PathBuf::from("/nonexistent"));
        for spec in ["hf:", "hf:acme", "hf:acme/repo", "hf:acme//f.gguf"] {
            let err = resolve_model_in(spec, &cache).unwrap_err().to_string();
            assert!(err.contains("hf:OWNER/REPO/FILE.gguf"), "{spec}: {err}");
        }
    }

    #[test]
    fn missing_demo_model_error_says_how_to_fetch_it() {
        let err = missing_model(&default_model_path()).to_string();
        assert!(err.contains(FETCH_COMMAND), "{err}");
        let other = missing_model(Path::new("/tmp/other.gguf")).to_string();
        assert!(
            !other.contains(FETCH_COMMAND) && other.contains("/tmp/other.gguf"),
            "{other}"
        );
    }
}
