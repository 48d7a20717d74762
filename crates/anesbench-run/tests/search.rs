//! Reward strategies against a scripted policy with a known tree of continuations and a
//! fake process reward model that rewards one path: beam search and DVTS find the path,
//! best-of-N picks the best-scored candidate, the weighted vote matches a hand
//! computation, `rescore` re-aggregates offline, and a resume mid-search restarts an
//! unfinished item and never redoes a finished one.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anesbench_backend::fake::reward::FakeRewardServer;
use anesbench_backend::openai::OpenAiConfig;
use anesbench_backend::reward::{
    HttpScorer, RewardApi, RewardFormat, ScoreBatch, ScoreInput, Scored, Scorer,
};
use anesbench_backend::{
    Backend, BackendError, BackendInfo, GenRequest, GenResponse, LoglikRequest, LoglikResponse,
    Prompt,
};
use anesbench_core::vote::{Aggregation, Selection, StepAgg};
use anesbench_run::settings::Strategy;
use anesbench_run::solver::SolverDeps;
use anesbench_run::{execute, Mode, ProgressMode, RetryPolicy, RunRequest, Settings};
use common::*;

/// The policy's tree: after a step (the root is ""), the continuations it may write,
/// picked by `seed % len`. "" is the model ending its reply.
fn tree() -> HashMap<&'static str, Vec<&'static str>> {
    HashMap::from([
        (
            "",
            vec![
                "Consider A.",
                "Consider B.",
                "Consider D at great length here.",
                "Consider C.",
            ],
        ),
        ("Consider A.", vec!["A looks right.", "A looks wrong."]),
        ("Consider B.", vec!["B looks right.", "B looks wrong."]),
        ("Consider C.", vec!["C looks right.", "C looks wrong."]),
        (
            "Consider D at great length here.",
            vec!["D looks right.", "D looks wrong."],
        ),
        ("A looks right.", vec!["Answer: A."]),
        ("B looks right.", vec!["Answer: B."]),
        ("C looks right.", vec!["Answer: C."]),
        ("D looks right.", vec!["Answer: D."]),
        ("A looks wrong.", vec![""]),
        ("B looks wrong.", vec![""]),
        ("C looks wrong.", vec![""]),
        ("D looks wrong.", vec![""]),
    ])
}

/// The path the fake PRM rewards: 0.9 for its step at its position, 0.1 for any other.
const GOLD: [&str; 3] = ["Consider B.", "B looks right.", "Answer: B."];

fn prm_step(k: usize, step: &str) -> f64 {
    if GOLD.get(k) == Some(&step) {
        0.9
    } else {
        0.1
    }
}

struct TreePolicy {
    tree: HashMap<&'static str, Vec<&'static str>>,
    calls: AtomicUsize,
    tokens: AtomicUsize,
}

impl TreePolicy {
    fn new() -> Arc<TreePolicy> {
        Arc::new(TreePolicy {
            tree: tree(),
            calls: AtomicUsize::new(0),
            tokens: AtomicUsize::new(0),
        })
    }
    /// The partial answer a request continues.
    fn partial(req: &GenRequest) -> String {
        match &req.prompt {
            Prompt::Chat(m) => match m.last() {
                Some(last) if last.role == "assistant" => {
                    let extra = req.params.extra_body.as_ref().expect("continue flags");
                    assert_eq!(extra["continue_final_message"], true);
                    assert_eq!(extra["add_generation_prompt"], false);
                    last.content.clone()
                }
                _ => String::new(),
            },
            Prompt::Text(t) => t.clone(),
        }
    }
}

