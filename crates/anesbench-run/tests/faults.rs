//! End to end against the fault-injecting fake server: every fault kind, the demo set and
//! a 2,000-item synthetic set; errors recorded and retried on resume.

mod common;

use anesbench_backend::fake::{Fault, FaultRule, Trigger};
use anesbench_core::Summary;
use anesbench_run::execute;
use common::*;

fn every_fault_once() -> Vec<FaultRule> {
    vec![
        FaultRule::new(Trigger::Nth(0), Fault::Http500),
        FaultRule::new(
            Trigger::Nth(1),
            Fault::RateLimited {
                retry_after_secs: 1,
            },
        ),
        FaultRule::new(Trigger::Nth(2), Fault::Hang),
        FaultRule::new(Trigger::Nth(3), Fault::DropConnection),
        FaultRule::new(Trigger::Nth(4), Fault::TruncatedJson),
        FaultRule::new(Trigger::Nth(5), Fault::NullContent),
        FaultRule::new(Trigger::Nth(6), Fault::Reasoning),
        FaultRule::new(Trigger::Nth(7), Fault::Length),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_set_survives_every_fault() {
    let ds = load_ds("demo");
    let server = fake(&ds, every_fault_once()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let s = settings(&server, "demo");
    let t0 = std::time::Instant::now();
    let outcome = execute(request(&s, &ds, &out)).await.unwrap();
    assert_eq!(outcome.errors, 0);
    assert_eq!(outcome.ran, ds.items.len());
    let stats = server.stats();
    for f in [
        "http500",
        "rate_limited",
        "hang",
        "drop_connection",
        "truncated_json",
        "null_content",
        "reasoning",
        "length",
    ] {
        assert_eq!(
            stats.faults.get(f),
            Some(&1),
            "fault {f} not injected once: {:?}",
            stats.faults
        );
    }
    // The 429 asked for a 1 s wait and the hang took the 1 s timeout.
    assert!(t0.elapsed().as_secs_f64() >= 1.0);
    let recs = exactly_once(&out, &ds);
    let truncated: Vec<_> = recs.values().filter(|r| r.is_truncated()).collect();
    assert_eq!(truncated.len(), 1);
    // The answer key makes every complete reply right; only the cut-off one may be wrong.
    for r in recs.values().filter(|r| !r.is_truncated()) {
        assert!(
            r.correct,
            "{}:{} rule {} response {:?}",
            r.lang, r.id, r.rule, r.response
        );
    }
    assert_eq!(
        recs.values().filter(|r| r.response.is_none()).count(),
        1,
        "null content kept as null"
    );
    assert!(recs.values().any(|r| r.rule == "reasoning_final"));
    assert!(recs.values().filter(|r| r.reasoning.is_some()).count() >= 2);
    assert!(recs.values().map(|r| r.attempts).max().unwrap() >= 2);
    let summary: Summary =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    // Floats may differ in the last bit after a JSON round trip; counts must not.
    assert_eq!(summary.overall.correct, outcome.summary.overall.correct);
    assert_eq!(summary.by_lang_level.len(), 6);
    assert_eq!(summary.overall.truncated, 1);
    assert_eq!(summary.overall.errors, 0);
    assert_eq!(summary.samples as usize, ds.items.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_2000_items_with_random_faults() {
    let dir = tempfile::tempdir().unwrap();
    let src = write_synthetic(dir.path(), 1000);
    let ds = load_ds(src.to_str().unwrap());
    assert_eq!(ds.items.len(), 2000);
    let p = 0.02;
    let faults = vec![
        FaultRule::new(Trigger::Probability(p), Fault::Http500),
        FaultRule::new(
            Trigger::Probability(p),
            Fault::RateLimited {
                retry_after_secs: 1,
            },
        ),
        FaultRule::new(Trigger::Probability(p / 2.0), Fault::Hang),
        FaultRule::new(Trigger::Probability(p), Fault::DropConnection),
        FaultRule::new(Trigger::Probability(p), Fault::TruncatedJson),
        FaultRule::new(Trigger::Probability(p), Fault::NullContent),
        FaultRule::new(Trigger::Probability(p), Fault::Reasoning),
        FaultRule::new(Trigger::Probability(p), Fault::Length),
    ];
    let server = fake(&ds, faults).await;
    let out = dir.path().join("run");
    let mut s = settings(&server, src.to_str().unwrap());
    s.concurrency = 64;
    let outcome = execute(request(&s, &ds, &out)).await.unwrap();
    assert_eq!(
        outcome.errors, 0,
        "retries should absorb every transient fault"
    );
    let recs = exactly_once(&out, &ds);
    let stats = server.stats();
    let length = *stats.faults.get("length").unwrap_or(&0) as usize;
    assert!(length > 10, "{:?}", stats.faults);
    assert!(stats.faults.get("hang").copied().unwrap_or(0) > 0);
    assert_eq!(recs.values().filter(|r| r.is_truncated()).count(), length);
    assert_eq!(outcome.summary.overall.truncated as usize, length);
    let wrong: Vec<_> = recs
        .values()
        .filter(|r| !r.correct && !r.is_truncated())
        .collect();
    assert!(
        wrong.is_empty(),
        "{} wrong, e.g. {:?}",
        wrong.len(),
        wrong.first()
    );
    // Requests = samples + retries: every retryable fault cost exactly one extra request.
    let retryable: u64 = [
        "http500",
        "rate_limited",
        "hang",
        "drop_connection",
        "truncated_json",
    ]
    .iter()
    .map(|f| stats.faults.get(*f).copied().unwrap_or(0))
    .sum();
    assert_eq!(stats.chat, 2000 + retryable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spent_retries_are_recorded_and_resume_retries_only_those() {
    let ds = load_ds("demo");
    let server = fake(
        &ds,
        vec![FaultRule::new(Trigger::Probability(0.3), Fault::Http500)],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut s = settings(&server, "demo");
    s.max_retries = 0;
    let first = execute(request(&s, &ds, &out)).await.unwrap();
    assert!(
        first.errors > 3 && first.errors < ds.items.len(),
        "{}",
        first.errors
    );
    assert_eq!(first.summary.overall.errors as usize, first.errors);
    let errored: Vec<_> = raw_lines(&out)
        .into_iter()
        .filter(|r| r.error.is_some())
        .collect();
    assert_eq!(errored.len(), first.errors);
    assert!(errored
        .iter()
        .all(|r| r.rule == "error" && r.error.as_deref().unwrap().contains("500")));

    let healthy = fake(&ds, Vec::new()).await;
    let s2 = settings(&healthy, "demo");
    let second = execute(request(&s2, &ds, &out)).await.unwrap();
    assert_eq!(second.ran, first.errors);
    assert_eq!(second.skipped, ds.items.len() - first.errors);
    assert_eq!(healthy.stats().chat as usize, first.errors);
    assert_eq!(second.errors, 0);
    let recs = exactly_once(&out, &ds);
    assert!(recs.values().all(|r| r.correct));

    // A third run finds nothing to do.
    let third = execute(request(&s2, &ds, &out)).await.unwrap();
    assert_eq!(third.ran, 0);
    assert_eq!(healthy.stats().chat as usize, first.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loglik_mode_over_http_takes_the_argmax_letter() {
    let ds = load_ds("demo");
    let server = fake(&ds, Vec::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut s = settings(&server, "demo");
    s.mode = anesbench_run::Mode::Loglik;
    s.limit = Some(10);
    let outcome = execute(request(&s, &ds, &out)).await.unwrap();
    assert_eq!(outcome.errors, 0);
    let recs = raw_lines(&out);
    assert_eq!(recs.len(), 10);
    for r in &recs {
        assert_eq!(r.rule, "loglik_argmax");
        let lp = r.option_logprobs.as_ref().unwrap();
        assert_eq!(lp.len(), r.letters.len());
        let best = lp.iter().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(r.answer, Some(*best));
        assert!(r.correct, "{r:?}");
    }
    // Rescoring keeps the argmax and its rule.
    let re = anesbench_run::rescore::rescore(&out).unwrap();
    assert_eq!((re.changed, re.summary.overall.correct), (0, 10));
}
