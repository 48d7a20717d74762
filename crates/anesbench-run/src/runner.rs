//! The runner: plan which (item, candidate) pairs are left, send them to the backend with
//! bounded concurrency and retries through the run's [`Solver`], and fan each finished
//! record out to the sinks.
//!
//! [`execute`] is its stages: plan (select items, render prompts) -> open the run
//! directory and check a resume (settings, shard, prompts) -> write the manifest -> run
//! the workers -> finish (compact, summarise, mark finished). Workers pull jobs from a
//! shared queue and send results to one collector loop, the only writer of `samples.jsonl`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anesbench_backend::Backend;
use anesbench_core::load::Dataset;
use anesbench_core::manifest::{RunInfo, RUN_SCHEMA};
use anesbench_core::permute;
use anesbench_core::size::{resolve_size, SizeSource};
use anesbench_core::{Item, Lang, SampleRecord, Summary};
use tokio::sync::{mpsc, Semaphore};

use crate::error::RunError;
use crate::event::{JsonlSink, RunEvent, Sink};
use crate::progress::{ProgressMode, ProgressSink};
use crate::request::{prepare_all, PreparedPrompt};
use crate::retry::{RetryNotice, RetryPolicy};
use crate::rundir::{read_samples, Manifest, RunDir};
use crate::score::RULE_ERROR;
use crate::select::select;
use crate::settings::Settings;
use crate::solver::{self, CallCtx, Solver};

/// Share of truncated samples above which the run ends with a warning naming `--max-tokens`.
pub const TRUNCATION_WARN_SHARE: f64 = 0.05;

/// Everything one run needs besides the settings.
pub struct RunRequest {
    pub settings: Settings,
    pub dataset: Dataset,
    pub backend: Arc<dyn Backend>,
    /// Run directory (resolved from `settings.out` or a default name by the caller).
    pub out: PathBuf,
    /// Example pool for k-shot prompts (the demo set serves).
    pub shot_pool: Vec<Item>,
    pub tool_version: String,
    pub retry: RetryPolicy,
    pub progress: ProgressMode,
    /// More sinks, called after the JSONL writer and the progress display.
    pub extra_sinks: Vec<Box<dyn Sink>>,
    /// Resolves when the user asks the run to stop (Ctrl-C, SIGTERM): no new samples are
    /// started, requests in flight are dropped (they run again on resume), and everything
    /// already finished is kept and summarised.
    pub stop: Option<StopSignal>,
    /// On resume, drop finished samples whose prompt differs from the one that would be
    /// sent now, and run them again (otherwise such a resume is refused).
    pub rerun_changed_prompts: bool,
    /// The reward model and the prompt renderer reward strategies and searches use.
    pub solver_deps: solver::SolverDeps,
}

/// A future that resolves when the run should stop early.
pub type StopSignal = Pin<Box<dyn Future<Output = ()> + Send>>;

