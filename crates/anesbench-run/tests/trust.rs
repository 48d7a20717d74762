//! Regression tests for defects that changed a score or lost work without a word, each
//! named after the defect and checking what a researcher reads (the summary, the
//! manifest, the records on disk).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anesbench_backend::{
    Backend, BackendError, BackendInfo, GenRequest, GenResponse, LoglikRequest, LoglikResponse,
};
use anesbench_core::SampleRecord;
use anesbench_run::error::RunError;
use anesbench_run::event::{RunEvent, Sink};
use anesbench_run::{execute, Mode, ProgressMode, RetryPolicy, RunRequest, Settings};
use common::*;

/// A backend that answers loglik with fixed values and generate with "The answer is A",
/// optionally one request at a time (like the embedded engine), slowly.
struct Scripted {
    logprobs: Vec<f64>,
    delay: Duration,
    one_at_a_time: Option<tokio::sync::Mutex<()>>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(logprobs: Vec<f64>) -> Scripted {
        Scripted {
            logprobs,
            delay: Duration::ZERO,
            one_at_a_time: None,
            calls: AtomicUsize::new(0),
        }
    }
    async fn work(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let _engine = match &self.one_at_a_time {
            Some(m) => Some(m.lock().await),
            None => None,
        };
        tokio::time::sleep(self.delay).await;
    }
}

#[async_trait::async_trait]
impl Backend for Scripted {
    async fn generate(&self, _req: &GenRequest) -> Result<GenResponse, BackendError> {
        self.work().await;
        Ok(GenResponse {
            content: Some("The answer is A.".into()),
            finish_reason: Some("stop".into()),
            completion_tokens: Some(5),
            ..GenResponse::default()
        })
    }
    async fn loglik(&self, req: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        self.work().await;
        Ok(LoglikResponse {
            logprobs: self.logprobs[..req.candidates.len()].to_vec(),
            prompt_tokens: Some(10),
            endpoint: Some("scripted".into()),
        })
    }
    fn describe(&self) -> BackendInfo {
        BackendInfo {
            kind: "scripted".into(),
            model: "scripted".into(),
            ..BackendInfo::default()
        }
    }
    fn capacity(&self) -> Option<usize> {
        self.one_at_a_time.as_ref().map(|_| 1)
    }
}

fn demo_settings(mode: Mode) -> Settings {
    Settings {
        dataset: "demo".into(),
        endpoints: vec!["http://127.0.0.1:9".into()],
        model: Some("scripted".into()),
        mode,
        temperature: Some(0.0),
        concurrency: 8,
        timeout_secs: 5.0,
        max_retries: 0,
        ..Settings::default()
    }
}

