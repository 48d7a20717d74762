//! `hf:OWNER/NAME[@revision]` sources, resolved through `hf-hub` against the standard
//! Hugging Face cache (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`).
//!
//! The cache is always looked up first, so a cached dataset (or `HF_HUB_OFFLINE=1`) never
//! touches the network. What happens on a miss depends on the `hub-download` feature:
//! without it core compiles no network code and fails at once with a hint; with it the
//! dataset's data files are downloaded into that same cache (`hf/download.rs`), from
//! `HF_ENDPOINT` with `HF_TOKEN`, failing fast when the hub cannot be reached.

#[cfg(feature = "hub-download")]
mod download;

use std::path::{Path, PathBuf};

use hf_hub::{Cache, Repo, RepoType};

use super::error::LoadError;

/// A parsed `hf:` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfSource {
    /// `OWNER/NAME`.
    pub repo: String,
    /// Branch, tag or commit; `main` when not given.
    pub revision: String,
}

impl HfSource {
    /// Parse `hf:OWNER/NAME[@revision]`; `None` when `s` is not an `hf:` source.
    pub fn parse(s: &str) -> Option<Result<HfSource, LoadError>> {
        let rest = s.strip_prefix("hf:")?;
        let (repo, revision) = match rest.split_once('@') {
            Some((r, rev)) => (r, rev),
            None => (rest, "main"),
        };
        let ok_part = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && p != "."
                && p != ".."
        };
        let valid = matches!(repo.split_once('/'), Some((o, n)) if ok_part(o) && ok_part(n))
            && !revision.is_empty()
            && !revision.contains("..");
        Some(if valid {
            Ok(HfSource {
                repo: repo.to_string(),
                revision: revision.to_string(),
            })
        } else {
            Err(LoadError::NotFound {
                spec: s.to_string(),
                hint: "expected hf:OWNER/NAME or hf:OWNER/NAME@REVISION, e.g. hf:MiliLab/AnesBench"
                    .into(),
            })
        })
    }
}

/// The hub's public address, used when `HF_ENDPOINT` is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// The hub settings that come from the environment ([`HubEnv::from_env`]); tests build
/// one directly instead of changing process-wide variables.
#[derive(Clone)]
pub struct HubEnv {
    /// The `hub` cache folder.
    pub cache_dir: PathBuf,
    /// `HF_HUB_OFFLINE` is set to a true value: the network is never touched.
    pub offline: bool,
    /// `HF_ENDPOINT`, without a trailing slash.
    pub endpoint: String,
    /// `HF_TOKEN`, else the token file `huggingface-cli login` writes. Never printed.
    pub token: Option<String>,
}

// By hand so that the token cannot reach a log through `{:?}`.
impl std::fmt::Debug for HubEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubEnv")
            .field("cache_dir", &self.cache_dir)
            .field("offline", &self.offline)
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl HubEnv {
    /// A cache folder with the public hub, online, no token.
    pub fn new(cache_dir: PathBuf) -> HubEnv {
        HubEnv {
            cache_dir,
            offline: false,
            endpoint: DEFAULT_ENDPOINT.to_string(),
            token: None,
        }
    }

    pub fn from_env() -> Result<HubEnv, LoadError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let cache_dir = match std::env::var_os("HF_HUB_CACHE").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir),
            None if std::env::var_os("HF_HOME").is_some() || std::env::var_os("HOME").is_some() => {
                Cache::from_env().path().clone()
            }
            None => {
                return Err(LoadError::Hub(
                    "cannot find the Hugging Face cache: set HF_HOME (or HOME)".into(),
                ))
            }
        };
        let offline = var("HF_HUB_OFFLINE")
            .map(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )
            })
            .unwrap_or(false);
        let endpoint = var("HF_ENDPOINT")
            .map(|e| e.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string());
        // The token file lives in HF_HOME (not next to HF_HUB_CACHE), as huggingface_hub puts it.
        let token = var("HF_TOKEN").map(|t| t.trim().to_string()).or_else(|| {
            Cache::from_env()
                .path()
                .parent()
                .map(|home| home.join("token"))
                .and_then(|p| std::fs::read_to_string(p).ok())
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
        });
        Ok(HubEnv {
            cache_dir,
            offline,
            endpoint,
            token,
        })
    }
}

