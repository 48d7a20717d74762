//! The runner: resolve which (item, sample) pairs are left, send them to the backend with
//! bounded concurrency and retries, and fan each finished sample out to the sinks.
//!
//! Workers pull jobs from a shared queue and send results over a channel to one collector
//! loop, which is the only writer of `samples.jsonl`.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anesbench_backend::{Backend, GenRequest, LoglikRequest};
use anesbench_core::load::Dataset;
use anesbench_core::manifest::{RunInfo, RUN_SCHEMA};
use anesbench_core::{Item, SampleRecord, Summary};
use tokio::sync::mpsc;

use crate::error::RunError;
use crate::event::{JsonlSink, RunEvent, Sink};
use crate::progress::{ProgressMode, ProgressSink};
use crate::request::{gen_params, prepare_all, PreparedPrompt};
use crate::retry::{with_retries, RetryNotice, RetryPolicy};
use crate::rundir::{read_samples, Manifest, RunDir};
use crate::score::{argmax_letter, join_reasoning, score_text, RULE_ERROR, RULE_LOGLIK};
use crate::select::select;
use crate::settings::{param_count_from_name, Mode, Settings};

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

struct Job {
    item: usize,
    sample: u32,
}

enum Msg {
    Done(Box<SampleRecord>),
    Retry(String, RetryNotice),
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

fn changed_message(changes: &[(String, String, String)]) -> String {
    changes
        .iter()
        .map(|(f, a, b)| format!("  {f}: {a} -> {b}"))
        .collect::<Vec<_>>()
        .join("\n")
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
    } = req;
    let mut stop = stop.unwrap_or_else(|| Box::pin(std::future::pending()));
    let items = select(&dataset.items, &settings);
    let prompts =
        prepare_all(&items, &settings, &shot_pool).map_err(|(i, message)| RunError::Prompt {
            index: i,
            id: items.get(i).map(|it| it.id.clone()).unwrap_or_default(),
            message,
        })?;

    let rd = RunDir::open(&out)?;
    let mut warnings = Vec::new();
    let mut stored = settings.clone();
    stored.out = None;
    let old = rd.read_manifest()?;
    if let Some(old) = &old {
        let mut changes = old.settings.result_changes(&stored);
        if old.info.dataset_fingerprint != dataset.fingerprint {
            changes.push((
                "dataset_fingerprint".into(),
                old.info.dataset_fingerprint.clone(),
                dataset.fingerprint.clone(),
            ));
        }
        if !changes.is_empty() {
            return Err(RunError::SettingsChanged {
                dir: out.clone(),
                changes: changed_message(&changes),
            });
        }
    }
    let loaded = rd.load_samples()?;
    if loaded.torn_bytes > 0 {
        warnings.push(format!(
            "{}: cut a torn last line ({} bytes) left by an interrupted run; that sample will run again",
            rd.samples_path().display(),
            loaded.torn_bytes
        ));
    }

    let wanted: HashSet<(anesbench_core::Lang, String)> =
        items.iter().map(|i| (i.lang, i.id.clone())).collect();
    let finished: HashSet<_> = loaded
        .records
        .iter()
        .filter(|r| r.error.is_none() && wanted.contains(&(r.lang, r.id.clone())))
        .map(SampleRecord::key)
        .collect();
    let correct_before = loaded
        .records
        .iter()
        .filter(|r| finished.contains(&r.key()) && r.correct)
        .count();
    let mut jobs = VecDeque::new();
    for (i, it) in items.iter().enumerate() {
        for s in 0..settings.samples {
            if !finished.contains(&(it.lang, it.id.clone(), s)) {
                jobs.push_back(Job { item: i, sample: s });
            }
        }
    }
    let total = items.len() * settings.samples as usize;
    let skipped = total - jobs.len();