fn req(s: &Settings, backend: Arc<dyn Backend>, out: &std::path::Path) -> RunRequest {
    let mut r = RunRequest::new(s.clone(), load_ds("demo"), backend, out.to_path_buf());
    r.progress = ProgressMode::Quiet;
    r.retry = RetryPolicy {
        base: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        ..r.retry
    };
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loglik_tie_at_the_maximum_is_no_answer_not_the_last_letter() {
    // What the HTTP backend reports when no letter is in the server's top-k: one floor
    // value for every option.
    let dir = tempfile::tempdir().unwrap();
    let s = demo_settings(Mode::Loglik);
    let b = Arc::new(Scripted::new(vec![-21.0; 9]));
    let o = execute(req(&s, b, dir.path())).await.unwrap();
    assert_eq!(o.summary.overall.n, 128);
    assert_eq!(o.summary.overall.correct, 0, "a tie must not be scored");
    assert_eq!(o.summary.overall.no_answer, 128);
    let recs = raw_lines(dir.path());
    assert!(recs
        .iter()
        .all(|r| r.answer.is_none() && r.rule == "loglik_tie"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_finite_logprob_does_not_make_the_run_unreadable_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let s = demo_settings(Mode::Loglik);
    let b = Arc::new(Scripted::new(vec![
        f64::NEG_INFINITY,
        -0.5,
        f64::NAN,
        -3.0,
        -4.0,
        -5.0,
        -6.0,
        -7.0,
        -8.0,
    ]));
    let first = execute(req(&s, b.clone(), dir.path())).await.unwrap();
    assert_eq!(first.summary.overall.no_answer, 0);
    let again = execute(req(&s, b.clone(), dir.path())).await.unwrap();
    assert_eq!((again.ran, again.skipped), (0, 128));
    let recs = raw_lines(dir.path());
    assert!(recs.iter().all(|r| r.answer == Some('B')));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_queued_for_a_one_at_a_time_engine_does_not_count_against_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_settings(Mode::Loglik);
    s.limit = Some(6);
    s.concurrency = 6;
    let b = Arc::new(Scripted {
        delay: Duration::from_millis(150),
        one_at_a_time: Some(tokio::sync::Mutex::new(())),
        ..Scripted::new(vec![-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0])
    });
    let mut r = req(&s, b, dir.path());
    // Each request takes 150 ms; six queued behind one engine take 900 ms in all.
    r.retry.timeout = Duration::from_millis(400);
    let o = execute(r).await.unwrap();
    assert_eq!(o.errors, 0, "queued requests timed out: {:?}", o.summary);
    assert_eq!(o.summary.overall.n, 6);
}

/// A sink that fails on the n-th sample, like a disk that fills up.
struct FullDisk {
    after: usize,
    seen: usize,
}

impl Sink for FullDisk {
    fn event(&mut self, ev: &RunEvent<'_>) -> Result<(), RunError> {
        if let RunEvent::Sample(_) = ev {
            self.seen += 1;
            if self.seen > self.after {
                return Err(RunError::io(
                    std::path::Path::new("samples.jsonl"),
                    std::io::Error::from_raw_os_error(28),
                ));
            }
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_error_stops_the_workers_at_once_and_keeps_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_settings(Mode::Loglik);
    s.concurrency = 2;
    let b = Arc::new(Scripted {
        delay: Duration::from_millis(20),
        ..Scripted::new(vec![-1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0])
    });
    let mut r = req(&s, b.clone(), dir.path());
    r.extra_sinks.push(Box::new(FullDisk { after: 5, seen: 0 }));
    let t0 = Instant::now();
    let e = execute(r).await.unwrap_err();
    assert!(matches!(e, RunError::WriteFailed(_)), "{e}");
    assert!(e.to_string().contains("kept"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(2));
    // No more requests than the ones in flight when the write failed.
    let calls = b.calls.load(Ordering::SeqCst);
    assert!(calls <= 5 + 1 + 2, "{calls} requests after a write error");
    // The JSONL sink runs before the failing one: the 6 samples it got are on disk.
    let recs = raw_lines(dir.path());
    assert_eq!(recs.len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_samples_per_item_are_summarised_per_item_by_majority_vote() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_settings(Mode::Generate);
    s.samples = 3;
    s.strategy = anesbench_run::settings::Strategy::SelfConsistency(3);
    s.temperature = Some(0.7);
    s.limit = Some(10);
    let b = Arc::new(Scripted::new(vec![]));
    let o = execute(req(&s, b, dir.path())).await.unwrap();
    assert_eq!(o.summary.samples, 30);
    assert_eq!(o.summary.aggregation, "majority");
    assert_eq!(o.summary.overall.n, 10, "intervals must be over items");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["solver"], "self-consistency:3");
    assert!(o.summary.mean_per_item.contains_key("overall"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_at_is_not_set_when_samples_errored() {
    struct Broken;
    #[async_trait::async_trait]
    impl Backend for Broken {
        async fn generate(&self, _r: &GenRequest) -> Result<GenResponse, BackendError> {
            Err(BackendError::Other("boom".into()))
        }
        async fn loglik(&self, _r: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
            Err(BackendError::Other("boom".into()))
        }
        fn describe(&self) -> BackendInfo {
            BackendInfo::default()
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_settings(Mode::Loglik);
    s.limit = Some(3);
    let o = execute(req(&s, Arc::new(Broken), dir.path()))
        .await
        .unwrap();
    assert_eq!(o.errors, 3);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert!(m["finished_at"].is_null(), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_that_does_nothing_keeps_finished_at() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_settings(Mode::Loglik);
    s.limit = Some(3);
    let read = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap()
    };
    let backend = Arc::new(Scripted::new(vec![
        -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0,
    ]));
    execute(req(&s, backend.clone(), dir.path())).await.unwrap();
    let first = read()["finished_at"].clone();
    assert!(first.is_string(), "complete run: {first}");
    // Past the clock's resolution, so a rewrite would show.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let o = execute(req(&s, backend, dir.path())).await.unwrap();
    assert_eq!((o.ran, o.skipped), (0, 3));
    assert_eq!(read()["finished_at"], first);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_refuses_samples_made_with_another_prompt_then_reruns_them_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let tmpl = dir.path().join("t.jinja");
    std::fs::write(&tmpl, "Q: {{ question }}\n{% for o in options %}{{ o.letter }}. {{ o.text }}\n{% endfor %}Answer:").unwrap();
    let out = dir.path().join("run");
    let mut s = demo_settings(Mode::Loglik);
    s.limit = Some(4);
    s.template = Some(tmpl.clone());
    let b = Arc::new(Scripted::new(vec![
        -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0,
    ]));
    execute(req(&s, b.clone(), &out)).await.unwrap();
    // The template file is edited in place; the settings (its path) are unchanged.
    std::fs::write(&tmpl, "Question: {{ question }}\n{% for o in options %}{{ o.letter }}. {{ o.text }}\n{% endfor %}Answer:").unwrap();
    let e = execute(req(&s, b.clone(), &out))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("4 of 4 finished samples"), "{e}");
    assert!(e.contains("--rerun-changed-prompts"), "{e}");
    let mut r = req(&s, b.clone(), &out);
    r.rerun_changed_prompts = true;
    let o = execute(r).await.unwrap();
    assert_eq!(o.ran, 4);
    let hashes: std::collections::HashSet<String> = raw_lines(&out)
        .into_iter()
        .map(|r: SampleRecord| r.prompt_hash)
        .collect();
    assert_eq!(raw_lines(&out).len(), 4, "each sample exactly once");
    assert_eq!(hashes.len(), 4, "one prompt per item, all new");
    // The manifest keeps every invocation's version.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["tool_versions"].as_array().unwrap().len(), 2, "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_with_another_shard_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = demo_settings(Mode::Loglik);
    s.shard = Some("1/2".parse().unwrap());
    let b = Arc::new(Scripted::new(vec![
        -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0,
    ]));
    execute(req(&s, b.clone(), dir.path())).await.unwrap();
    s.shard = Some("2/2".parse().unwrap());
    let e = execute(req(&s, b, dir.path()))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("shard") && e.contains("merge"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_size_comes_from_the_one_parser_with_its_source() {
    for (model, want) in [
        ("Qwen2.5-7B-Instruct-1M", 7.0),
        ("Mixtral-8x7B-Instruct", 56.0),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut s = demo_settings(Mode::Loglik);
        s.limit = Some(1);
        s.model = Some(model.into());
        let b = Arc::new(Scripted::new(vec![
            -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0, -9.0,
        ]));
        execute(req(&s, b, dir.path())).await.unwrap();
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap())
                .unwrap();
        assert_eq!(m["param_count_b"], want, "{model}");
        assert_eq!(m["param_count_source"], "name");
    }
}
