//! Where models come from: short names of the demo models in the model cache
//! (`gemma3-270m`, `smollm2-135m-instruct`), local paths, and `hf:OWNER/REPO/FILE.gguf`
//! looked up in the Hugging Face cache (never downloaded: the hub is not reachable from
//! where anesbench runs its tests).

use std::path::{Path, PathBuf};

use crate::LlamaError;

/// File name of the default demo model written by `scripts/fetch-demo-model.sh`.
pub const DEFAULT_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";

/// File name of the instruct demo model written by `scripts/fetch-demo-model.sh`.
pub const SMOLLM2_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The command that fetches the demo models, quoted in errors.
pub const FETCH_COMMAND: &str = "bash scripts/fetch-demo-model.sh";

/// A demo model that `--gguf NAME` finds in the model cache by a short name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    /// The short name (`--gguf NAME`).
    pub name: &'static str,
    /// Other accepted spellings.
    pub aliases: &'static [&'static str],
    /// File name under `$ANESBENCH_HOME/models`.
    pub file: &'static str,
    /// One line for error messages and listings.
    pub about: &'static str,
}

/// The demo models `scripts/fetch-demo-model.sh` fetches; the first is the default.
pub const KNOWN_MODELS: &[KnownModel] = &[
    KnownModel {
        name: "gemma3-270m",
        aliases: &["gemma-3-270m"],
        file: DEFAULT_MODEL_FILE,
        about: "google/gemma-3-270m Q4_K_M, 253 MB, base model (the default; loglik)",
    },
    KnownModel {
        name: "smollm2-135m-instruct",
        aliases: &[],
        file: SMOLLM2_MODEL_FILE,
        about: "HuggingFaceTB/SmolLM2-135M-Instruct Q4_1, 98 MB, instruct with a chat template \
                (generate mode); English-first",
    },
];

/// The known model called `name` (its short name or an alias, ASCII case-insensitive).
pub fn known_model(name: &str) -> Option<&'static KnownModel> {
    KNOWN_MODELS.iter().find(|m| {
        m.name.eq_ignore_ascii_case(name) || m.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// `$ANESBENCH_HOME`, default `~/.cache/anesbench`.
pub fn anesbench_home() -> PathBuf {
    std::env::var_os("ANESBENCH_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/anesbench")
        })
}

/// The model cache: `$ANESBENCH_HOME/models`.
pub fn models_dir() -> PathBuf {
    anesbench_home().join("models")
}

/// Where the demo model lives: `$ANESBENCH_HOME/models/gemma-3-270m-q4_k_m.gguf`.
pub fn default_model_path() -> PathBuf {
    models_dir().join(DEFAULT_MODEL_FILE)
}

/// Resolve a model spec: a short name of a demo model in `$ANESBENCH_HOME/models`
/// ([`KNOWN_MODELS`]), `hf:OWNER/REPO/FILE.gguf` through the hf-hub cache at
/// `$HF_HOME/hub` (default `~/.cache/huggingface/hub`), or a local path.
pub fn resolve_model(spec: &str) -> Result<PathBuf, LlamaError> {
    resolve_model_with(spec, &models_dir(), &hf_hub::Cache::from_env())
}

/// [`resolve_model`] against an explicit hf-hub cache (tests use a pre-filled one).
pub fn resolve_model_in(spec: &str, cache: &hf_hub::Cache) -> Result<PathBuf, LlamaError> {
    resolve_model_with(spec, &models_dir(), cache)
}

/// [`resolve_model`] against an explicit model cache and hf-hub cache; reads no
/// environment variable, so tests can run it in parallel.
///
/// In order: `hf:` specs go to the hf-hub cache; a known short name maps to its file in
/// `models` (an error naming [`FETCH_COMMAND`] when that file is missing; a local file
/// of the same name needs `./NAME`); a bare word that is neither a known name nor an
/// existing file (no `/`, no `.gguf` ending) is an error listing the known names;
/// anything else is taken as a local path.
pub fn resolve_model_with(
    spec: &str,
    models: &Path,
    cache: &hf_hub::Cache,
) -> Result<PathBuf, LlamaError> {
    if let Some(rest) = spec.strip_prefix("hf:") {
        return resolve_hf(spec, rest, cache);
    }
    if let Some(known) = known_model(spec) {
        let path = models.join(known.file);
        if !path.is_file() {
            return Err(LlamaError::NotFound {
                hint: fetch_hint(known, models),
                path,
            });
        }
        return Ok(path);
    }
    if looks_like_short_name(spec) && !Path::new(spec).exists() {
        return Err(LlamaError::HfCache {
            spec: spec.to_string(),
            message: format!(
                "no such file, and not a known model name; known names: {}. Fetch them with \
                 `{FETCH_COMMAND}` (into {}), or pass a path to a .gguf file or \
                 hf:OWNER/REPO/FILE.gguf",
                known_names_list(),
                models.display()
            ),
        });
    }
    Ok(PathBuf::from(spec))
}

