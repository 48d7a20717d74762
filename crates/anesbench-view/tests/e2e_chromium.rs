//! End to end in headless Chromium (Debian package `chromium`): open a run, apply a
//! filter (through the URL the filter form submits), open a sample through its link, and
//! take a screenshot; and the live view, a sample appended to a running run appearing on
//! the open page without a reload. Skipped with a notice when `chromium` is not installed, except under
//! `CI=true`, where a missing browser fails the test.
//!
//! Set `ANESBENCH_VIEW_SCREENSHOT=/path/shot.png` to keep the screenshot.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|b| {
            std::env::var_os("PATH").and_then(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join(b))
                    .find(|c| c.is_file())
            })
        })
}

/// Run headless Chromium with the flags the CI uses; returns stdout.
fn run_chromium(bin: &Path, profile: &Path, extra: &[String], url: &str) -> String {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("start chromium");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s for {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_a_run_filter_open_a_sample_and_take_a_screenshot() {
    let Some(bin) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but `chromium` is not installed (apt-get install -y chromium)");
        }
        eprintln!("NOTICE: skipping the Chromium end-to-end test: `chromium` is not installed (apt-get install -y chromium)");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "a");
    let profile = d.path().join("profile");
    let base = format!("http://{addr}");
    // 1. Open the run.
    let dom = {
        let (b, p, u) = (bin.clone(), profile.clone(), format!("{base}/run/{id}"));
        tokio::task::spawn_blocking(move || run_chromium(&b, &p, &["--dump-dom".into()], &u))
            .await
            .unwrap()
    };
    assert!(dom.contains("7 of 7 samples."), "run page DOM:\n{dom}");
    assert!(dom.contains("System 1.x"));
    // 2. Apply a filter: the GET form puts its state in the URL.
    let dom = {
        let (b, p, u) = (
            bin.clone(),
            profile.clone(),
            format!("{base}/run/{id}?lang=en&outcome=wrong"),
        );
        tokio::task::spawn_blocking(move || run_chromium(&b, &p, &["--dump-dom".into()], &u))
            .await
            .unwrap()
    };
    assert!(
        dom.contains("2 of 7 samples match."),
        "filtered DOM:\n{dom}"
    );
    let links = sample_links(&dom);
    assert_eq!(links.len(), 2);
    // 3. Open the first sample through its link (the XSS one: it must render as text).
    let sample_url = format!("{base}{}", links[0]);
    let dom = {
        let (b, p, u) = (bin.clone(), profile.clone(), sample_url.clone());
        tokio::task::spawn_blocking(move || run_chromium(&b, &p, &["--dump-dom".into()], &u))
            .await
            .unwrap()
    };
    assert!(
        dom.contains("Which agent causes pain on injection"),
        "{dom}"
    );
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{dom}"
    );
    assert!(
        !dom.contains("<img src=\"x\""),
        "the injected img became an element:\n{dom}"
    );
    // 4. Screenshot.
    let shot = std::env::var_os("ANESBENCH_VIEW_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| d.path().join("sample.png"));
    {
        let args = vec![
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,1400".to_string(),
            "--hide-scrollbars".to_string(),
        ];
        let (b, p, u) = (bin.clone(), profile.clone(), sample_url);
        tokio::task::spawn_blocking(move || run_chromium(&b, &p, &args, &u))
            .await
            .unwrap();
    }
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

/// The live view in a real browser: a running run's page is open; a sample lands in
/// `samples.jsonl` (appended when the page's script first polls, so the page was loaded
/// before it); the open page shows it without a reload: its list is replaced in place
/// (the script counts its swaps in `data-updates`, which a reload would reset).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_page_of_a_running_run_shows_a_new_sample_in_place() {
    let Some(bin) = chromium() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but `chromium` is not installed (apt-get install -y chromium)");
        }
        eprintln!("NOTICE: skipping the Chromium live-view test: `chromium` is not installed (apt-get install -y chromium)");
        return;
    };
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let dir = runs.join("a");
    let samples = dir.join("samples.jsonl");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        dir.join(".lock"),
        format!(
            "{{\"host\":\"h\",\"pid\":1,\"started_at\":{now},\"heartbeat\":{now},\"token\":\"t\"}}"
        ),
    )
    .unwrap();
    // The new sample: item 1 (en) again as sample 1, with a response to look for.
    let first = std::fs::read_to_string(&samples)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut rec: serde_json::Value = serde_json::from_str(&first).unwrap();
    rec["sample"] = 1.into();
    rec["response"] = "Freshly landed: etomidate. Answer: B".into();
    let line = format!("{rec}\n");
    let v = Arc::new(anesbench_view::Viewer::new(&[runs]).unwrap());
    let id = run_id(&v, "a");
    // The viewer's own routes, with a layer that appends the sample on the first poll
    // and counts page loads.
    let polls = Arc::new(AtomicUsize::new(0));
    let loads = Arc::new(AtomicUsize::new(0));
    let app = {
        let (polls, loads, samples, line, page) = (
            polls.clone(),
            loads.clone(),
            samples.clone(),
            line.clone(),
            format!("/run/{id}"),
        );
        anesbench_view::router(v.clone()).layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let path = req.uri().path().to_string();
                if path.ends_with("/poll") && polls.fetch_add(1, Ordering::SeqCst) == 0 {
                    use std::io::Write;
                    std::fs::OpenOptions::new()
                        .append(true)
                        .open(&samples)
                        .unwrap()
                        .write_all(line.as_bytes())
                        .unwrap();
                }
                if path == page {
                    loads.fetch_add(1, Ordering::SeqCst);
                }
                next.run(req)
            },
        ))
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let profile = d.path().join("profile");
    let url = format!("http://{addr}/run/{id}");
    let dom = tokio::task::spawn_blocking(move || {
        run_chromium(
            &bin,
            &profile,
            &["--dump-dom".into(), "--virtual-time-budget=6000".into()],
            &url,
        )
    })
    .await
    .unwrap();
    assert!(
        polls.load(Ordering::SeqCst) >= 1,
        "the page never polled:\n{dom}"
    );
    let list = dom
        .split("<div id=\"live-list\" data-live=\"\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no live list:\n{dom}"));
    assert!(
        list.contains("8 of 8 samples."),
        "the new sample is not shown:\n{dom}"
    );
    assert!(list.contains("Freshly landed: etomidate."), "{list}");
    // In place: the script swapped the parts (a reload would start the count again),
    // and the page itself was fetched by the script, once per swap, after the first load.
    let updates: usize = dom
        .split("data-updates=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(updates >= 1, "no in-place update:\n{dom}");
    assert_eq!(loads.load(Ordering::SeqCst), 1 + updates, "page loads");
}
