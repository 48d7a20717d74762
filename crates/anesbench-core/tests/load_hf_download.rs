//! `hf:` sources downloaded through hf-hub (the `hub-download` feature) from a local fake
//! hub: a real HTTP server on 127.0.0.1 answering the two calls hf-hub makes (repository
//! info, then ranged file fetches), so the real client code and cache layout are exercised.

mod load_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anesbench_core::item::Lang;
use anesbench_core::load::hf::{cached, resolve, HfSource, HubEnv};
use anesbench_core::load::{load, LoadError, LoadOptions};
use load_support::*;

const COMMIT: &str = "89abcdef0123456789abcdef0123456789abcdef";
const TOKEN: &str = "hf_fakeSecretToken123";

/// One request as the server saw it: path and lower-cased headers.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: BTreeMap<String, String>,
}

struct FakeHub {
    addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeHub {
    /// Serves `files` of dataset `repo` at revision `main` (commit [`COMMIT`]); other repos
    /// are 404, and `MiliLab/Gated` answers 401 unless the request bears [`TOKEN`].
    /// `fail_file` answers 500, to cut a download in the middle.
    fn start(repo: &str, files: Vec<(String, Vec<u8>)>, fail_file: Option<&str>) -> FakeHub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let repo = repo.to_string();
        let fail_file = fail_file.map(str::to_string);
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    serve(conn, &repo, &files, fail_file.as_deref(), &seen2);
                }
            }
        });
        FakeHub {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Close the listening socket: later connections are refused.
    fn shut(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        self.shut();
    }
}

