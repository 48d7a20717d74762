//! `--permute`: a model that always picks displayed position A, asked in every rotation
//! (loglik) and in seeded shuffles (generate). Answers come back in original letters, the
//! plain accuracy is the original order's, circular accuracy is 0, every pick is on A;
//! a resume finds nothing to do, a changed permutation is refused by name, and `rescore`
//! changes nothing.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anesbench_backend::{
    Backend, BackendError, BackendInfo, GenRequest, GenResponse, LoglikRequest, LoglikResponse,
};
use anesbench_core::analysis::robustness;
use anesbench_core::permute::Permute;
use anesbench_core::Lang;
use anesbench_run::error::RunError;
use anesbench_run::{execute, Mode, ProgressMode, RunRequest, Settings};
use common::*;

/// Always answers the first displayed option.
#[derive(Default)]
struct AlwaysA {
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl Backend for AlwaysA {
    async fn generate(&self, _r: &GenRequest) -> Result<GenResponse, BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(GenResponse {
            content: Some("The answer is A.".into()),
            finish_reason: Some("stop".into()),
            completion_tokens: Some(5),
            ..GenResponse::default()
        })
    }
    async fn loglik(&self, r: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(LoglikResponse {
            logprobs: r
                .candidates
                .iter()
                .map(|c| if c == "A" { -0.2 } else { -3.0 })
                .collect(),
            ..LoglikResponse::default()
        })
    }
    fn describe(&self) -> BackendInfo {
        BackendInfo {
            kind: "scripted".into(),
            model: "always-a".into(),
            ..BackendInfo::default()
        }
    }
}

const N: usize = 8;

fn settings(mode: Mode, permute: Permute) -> Settings {
    Settings {
        dataset: "demo".into(),
        endpoints: vec!["http://127.0.0.1:9".into()],
        model: Some("always-a".into()),
        mode,
        temperature: Some(0.0),
        limit: Some(N),
        lang: vec![Lang::En],
        concurrency: 3,
        timeout_secs: 5.0,
        max_retries: 0,
        permute: Some(permute),
        ..Settings::default()
    }
}

fn req(s: &Settings, b: Arc<dyn Backend>, out: &std::path::Path) -> RunRequest {
    let mut r = RunRequest::new(s.clone(), load_ds("demo"), b, out.to_path_buf());
    r.progress = ProgressMode::Quiet;
    r
}

fn items() -> Vec<anesbench_core::Item> {
    anesbench_core::demo::items()
        .into_iter()
        .filter(|i| i.lang == Lang::En)
        .take(N)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circular_loglik_on_an_always_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let b = Arc::new(AlwaysA::default());
    let s = settings(Mode::Loglik, Permute::Circular);
    let o = execute(req(&s, b.clone(), dir.path())).await.unwrap();
    let want: usize = items().iter().map(|i| i.options.len()).sum();
    assert_eq!(b.calls.load(Ordering::SeqCst), want);
    assert_eq!(o.summary.samples as usize, want);
    assert_eq!(o.summary.overall.n as usize, N);
    // Plain accuracy = the original order: right exactly where gold is A.
    let gold_a = items().iter().filter(|i| i.answer == 'A').count() as u64;
    assert_eq!(o.summary.overall.correct, gold_a);
    let recs = raw_lines(dir.path());
    for r in &recs {
        let perm = r.perm.as_deref().unwrap();
        assert_eq!(r.position, Some('A'));
        // Displayed A is the first original letter of the order.
        assert_eq!(r.answer, perm.chars().next());
        assert_eq!(r.correct, r.answer == Some(r.gold));
        // Option log-probabilities are keyed by original letter: the top one is the answer.
        let lp = r.option_logprobs.as_ref().unwrap();
        assert_eq!(lp[&r.answer.unwrap()], -0.2);
    }
    let rb = robustness(&recs, Permute::Circular);
    assert_eq!(rb.items as usize, N);
    assert_eq!(rb.circular_correct, 0);
    assert_eq!(rb.picked.keys().copied().collect::<Vec<_>>(), vec!['A']);
    assert_eq!(rb.picked[&'A'] as usize, want);
    assert_eq!(rb.identity_correct, gold_a);
    // Every rotation puts gold at each position once.
    assert_eq!(rb.gold.values().sum::<u64>() as usize, want);

    // Resume: nothing left to do.
    let o2 = execute(req(&s, b.clone(), dir.path())).await.unwrap();
    assert_eq!((o2.ran, o2.skipped), (0, want));
    // Another permutation into the same directory is refused by name.
    let other = settings(Mode::Loglik, Permute::Shuffle { k: 3, seed: 1 });
    match execute(req(&other, b.clone(), dir.path())).await {
        Err(RunError::SettingsChanged { changes, .. }) => {
            assert!(changes.contains("permute"), "{changes}")
        }
        x => panic!("expected a refusal, got {x:?}"),
    }
    let re = anesbench_run::rescore::rescore(dir.path()).unwrap();
    assert_eq!(re.changed, 0);
    assert_eq!(re.summary.overall.correct, gold_a);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["permute"], "circular");
    assert_eq!(m["solver"], "loglik+circular");
    assert_eq!(m["planned_samples"], want);
    assert!(m["finished_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shuffled_generate_maps_answers_back_and_resumes_a_missing_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let b = Arc::new(AlwaysA::default());
    let p = Permute::Shuffle { k: 3, seed: 11 };
    let s = settings(Mode::Generate, p);
    execute(req(&s, b.clone(), dir.path())).await.unwrap();
    assert_eq!(b.calls.load(Ordering::SeqCst), 3 * N);
    let recs = raw_lines(dir.path());
    assert_eq!(recs.len(), 3 * N);
    for r in &recs {
        let perm = r.perm.as_deref().unwrap();
        assert_eq!(r.answer, perm.chars().next(), "{r:?}");
        if r.sample == 0 {
            assert_eq!(perm, &"ABCDEFGHI"[..perm.len()]);
        }
    }
    // Drop one candidate (not sample 0) and resume: only it runs again, with its order.
    let gone = recs.iter().find(|r| r.sample == 2).unwrap().clone();
    let kept: Vec<String> = recs
        .iter()
        .filter(|r| r.key() != gone.key())
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(dir.path().join("samples.jsonl"), kept.join("\n") + "\n").unwrap();
    let o = execute(req(&s, b.clone(), dir.path())).await.unwrap();
    assert_eq!(o.ran, 1);
    let again = raw_lines(dir.path());
    let back = again.iter().find(|r| r.key() == gone.key()).unwrap();
    assert_eq!(back.perm, gone.perm);
    assert_eq!(back.prompt_hash, gone.prompt_hash);
    let re = anesbench_run::rescore::rescore(dir.path()).unwrap();
    assert_eq!(
        re.changed, 0,
        "re-extraction reads each reply against its own order"
    );
    let rb = robustness(&again, p);
    // Shuffles may leave gold first in all three orders: such an item is right in each.
    let always_first = items()
        .iter()
        .filter(|it| {
            p.orders(&it.id, it.options.len())
                .iter()
                .all(|o| anesbench_core::item::letter(o[0]) == it.answer)
        })
        .count();
    assert_eq!(rb.circular_correct as usize, always_first);
    assert_eq!(rb.picked[&'A'] as usize, 3 * N);
}