/// The snapshot folder holding `src`'s files: from the cache, else (with the
/// `hub-download` feature, and not offline) downloaded into it.
pub fn resolve(src: &HfSource, env: &HubEnv) -> Result<PathBuf, LoadError> {
    if let Some(dir) = cached(src, env) {
        return Ok(dir);
    }
    if env.offline {
        return Err(LoadError::Hub(not_cached(src, env)));
    }
    #[cfg(feature = "hub-download")]
    {
        download::download(src, env)
    }
    #[cfg(not(feature = "hub-download"))]
    {
        Err(LoadError::Hub(not_cached(src, env)))
    }
}

/// The cache folder of `src`'s repository (`datasets--OWNER--NAME`).
pub fn repo_dir(src: &HfSource, env: &HubEnv) -> PathBuf {
    let repo = Repo::with_revision(src.repo.clone(), RepoType::Dataset, src.revision.clone());
    env.cache_dir.join(repo.folder_name())
}

/// The snapshot folder holding `src`'s files when the cache has the revision; no network.
pub fn cached(src: &HfSource, env: &HubEnv) -> Option<PathBuf> {
    let repo_dir = repo_dir(src, env);
    let snapshots = repo_dir.join("snapshots");
    let is_commit = src.revision.len() == 40 && src.revision.chars().all(|c| c.is_ascii_hexdigit());
    let commit = if is_commit {
        Some(src.revision.clone())
    } else {
        std::fs::read_to_string(repo_dir.join("refs").join(&src.revision))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    if let Some(commit) = commit {
        let dir = snapshots.join(&commit);
        if dir.is_dir() {
            return Some(dir);
        }
    }
    None
}

/// Why the cache cannot serve `src`, and what to do instead.
pub(super) fn not_cached(src: &HfSource, env: &HubEnv) -> String {
    let why = if env.offline {
        " HF_HUB_OFFLINE is set, so the hub is not contacted."
    } else if cfg!(feature = "hub-download") {
        ""
    } else {
        " This build of anesbench reads hf: sources from the local Hugging Face cache only \
          (built without the `hub-download` feature)."
    };
    format!(
        "hf:{repo}@{rev}: {state}.{why}\n{hint}",
        repo = src.repo,
        rev = src.revision,
        state = cache_state(src, env),
        hint = local_path_hint(src),
    )
}

/// What the cache holds of `src`'s repository, for error messages.
pub(super) fn cache_state(src: &HfSource, env: &HubEnv) -> String {
    let repo_dir = &repo_dir(src, env);
    if repo_dir.is_dir() {
        let refs = list(&repo_dir.join("refs"));
        format!(
            "the cache has {} but not revision `{}` (cached refs: {})",
            repo_dir.display(),
            src.revision,
            if refs.is_empty() {
                "none".to_string()
            } else {
                refs.join(", ")
            }
        )
    } else {
        format!("nothing is cached at {}", repo_dir.display())
    }
}

/// The way out when the hub cannot serve a source.
pub(super) fn local_path_hint(src: &HfSource) -> String {
    format!(
        "hint: pass a local path instead, e.g. `anesbench data stats path/to/anesbench_en.json` \
         or a folder of JSON/JSONL/Parquet files; or fill the cache where the hub is reachable \
         with `huggingface-cli download --repo-type dataset {repo} --revision {rev}` (HF_TOKEN for \
         gated repos) and point HF_HOME at it",
        repo = src.repo,
        rev = src.revision,
    )
}

fn list(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repo_and_revision() {
        let s = HfSource::parse("hf:MiliLab/AnesBench@v1.0")
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.repo.as_str(), s.revision.as_str()),
            ("MiliLab/AnesBench", "v1.0")
        );
        let s = HfSource::parse("hf:MiliLab/AnesBench").unwrap().unwrap();
        assert_eq!(s.revision, "main");
        assert!(HfSource::parse("data.json").is_none());
        for bad in [
            "hf:AnesBench",
            "hf:a/b/c",
            "hf:../x",
            "hf:a/b@",
            "hf:a/..",
            "hf:a/b@../../etc",
        ] {
            assert!(HfSource::parse(bad).unwrap().is_err(), "{bad}");
        }
    }
}