fn serve(
    mut conn: TcpStream,
    repo: &str,
    files: &[(String, Vec<u8>)],
    fail_file: Option<&str>,
    seen: &Mutex<Vec<Seen>>,
) {
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return; // the stop poke
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    seen.lock().unwrap().push(Seen {
        path: path.clone(),
        headers: headers.clone(),
    });
    let authorized = headers.get("authorization").map(String::as_str)
        == Some(format!("Bearer {TOKEN}").as_str());
    let info_path = format!("/api/datasets/{repo}/revision/main");
    let resolve_prefix = format!("/datasets/{repo}/resolve/main/");
    let (status, extra, body): (&str, Vec<String>, Vec<u8>) =
        if repo == "MiliLab/Gated" && !authorized {
            // Echo the header back, as a careless server might: the client must not repeat it.
            let echoed = headers.get("authorization").cloned().unwrap_or_default();
            (
                "401 Unauthorized",
                vec![],
                format!("{{\"error\":\"bad credentials {echoed}\"}}").into_bytes(),
            )
        } else if path == info_path {
            let siblings: Vec<serde_json::Value> = [".gitattributes", "README.md"]
                .iter()
                .map(|f| f.to_string())
                .chain(files.iter().map(|(f, _)| f.clone()))
                .map(|f| serde_json::json!({ "rfilename": f }))
                .collect();
            let body = serde_json::json!({ "sha": COMMIT, "siblings": siblings });
            ("200 OK", vec![], body.to_string().into_bytes())
        } else if let Some((name, data)) = path
            .strip_prefix(&resolve_prefix)
            .and_then(|f| files.iter().find(|(n, _)| n == f))
        {
            if Some(name.as_str()) == fail_file {
                ("500 Internal Server Error", vec![], b"boom".to_vec())
            } else {
                let (start, end) = range(headers.get("range"), data.len());
                let extra = vec![
                    format!("ETag: \"blob-{name}-{}\"", data.len()),
                    format!("X-Repo-Commit: {COMMIT}"),
                    format!("Content-Range: bytes {start}-{end}/{}", data.len()),
                ];
                ("206 Partial Content", extra, data[start..=end].to_vec())
            }
        } else {
            (
                "404 Not Found",
                vec![],
                b"{\"error\":\"not found\"}".to_vec(),
            )
        };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for h in extra {
        head.push_str(&h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
}

/// `bytes=a-b` or `bytes=a-` within a file of `len` bytes; the whole file without one.
fn range(h: Option<&String>, len: usize) -> (usize, usize) {
    let spec = h.and_then(|h| h.strip_prefix("bytes="));
    let Some((a, b)) = spec.and_then(|s| s.split_once('-')) else {
        return (0, len - 1);
    };
    let start: usize = a.parse().unwrap_or(0);
    let end: usize = b.parse().map_or(len - 1, |e: usize| e.min(len - 1));
    (start, end)
}

/// The HF release's two files built from the dataset card's examples: 4 English items
/// (levels 1, 1, 2, 3) and 2 Chinese ones (levels 1, 3).
fn release_files() -> Vec<(String, Vec<u8>)> {
    let en = variants("hf_release_en_example", "category", &[1, 1, 2, 3]);
    let zh = variants("hf_release_zh_example", "category", &[1, 3]);
    vec![
        ("anesbench_en.json".into(), serde_json::to_vec(&en).unwrap()),
        ("anesbench_zh.json".into(), serde_json::to_vec(&zh).unwrap()),
    ]
}

fn hub_env(cache: &Path, endpoint: &str, token: Option<&str>, offline: bool) -> HubEnv {
    HubEnv {
        cache_dir: cache.to_path_buf(),
        offline,
        endpoint: endpoint.to_string(),
        token: token.map(str::to_string),
    }
}

fn counts(dir: &Path) -> (usize, usize) {
    let ds = load(dir.to_str().unwrap(), &LoadOptions::default()).unwrap();
    let n = |l| ds.items.iter().filter(|i| i.lang == l).count();
    (n(Lang::En), n(Lang::Zh))
}

fn closed_port_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

#[test]
fn downloads_into_the_cache_then_loads_offline_from_it() {
    let mut hub = FakeHub::start("MiliLab/AnesBench", release_files(), None);
    let cache = tempfile::tempdir().unwrap();
    let src = HfSource::parse("hf:MiliLab/AnesBench").unwrap().unwrap();
    let env = hub_env(cache.path(), &hub.addr, Some(TOKEN), false);

    let snap = resolve(&src, &env).unwrap();
    assert!(snap.ends_with(format!("datasets--MiliLab--AnesBench/snapshots/{COMMIT}")));
    assert_eq!(counts(&snap), (4, 2));
    // Standard layout: refs/main names the commit, snapshot entries link into blobs/.
    let repo_dir = cache.path().join("datasets--MiliLab--AnesBench");
    assert_eq!(
        std::fs::read_to_string(repo_dir.join("refs/main")).unwrap(),
        COMMIT
    );
    let link = std::fs::read_link(snap.join("anesbench_en.json")).unwrap();
    assert!(
        link.to_string_lossy().contains("blobs"),
        "{}",
        link.display()
    );

    let seen = hub.seen();
    assert_eq!(
        seen[0].path,
        "/api/datasets/MiliLab/AnesBench/revision/main"
    );
    assert!(seen
        .iter()
        .all(|s| !s.path.contains("README") && !s.path.contains(".git")));
    assert!(seen
        .iter()
        .any(|s| s.path.ends_with("/resolve/main/anesbench_zh.json")));
    for s in &seen {
        assert_eq!(
            s.headers.get("authorization").map(String::as_str),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{}",
            s.path
        );
    }

    // Server gone, not offline: the cache answers and nothing is contacted.
    let before = hub.seen().len();
    hub.shut();
    let t = Instant::now();
    let again = resolve(&src, &env).unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    assert_eq!(again, snap);
    assert_eq!(counts(&again), (4, 2));
    assert_eq!(hub.seen().len(), before);
    assert!(cached(&src, &env).is_some());
}

#[test]
fn unreachable_endpoint_with_empty_cache_fails_fast_with_a_local_path_hint() {
    let cache = tempfile::tempdir().unwrap();
    let endpoint = closed_port_endpoint();
    let src = HfSource::parse("hf:MiliLab/AnesBench@v1").unwrap().unwrap();
    let t = Instant::now();
    let err = resolve(&src, &hub_env(cache.path(), &endpoint, Some(TOKEN), false)).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(matches!(err, LoadError::Hub(_)));
    let msg = err.to_string();
    assert!(msg.contains("pass a local path"), "{msg}");
    assert!(
        msg.contains(&endpoint) && msg.contains("cannot be reached"),
        "{msg}"
    );
    assert!(msg.contains("--revision v1"), "{msg}");
    assert!(!msg.contains(TOKEN), "{msg}");
}

#[test]
fn offline_never_contacts_the_hub() {
    let hub = FakeHub::start("MiliLab/AnesBench", release_files(), None);
    let cache = tempfile::tempdir().unwrap();
    let src = HfSource::parse("hf:MiliLab/AnesBench").unwrap().unwrap();
    let err = resolve(&src, &hub_env(cache.path(), &hub.addr, None, true))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HF_HUB_OFFLINE is set") && err.contains("pass a local path"),
        "{err}"
    );
    assert!(hub.seen().is_empty(), "{:?}", hub.seen());
}

#[test]
fn refused_token_is_never_repeated_and_missing_token_is_hinted() {
    let hub = FakeHub::start("MiliLab/Gated", release_files(), None);
    let cache = tempfile::tempdir().unwrap();
    let src = HfSource::parse("hf:MiliLab/Gated").unwrap().unwrap();
    let wrong = "hf_wrongSecretValue999";
    let err = resolve(&src, &hub_env(cache.path(), &hub.addr, Some(wrong), false))
        .unwrap_err()
        .to_string();
    assert!(err.contains("HF_TOKEN was refused"), "{err}");
    assert!(!err.contains(wrong), "{err}");
    let err = resolve(&src, &hub_env(cache.path(), &hub.addr, None, false))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("gated or private") && err.contains("set HF_TOKEN"),
        "{err}"
    );
    let dbg = format!("{:?}", hub_env(cache.path(), &hub.addr, Some(wrong), false));
    assert!(!dbg.contains(wrong) && dbg.contains("redacted"), "{dbg}");
    // With the right token it downloads.
    let snap = resolve(&src, &hub_env(cache.path(), &hub.addr, Some(TOKEN), false)).unwrap();
    assert_eq!(counts(&snap), (4, 2));
}

