//! Downloading an `hf:` dataset that is not cached yet (the `hub-download` feature).
//!
//! hf-hub 0.4's blocking client lists the repository and fetches each data file into the
//! standard cache layout (`blobs/`, `snapshots/<commit>/`, `refs/<revision>`), so a second
//! load is a plain cache hit. Its ureq agent has no connect timeout and `ApiBuilder` does
//! not expose one, so an unreachable hub would hang for the operating system's TCP timeout
//! (minutes): a TCP connect probe to the endpoint (or the proxy ureq would use) with a short
//! timeout runs first and turns that into an immediate error with the local-path hint. The
//! listing request then carries a whole-request timeout; the file downloads themselves
//! cannot (hf-hub builds those requests internally), so a hub that stalls mid-file after
//! answering the listing is not bounded.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::api::RepoInfo;
use hf_hub::{Cache, Repo, RepoType};

use super::{cache_state, local_path_hint, repo_dir, HfSource, HubEnv};
use crate::load::error::LoadError;
use crate::load::source::format_of;

/// How long name resolution plus the connect probe may take before the hub counts as
/// unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the repository listing may take in all.
const LIST_TIMEOUT: Duration = Duration::from_secs(10);

/// Download `src`'s data files (JSON, JSONL, Parquet; not README or .gitattributes) into
/// the cache and return the snapshot folder holding them.
pub(super) fn download(src: &HfSource, env: &HubEnv) -> Result<PathBuf, LoadError> {
    let fail = |what: String| LoadError::Hub(scrub(&what, env));
    let target = probe_target(&env.endpoint).map_err(|e| fail(unreachable(src, env, &e)))?;
    probe(&target, PROBE_TIMEOUT).map_err(|e| fail(unreachable(src, env, &e)))?;

    let api = ApiBuilder::from_cache(Cache::new(env.cache_dir.clone()))
        .with_endpoint(env.endpoint.clone())
        .with_token(env.token.clone())
        .with_progress(false)
        .with_retries(0)
        .build()
        .map_err(|e| fail(api_failure(src, env, "cannot start the hub client", &e)))?;
    let repo = api.repo(Repo::with_revision(
        src.repo.clone(),
        RepoType::Dataset,
        src.revision.clone(),
    ));
    // The listing goes through hf-hub's own request (its agent, headers and token) with a
    // whole-request timeout added, so a hub that accepts connections but never answers
    // (a stalled proxy) fails here instead of hanging.
    let info: RepoInfo = repo
        .info_request()
        .timeout(LIST_TIMEOUT)
        .call()
        .map_err(|e| ApiError::RequestError(Box::new(e)))
        .and_then(|r| r.into_json().map_err(ApiError::IoError))
        .map_err(|e| fail(api_failure(src, env, "cannot list the dataset", &e)))?;
    let files: Vec<String> = info
        .siblings
        .iter()
        .map(|s| s.rfilename.clone())
        .filter(|f| is_data_file(f))
        .collect();
    if files.is_empty() {
        let listed: Vec<&str> = info.siblings.iter().map(|s| s.rfilename.as_str()).collect();
        return Err(fail(format!(
            "hf:{}@{}: the dataset has no .json, .jsonl or .parquet files (it lists: {})",
            src.repo,
            src.revision,
            listed.join(", ")
        )));
    }

    let snapshot = repo_dir(src, env).join("snapshots").join(&info.sha);
    let ref_path = repo_dir(src, env).join("refs").join(&src.revision);
    let ref_existed = ref_path.exists();
    for (i, f) in files.iter().enumerate() {
        eprintln!(
            "hf:{}@{}: downloading {f} ({} of {}) into {}",
            src.repo,
            src.revision,
            i + 1,
            files.len(),
            env.cache_dir.display()
        );
        let got = repo
            .download(f)
            .map_err(|e| api_failure(src, env, &format!("cannot download {f}"), &e));
        let got = got.and_then(|p| {
            if p.starts_with(&snapshot) {
                Ok(p)
            } else {
                Err(format!(
                    "hf:{}@{}: revision moved to another commit during the download \
                     (listed {}, {f} came from {}); retry, or pin a commit with hf:{}@COMMIT",
                    src.repo,
                    src.revision,
                    info.sha,
                    p.display(),
                    src.repo
                ))
            }
        });
        if let Err(e) = got {
            // hf-hub writes the ref after each file; a ref left behind by a partial download
            // would make the next load take the incomplete snapshot for a cached dataset.
            if !ref_existed {
                let _ = std::fs::remove_file(&ref_path);
            }
            return Err(fail(e));
        }
    }
    Ok(snapshot)
}

/// A data file the loader reads, not hidden and not under a hidden folder.
fn is_data_file(rfilename: &str) -> bool {
    format_of(Path::new(rfilename)).is_some()
        && !rfilename.split('/').any(|part| part.starts_with('.'))
}

