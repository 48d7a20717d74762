//! `hf:` sources resolve in a pre-filled cache laid out like the real Hugging Face cache,
//! and fail at once with a hint when nothing is cached.

mod load_support;

use std::path::Path;
use std::time::{Duration, Instant};

use anesbench_core::item::Lang;
use anesbench_core::load::hf::{resolve, HfSource, HubEnv};
use anesbench_core::load::{load, LoadError, LoadOptions};
use load_support::*;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// `hub/datasets--MiliLab--AnesBench/{blobs,refs/main,snapshots/<commit>/...}`, snapshot
/// entries being symlinks into blobs/ as huggingface_hub writes them.
fn fill_cache(hub: &Path) {
    let repo = hub.join("datasets--MiliLab--AnesBench");
    let snap = repo.join("snapshots").join(COMMIT);
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::write(repo.join("refs/main"), COMMIT).unwrap();
    std::fs::write(repo.join("refs/v1"), COMMIT).unwrap();
    let en = repo.join("blobs/aaa1");
    write_json(
        &en,
        &variants("hf_release_en_example", "category", &[1, 1, 2, 3]),
    );
    let zh = repo.join("blobs/bbb2");
    write_json(&zh, &variants("hf_release_zh_example", "category", &[1, 3]));
    std::os::unix::fs::symlink(&en, snap.join("anesbench_en.json")).unwrap();
    std::os::unix::fs::symlink(&zh, snap.join("anesbench_zh.json")).unwrap();
    std::fs::write(snap.join("README.md"), "---\nconfigs: []\n---\n").unwrap();
}

/// The endpoint is a closed local port: with the `hub-download` feature unified in (a
/// workspace build), a cache miss then fails fast instead of reaching out.
fn env(hub: &Path, offline: bool) -> HubEnv {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    HubEnv {
        cache_dir: hub.to_path_buf(),
        offline,
        endpoint,
        token: None,
    }
}

#[test]
fn resolves_main_tag_and_commit_to_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    fill_cache(dir.path());
    for spec in [
        "hf:MiliLab/AnesBench",
        "hf:MiliLab/AnesBench@v1",
        &format!("hf:MiliLab/AnesBench@{COMMIT}"),
    ] {
        let src = HfSource::parse(spec).unwrap().unwrap();
        let snap = resolve(&src, &env(dir.path(), true)).unwrap();
        assert!(
            snap.ends_with(format!("snapshots/{COMMIT}")),
            "{spec}: {}",
            snap.display()
        );
    }
}

#[test]
fn missing_revision_lists_cached_refs() {
    let dir = tempfile::tempdir().unwrap();
    fill_cache(dir.path());
    let src = HfSource::parse("hf:MiliLab/AnesBench@v2").unwrap().unwrap();
    let err = resolve(&src, &env(dir.path(), false))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`v2`") && err.contains("main, v1"), "{err}");
}

#[test]
fn nothing_cached_fails_at_once_with_a_local_path_hint() {
    let dir = tempfile::tempdir().unwrap();
    let src = HfSource::parse("hf:MiliLab/AnesBench").unwrap().unwrap();
    for offline in [false, true] {
        let t = Instant::now();
        let err = resolve(&src, &env(dir.path(), offline)).unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(1));
        assert!(matches!(err, LoadError::Hub(_)));
        let msg = err.to_string();
        assert!(msg.contains("pass a local path"), "{msg}");
        assert!(msg.contains("datasets--MiliLab--AnesBench"), "{msg}");
        assert_eq!(msg.contains("HF_HUB_OFFLINE"), offline, "{msg}");
    }
}

/// The only test here that touches process environment: it runs the whole `load` path
/// through HF_HOME, so it stays alone in this binary's env-reading tests.
#[test]
fn load_reads_hf_home_and_counts_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    fill_cache(&dir.path().join("hub"));
    std::env::set_var("HF_HOME", dir.path());
    std::env::remove_var("HF_HUB_CACHE");
    std::env::set_var("HF_HUB_OFFLINE", "1");
    let ds = load("hf:MiliLab/AnesBench", &LoadOptions::default()).unwrap();
    assert_eq!(ds.files.len(), 2);
    assert_eq!(ds.items.iter().filter(|i| i.lang == Lang::En).count(), 4);
    assert_eq!(ds.items.iter().filter(|i| i.lang == Lang::Zh).count(), 2);
    assert_eq!(ds.source, "hf:MiliLab/AnesBench");
    let err = load("hf:MiliLab/Other", &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("HF_HUB_OFFLINE is set"), "{err}");
}