#[async_trait::async_trait]
impl Backend for TreePolicy {
    async fn generate(&self, req: &GenRequest) -> Result<GenResponse, BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        assert_eq!(req.params.stop[0], "\n\n");
        let seed = req.params.seed.expect("a search seeds every step") as usize;
        let max = req.params.max_tokens.expect("step tokens") as usize;
        let partial = Self::partial(req);
        let last = partial
            .rsplit("\n\n")
            .find(|s| !s.trim().is_empty())
            .unwrap_or("");
        let full = if partial.ends_with("\n\n") || partial.is_empty() {
            let opts = &self.tree[last];
            opts[seed % opts.len()].to_string()
        } else {
            // A step cut at the token limit: write the rest of it.
            let k = self
                .tree
                .values()
                .flatten()
                .find(|k| k.starts_with(last) && k.len() > last.len());
            k.expect("a cut step continues a known step")[last.len()..].to_string()
        };
        let words: Vec<&str> = full.split_inclusive(' ').collect();
        let (text, finish) = if words.len() > max {
            (words[..max].concat(), "length")
        } else {
            (full.clone(), "stop")
        };
        let n = text.split_whitespace().count().max(1);
        self.tokens.fetch_add(n, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(GenResponse {
            content: Some(text),
            finish_reason: Some(finish.into()),
            completion_tokens: Some(n as u32),
            mean_logprob: Some(-0.5),
            ..GenResponse::default()
        })
    }
    async fn loglik(&self, _r: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        Err(BackendError::Unsupported("generate only".into()))
    }
    fn describe(&self) -> BackendInfo {
        BackendInfo {
            kind: "scripted".into(),
            model: "tree".into(),
            ..BackendInfo::default()
        }
    }
}

/// The fake PRM in process, counting calls.
struct Prm {
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl Scorer for Prm {
    async fn score(&self, inputs: &[ScoreInput]) -> Result<ScoreBatch, BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(ScoreBatch {
            scores: inputs
                .iter()
                .map(|i| {
                    let r: Vec<f64> = i
                        .steps
                        .iter()
                        .enumerate()
                        .map(|(k, s)| prm_step(k, s))
                        .collect();
                    Scored {
                        reward: *r.last().unwrap(),
                        step_rewards: Some(r),
                        input_hash: "h".into(),
                    }
                })
                .collect(),
            requests: 1,
            input_tokens: 10 * inputs.len() as u64,
        })
    }
    fn per_step(&self) -> bool {
        true
    }
    fn describe(&self) -> BackendInfo {
        BackendInfo::default()
    }
}

fn settings(strategy: Strategy, limit: usize) -> Settings {
    Settings {
        dataset: "demo".into(),
        endpoints: vec!["http://127.0.0.1:9".into()],
        model: Some("tree".into()),
        mode: Mode::Generate,
        temperature: Some(0.8),
        strategy,
        samples: strategy.candidates(),
        limit: Some(limit),
        lang: vec![anesbench_core::Lang::En],
        concurrency: 2,
        timeout_secs: 5.0,
        max_retries: 0,
        ..Settings::default()
    }
}

fn req(
    s: &Settings,
    b: Arc<dyn Backend>,
    scorer: Option<Arc<dyn Scorer>>,
    out: &std::path::Path,
) -> RunRequest {
    let mut r = RunRequest::new(s.clone(), load_ds("demo"), b, out.to_path_buf());
    r.progress = ProgressMode::Quiet;
    r.retry = RetryPolicy {
        base: Duration::from_millis(1),
        ..r.retry
    };
    r.solver_deps = SolverDeps {
        scorer,
        render: None,
    };
    r
}

