//! `anesbench view` as a user runs it: a real run made against the fake server, served on
//! loopback (address printed), the warning for a non-loopback host, the static export and
//! a small `--bench`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anesbench_backend::fake::{FakeConfig, FakeServer};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

mod common;
use common::{write_synthetic, BIN};

async fn make_run(dir: &Path) -> PathBuf {
    let server = FakeServer::start(FakeConfig {
        model: "fake-model".into(),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let data = write_synthetic(dir, 6);
    let out = dir.join("runs").join("fake");
    let o = Command::new(BIN)
        .args(["eval", "--dataset"])
        .arg(&data)
        .args([
            "--endpoint",
            &server.url(),
            "--model",
            "fake-model",
            "--out",
        ])
        .arg(&out)
        .args(["--timeout", "5", "--progress", "plain"])
        .output()
        .await
        .unwrap();
    assert!(
        o.status.success(),
        "eval failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    dir.join("runs")
}

/// Start `anesbench view` and read the address it prints.
async fn serve(args: &[&str], runs: &Path) -> (tokio::process::Child, String, Vec<String>) {
    let mut child = Command::new(BIN)
        .arg("view")
        .arg(runs)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), out.next_line())
        .await
        .expect("viewer printed its address")
        .unwrap()
        .unwrap();
    let url = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let mut err_lines = Vec::new();
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    while let Ok(Ok(Some(l))) =
        tokio::time::timeout(Duration::from_millis(300), err.next_line()).await
    {
        err_lines.push(l);
    }
    (child, url, err_lines)
}

#[tokio::test]
async fn serves_a_real_run_on_loopback_and_warns_for_other_hosts() {
    let d = tempfile::tempdir().unwrap();
    let runs = make_run(d.path()).await;
    let (mut child, addr, err) = serve(&["--port", "0"], &runs).await;
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert!(err.iter().all(|l| !l.contains("warning")), "{err:?}");
    let sa = addr.parse().unwrap();
    let index = anesbench_view::client::get(sa, "/").await.unwrap();
    assert_eq!(index.status, 200);
    let t = index.text();
    assert!(t.contains("fake-model") && t.contains("12 / 12"), "{t}");
    let run = t
        .split("href=\"/run/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let page = anesbench_view::client::get(sa, &format!("/run/{run}?lang=zh"))
        .await
        .unwrap()
        .text();
    assert!(page.contains("6 of 12 samples match."), "{page}");
    let sample = anesbench_view::client::get(sa, &format!("/run/{run}/sample/0"))
        .await
        .unwrap()
        .text();
    assert!(sample.contains("exactly what was sent"), "{sample}");
    assert!(
        sample.contains("Synthetic ") && sample.contains(" question "),
        "{sample}"
    );
    child.kill().await.unwrap();

    let (mut child, addr, err) = serve(&["--host", "0.0.0.0", "--port", "0"], &runs).await;
    assert!(addr.starts_with("0.0.0.0:"), "{addr}");
    assert!(
        err.iter().any(|l| l.contains("warning: --host 0.0.0.0")),
        "{err:?}"
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn exports_a_static_site_and_benchmarks() {
    let d = tempfile::tempdir().unwrap();
    let runs = make_run(d.path()).await;
    let site = d.path().join("site");
    let o = Command::new(BIN)
        .arg("view")
        .arg(&runs)
        .arg("--export")
        .arg(&site)
        .output()
        .await
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("exported 1 run(s)"));
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(index.contains("fake-model") && !index.contains("<script"));

    let o = Command::new(BIN)
        .args(["view", "--bench", "--bench-samples", "2000"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(text.contains("all viewer requests under target"), "{text}");
    assert!(text.contains("naive viewer"), "{text}");
}