/// `host:port` to probe: the proxy ureq will take from the environment (same variables,
/// same order), else the endpoint itself.
fn probe_target(endpoint: &str) -> Result<String, String> {
    const PROXY_VARS: [&str; 6] = [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ];
    let proxy = PROXY_VARS
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty());
    let url = proxy.as_deref().unwrap_or(endpoint).trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None if proxy.is_some() => ("http".to_string(), url),
        None => return Err(format!("HF_ENDPOINT `{url}` is not an http(s) URL")),
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if host_port.is_empty() {
        return Err(format!("no host in `{url}`"));
    }
    let has_port = match host_port.rfind(':') {
        Some(i) => !host_port[i..].contains(']'),
        None => false,
    };
    if has_port {
        return Ok(host_port.to_string());
    }
    let port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        s if s.starts_with("socks") => 1080,
        s => return Err(format!("unsupported scheme `{s}` in `{url}`")),
    };
    Ok(format!("{host_port}:{port}"))
}

/// Resolve and connect within `timeout`. Name resolution has no timeout of its own in std,
/// so it runs on a helper thread that is abandoned when it overruns.
fn probe(target: &str, timeout: Duration) -> Result<(), String> {
    let start = std::time::Instant::now();
    let (tx, rx) = mpsc::channel();
    let name = target.to_string();
    std::thread::spawn(move || {
        let _ = tx.send(
            name.to_socket_addrs()
                .map(|a| a.collect::<Vec<SocketAddr>>()),
        );
    });
    let addrs = match rx.recv_timeout(timeout) {
        Ok(Ok(a)) if !a.is_empty() => a,
        Ok(Ok(_)) => return Err(format!("{target} resolves to no address")),
        Ok(Err(e)) => return Err(format!("cannot resolve {target}: {e}")),
        Err(_) => return Err(format!("resolving {target} took over {timeout:?}")),
    };
    let mut last = String::new();
    for a in addrs {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&a, left) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                last = format!("no answer from {a} within {timeout:?}")
            }
            Err(e) => last = format!("cannot connect to {a}: {e}"),
        }
    }
    Err(if last.is_empty() {
        format!("no answer from {target} within {timeout:?}")
    } else {
        last
    })
}

fn unreachable(src: &HfSource, env: &HubEnv, why: &str) -> String {
    format!(
        "hf:{}@{}: {}, and the hub at {} cannot be reached ({why}).\n{}",
        src.repo,
        src.revision,
        cache_state(src, env),
        env.endpoint,
        local_path_hint(src)
    )
}

fn api_failure(src: &HfSource, env: &HubEnv, what: &str, e: &ApiError) -> String {
    let status = match e {
        ApiError::RequestError(b) => match b.as_ref() {
            ureq::Error::Status(code, _) => Some(*code),
            ureq::Error::Transport(_) => None,
        },
        _ => None,
    };
    let advice = match status {
        Some(401) | Some(403) if env.token.is_none() => {
            "the dataset is gated or private: accept its terms on the hub and set HF_TOKEN"
        }
        Some(401) | Some(403) => "HF_TOKEN was refused: check it has access to this dataset",
        Some(404) => "no such dataset or revision on this hub (check OWNER/NAME and @REVISION)",
        _ => "the hub did not serve it",
    };
    format!(
        "hf:{}@{}: {what} from {}: {e}; {advice}.\n{}",
        src.repo,
        src.revision,
        env.endpoint,
        local_path_hint(src)
    )
}

/// Errors quote URLs and server replies; keep the token out even if a server echoes it.
fn scrub(msg: &str, env: &HubEnv) -> String {
    match env.token.as_deref() {
        Some(t) if !t.is_empty() => msg.replace(t, "<HF_TOKEN>"),
        _ => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_are_json_jsonl_parquet_not_hidden() {
        for yes in ["anesbench_en.json", "data/train.parquet", "x.jsonl"] {
            assert!(is_data_file(yes), "{yes}");
        }
        for no in ["README.md", ".gitattributes", ".cache/a.json", "img.png"] {
            assert!(!is_data_file(no), "{no}");
        }
    }

    #[test]
    fn probe_target_takes_port_from_url_or_scheme() {
        // Only valid while no proxy variable is set in the test environment.
        if [
            "ALL_PROXY",
            "HTTPS_PROXY",
            "HTTP_PROXY",
            "all_proxy",
            "https_proxy",
            "http_proxy",
        ]
        .iter()
        .any(|k| std::env::var_os(k).is_some())
        {
            return;
        }
        assert_eq!(
            probe_target("https://huggingface.co").unwrap(),
            "huggingface.co:443"
        );
        assert_eq!(
            probe_target("http://127.0.0.1:8080/x").unwrap(),
            "127.0.0.1:8080"
        );
        assert_eq!(probe_target("http://u:p@[::1]").unwrap(), "[::1]:80");
        assert!(probe_target("huggingface.co").is_err());
    }
}