    let info = backend.describe();
    let what = info
        .endpoints
        .first()
        .cloned()
        .unwrap_or_else(|| info.kind.clone());
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
    let mut manifest = Manifest {
        info: RunInfo {
            run_schema: RUN_SCHEMA,
            tool_version,
            param_count_b: settings
                .param_count
                .or_else(|| param_count_from_name(&model)),
            model,
            mode: settings.mode.name().into(),
            prompt: settings.prompt_label(),
            temperature: settings.temperature,
            samples_per_item: settings.samples,
            solver: if settings.samples > 1 {
                "self-consistency".into()
            } else {
                "greedy".into()
            },
            dataset_source: dataset.source.clone(),
            dataset_fingerprint: dataset.fingerprint.clone(),
            started_at: old
                .as_ref()
                .map(|m| m.info.started_at.clone())
                .unwrap_or_else(now_rfc3339),
            finished_at: None,
        },
        selected_items: items.len(),
        backend: info,
        settings: stored,
    };
    rd.write_manifest(&manifest)?;

    let mut sinks: Vec<Box<dyn Sink>> = vec![
        Box::new(JsonlSink(rd.appender()?)),
        Box::new(ProgressSink::new(progress)),
    ];
    sinks.extend(extra_sinks);
    let mut fan = |ev: RunEvent<'_>| -> Result<(), RunError> {
        for s in sinks.iter_mut() {
            s.event(&ev)?;
        }
        Ok(())
    };
    for w in &warnings {
        fan(RunEvent::Warning(w))?;
    }
    fan(RunEvent::Start {
        total,
        done: skipped,
        correct_before,
    })?;

    let started = Instant::now();
    let ran = jobs.len();
    let workers = settings.concurrency.min(jobs.len()).max(1);
    let queue = Arc::new(Mutex::new(jobs));
    let items = Arc::new(items);
    let prompts = Arc::new(prompts);
    let settings = Arc::new(settings);
    let (tx, mut rx) = mpsc::channel::<Msg>(workers * 2);
    let mut handles = Vec::with_capacity(workers);
    for _ in 0..workers {
        let (queue, items, prompts) = (queue.clone(), items.clone(), prompts.clone());
        let ctx = Ctx {
            settings: settings.clone(),
            backend: backend.clone(),
            retry,
            what: what.clone(),
            tx: tx.clone(),
        };
        handles.push(tokio::spawn(async move {
            loop {
                let job = queue.lock().map(|mut q| q.pop_front()).ok().flatten();
                let Some(job) = job else { break };
                let item = &items[job.item];
                let rec = ctx.run_one(item, job.sample, &prompts[job.item]).await;
                if ctx.tx.send(Msg::Done(Box::new(rec))).await.is_err() {
                    break;
                }
            }
        }));
    }
    drop(tx);
    let mut failure = None;
    let mut interrupted = false;
    loop {
        let msg = tokio::select! {
            m = rx.recv() => m,
            _ = &mut stop, if !interrupted => {
                // Workers hold the only senders: once aborted they drop them, and the
                // loop ends after the results already queued have been recorded.
                interrupted = true;
                if let Ok(mut q) = queue.lock() {
                    q.clear();
                }
                for h in &handles {
                    h.abort();
                }
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
        };
        if let Err(e) = res {
            // Stop the workers: a run that cannot record its samples must not go on.
            if let Ok(mut q) = queue.lock() {
                q.clear();
            }
            failure = Some(e);
            break;
        }
    }
    drop(rx);
    for h in handles {
        let _ = h.await;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    fan(RunEvent::Finish {
        elapsed: started.elapsed(),
    })?;

    // Compact: one line per (item, sample), latest wins, so every sample appears once.
    let all = read_samples(&rd.samples_path())?;
    if all.superseded > 0 {
        rd.rewrite_samples(&all.records)?;
    }
    let records: Vec<&SampleRecord> = all
        .records
        .iter()
        .filter(|r| wanted.contains(&(r.lang, r.id.clone())))
        .collect();
    let summary = Summary::from_records(records.iter().copied());
    rd.write_summary(&summary)?;
    let errors = records.iter().filter(|r| r.is_error()).count();
    // An interrupted run is not finished: `finished_at` stays empty until a resume completes it.
    if !interrupted {
        manifest.info.finished_at = Some(now_rfc3339());
        rd.write_manifest(&manifest)?;
    }
    Ok(RunOutcome {
        dir: out,
        summary,
        ran,
        skipped,
        errors,
        warnings,
        interrupted,
    })
}

/// What each worker shares.
struct Ctx {
    settings: Arc<Settings>,
    backend: Arc<dyn Backend>,
    retry: RetryPolicy,
    /// Where requests go, for timeout messages.
    what: String,
    tx: mpsc::Sender<Msg>,
}

impl Ctx {
    async fn run_one(&self, item: &Item, sample: u32, prompt: &PreparedPrompt) -> SampleRecord {
        let (s, backend, retry, what, tx) = (
            &*self.settings,
            self.backend.as_ref(),
            &self.retry,
            self.what.as_str(),
            &self.tx,
        );
        let key = format!("{}#{sample}", item.key());
        // Progress only: a notice dropped because the channel is full costs nothing but a line.
        let on_retry = |n: RetryNotice| {
            let _ = tx.try_send(Msg::Retry(key.clone(), n));
        };
        let t0 = Instant::now();
        let mut rec = SampleRecord {
            prompt_hash: prompt.hash.clone(),
            rule: RULE_ERROR.into(),
            ..SampleRecord::new(
                item.id.clone(),
                item.lang,
                item.level,
                sample,
                item.answer,
                item.letters().into_iter().collect::<String>(),
            )
        };
        match s.mode {
            Mode::Generate => {
                let req = GenRequest {
                    prompt: prompt.prompt.clone(),
                    params: gen_params(s, sample),
                };
                let (res, attempts) =
                    with_retries(retry, what, || backend.generate(&req), on_retry).await;
                rec.attempts = attempts;
                match res {
                    Ok(resp) => {
                        let (think, ex) = score_text(
                            resp.content.as_deref(),
                            resp.reasoning.as_deref(),
                            &item.options,
                            resp.finish_reason.as_deref(),
                        );
                        rec.reasoning = join_reasoning(resp.reasoning, think);
                        rec.response = resp.content;
                        rec.answer = ex.answer;
                        rec.rule = ex.rule;
                        rec.finish_reason = resp.finish_reason;
                        rec.prompt_tokens = resp.prompt_tokens;
                        rec.completion_tokens = resp.completion_tokens;
                        rec.reasoning_tokens = resp.reasoning_tokens;
                        rec.endpoint = resp.endpoint;
                    }
                    Err(e) => rec.error = Some(e.to_string()),
                }
            }
            Mode::Loglik => {
                let candidates: Vec<String> = item.letters().iter().map(char::to_string).collect();
                let req = LoglikRequest {
                    prompt: prompt.prompt.clone(),
                    candidates,
                };
                let (res, attempts) =
                    with_retries(retry, what, || backend.loglik(&req), on_retry).await;
                rec.attempts = attempts;
                match res {
                    Ok(resp) if resp.logprobs.len() == item.options.len() => {
                        rec.answer = argmax_letter(&resp.logprobs);
                        rec.rule = if rec.answer.is_some() {
                            RULE_LOGLIK.into()
                        } else {
                            "no_answer".into()
                        };
                        rec.option_logprobs =
                            Some(item.letters().into_iter().zip(resp.logprobs).collect());
                        rec.prompt_tokens = resp.prompt_tokens;
                        rec.endpoint = resp.endpoint;
                    }
                    Ok(resp) => {
                        rec.error = Some(format!(
                            "backend returned {} log-probabilities for {} options",
                            resp.logprobs.len(),
                            item.options.len()
                        ))
                    }
                    Err(e) => rec.error = Some(e.to_string()),
                }
            }
        }
        rec.correct = rec.error.is_none() && rec.answer == Some(item.answer);
        rec.latency_ms = t0.elapsed().as_secs_f64() * 1000.0;
        rec
    }
}