/// A bare word that could only have been meant as a short name: no path separator, no
/// `.gguf` ending, only letters, digits, `-`, `_`, `.`.
fn looks_like_short_name(spec: &str) -> bool {
    !spec.is_empty()
        && !spec.to_ascii_lowercase().ends_with(".gguf")
        && spec
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `gemma3-270m or gemma-3-270m (...); smollm2-135m-instruct (...)`
fn known_names_list() -> String {
    KNOWN_MODELS
        .iter()
        .map(|m| {
            if m.aliases.is_empty() {
                format!("{} ({})", m.name, m.about)
            } else {
                format!("{} or {} ({})", m.name, m.aliases.join(" or "), m.about)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn fetch_hint(known: &KnownModel, models: &Path) -> String {
    format!(
        "the demo model {} is not fetched yet: run `{FETCH_COMMAND}` from the repository root \
         (it writes {}; set ANESBENCH_HOME to change where)",
        known.name,
        models.join(known.file).display()
    )
}

fn resolve_hf(spec: &str, rest: &str, cache: &hf_hub::Cache) -> Result<PathBuf, LlamaError> {
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

/// Error for a model file that does not exist, with the fetch command when it is one of
/// the demo models.
pub(crate) fn missing_model(path: &Path) -> LlamaError {
    let known = KNOWN_MODELS
        .iter()
        .find(|m| path.file_name() == Some(m.file.as_ref()));
    let hint = match known {
        Some(known) => fetch_hint(known, &models_dir()),
        None => format!(
            "check the path, pass a known model name ({}), or hf:OWNER/REPO/FILE.gguf for a \
             file in the Hugging Face cache",
            KNOWN_MODELS
                .iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
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

    fn no_hf() -> hf_hub::Cache {
        hf_hub::Cache::new(PathBuf::from("/nonexistent-hf-cache"))
    }

    #[test]
    fn short_names_map_to_files_in_the_model_cache() {
        let dir = tempfile::tempdir().unwrap();
        for file in [DEFAULT_MODEL_FILE, SMOLLM2_MODEL_FILE] {
            std::fs::write(dir.path().join(file), b"GGUF").unwrap();
        }
        for (spec, file) in [
            ("gemma3-270m", DEFAULT_MODEL_FILE),
            ("gemma-3-270m", DEFAULT_MODEL_FILE),
            ("Gemma3-270M", DEFAULT_MODEL_FILE),
            ("smollm2-135m-instruct", SMOLLM2_MODEL_FILE),
            ("SmolLM2-135M-Instruct", SMOLLM2_MODEL_FILE),
        ] {
            let got = resolve_model_with(spec, dir.path(), &no_hf()).unwrap();
            assert_eq!(got, dir.path().join(file), "{spec}");
        }
        // The default model is the first known one, under its own short name.
        assert_eq!(KNOWN_MODELS[0].file, DEFAULT_MODEL_FILE);
        assert_eq!(
            known_model("gemma3-270m").unwrap().file,
            default_model_path().file_name().unwrap().to_str().unwrap()
        );
    }

    #[test]
    fn short_name_with_missing_file_says_to_run_the_fetch_script() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_model_with("smollm2-135m-instruct", dir.path(), &no_hf()).unwrap_err();
        assert!(matches!(err, LlamaError::NotFound { .. }), "{err}");
        let msg = err.to_string();
        let want = dir.path().join(SMOLLM2_MODEL_FILE).display().to_string();
        assert!(msg.contains(FETCH_COMMAND) && msg.contains(&want), "{msg}");
    }

    #[test]
    fn unknown_short_name_lists_the_known_names_and_the_fetch_command() {
        let dir = tempfile::tempdir().unwrap();
        for spec in ["smollm2", "qwen2.5-0.5b-instruct", "gemma3_270m"] {
            let msg = resolve_model_with(spec, dir.path(), &no_hf())
                .unwrap_err()
                .to_string();
            assert!(msg.contains(spec), "{msg}");
            for m in KNOWN_MODELS {
                assert!(msg.contains(m.name), "{spec}: {msg}");
            }
            assert!(msg.contains("gemma-3-270m"), "{msg}");
            assert!(msg.contains(FETCH_COMMAND), "{msg}");
            assert!(msg.contains("English-first"), "{msg}");
        }
    }

    #[test]
    fn paths_are_not_taken_for_short_names() {
        let dir = tempfile::tempdir().unwrap();
        for spec in [
            "missing.gguf",
            "MODEL.GGUF",
            "./smollm2",
            "models/x",
            "/abs/gemma3-270m",
        ] {
            assert_eq!(
                resolve_model_with(spec, dir.path(), &no_hf()).unwrap(),
                PathBuf::from(spec),
                "{spec}"
            );
        }
    }

    #[test]
    fn missing_smollm2_file_error_says_how_to_fetch_it() {
        let err =
            missing_model(Path::new("/elsewhere").join(SMOLLM2_MODEL_FILE).as_path()).to_string();
        assert!(
            err.contains(FETCH_COMMAND) && err.contains("smollm2-135m-instruct"),
            "{err}"
        );
        let other = missing_model(Path::new("/tmp/other.gguf")).to_string();
        assert!(other.contains("smollm2-135m-instruct"), "{other}");
    }
}
