//! End to end in headless Chromium (Debian package `chromium`): open a run, apply a
//! filter (through the URL the filter form submits), open a sample through its link, and
//! take a screenshot. Skipped with a notice when `chromium` is not installed, except under
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
