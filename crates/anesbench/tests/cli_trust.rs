//! Regression tests through the real binary for defects that gave a wrong number from a
//! run that looked successful. Each is named after the defect.

use std::path::Path;
use std::process::Output;

use anesbench_backend::fake::{FakeConfig, FakeServer, Fault, FaultRule, Trigger};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_anesbench");

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// A minimal OpenAI-compatible server on 127.0.0.1 whose `/v1/completions` top
/// log-probabilities list only words, never an option letter (what a chatty model under
/// a completion prompt gives).
async fn no_letter_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then the body by Content-Length.
                let (head_end, len) = loop {
                    let n = match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + len {
                    let n = match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]);
                let body = if head.starts_with("GET /v1/models") {
                    r#"{"object":"list","data":[{"id":"chatty","object":"model"}]}"#.to_string()
                } else {
                    r#"{"choices":[{"index":0,"text":" The","finish_reason":"length","logprobs":{"tokens":[" The"],"token_logprobs":[-0.3],"top_logprobs":[{" The":-0.3," This":-1.9," Based":-2.4," In":-3.1," First":-3.3}]}}],"usage":{"prompt_tokens":50,"completion_tokens":1}}"#.to_string()
                };
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loglik_with_no_option_letter_in_the_top_logprobs_is_no_answer_for_every_item() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let url = no_letter_server().await;
    let o = Command::new(BIN)
        .args(["eval", "--mode", "loglik", "--endpoint", &url, "--out"])
        .arg(&out)
        .args(["--progress", "none", "--timeout", "10"])
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = json(&out.join("summary.json"));
    assert_eq!(s["overall"]["n"], 128);
    assert_eq!(s["overall"]["correct"], 0, "ties were scored as answers");
    assert_eq!(s["overall"]["no_answer"], 128);
    let m = json(&out.join("manifest.json"));
    assert_eq!(m["settings"]["chat_template"], "none");
    assert_eq!(m["solver"], "loglik");
}

async fn fake(cfg: FakeConfig) -> FakeServer {
    FakeServer::start(cfg).await.unwrap()
}

fn eval(server: &FakeServer, out: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "eval",
        "--endpoint",
        &server.url(),
        "--model",
        "fake-model",
        "--progress",
        "none",
        "--timeout",
        "5",
        "--out",
    ])
    .arg(out);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_without_max_tokens_sends_the_chat_default_and_truncation_warns() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake(FakeConfig {
        record_bodies: true,
        faults: vec![FaultRule::new(Trigger::Always, Fault::Length)],
        ..FakeConfig::default()
    })
    .await;
    let out = dir.path().join("run");
    let mut c = eval(&server, &out);
    c.args(["--api", "completions", "--limit", "8"]);
    let o = c.output().await.unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let bodies = server.bodies();
    let gens: Vec<_> = bodies
        .iter()
        .filter(|b| b.get("prompt").is_some())
        .collect();
    assert_eq!(gens.len(), 8);
    for b in gens {
        assert_eq!(b["max_tokens"], 2048, "{b}");
        assert_eq!(b["temperature"], 0.0, "greedy must be sent explicitly: {b}");
    }
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("8 of 8 samples") && err.contains("--max-tokens"),
        "{err}"
    );
    let m = json(&out.join("manifest.json"));
    assert_eq!(m["solver"], "greedy");
    assert_eq!(m["settings"]["max_tokens"], 2048);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_refuses_a_shard_whose_samples_errored_and_its_finished_at_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let ok = fake(FakeConfig::default()).await;
    let broken = fake(FakeConfig {
        faults: vec![FaultRule::new(Trigger::Always, Fault::Http500)],
        ..FakeConfig::default()
    })
    .await;
    let s1 = dir.path().join("s1");
    let mut c = eval(&ok, &s1);
    c.args(["--shard", "1/2", "--limit", "20"]);
    assert_eq!(c.output().await.unwrap().status.code(), Some(0));
    let s2 = dir.path().join("s2");
    let mut c = eval(&broken, &s2);
    c.args(["--shard", "2/2", "--limit", "20", "--max-retries", "0"]);
    let o = c.output().await.unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(json(&s2.join("manifest.json"))["finished_at"].is_null());
    let o = Command::new(BIN)
        .arg("merge")
        .arg(&s1)
        .arg(&s2)
        .arg("--out")
        .arg(dir.path().join("merged"))
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("errored") && err.contains("incomplete"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_takes_the_long_flag_names_the_hint_names() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake(FakeConfig::default()).await;
    let cfg = dir.path().join("run.toml");
    std::fs::write(
        &cfg,
        format!(
            "endpoint = \"{}\"\nprompt = \"direct\"\nmodel = \"fake-model\"\nlimit = 4\nmax-tokens = 32\n",
            server.url()
        ),
    )
    .unwrap();
    let out = dir.path().join("run");
    let o = Command::new(BIN)
        .args(["eval", "--progress", "none", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let m = json(&out.join("manifest.json"));
    assert_eq!(m["settings"]["prompt_style"], "direct");
    assert_eq!(m["settings"]["max_tokens"], 32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_credentials_never_reach_the_manifest_records_or_output() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake(FakeConfig::default()).await;
    let url = server.url().replace("http://", "http://reader:hunter2@") + "?api_key=sekrit";
    let out = dir.path().join("run");
    let o = Command::new(BIN)
        .args([
            "eval",
            "--endpoint",
            &url,
            "--model",
            "fake-model",
            "--limit",
            "4",
        ])
        .args(["--progress", "plain", "--out"])
        .arg(&out)
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut everything = text(&o);
    for f in ["manifest.json", "samples.jsonl", "summary.json"] {
        everything.push_str(&std::fs::read_to_string(out.join(f)).unwrap());
    }
    assert!(!everything.contains("hunter2"), "{everything}");
    assert!(!everything.contains("sekrit"), "{everything}");
}