#[test]
fn unknown_dataset_says_so() {
    let hub = FakeHub::start("MiliLab/AnesBench", release_files(), None);
    let cache = tempfile::tempdir().unwrap();
    let src = HfSource::parse("hf:MiliLab/Nope").unwrap().unwrap();
    let err = resolve(&src, &hub_env(cache.path(), &hub.addr, None, false))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no such dataset or revision"), "{err}");
    assert!(err.contains("pass a local path"), "{err}");
}

#[test]
fn a_download_cut_midway_leaves_no_ref_behind() {
    let cache = tempfile::tempdir().unwrap();
    let src = HfSource::parse("hf:MiliLab/AnesBench").unwrap().unwrap();
    {
        let hub = FakeHub::start(
            "MiliLab/AnesBench",
            release_files(),
            Some("anesbench_zh.json"),
        );
        let err = resolve(&src, &hub_env(cache.path(), &hub.addr, None, false)).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot download anesbench_zh.json"),
            "{err}"
        );
    }
    let env = hub_env(cache.path(), &closed_port_endpoint(), None, false);
    assert!(
        cached(&src, &env).is_none(),
        "a half snapshot must not count as cached"
    );
    let hub = FakeHub::start("MiliLab/AnesBench", release_files(), None);
    let snap = resolve(&src, &hub_env(cache.path(), &hub.addr, None, false)).unwrap();
    assert_eq!(counts(&snap), (4, 2));
}

/// The only test in this binary that touches process environment: `load("hf:...")`
/// takes HF_HOME, HF_ENDPOINT and HF_TOKEN from it.
#[test]
fn load_reads_hf_home_endpoint_and_token_from_the_environment() {
    let hub = FakeHub::start("MiliLab/AnesBench", release_files(), None);
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HF_HOME", home.path());
    std::env::remove_var("HF_HUB_CACHE");
    std::env::remove_var("HF_HUB_OFFLINE");
    std::env::set_var("HF_ENDPOINT", format!("{}/", hub.addr));
    std::env::set_var("HF_TOKEN", TOKEN);
    let ds = load("hf:MiliLab/AnesBench", &LoadOptions::default()).unwrap();
    assert_eq!(ds.items.len(), 6);
    assert!(home
        .path()
        .join("hub/datasets--MiliLab--AnesBench/snapshots")
        .join(COMMIT)
        .is_dir());
    assert!(hub
        .seen()
        .iter()
        .all(|s| s.headers.get("authorization") == Some(&format!("Bearer {TOKEN}"))));
}

/// A hub that accepts connections but never answers passes the connect probe; the listing's
/// own timeout must still end the wait.
#[test]
fn a_stalled_hub_times_out_on_the_listing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let held = std::thread::spawn(move || {
        // Keep the accepted connections open and silent until the client gives up.
        let conns: Vec<TcpStream> = listener.incoming().take(2).filter_map(Result::ok).collect();
        std::thread::sleep(Duration::from_secs(12));
        drop(conns);
    });
    let cache = tempfile::tempdir().unwrap();
    let src = HfSource::parse("hf:MiliLab/AnesBench").unwrap().unwrap();
    let t = Instant::now();
    let err = resolve(&src, &hub_env(cache.path(), &endpoint, None, false))
        .unwrap_err()
        .to_string();
    let took = t.elapsed();
    assert!(took < Duration::from_secs(11), "{took:?}");
    assert!(
        err.contains("cannot list the dataset") && err.contains("pass a local path"),
        "{err}"
    );
    drop(held);
}
