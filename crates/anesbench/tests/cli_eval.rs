//! The real `anesbench` binary against an in-test fake server: kill -9 mid-run and resume,
//! API key never stored, exit codes, settings change refused, shard + merge, rescore.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use anesbench_backend::fake::{FakeConfig, FakeServer, Fault, FaultRule, Trigger};
use tokio::process::Command;

mod common;
use common::{write_synthetic, BIN};

fn eval(server: &FakeServer, dataset: &Path, out: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.args(["eval", "--dataset"])
        .arg(dataset)
        .args([
            "--endpoint",
            &server.url(),
            "--model",
            "fake-model",
            "--out",
        ])
        .arg(out);
    c.args(["--timeout", "5", "--progress", "plain"]);
    c
}

async fn done(mut c: Command) -> Output {
    c.output().await.unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn lines(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("samples.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn key(v: &serde_json::Value) -> String {
    format!(
        "{}:{}#{}",
        v["lang"].as_str().unwrap(),
        v["id"].as_str().unwrap(),
        v["sample"]
    )
}

/// Wait until the run in `out` has recorded at least `n` samples.
async fn wait_for_lines(out: &Path, n: usize) {
    let t0 = Instant::now();
    while lines(out).len() < n {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the run never got going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The sample keys of `recs`, failing on any key seen twice.
fn keys_once(recs: &[serde_json::Value]) -> HashSet<String> {
    let mut seen = HashSet::new();
    for r in recs {
        assert!(seen.insert(key(r)), "{} twice", key(r));
    }
    seen
}

/// Every file under `dir`, recursively, as bytes.
fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_run_then_resume_finds_every_sample_exactly_once_and_no_key_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let ds = write_synthetic(dir.path(), 200);
    let secret = format!(
        "sk-test-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos() ^ 0x5eed_cafe
    );
    let server = FakeServer::start(FakeConfig {
        api_key: Some(secret.clone()),
        faults: vec![FaultRule::new(
            Trigger::Always,
            Fault::Slow(Duration::from_millis(25)),
        )],
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let out = dir.path().join("run");
    let var = format!("ANESBENCH_TEST_KEY_{}", std::process::id());
    let run = || {
        let mut c = eval(&server, &ds, &out);
        c.args(["--concurrency", "4", "--api-key-env", &var])
            .env(&var, &secret);
        c
    };

    let mut child = run()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_lines(&out, 40).await;
    child.start_kill().unwrap(); // SIGKILL
    child.wait().await.unwrap();
    let before = lines(&out).len();
    assert!(
        before < 400,
        "killed too late to test anything ({before} lines)"
    );

    let o = done(run()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("already done") || stderr.contains("resuming"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("overall"));

    let recs = lines(&out);
    let seen = keys_once(&recs);
    for r in &recs {
        assert!(r["error"].is_null(), "{r}");
    }
    assert_eq!(seen.len(), 400);
    for lang in ["en", "zh"] {
        for i in 0..200 {
            assert!(seen.contains(&format!("{lang}:q{i}#0")));
        }
    }
    assert!(
        server.stats().authorized >= 400,
        "the key was sent: {:?}",
        server.stats()
    );
    for (path, bytes) in all_files(&out) {
        let s = String::from_utf8_lossy(&bytes);
        assert!(!s.contains(&secret), "API key found in {}", path.display());
    }
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains(&var), "the variable's name is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_finished_samples_writes_a_partial_summary_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let ds = write_synthetic(dir.path(), 150);
    let server = FakeServer::start(FakeConfig {
        faults: vec![FaultRule::new(
            Trigger::Always,
            Fault::Slow(Duration::from_millis(25)),
        )],
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let out = dir.path().join("run");
    let run = || {
        let mut c = eval(&server, &ds, &out);
        c.args(["--concurrency", "4"]);
        c
    };
    let child = run()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_lines(&out, 30).await;
    let pid = child.id().unwrap().to_string();
    let k = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(k.success());
    let o = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the run did not stop within 30 s of SIGINT")
        .unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("interrupted"),
        "{}",
        text(&o)
    );
    let kept = lines(&out);
    assert!(
        kept.len() >= 30 && kept.len() < 300,
        "{} lines after the interrupt",
        kept.len()
    );
    // The partial summary counts exactly the samples on disk.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["overall"]["n"].as_u64(),
        Some(kept.len() as u64),
        "{summary}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["finished_at"].is_null(), "{manifest}");

    let o = done(run()).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let recs = lines(&out);
    assert_eq!(keys_once(&recs).len(), 300);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["finished_at"].is_string(), "{manifest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_exit_3_and_a_resume_retries_them() {
    let dir = tempfile::tempdir().unwrap();
    let ds = write_synthetic(dir.path(), 10);
    let broken = FakeServer::start(FakeConfig {
        faults: vec![FaultRule::new(Trigger::Always, Fault::Http500)],
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let out = dir.path().join("run");
    let mut c = eval(&broken, &ds, &out);
    c.args(["--max-retries", "1"]);
    let o = done(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(lines(&out)
        .iter()
        .all(|r| r["error"].as_str().is_some_and(|e| e.contains("500"))));

    let healthy = FakeServer::start(FakeConfig::default()).await.unwrap();
    // `--resume` takes the settings from the manifest; only the server moved.
    let mut c = Command::new(BIN);
    c.args([
        "eval",
        "--resume",
        "--progress",
        "none",
        "--endpoint",
        &healthy.url(),
        "--out",
    ])
    .arg(&out);
    let o = done(c).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(healthy.stats().chat, 20);
    let recs = lines(&out);
    assert_eq!(recs.len(), 20);
    assert!(recs.iter().all(|r| r["error"].is_null()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_settings_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let ds = write_synthetic(dir.path(), 5);
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let out = dir.path().join("run");
    assert_eq!(done(eval(&server, &ds, &out)).await.status.code(), Some(0));
    let mut c = eval(&server, &ds, &out);
    c.args(["--temperature", "0.5", "--lang", "en"]);
    let o = done(c).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("temperature") && err.contains("lang"), "{err}");
    let mut c = eval(&server, &ds, &out);
    c.args(["--concurrency", "1"]);
    assert_eq!(done(c).await.status.code(), Some(0));
    // Bad flags name themselves.
    let mut c = eval(&server, &ds, &dir.path().join("x"));
    c.args(["--concurrency", "0"]);
    let o = done(c).await;
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("`concurrency`"),
        "{}",
        text(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_merge_and_rescore_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let ds = write_synthetic(dir.path(), 30);
    let server = FakeServer::start(FakeConfig::default()).await.unwrap();
    let whole = dir.path().join("whole");
    let o = done(eval(&server, &ds, &whole)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut shards = Vec::new();
    for i in 1..=2 {
        let d = dir.path().join(format!("s{i}"));
        let mut c = eval(&server, &ds, &d);
        c.args(["--shard", &format!("{i}/2")]);
        assert_eq!(done(c).await.status.code(), Some(0));
        shards.push(d);
    }
    let merged = dir.path().join("merged");
    let o = Command::new(BIN)
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let summary = |d: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join("summary.json")).unwrap()).unwrap()
    };
    assert_eq!(
        summary(&merged)["overall"]["correct"],
        summary(&whole)["overall"]["correct"]
    );
    assert_eq!(summary(&merged)["samples"], 60);

    let o = Command::new(BIN)
        .arg("rescore")
        .arg(&merged)
        .output()
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("0 changed"),
        "{}",
        text(&o)
    );
}

#[tokio::test]
async fn with_no_endpoint_eval_uses_the_embedded_default_model() {
    let home = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .arg("eval")
        .env("ANESBENCH_HOME", home.path())
        .current_dir(home.path())
        .output()
        .await
        .unwrap();
    // No model in this empty home: the error must name the default GGUF path it looked for.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&home.path().join("models").display().to_string()),
        "{err}"
    );
}

fn eval_sync(args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .arg("eval")
        .args(args)
        .args(["--endpoint", "http://127.0.0.1:9", "--model", "m"])
        .output()
        .unwrap()
}

#[test]
fn empty_level_or_lang_selection_and_limit_0_exit_2_without_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("anesbench_en.json");
    let items: Vec<serde_json::Value> = (0..4)
        .map(|i| {
            serde_json::json!({"id": format!("q{i}"), "question": format!("Question {i}?"),
                "A": "a", "B": "b", "choice_num": 2, "target": "A", "category": 1})
        })
        .collect();
    std::fs::write(&ds, serde_json::to_vec(&items).unwrap()).unwrap();
    let out = dir.path().join("run");
    let d = ds.to_str().unwrap();
    let o = out.to_str().unwrap();
    let r = eval_sync(&["--dataset", d, "--level", "3", "--out", o]);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("--level 3 selects no items"), "{err}");
    assert!(err.contains("4 items"), "{err}");
    assert!(!out.exists(), "no empty run is written");
    let r = eval_sync(&["--dataset", d, "--lang", "zh", "--out", o]);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert!(!out.exists());
    let r = eval_sync(&["--dataset", d, "--limit", "0", "--out", o]);
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--limit 0 selects no items"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_out_the_resume_hint_names_the_run_directory() {
    let dir = tempfile::tempdir().unwrap();
    let ds = write_synthetic(dir.path(), 3);
    let server = FakeServer::start(FakeConfig {
        faults: vec![FaultRule::new(Trigger::Always, Fault::Http500)],
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let mut c = Command::new(BIN);
    c.current_dir(dir.path())
        .args(["eval", "--dataset"])
        .arg(&ds)
        .args(["--endpoint", &server.url(), "--model", "fake-model"])
        .args([
            "--timeout",
            "5",
            "--progress",
            "plain",
            "--max-retries",
            "0",
        ]);
    let o = done(c).await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let run_dir = err
        .lines()
        .find_map(|l| l.strip_prefix("run directory: "))
        .expect("run directory printed")
        .to_string();
    assert!(
        err.contains(&format!(
            "run the same command with --out {run_dir} to retry"
        )),
        "{err}"
    );
    assert!(!err.contains("run the same command again"), "{err}");
}