fn trees(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("trees.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn golds(n: usize) -> Vec<char> {
    anesbench_core::demo::items()
        .into_iter()
        .filter(|i| i.lang == anesbench_core::Lang::En)
        .take(n)
        .map(|i| i.answer)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beam_search_finds_the_path_the_prm_rewards() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings("beam:2,2,32".parse().unwrap(), 2);
    let p = TreePolicy::new();
    let prm = Arc::new(Prm {
        calls: AtomicUsize::new(0),
    });
    let o = execute(req(&s, p.clone(), Some(prm.clone()), dir.path()))
        .await
        .unwrap();
    assert_eq!(o.errors, 0);
    let recs = raw_lines(dir.path());
    assert_eq!(recs.len(), 4, "B = 2 candidates per item");
    for r in &recs {
        assert_eq!(r.answer, Some('B'), "{:?}", r.response);
        assert_eq!(r.response.as_deref(), Some(GOLD.join("\n\n").as_str()));
        assert_eq!(r.step_rewards, Some(vec![0.9, 0.9, 0.9]));
    }
    // Per item: 4 root expansions, 2 x 2 at depth 1, 2 x 2 at depth 2 = 12 step requests;
    // 3 scoring calls (one per depth; the last depth's empty closing steps need none
    // beyond the one call).
    assert_eq!(p.calls.load(Ordering::SeqCst), 24);
    let per_item: Vec<_> = recs
        .iter()
        .filter(|r| r.sample == 0)
        .map(|r| r.compute.unwrap())
        .collect();
    for c in &per_item {
        assert_eq!(c.requests, 12);
        assert_eq!(c.reward_calls, 3);
        assert!(c.reward_input_tokens > 0);
    }
    let total_tokens: u64 = recs
        .iter()
        .map(|r| r.compute.unwrap().generated_tokens)
        .sum();
    assert_eq!(
        total_tokens,
        p.tokens.load(Ordering::SeqCst) as u64,
        "pruned branches counted"
    );
    assert!(recs
        .iter()
        .filter(|r| r.sample == 1)
        .all(|r| r.compute.unwrap().requests == 0));
    // The decision: the best-scored finished beam says B.
    let want = golds(2).iter().filter(|&&g| g == 'B').count() as u64;
    assert_eq!(o.summary.overall.correct, want);
    assert_eq!(o.summary.aggregation, "reward_last_max");
    // The tree: 12 nodes per item, the two final ones on the gold path, pruned ones kept.
    let t = trees(dir.path());
    assert_eq!(t.len(), 2);
    let nodes = t[0]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 12);
    let status = |s: &str| nodes.iter().filter(|n| n["status"] == s).count();
    assert_eq!(status("final"), 2);
    assert!(status("pruned") >= 2);
    for n in nodes.iter().filter(|n| n["status"] == "final") {
        assert_eq!(n["text"], GOLD[2]);
        let parent = &nodes[n["parent"].as_u64().unwrap() as usize];
        assert_eq!(parent["text"], GOLD[1]);
        assert_eq!(parent["status"], "kept");
    }
    assert_eq!(t[0]["strategy"], "beam:2,2,32:last:max");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_cut_at_t_tokens_is_a_valid_step_and_dvts_searches_subtrees() {
    let dir = tempfile::tempdir().unwrap();
    // dvts:4,2 with T = 3: two subtrees of width 2. Root seeds 0,1 (subtree 1: A, B) and
    // 2,3 (subtree 2: D, C; "Consider D at" is cut at 3 tokens, kept on a tie, and
    // continued to its end, then to "Answer: D.").
    let s = settings("dvts:4,2,3".parse().unwrap(), 1);
    let p = TreePolicy::new();
    let prm = Arc::new(Prm {
        calls: AtomicUsize::new(0),
    });
    let o = execute(req(&s, p.clone(), Some(prm), dir.path()))
        .await
        .unwrap();
    assert_eq!(o.errors, 0);
    let recs = raw_lines(dir.path());
    assert_eq!(recs.len(), 2, "N/M = 2 candidates");
    // Subtree 1 (seeds 0, 1: A, B) finds the gold path.
    assert_eq!(recs[0].answer, Some('B'));
    let t = trees(dir.path());
    let nodes = t[0]["nodes"].as_array().unwrap();
    let cut: Vec<_> = nodes.iter().filter(|n| n["cut"] == true).collect();
    assert!(!cut.is_empty(), "{nodes:?}");
    assert_eq!(cut[0]["text"], "Consider D at ");
    assert_eq!(cut[0]["tokens"], 3);
    assert_eq!(
        recs[1].response.as_deref(),
        Some("Consider D at great length here.\n\nD looks right.\n\nAnswer: D.")
    );
    assert_eq!(recs[1].answer, Some('D'));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beam_search_with_the_likelihood_scorer_needs_no_reward_model() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings("beam:2,1,32".parse().unwrap(), 1);
    let p = TreePolicy::new();
    let o = execute(req(&s, p.clone(), None, dir.path())).await.unwrap();
    assert_eq!(o.errors, 0);
    let r = &raw_lines(dir.path())[0];
    // Every step has mean log-probability -0.5: reward exp(-0.5) per step.
    let e = (-0.5f64).exp();
    assert!(r
        .step_rewards
        .as_ref()
        .unwrap()
        .iter()
        .all(|x| (x - e).abs() < 1e-12));
    assert_eq!(r.compute.unwrap().reward_calls, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_mid_search_restarts_the_unfinished_item_and_keeps_the_finished_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings("beam:2,2,32".parse().unwrap(), 3);
    let p = TreePolicy::new();
    let prm: Arc<dyn Scorer> = Arc::new(Prm {
        calls: AtomicUsize::new(0),
    });
    execute(req(&s, p.clone(), Some(prm.clone()), dir.path()))
        .await
        .unwrap();
    let per_item = p.calls.load(Ordering::SeqCst) / 3;
    let all = raw_lines(dir.path());
    let ids: Vec<String> = {
        let mut v: Vec<String> = all.iter().map(|r| r.id.clone()).collect();
        v.dedup();
        v
    };
    // As if killed mid-search: item 0 complete, item 1 with one of its two candidates,
    // item 2 not started.
    let kept: Vec<_> = all
        .iter()
        .filter(|r| r.id == ids[0] || (r.id == ids[1] && r.sample == 0))
        .cloned()
        .collect();
    let lines: String = kept
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::write(dir.path().join("samples.jsonl"), lines).unwrap();
    std::fs::write(
        dir.path().join("trees.jsonl"),
        serde_json::to_string(&trees(dir.path())[0]).unwrap() + "\n",
    )
    .unwrap();
    let p2 = TreePolicy::new();
    let o = execute(req(&s, p2.clone(), Some(prm), dir.path()))
        .await
        .unwrap();
    assert_eq!(
        p2.calls.load(Ordering::SeqCst),
        2 * per_item,
        "items 1 and 2 run whole; item 0 not at all"
    );
    assert_eq!(o.skipped, 2, "item 0's two candidates");
    let after = raw_lines(dir.path());
    assert_eq!(after.len(), 6, "one line per candidate after compaction");
    assert_eq!(
        after.iter().filter(|r| r.id == ids[0]).collect::<Vec<_>>(),
        all.iter().filter(|r| r.id == ids[0]).collect::<Vec<_>>()
    );
    assert_eq!(trees(dir.path()).len(), 3);
    assert_eq!(o.summary.overall.n, 3);
}

/// Candidate k (seed k) of every item: its two steps, and the answer its last one states.
const BON: [&str; 4] = [
    "I weigh the options.\n\nThe answer is A.",
    "I weigh the options.\n\nThe answer is A.",
    "Careful now.\n\nThe answer is C.",
    "Hmm.\n\nThe answer is B.",
];

/// Fake PRM over HTTP: the last step of A scores 0.6, of C 0.9, of B 0.2; other steps 0.5.
fn bon_prm(step: &str) -> f64 {
    match step {
        "The answer is A." => 0.6,
        "The answer is C." => 0.9,
        "The answer is B." => 0.2,
        _ => 0.5,
    }
}

struct Sampler;

#[async_trait::async_trait]
impl Backend for Sampler {
    async fn generate(&self, req: &GenRequest) -> Result<GenResponse, BackendError> {
        let k = req.params.seed.expect("seeded") as usize;
        Ok(GenResponse {
            content: Some(BON[k].into()),
            finish_reason: Some("stop".into()),
            completion_tokens: Some(7),
            ..GenResponse::default()
        })
    }
    async fn loglik(&self, _r: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        Err(BackendError::Unsupported("generate only".into()))
    }
    fn describe(&self) -> BackendInfo {
        BackendInfo::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn best_of_n_with_a_prm_over_http_selects_the_max_and_rescore_weighs_votes() {
    let server = FakeRewardServer::start(RewardApi::VllmPooling, Arc::new(bon_prm), None)
        .await
        .unwrap();
    let scorer = HttpScorer::new(
        OpenAiConfig {
            model: Some("fake-prm".into()),
            ..OpenAiConfig::new(server.url())
        },
        RewardApi::VllmPooling,
        RewardFormat::QwenPrm,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings("bon:4:prm".parse().unwrap(), 3);
    s.seed = Some(0);
    let o = execute(req(
        &s,
        Arc::new(Sampler),
        Some(Arc::new(scorer)),
        dir.path(),
    ))
    .await
    .unwrap();
    assert_eq!(o.errors, 0);
    let recs = raw_lines(dir.path());
    assert_eq!(recs.len(), 12);
    let r2 = recs.iter().find(|r| r.sample == 2).unwrap();
    assert_eq!(r2.step_rewards, Some(vec![0.5, 0.9]));
    assert_eq!(r2.reward, Some(0.9));
    assert!(r2.reward_input_hash.as_ref().is_some_and(|h| h.len() == 64));
    // Max: C (0.9) decides every item.
    let golds = golds(3);
    let count = |l: char| golds.iter().filter(|&&g| g == l).count() as u64;
    assert_eq!(o.summary.overall.correct, count('C'));
    assert_eq!(o.summary.aggregation, "reward_last_max");
    // Weighted, by hand: A 0.6 + 0.6 = 1.2 > C 0.9 > B 0.2 -> A.
    let w = anesbench_run::rescore::rescore_with(
        dir.path(),
        Some(Aggregation::Reward(StepAgg::Last, Selection::Weighted)),
    )
    .unwrap();
    assert_eq!(w.summary.overall.correct, count('A'));
    // By min over steps: A 0.5, A 0.5, C 0.5, B 0.2: a tie at 0.5 between A and C is no answer.
    let m = anesbench_run::rescore::rescore_with(
        dir.path(),
        Some(Aggregation::Reward(StepAgg::Min, Selection::Max)),
    )
    .unwrap();
    assert_eq!(m.summary.overall.correct, 0);
    assert_eq!(m.summary.overall.no_answer, 3);
    // Weighted by prod: A 0.3 + 0.3 = 0.6 > C 0.45 -> A.
    let p = anesbench_run::rescore::rescore_with(
        dir.path(),
        Some(Aggregation::Reward(StepAgg::Prod, Selection::Weighted)),
    )
    .unwrap();
    assert_eq!(p.summary.overall.correct, count('A'));
    // This policy returns one sample per call, so each candidate is its own job and is
    // scored on its own: one scoring request each, counted on its record.
    assert_eq!(server.bodies().len(), 12);
    assert!(recs.iter().all(|r| r.compute.unwrap().reward_calls == 1));
}

#[test]
fn presets_expand_and_strategies_round_trip() {
    use anesbench_run::settings::PRESETS;
    for (preset, expansion) in PRESETS {
        let a: Strategy = preset.parse().unwrap();
        let b: Strategy = expansion.parse().unwrap();
        assert_eq!(a, b, "{preset}");
        assert_eq!(a.to_string(), *expansion);
        let back: Strategy = serde_json::from_value(serde_json::to_value(a).unwrap()).unwrap();
        assert_eq!(back, a);
    }
    let beam4: Strategy = "study:beam4".parse().unwrap();
    assert_eq!(beam4.candidates(), 4);
    assert!(beam4.is_search());
    assert_eq!(
        beam4.aggregation(),
        Aggregation::Reward(StepAgg::Last, Selection::Max)
    );
    assert_eq!("dvts:8,4".parse::<Strategy>().unwrap().candidates(), 2);
    assert_eq!(
        "bon:8:orm:weighted"
            .parse::<Strategy>()
            .unwrap()
            .to_string(),
        "bon:8:orm:weighted"
    );
    for bad in [
        "beam:4,4",
        "dvts:5,2",
        "bon:4:prm:median",
        "beam:0,4,32",
        "study:beam5",
    ] {
        assert!(bad.parse::<Strategy>().is_err(), "{bad}");
    }
    assert!("dvts:5,2"
        .parse::<Strategy>()
        .unwrap_err()
        .contains("multiple"));
}

#[test]
fn reward_settings_are_validated_and_the_endpoint_is_operational() {
    let err = |s: &Settings| s.validate().unwrap_err().to_string();
    let mut s = settings("bon:4:prm".parse().unwrap(), 1);
    assert!(err(&s).contains("`reward_endpoint`"), "{}", err(&s));
    s.reward_endpoint = Some("http://prm:8001".into());
    s.reward_api = Some(RewardApi::VllmClassify);
    assert!(err(&s).contains("`reward_api`"), "{}", err(&s));
    s.reward_api = Some(RewardApi::VllmPooling);
    s.validate().unwrap();
    let mut other = s.clone();
    other.reward_endpoint = Some("http://elsewhere:9".into());
    assert!(s.resume_changes(&other).is_empty());
    other.reward_model = Some("another-prm".into());
    assert_eq!(s.resume_changes(&other)[0].0, "reward_model");
    // One beam kept, four expansions: copies of one another at temperature 0.
    let mut b = settings("beam:4,1,32".parse().unwrap(), 1);
    b.validate().unwrap();
    b.temperature = Some(0.0);
    assert!(err(&b).contains("`temperature`"), "{}", err(&b));
    let mut g = settings(Strategy::Greedy, 1);
    g.temperature = Some(0.0);
    g.reward_endpoint = Some("http://prm:8001".into());
    g.reward_api = Some(RewardApi::VllmPooling);
    assert!(err(&g).contains("reads no reward model"), "{}", err(&g));
}

/// A policy whose every step is one sentence that its end-of-generation token ends.
struct EndsAfterOneStep {
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl Backend for EndsAfterOneStep {
    async fn generate(&self, _req: &GenRequest) -> Result<GenResponse, BackendError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(GenResponse {
            content: Some("Let me think about the options.".into()),
            finish_reason: Some("stop".into()),
            completion_tokens: Some(6),
            mean_logprob: Some(-0.5),
            model_ended: Some(true),
            ..GenResponse::default()
        })
    }
    async fn loglik(&self, _r: &LoglikRequest) -> Result<LoglikResponse, BackendError> {
        Err(BackendError::Unsupported("generate only".into()))
    }
    fn describe(&self) -> BackendInfo {
        BackendInfo {
            kind: "scripted".into(),
            model: "ends".into(),
            ..BackendInfo::default()
        }
    }
}

/// Defect: a step ended by the model's end-of-generation token looked like a step ended
/// by the "\n\n" stop string, so the beam asked for another step (which, on a real model,
/// comes back empty) up to the step cap. Now it ends with that step: one request per
/// root expansion and one node per beam.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_the_model_ends_itself_finishes_its_beam() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings("beam:2,2,32".parse().unwrap(), 1);
    let p = Arc::new(EndsAfterOneStep {
        calls: AtomicUsize::new(0),
    });
    let o = execute(req(&s, p.clone(), None, dir.path())).await.unwrap();
    assert_eq!(o.errors, 0);
    // The root is expanded B x W = 4 times, one request each; nothing after.
    assert_eq!(p.calls.load(Ordering::SeqCst), 4);
    let t = trees(dir.path());
    assert_eq!(t[0]["nodes"].as_array().unwrap().len(), 4);
    for r in raw_lines(dir.path()) {
        assert_eq!(r.finish_reason.as_deref(), Some("stop"));
        assert_eq!(r.step_rewards.as_ref().unwrap().len(), 1);
    }
}
