//! `hf:OWNER/NAME[@revision]` sources, resolved through `hf-hub` against the standard
//! Hugging Face cache (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`).
//!
//! Core does no network: a dataset must already be in the cache (put there by
//! `huggingface-cli download`, the `datasets` library, or a copy of another machine's
//! cache). When it is not, loading fails at once with a hint, instead of hanging on an
//! unreachable hub; `HF_HUB_OFFLINE` is named in that message because hf-hub does not read it.

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

/// The hub settings that come from the environment.
#[derive(Debug, Clone)]
pub struct HubEnv {
    /// The `hub` cache folder.
    pub cache_dir: PathBuf,
    /// `HF_HUB_OFFLINE` is set to a true value.
    pub offline: bool,
}

impl HubEnv {
    pub fn from_env() -> Result<HubEnv, LoadError> {
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
        let offline = std::env::var("HF_HUB_OFFLINE")
            .map(|v| {
                matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "on"
                )
            })
            .unwrap_or(false);
        Ok(HubEnv { cache_dir, offline })
    }
}

/// The snapshot folder holding `src`'s files in the cache.
pub fn resolve(src: &HfSource, env: &HubEnv) -> Result<PathBuf, LoadError> {
    let repo = Repo::with_revision(src.repo.clone(), RepoType::Dataset, src.revision.clone());
    let repo_dir = env.cache_dir.join(repo.folder_name());
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
            return Ok(dir);
        }
    }
    Err(LoadError::Hub(not_cached(src, env, &repo_dir)))
}

fn not_cached(src: &HfSource, env: &HubEnv, repo_dir: &Path) -> String {
    let state = if repo_dir.is_dir() {
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
    };
    let offline = if env.offline {
        " HF_HUB_OFFLINE is set."
    } else {
        ""
    };
    format!(
        "hf:{repo}@{rev}: {state}.{offline} anesbench reads hf: sources from the local Hugging \
         Face cache only and does not contact the hub.\n\
         hint: pass a local path instead, e.g. `anesbench data stats path/to/anesbench_en.json` \
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