impl RunRequest {
    pub fn new(
        settings: Settings,
        dataset: Dataset,
        backend: Arc<dyn Backend>,
        out: PathBuf,
    ) -> RunRequest {
        let retry = RetryPolicy {
            max_retries: settings.max_retries,
            timeout: Duration::from_secs_f64(settings.timeout_secs),
            ..RetryPolicy::default()
        };
        RunRequest {
            settings,
            dataset,
            backend,
            out,
            shot_pool: anesbench_core::demo::items(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            retry,
            progress: ProgressMode::Auto,
            extra_sinks: Vec::new(),
            stop: None,
            rerun_changed_prompts: false,
            solver_deps: solver::SolverDeps::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub dir: PathBuf,
    pub summary: Summary,
    /// Samples sent to the backend in this invocation.
    pub ran: usize,
    /// Samples found finished in the directory and skipped.
    pub skipped: usize,
    /// Samples (of the whole run) that errored after their retries.
    pub errors: usize,
    pub warnings: Vec<String>,
    /// The stop signal fired: the summary covers only the samples finished so far.
    pub interrupted: bool,
}

/// Candidates of one item made in one solver call: consecutive sample indices, at most
/// the solver's batch limit (one, unless the backend returns several samples per call).
struct Job {
    item: usize,
    samples: Vec<u32>,
}

enum Msg {
    Done(Box<SampleRecord>),
    /// A search's tree, sent after the item's records.
    Tree(serde_json::Value),
    Retry(String, RetryNotice),
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

type ItemKey = (Lang, String);

/// One way an item is asked: the item as displayed (options reordered under
/// `--permute`) and its rendered prompt.
#[derive(Clone)]
struct Ask {
    item: Item,
    prompt: PreparedPrompt,
    /// The order as original letters in displayed order (`--permute` only).
    perm: Option<String>,
}

/// The items of the run and what each is asked.
struct Plan {
    items: Vec<Item>,
    /// Per item: one ask for every candidate, or (under `--permute`) one per order,
    /// candidate `s` being order `s`.
    asks: Vec<Vec<Ask>>,
    permuted: bool,
    /// Index into `items` by (lang, id).
    index: HashMap<ItemKey, usize>,
}

impl Plan {
    /// Candidates of item `i`: the solver's count, or one per order when permuted.
    fn candidates(&self, i: usize, solver_n: u32) -> u32 {
        if self.permuted {
            self.asks[i].len() as u32
        } else {
            solver_n
        }
    }
    /// What candidate `sample` of item `i` is asked.
    fn ask(&self, i: usize, sample: u32) -> &Ask {
        let a = &self.asks[i];
        &a[(sample as usize).min(a.len() - 1)]
    }
    fn total(&self, solver_n: u32) -> usize {
        (0..self.items.len())
            .map(|i| self.candidates(i, solver_n) as usize)
            .sum()
    }
}

/// Which candidates are left, after reading what the directory already holds.
struct Resume {
    jobs: VecDeque<Job>,
    total: usize,
    skipped: usize,
    correct_before: usize,
}

/// Run (or resume) an evaluation into `req.out`.
pub async fn execute(req: RunRequest) -> Result<RunOutcome, RunError> {
    let RunRequest {
        settings,
        dataset,
        backend,
        out,
        shot_pool,
        tool_version,
        retry,
        progress,
        extra_sinks,
        stop,
        rerun_changed_prompts,
        solver_deps,
    } = req;
    let solver = solver::for_settings(&settings, &solver_deps).map_err(RunError::NotReady)?;
    let plan = plan(&dataset, &settings, &shot_pool)?;

    let rd = RunDir::open(&out)?;
    let old = rd.read_manifest()?;
    check_settings(old.as_ref(), &settings, &dataset, &out)?;
    let mut warnings = Vec::new();
    if let Some(who) = rd.took_over() {
        warnings.push(format!(
            "{}: took over the lock of a run that is gone ({who})",
            out.display()
        ));
    }
    let resume = resume(
        &rd,
        &plan,
        solver.as_ref(),
        solver.batch_limit(backend.as_ref()),
        rerun_changed_prompts,
        &mut warnings,
    )?;
    let mut manifest = manifest(
        old.as_ref(),
        &settings,
        &dataset,
        backend.as_ref(),
        &plan,
        solver.as_ref(),
        &tool_version,
    );
    if let Some(sc) = &solver_deps.scorer {
        if let Ok(v) = serde_json::to_value(sc.describe()) {
            manifest.backend.details.insert("reward".into(), v);
        }
    }
    rd.write_manifest(&manifest)?;

    let trees = rd.path().join(anesbench_core::rundir::TREES);
    let mut sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(JsonlSink(rd.appender()?)),
        Box::new(ProgressSink::new(progress)),
    ];
    sinks.extend(extra_sinks);
    let ran = resume.jobs.iter().map(|j| j.samples.len()).sum();
    let skipped = resume.skipped;
    let described = backend.clone();
    let interrupted = run_jobs(
        &plan,
        resume,
        Workers {
            solver,
            backend,
            retry,
            concurrency: settings.concurrency,
        },
        stop,
        &mut sinks,
        &warnings,
        &trees,
    )
    .await?;

    let fin = finish(
        &rd,
        &plan,
        settings.aggregation(),
        manifest.info.summary_per_item(),
    )?;
    warnings.extend(fin.warnings.iter().cloned());
    for w in &fin.warnings {
        for s in sinks.iter_mut() {
            s.event(&RunEvent::Warning(w))?;
        }
    }
    // `finished_at` says the run is complete: every selected sample done, none errored.
    // An interrupted or errored run leaves it empty; a resume with nothing to do keeps it.
    let complete = !interrupted && fin.errors == 0 && fin.done == manifest.info.expected_samples();
    let keep = ran == 0
        && old
            .as_ref()
            .and_then(|m| m.info.finished_at.clone())
            .is_some();
    // What the backend learnt while running (an HTTP server found to ignore `n`).
    // The reward model's entry is the runner's own addition: keep it.
    let reward = manifest.backend.details.get("reward").cloned();
    manifest.backend = described.describe();
    if let Some(r) = reward {
        manifest.backend.details.insert("reward".into(), r);
    }
    manifest.info.finished_at = match (complete, keep) {
        (true, true) => old.and_then(|m| m.info.finished_at),
        (true, false) => Some(now_rfc3339()),
        (false, _) => None,
    };
    rd.write_manifest(&manifest)?;
    Ok(RunOutcome {
        dir: out,
        summary: fin.summary,
        ran,
        skipped,
        errors: fin.errors,
        warnings,
        interrupted,
    })
}

/// Stage 1: select the items and render every prompt, so a broken template fails before
/// any model call.
fn plan(dataset: &Dataset, settings: &Settings, shot_pool: &[Item]) -> Result<Plan, RunError> {
    let items = select(&dataset.items, settings);
    // Every (item, order) shown, flat, with the item it belongs to.
    let mut shown: Vec<(usize, Item, Option<String>)> = Vec::new();
    for (i, it) in items.iter().enumerate() {
        match settings.permute {
            Some(p) => {
                for order in p.orders(&it.id, it.options.len()) {
                    shown.push((
                        i,
                        permute::apply(it, &order),
                        Some(permute::perm_string(&order)),
                    ));
                }
            }
            None => shown.push((i, it.clone(), None)),
        }
    }
    let flat: Vec<Item> = shown.iter().map(|(_, it, _)| it.clone()).collect();
    let prompts = prepare_all(&flat, settings, shot_pool).map_err(|(k, message)| {
        let i = shown.get(k).map_or(0, |x| x.0);
        RunError::Prompt {
            index: i,
            id: items.get(i).map(|it| it.id.clone()).unwrap_or_default(),
            message,
        }
    })?;
    let mut asks: Vec<Vec<Ask>> = (0..items.len()).map(|_| Vec::new()).collect();
    for ((i, item, perm), prompt) in shown.into_iter().zip(prompts) {
        asks[i].push(Ask { item, prompt, perm });
    }
    let index = items
        .iter()
        .enumerate()
        .map(|(i, it)| ((it.lang, it.id.clone()), i))
        .collect();
    Ok(Plan {
        items,
        asks,
        permuted: settings.permute.is_some(),
        index,
    })
}

/// Stage 2a: a resumed run must have the same result-affecting settings (the shard
/// included) and the same dataset.
fn check_settings(
    old: Option<&Manifest>,
    settings: &Settings,
    dataset: &Dataset,
    out: &Path,
) -> Result<(), RunError> {
    let Some(old) = old else { return Ok(()) };
    let mut stored = settings.clone();
    stored.out = None;
    let mut changes = old.settings.resume_changes(&stored);
    if old.info.dataset_fingerprint != dataset.fingerprint {
        changes.push((
            "dataset_fingerprint".into(),
            old.info.dataset_fingerprint.clone(),
            dataset.fingerprint.clone(),
        ));
    }
    if changes.is_empty() {
        return Ok(());
    }
    let shard_hint = if changes.iter().any(|c| c.0 == "shard") {
        "\n  (a shard resumes only as itself; `anesbench merge` combines finished shards)"
    } else {
        ""
    };
    Err(RunError::SettingsChanged {
        dir: out.to_path_buf(),
        changes: changes
            .iter()
            .map(|(f, a, b)| format!("  {f}: {a} -> {b}"))
            .collect::<Vec<_>>()
            .join("\n")
            + shard_hint,
    })
}

/// Stage 2b: read what is already done; a finished sample counts only if it was made with
/// the prompt that would be sent now.
fn resume(
    rd: &RunDir,
    plan: &Plan,
    solver: &dyn Solver,
    batch: u32,
    rerun_changed_prompts: bool,
    warnings: &mut Vec<String>,
) -> Result<Resume, RunError> {
    let loaded = rd.load_samples()?;
    if loaded.torn_bytes > 0 {
        warnings.push(format!(
            "{}: cut a torn last line ({} bytes) left by an interrupted run; that sample will run again",
            rd.samples_path().display(),
            loaded.torn_bytes
        ));
    }
    let per_item = solver.candidates_per_item();
    let in_plan = |r: &SampleRecord| {
        plan.index
            .get(&(r.lang, r.id.clone()))
            .filter(|&&i| r.sample < plan.candidates(i, per_item))
            .copied()
    };
    let finished: Vec<(&SampleRecord, usize)> = loaded
        .records
        .iter()
        .filter(|r| r.error.is_none())
        .filter_map(|r| in_plan(r).map(|i| (r, i)))
        .collect();
    let changed: Vec<&SampleRecord> = finished
        .iter()
        .filter(|(r, i)| r.prompt_hash != plan.ask(*i, r.sample).prompt.hash)
        .map(|(r, _)| *r)
        .collect();
    let mut stale: HashSet<(Lang, String, u32)> = HashSet::new();
    if !changed.is_empty() {
        if !rerun_changed_prompts {
            let r = changed[0];
            return Err(RunError::PromptChanged {
                dir: rd.path().to_path_buf(),
                changed: changed.len(),
                finished: finished.len(),
                first: format!("{}:{} sample {}", r.lang, r.id, r.sample),
                why: String::new(),
            });
        }
        stale = changed.iter().map(|r| r.key()).collect();
        // Drop them from the file now, so an interruption cannot leave both prompts in it.
        let kept: Vec<SampleRecord> = loaded
            .records
            .iter()
            .filter(|r| !stale.contains(&r.key()))
            .cloned()
            .collect();
        rd.rewrite_samples(&kept)?;
        warnings.push(format!(
            "{} finished samples were made with another prompt; they were dropped and run again",
            stale.len()
        ));
    }
    let mut done: HashSet<(Lang, String, u32)> = finished
        .iter()
        .map(|(r, _)| r.key())
        .filter(|k| !stale.contains(k))
        .collect();
    if solver.whole_item() {
        // A search makes all of an item's candidates at once: an item with only some of
        // them in (interrupted between its records) runs again from the start.
        for it in &plan.items {
            let have = (0..per_item)
                .filter(|s| done.contains(&(it.lang, it.id.clone(), *s)))
                .count();
            if have > 0 && have < per_item as usize {
                for s in 0..per_item {
                    done.remove(&(it.lang, it.id.clone(), s));
                }
            }
        }
    }
    let correct_before = finished
        .iter()
        .filter(|(r, _)| r.correct && done.contains(&r.key()))
        .count();
    let mut jobs = VecDeque::new();
    let mut queued = 0usize;
    for (i, it) in plan.items.iter().enumerate() {
        let mut run: Vec<u32> = Vec::new();
        // Each order has its own prompt: permuted candidates go one per call.
        let batch = if plan.permuted { 1 } else { batch };
        for s in 0..plan.candidates(i, per_item) {
            if done.contains(&(it.lang, it.id.clone(), s)) {
                continue;
            }
            // A job is a run of consecutive missing samples, so a batched call's choice
            // `k` is sample `first + k` with its own seed.
            let breaks =
                run.last().is_some_and(|&l| l + 1 != s) || run.len() >= batch.max(1) as usize;
            if breaks {
                queued += run.len();
                jobs.push_back(Job {
                    item: i,
                    samples: std::mem::take(&mut run),
                });
            }
            run.push(s);
        }
        if !run.is_empty() {
            queued += run.len();
            jobs.push_back(Job {
                item: i,
                samples: run,
            });
        }
    }
    let total = plan.total(per_item);
    Ok(Resume {
        skipped: total - queued,
        jobs,
        total,
        correct_before,
    })
}

/// Stage 3: the manifest, with what this invocation adds to an existing one.
fn manifest(
    old: Option<&Manifest>,
    settings: &Settings,
    dataset: &Dataset,
    backend: &dyn Backend,
    plan: &Plan,
    solver: &dyn Solver,
    tool_version: &str,
) -> Manifest {
    let info = backend.describe();
    let model = settings
        .model
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            if info.model.is_empty() {
                settings.model_label()
            } else {
                info.model.clone()
            }
        });
    let (param_count_b, param_count_source) = match settings.param_count {
        Some(b) => (Some(b), Some(SizeSource::Flag)),
        None => resolve_size(&model, None, None),
    };
    let mut tool_versions = old.map_or_else(Vec::new, |m| {
        if m.info.tool_versions.is_empty() {
            vec![m.info.tool_version.clone()]
        } else {
            m.info.tool_versions.clone()
        }
    });
    tool_versions.push(tool_version.to_string());
    let mut stored = settings.clone();
    stored.out = None;
    // Credentials in an endpoint URL (`user:pw@`, `?key=`) never reach the manifest.
    stored.endpoints = stored
        .endpoints
        .iter()
        .map(|e| anesbench_backend::redact_url(e))
        .collect();
    stored.reward_endpoint = stored
        .reward_endpoint
        .as_deref()
        .map(anesbench_backend::redact_url);
    Manifest {
        info: RunInfo {
            run_schema: RUN_SCHEMA,
            tool_version: old
                .map_or_else(|| tool_version.to_string(), |m| m.info.tool_version.clone()),
            tool_versions,
            param_count_b,
            param_count_source,
            model,
            mode: settings.mode.name().into(),
            prompt: settings.prompt_label(),
            temperature: settings.temperature,
            samples_per_item: if plan.permuted {
                (0..plan.items.len())
                    .map(|i| plan.candidates(i, 1))
                    .max()
                    .unwrap_or(1)
            } else {
                solver.candidates_per_item()
            },
            solver: settings.permuted_label(&solver.label()),
            permute: settings.permute.map(|p| p.to_string()),
            planned_samples: plan
                .permuted
                .then(|| plan.total(solver.candidates_per_item())),
            dataset_source: dataset.source.clone(),
            dataset_fingerprint: dataset.fingerprint.clone(),
            selected_items: plan.items.len(),
            subset: settings.subset(),
            started_at: old.map_or_else(now_rfc3339, |m| m.info.started_at.clone()),
            finished_at: None,
        },
        backend: info,
        settings: stored,
    }
}

/// What the workers share.
struct Workers {
    solver: Arc<dyn Solver>,
    backend: Arc<dyn Backend>,
    retry: RetryPolicy,
    /// Requests in flight at most (`--concurrency`).
    concurrency: usize,
}

/// Stage 4: the workers and the collector. Returns whether the run was interrupted.
async fn run_jobs(
    plan: &Plan,
    resume: Resume,
    w: Workers,
    stop: Option<StopSignal>,
    sinks: &mut [Box<dyn Sink>],
    warnings: &[String],
    trees_path: &Path,
) -> Result<bool, RunError> {
    let mut trees: Option<crate::rundir::SampleAppender> = None;
    let mut fan = |ev: RunEvent<'_>| -> Result<(), RunError> {
        for s in sinks.iter_mut() {
            s.event(&ev)?;
        }
        Ok(())
    };
    for w in warnings {
        fan(RunEvent::Warning(w))?;
    }
    fan(RunEvent::Start {
        total: resume.total,
        done: resume.skipped,
        correct_before: resume.correct_before,
    })?;
    let mut stop = stop.unwrap_or_else(|| Box::pin(std::future::pending()));
    let started = Instant::now();
    let Workers {
        solver,
        backend,
        retry,
        concurrency,
    } = w;
    let workers = concurrency.min(resume.jobs.len()).max(1);
    // Never more requests inside the backend than it works on at once.
    let gate = backend
        .capacity()
        .map(|n| Arc::new(Semaphore::new(n.max(1))));
    let queue = Arc::new(Mutex::new(resume.jobs));
    let items = Arc::new(plan.items.clone());
    let asks: Arc<Vec<Vec<Ask>>> = Arc::new(plan.asks.clone());
    let what = {
        let info = backend.describe();
        info.endpoints.first().cloned().unwrap_or(info.kind)
    };
    let (tx, mut rx) = mpsc::channel::<Msg>(workers * 2);
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (queue, items, asks) = (queue.clone(), items.clone(), asks.clone());
        let (solver, backend, tx, what, gate) = (
            solver.clone(),
            backend.clone(),
            tx.clone(),
            what.clone(),
            gate.clone(),
        );
        handles.push(tokio::spawn(async move {
            loop {
                let job = queue.lock().map(|mut q| q.pop_front()).ok().flatten();
                let Some(job) = job else { break };
                let item = &items[job.item];
                // Progress only: a notice dropped because the channel is full costs a
                // line. The key is built only when a retry happens (hot path otherwise).
                let on_retry = |n: RetryNotice| {
                    let key = format!("{}#{}", item.key(), job.samples[0]);
                    let _ = tx.try_send(Msg::Retry(key, n));
                };
                let slot = solver::TreeSlot::default();
                let cx = CallCtx {
                    backend: backend.as_ref(),
                    retry: &retry,
                    what: &what,
                    on_retry: &on_retry,
                    gate: gate.as_deref(),
                    tree: Some(&slot),
                };
                let a = &asks[job.item];
                let one = &a[(job.samples[0] as usize).min(a.len() - 1)];
                let ask = JobAsk {
                    shown: &one.item,
                    prompt: &one.prompt,
                    perm: one.perm.as_deref(),
                };
                let recs = run_job(&cx, solver.as_ref(), item, &job.samples, ask).await;
                let failed = recs.iter().any(|r| r.error.is_some());
                let mut gone = false;
                for rec in recs {
                    if tx.send(Msg::Done(Box::new(rec))).await.is_err() {
                        gone = true;
                        break;
                    }
                }
                let tree = slot.lock().ok().and_then(|mut t| t.take());
                if let (Some(t), false, false) = (tree, failed, gone) {
                    gone = tx.send(Msg::Tree(t)).await.is_err();
                }
                if gone {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let stop_all = |handles: &[tokio::task::JoinHandle<()>]| {
        if let Ok(mut q) = queue.lock() {
            q.clear();
        }
        for h in handles {
            h.abort();
        }
    };
    let mut interrupted = false;
    loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = &mut stop, if !interrupted => {
                // Workers hold the only senders: once aborted they drop them, and the
                // loop ends after the results already queued have been recorded.
                interrupted = true;
                stop_all(&handles);
                fan(RunEvent::Warning(
                    "interrupted: no new samples are started; requests in flight are dropped and run again on resume",
                ))?;
                continue;
            }
        };
        let Some(msg) = msg else { break };
        let res = match &msg {
            Msg::Done(r) => fan(RunEvent::Sample(r)),
            Msg::Retry(key, n) => fan(RunEvent::Retry { key, notice: n }),
            Msg::Tree(t) => {
                if trees.is_none() {
                    trees = Some(crate::rundir::SampleAppender::open(trees_path)?);
                }
                match trees.as_mut() {
                    Some(a) => a.append_json(t),
                    None => Ok(()),
                }
            }
        };
        if let Err(e) = res {
            // A run that cannot record its samples must not go on: stop every worker now
            // (requests in flight are dropped, as on Ctrl-C); what is on disk stays.
            stop_all(&handles);
            drop(rx);
            for h in handles {
                let _ = h.await;
            }
            return Err(RunError::WriteFailed(Box::new(e)));
        }
    }
    drop(rx);
    for h in handles {
        let _ = h.await;
    }
    fan(RunEvent::Finish {
        elapsed: started.elapsed(),
    })?;
    Ok(interrupted)
}

/// What one job sends: the item as displayed, its prompt, and the order (permuted runs;
/// their jobs hold one candidate each).
struct JobAsk<'a> {
    shown: &'a Item,
    prompt: &'a PreparedPrompt,
    perm: Option<&'a str>,
}

async fn run_job(
    cx: &CallCtx<'_>,
    solver: &dyn Solver,
    item: &Item,
    samples: &[u32],
    ask: JobAsk<'_>,
) -> Vec<SampleRecord> {
    let JobAsk {
        shown,
        prompt,
        perm,
    } = ask;
    let letters: String = item.letters().into_iter().collect();
    let mut recs: Vec<SampleRecord> = samples
        .iter()
        .map(|&sample| SampleRecord {
            prompt_hash: prompt.hash.clone(),
            rule: RULE_ERROR.into(),
            ..SampleRecord::new(
                item.id.clone(),
                item.lang,
                item.level,
                sample,
                item.answer,
                letters.clone(),
            )
        })
        .collect();
    if let [sample] = samples {
        let t0 = Instant::now();
        solver
            .candidate(cx, shown, *sample, prompt, &mut recs[0])
            .await;
        recs[0].latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
    } else {
        solver
            .candidates(cx, shown, samples, prompt, &mut recs)
            .await;
    }
    for rec in &mut recs {
        if let Some(p) = perm {
            to_original_order(rec, p);
        }
        if rec.error.is_some() {
            rec.rule = RULE_ERROR.into();
            rec.answer = None;
        }
        rec.correct = rec.error.is_none() && rec.answer == Some(item.answer);
    }
    recs
}

/// A permuted candidate's answer and option log-probabilities back in original letters;
/// the displayed letter picked stays in `position`.
fn to_original_order(rec: &mut SampleRecord, perm: &str) {
    rec.perm = Some(perm.to_string());
    rec.position = rec.answer;
    rec.answer = rec.answer.and_then(|a| permute::to_original(perm, a));
    if let Some(lp) = rec.option_logprobs.take() {
        rec.option_logprobs = Some(
            lp.into_iter()
                .filter_map(|(shown, v)| permute::to_original(perm, shown).map(|o| (o, v)))
                .collect(),
        );
    }
}

struct Finished {
    summary: Summary,
    /// Records of the plan without error.
    done: usize,
    errors: usize,
    warnings: Vec<String>,
}

/// Stage 5: compact the file (one line per candidate, latest wins), summarise the
/// planned records, and warn about truncation.
fn finish(
    rd: &RunDir,
    plan: &Plan,
    agg: anesbench_core::vote::Aggregation,
    per_item: Option<u32>,
) -> Result<Finished, RunError> {
    let all = read_samples(&rd.samples_path())?;
    if all.superseded > 0 {
        rd.rewrite_samples(&all.records)?;
    }
    let records: Vec<&SampleRecord> = all
        .records
        .iter()
        .filter(|r| plan.index.contains_key(&(r.lang, r.id.clone())))
        .collect();
    let summary = Summary::aggregate(records.iter().copied(), agg, per_item);
    rd.write_summary(&summary)?;
    let errors = records.iter().filter(|r| r.is_error()).count();
    let done = records.len() - errors;
    let truncated = records.iter().filter(|r| r.is_truncated()).count();
    let mut warnings = Vec::new();
    if !records.is_empty() && truncated as f64 > TRUNCATION_WARN_SHARE * records.len() as f64 {
        warnings.push(format!(
            "{truncated} of {} samples ({:.0}%) were cut at the token limit, and a cut reply rarely states its answer; raise `--max-tokens` and run again into a new `--out`",
            records.len(),
            100.0 * truncated as f64 / records.len() as f64
        ));
    }
    Ok(Finished {
        summary,
        done,
        errors,
        warnings,
    })
}
