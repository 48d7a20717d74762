//! Self-consistency over HTTP through the real runner, against the fake server with a
//! per-seed script, so every vote is known: the majority and each tie rule, the same
//! per-item decisions whether the server keeps `n` (one request per item), ignores it
//! (llama.cpp: one request per sample after the first) or `n` is turned off, the
//! records' `batch`, and maj@k from deterministic subsets.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anesbench_backend::fake::{FakeConfig, FakeServer, Script};
use anesbench_backend::openai::{NPerRequest, OpenAiBackend, OpenAiConfig};
use anesbench_core::vote::{self, Aggregation};
use anesbench_core::SampleRecord;
use anesbench_run::settings::Strategy;
use anesbench_run::{execute, Mode, ProgressMode, RetryPolicy, RunOutcome, RunRequest, Settings};
use common::raw_lines;

const SEED: u64 = 100;
const ITEMS: usize = 6;

/// How the server and the client treat `n`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Path_ {
    /// The server keeps `n`; probed (`auto`).
    Kept,
    /// The server ignores `n` (llama.cpp); probed, so one request per sample.
    Ignored,
    /// The server ignores `n` and nothing is probed (`on`): the first reply teaches it.
    IgnoredUnprobed,
    /// `--n-per-request off` against a server that keeps `n`.
    Off,
}

const PATHS: [Path_; 4] = [
    Path_::Kept,
    Path_::Ignored,
    Path_::IgnoredUnprobed,
    Path_::Off,
];

struct Ran {
    outcome: RunOutcome,
    records: Vec<SampleRecord>,
    requests: u64,
    manifest: serde_json::Value,
}

async fn run(path: Path_, votes: &[(Option<char>, f64)], out: &Path) -> Ran {
    let server = FakeServer::start(FakeConfig {
        n_choices: matches!(path, Path_::Kept | Path_::Off),
        script: Some(Script::letters(SEED, votes)),
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    let n = votes.len() as u32;
    let settings = Settings {
        dataset: "demo".into(),
        endpoints: vec![server.url()],
        model: Some("fake-model".into()),
        mode: Mode::Generate,
        temperature: Some(0.8),
        seed: Some(SEED),
        strategy: Strategy::SelfConsistency(n),
        samples: n,
        limit: Some(ITEMS),
        lang: vec![anesbench_core::Lang::En],
        concurrency: 4,
        timeout_secs: 10.0,
        max_retries: 2,
        n_per_request: match path {
            Path_::Kept | Path_::Ignored => NPerRequest::Auto,
            Path_::IgnoredUnprobed => NPerRequest::On,
            Path_::Off => NPerRequest::Off,
        },
        ..Settings::default()
    };
    let backend = Arc::new(
        OpenAiBackend::new(OpenAiConfig {
            endpoints: settings.endpoints.clone(),
            model: settings.model.clone(),
            request_timeout: Duration::from_secs(10),
            n_per_request: settings.n_per_request,
            ..OpenAiConfig::default()
        })
        .unwrap(),
    );
    let probes = backend.probe_n().await.len() as u64;
    let mut req = RunRequest::new(
        settings,
        common::load_ds("demo"),
        backend,
        out.to_path_buf(),
    );
    req.progress = ProgressMode::Quiet;
    req.retry = RetryPolicy {
        base: Duration::from_millis(1),
        ..req.retry
    };
    let outcome = execute(req).await.unwrap();
    assert_eq!(outcome.errors, 0, "{path:?}");
    let manifest =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    Ran {
        outcome,
        records: raw_lines(out),
        requests: server.generation_requests() - probes,
        manifest,
    }
}

/// (item id, decided letter, rule) per item, from the records alone.
fn decisions(recs: &[SampleRecord]) -> BTreeMap<String, (Option<char>, &'static str)> {
    let mut by_item: BTreeMap<String, Vec<&SampleRecord>> = BTreeMap::new();
    for r in recs {
        by_item.entry(r.id.clone()).or_default().push(r);
    }
    by_item
        .into_iter()
        .map(|(id, rs)| {
            let v = vote::majority(rs);
            (id, (v.answer, v.rule))
        })
        .collect()
}

fn golds() -> Vec<char> {
    anesbench_core::demo::items()
        .into_iter()
        .filter(|i| i.lang == anesbench_core::Lang::En)
        .take(ITEMS)
        .map(|i| i.answer)
        .collect()
}

/// Runs the script on every path and checks the decision of every item, the summary
/// and the request count of each path.
async fn check(votes: &[(Option<char>, f64)], want: (Option<char>, &str)) {
    let n = votes.len();
    let mut seen = Vec::new();
    for path in PATHS {
        let dir = tempfile::tempdir().unwrap();
        let r = run(path, votes, dir.path()).await;
        assert_eq!(r.records.len(), ITEMS * n, "{path:?}");
        let d = decisions(&r.records);
        assert_eq!(d.len(), ITEMS);
        for (id, got) in &d {
            assert_eq!(*got, want, "{path:?}: item {id}");
        }
        // The summary counts items by the same decision.
        let o = &r.outcome.summary.overall;
        assert_eq!(o.n as usize, ITEMS, "{path:?}");
        let right = golds().iter().filter(|&&g| Some(g) == want.0).count() as u64;
        assert_eq!(o.correct, right, "{path:?}");
        assert_eq!(o.no_answer, if want.0.is_none() { ITEMS as u64 } else { 0 });
        // Requests: one per item when `n` is kept; otherwise one per candidate.
        let batched: Vec<Option<u32>> = r.records.iter().map(|x| x.batch).collect();
        let n_path = &r.manifest["backend"]["details"]["n_per_request"];
        match path {
            Path_::Kept => {
                assert_eq!(r.requests, ITEMS as u64, "{path:?}");
                assert!(batched.iter().all(|b| *b == Some(n as u32)), "{batched:?}");
                assert_eq!(n_path["setting"], "auto");
                assert!(n_path["endpoints"].to_string().contains("kept"), "{n_path}");
            }
            Path_::Ignored | Path_::IgnoredUnprobed | Path_::Off => {
                assert_eq!(r.requests, (ITEMS * n) as u64, "{path:?}");
                assert!(batched.iter().all(Option::is_none), "{path:?}: {batched:?}");
                let state = if path == Path_::Off { "off" } else { "ignored" };
                assert!(
                    n_path["endpoints"].to_string().contains(state),
                    "{path:?}: {n_path}"
                );
            }
        }
        // Each candidate's own answer and score (a mean over its tokens, so to 1e-9),
        // whatever the path.
        let nano = |x: f64| (x * 1e9).round() as i64;
        let mut by_sample: Vec<(u32, Option<char>, Option<i64>)> = r
            .records
            .iter()
            .filter(|x| x.id == r.records[0].id)
            .map(|x| (x.sample, x.answer, x.mean_logprob.map(nano)))
            .collect();
        by_sample.sort_by_key(|x| x.0);
        let script: Vec<(u32, Option<char>, Option<i64>)> = votes
            .iter()
            .enumerate()
            .map(|(k, (l, lp))| (k as u32, *l, Some(nano(*lp))))
            .collect();
        assert_eq!(by_sample, script, "{path:?}");
        seen.push((d, r.outcome.summary.maj_at_k.clone()));
    }
    for w in seen.windows(2) {
        assert_eq!(w[0], w[1], "paths disagree");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_most_votes_win_whatever_the_path() {
    check(
        &[
            (Some('B'), -1.0),
            (Some('C'), -0.1),
            (Some('B'), -2.0),
            (None, -0.05),
            (Some('D'), -0.3),
        ],
        (Some('B'), vote::RULE_MAJORITY),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tie_goes_to_the_letter_with_the_higher_mean_logprob() {
    // B: -1.0, -0.8 (mean -0.9); C: -0.2, -0.4 (mean -0.3); the most likely sample says
    // nothing and does not vote.
    check(
        &[
            (Some('B'), -1.0),
            (Some('C'), -0.2),
            (Some('B'), -0.8),
            (Some('C'), -0.4),
            (None, -0.05),
        ],
        (Some('C'), vote::RULE_TIE_LIKELIHOOD),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tie_with_equal_logprobs_is_no_answer() {
    check(
        &[
            (Some('B'), -0.5),
            (Some('C'), -0.5),
            (None, -0.1),
            (Some('C'), -0.5),
            (Some('B'), -0.5),
        ],
        (None, vote::RULE_TIE),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_without_an_answer_do_not_vote() {
    // Four of five say nothing; the one that answers decides.
    check(
        &[
            (None, -0.1),
            (None, -0.1),
            (None, -0.1),
            (Some('D'), -3.0),
            (None, -0.1),
        ],
        (Some('D'), vote::RULE_MAJORITY),
    )
    .await;
    check(&[(None, -0.1), (None, -0.2)], (None, vote::RULE_NO_VOTES)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maj_at_k_takes_the_first_k_candidates_on_every_path() {
    // maj@1: C. maj@2: C(-1.0) against B(-0.5), a tie: B. maj@4: C twice: C.
    let votes = [
        (Some('C'), -1.0),
        (Some('B'), -0.5),
        (Some('C'), -0.1),
        (Some('D'), -0.2),
    ];
    let g = golds();
    let count = |l: char| g.iter().filter(|&&x| x == l).count() as u64;
    let mut curves = Vec::new();
    for path in PATHS {
        let dir = tempfile::tempdir().unwrap();
        let r = run(path, &votes, dir.path()).await;
        let m = &r.outcome.summary.maj_at_k;
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), vec![1, 2, 4]);
        assert_eq!(m[&1]["overall"].correct, count('C'), "{path:?}");
        assert_eq!(m[&2]["overall"].correct, count('B'), "{path:?}");
        assert_eq!(m[&4]["overall"].correct, count('C'), "{path:?}");
        // Run again into a fresh directory: the same curve.
        let again = tempfile::tempdir().unwrap();
        let r2 = run(path, &votes, again.path()).await;
        assert_eq!(
            r2.outcome.summary.maj_at_k, *m,
            "{path:?}: not deterministic"
        );
        curves.push(m.clone());
        // rescore agrees with the stored decision.
        let re =
            anesbench_run::rescore::rescore_with(dir.path(), Some(Aggregation::Majority)).unwrap();
        assert_eq!(re.summary.maj_at_k, *m);
    }
    assert!(curves.windows(2).all(|w| w[0] == w[1]));
}
