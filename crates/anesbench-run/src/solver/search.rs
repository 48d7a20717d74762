//! Step-level search: `beam:W,B,T` and `dvts:N,M[,T]`.
//!
//! A step is one generation request with `stop: ["\n\n"]` and `max_tokens: T`; a step
//! cut at T tokens is a valid step (recorded `cut`), continued as it is. A beam is
//! finished when its text states an answer (an answer statement, as a reply cut at the
//! token limit is read), when the model ends its reply (a step ended by its
//! end-of-generation token, where the backend tells it from a stop string:
//! [`GenResponse::model_ended`]; otherwise the next step comes back empty), when
//! its tokens reach `--max-tokens`, or after [`MAX_SEARCH_STEPS`] steps.
//!
//! - **beam**: one group; the root is expanded B x W times, then each kept beam W
//!   times; of the unfinished children the best `B - finished` are kept, the rest pruned;
//!   the search ends when B beams have finished.
//! - **dvts**: N/M groups (subtrees), each keeping its one best beam and expanding it M
//!   times, until it finishes.
//!
//! Beams are ranked by their step rewards aggregated with the strategy's AGG
//! ([`StepAgg`]); the final candidates are each group's best finished beams, one record
//! each, and the item's answer is derived from them like best-of-N
//! ([`anesbench_core::vote::by_reward`]: the best-scored one, or a weighted vote).
//!
//! Continuing a partial answer: a text prompt gets the partial answer appended; a chat
//! prompt is rendered by the embedded model's template (the [`Renderer`] the caller
//! gives) and continued as text (the embedded backend then reuses the KV cells of the
//! previous step's prompt instead of decoding them again, with the same numbers), or, over HTTP, sent with the partial answer as a final
//! assistant message and `continue_final_message: true, add_generation_prompt: false`
//! (vLLM's chat API). Every step request carries a seed (`--seed`, 0 when not given,
//! plus a counter), so a search repeats exactly on a backend that honours seeds.

use std::time::Instant;

use anesbench_backend::{BackendError, ChatMessage, GenParams, GenRequest, GenResponse, Prompt};
use anesbench_core::record::Compute;
use anesbench_core::vote::StepAgg;
use anesbench_core::{Item, SampleRecord};

use super::reward::{input, score, Renderer, RewardSource};
use super::tree::{Node, TreeLine, CUT, FINAL, KEPT, PRUNED};
use super::{CallCtx, Solver};
use crate::request::PreparedPrompt;
use crate::score::{join_reasoning, score_text};
use crate::settings::{Settings, Strategy, DEFAULT_MAX_TOKENS, MAX_SEARCH_STEPS};

/// Where a step ends.
pub const STEP_STOP: &str = "\n\n";

pub struct Search {
    label: String,
    groups: u32,
    keep: u32,
    width: u32,
    step_tokens: u32,
    agg: StepAgg,
    rewards: RewardSource,
    render: Option<Renderer>,
    base: Settings,
}

impl Search {
    pub fn new(s: &Settings, rewards: RewardSource, render: Option<Renderer>) -> Search {
        let (groups, keep, width, step_tokens, agg) = match s.strategy {
            Strategy::Beam {
                width,
                beams,
                step_tokens,
                agg,
                ..
            } => (1, beams, width, step_tokens, agg),
            Strategy::Dvts {
                n,
                width,
                step_tokens,
                agg,
                ..
            } => (n / width.max(1), 1, width, step_tokens, agg),
            _ => (1, 1, 1, crate::settings::DEFAULT_STEP_TOKENS, StepAgg::Last),
        };
        Search {
            label: s.solver_label(),
            groups: groups.max(1),
            keep: keep.max(1),
            width: width.max(1),
            step_tokens,
            agg,
            rewards,
            render,
            base: s.clone(),
        }
    }
}

#[derive(Clone, Default)]
struct Beam {
    /// Its last step's node.
    node: Option<usize>,
    /// The answer so far, separators included: what the next step continues.
    prefix: String,
    steps: Vec<String>,
    step_rewards: Vec<f64>,
    lps: Vec<f64>,
    tokens: u64,
    /// `stop` (answered or ended) or `length` (a cap).
    done: Option<&'static str>,
    input_hash: Option<String>,
    endpoint: Option<String>,
    reasoning: Option<String>,
}

impl Beam {
    fn score(&self, agg: StepAgg) -> f64 {
        agg.apply(&self.step_rewards).unwrap_or(f64::NEG_INFINITY)
    }
}

#[derive(Default)]
struct Group {
    active: Vec<Beam>,
    finished: Vec<Beam>,
}

/// What a search spent, and its bookkeeping.
#[derive(Default)]
struct State {
    nodes: Vec<Node>,
    compute: Compute,
    attempts: u32,
    seed: u64,
}

/// Sort best first; equal scores keep the earlier node first.
fn rank(beams: &mut [Beam], agg: StepAgg) {
    beams.sort_by(|a, b| {
        b.score(agg)
            .total_cmp(&a.score(agg))
            .then(a.node.cmp(&b.node))
    });
}

impl Search {
    fn params(&self, seed: u64) -> GenParams {
        let mut stop = vec![STEP_STOP.to_string()];
        stop.extend(self.base.stop.iter().cloned());
        GenParams {
            temperature: self.base.temperature,
            top_p: self.base.top_p,
            max_tokens: Some(self.step_tokens),
            seed: Some(seed),
            stop,
            extra_body: self.base.extra_body.clone(),
            logprobs: true,
        }
    }

    /// The request that continues `prefix`.
    fn continuation(
        &self,
        prompt: &Prompt,
        rendered: Option<&str>,
        prefix: &str,
        seed: u64,
    ) -> GenRequest {
        let mut params = self.params(seed);
        let prompt = match (prompt, rendered) {
            (Prompt::Text(t), _) => Prompt::Text(format!("{t}{prefix}")),
            (Prompt::Chat(_), Some(r)) => Prompt::Text(format!("{r}{prefix}")),
            (Prompt::Chat(m), None) if prefix.is_empty() => Prompt::Chat(m.clone()),
            (Prompt::Chat(m), None) => {
                let mut m = m.clone();
                m.push(ChatMessage::new("assistant", prefix));
                let extra = params.extra_body.get_or_insert_with(Default::default);
                extra.insert("continue_final_message".into(), true.into());
                extra.insert("add_generation_prompt".into(), false.into());
                Prompt::Chat(m)
            }
        };
        GenRequest { prompt, params }
    }

    /// `n` continuations of `beam`: one call for all of them where the backend returns
    /// several choices, one call each otherwise.
    async fn expand(
        &self,
        cx: &CallCtx<'_>,
        prompt: &Prompt,
        rendered: Option<&str>,
        beam: &Beam,
        n: u32,
        st: &mut State,
    ) -> Result<Vec<GenResponse>, BackendError> {
        let first = st.seed;
        st.seed += u64::from(n);
        let mut out = Vec::with_capacity(n as usize);
        if n > 1 && cx.backend.max_choices() > 1 {
            let req = self.continuation(prompt, rendered, &beam.prefix, first);
            let (res, attempts) = cx.call(|| cx.backend.generate_n(&req, n)).await;
            st.attempts = st.attempts.max(attempts);
            st.compute.requests += 1;
            let mut got = res?;
            got.truncate(n as usize);
            out = got;
        }
        for i in out.len() as u32..n {
            let req = self.continuation(prompt, rendered, &beam.prefix, first + u64::from(i));
            let (res, attempts) = cx.call(|| cx.backend.generate(&req)).await;
            st.attempts = st.attempts.max(attempts);
            st.compute.requests += 1;
            out.push(res?);
        }
        Ok(out)
    }

    /// A child of `beam` from one step reply; its node is added to the tree.
    fn child(&self, item: &Item, beam: &Beam, resp: GenResponse, st: &mut State) -> Beam {
        let text = resp.content.clone().unwrap_or_default();
        let tokens = resp.completion_tokens.unwrap_or(0);
        st.compute.generated_tokens += u64::from(tokens);
        let cut = resp.finish_reason.as_deref() == Some("length");
        let mut b = beam.clone();
        b.node = Some(st.nodes.len());
        st.nodes.push(Node {
            n: st.nodes.len(),
            parent: beam.node,
            text: text.clone(),
            tokens,
            reward: None,
            status: KEPT,
            cut,
        });
        b.tokens += u64::from(tokens);
        b.endpoint = resp.endpoint.clone().or(b.endpoint);
        b.reasoning = join_reasoning(b.reasoning, resp.reasoning.clone());
        let empty = text.trim().is_empty();
        if !empty {
            b.prefix.push_str(&text);
            if !cut {
                b.prefix.push_str(STEP_STOP);
            }
            b.steps.push(text.trim().to_string());
            if let Some(lp) = resp.mean_logprob {
                b.lps.push(lp);
            }
        }
        let (_, ex) = score_text(
            Some(b.prefix.trim_end()),
            None,
            &item.options,
            Some("length"),
        );
        let cap = self.base.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
        // The model ending its reply (its end-of-generation token, where the backend says
        // so) ends the beam too, without asking for a step that would come back empty.
        let ended = resp.model_ended == Some(true);
        b.done = if empty || ended || ex.answer.is_some() {
            Some("stop")
        } else if b.tokens >= u64::from(cap) {
            Some("length")
        } else {
            None
        };
        // An empty closing step adds no step to score; the beam keeps its rewards.
        if empty {
            b.input_hash = beam.input_hash.clone();
        }
        b
    }

    /// Score the children that added a step; sets their rewards and their nodes'.
    async fn score_children(
        &self,
        cx: &CallCtx<'_>,
        prompt: &Prompt,
        children: &mut [(usize, Beam, bool)],
        lps: &[Option<f64>],
        st: &mut State,
    ) -> Result<(), BackendError> {
        let fresh: Vec<usize> = (0..children.len()).filter(|&i| children[i].2).collect();
        match &self.rewards {
            RewardSource::Likelihood => {
                for &i in &fresh {
                    let lp = lps[i].ok_or_else(|| {
                        BackendError::Unsupported(
                            "the likelihood scorer needs the policy's token log-probabilities, which the backend did not return (hint: use --reward-endpoint)".into(),
                        )
                    })?;
                    let r = lp.exp();
                    let b = &mut children[i].1;
                    b.step_rewards.push(r);
                    if let Some(n) = b.node {
                        st.nodes[n].reward = Some(r);
                    }
                }
            }
            RewardSource::Model(scorer) => {
                if fresh.is_empty() {
                    return Ok(());
                }
                let inputs: Vec<_> = fresh
                    .iter()
                    .map(|&i| input(prompt, children[i].1.steps.clone()))
                    .collect();
                let (res, _) = score(cx, scorer.as_ref(), &inputs).await;
                let batch = res.map_err(|e| BackendError::Other(format!("reward model: {e}")))?;
                if batch.scores.len() != fresh.len() {
                    return Err(BackendError::Other(format!(
                        "reward model returned {} scores for {} candidates",
                        batch.scores.len(),
                        fresh.len()
                    )));
                }
                st.compute.reward_calls += batch.requests;
                st.compute.reward_input_tokens += batch.input_tokens;
                for (&i, sc) in fresh.iter().zip(batch.scores) {
                    let b = &mut children[i].1;
                    match sc.step_rewards {
                        Some(all) => b.step_rewards = all,
                        None => b.step_rewards.push(sc.reward),
                    }
                    b.input_hash = Some(sc.input_hash);
                    if let Some(n) = b.node {
                        st.nodes[n].reward = b.step_rewards.last().copied();
                    }
                }
            }
        }
        Ok(())
    }

    async fn run(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        prompt: &Prompt,
        st: &mut State,
    ) -> Result<Vec<Vec<Beam>>, BackendError> {
        let rendered = match (prompt, &self.render) {
            (Prompt::Chat(_), Some(r)) => Some(r(prompt)?),
            _ => None,
        };
        let keep = self.keep as usize;
        let mut groups: Vec<Group> = (0..self.groups)
            .map(|_| Group {
                active: vec![Beam::default()],
                finished: Vec::new(),
            })
            .collect();
        for depth in 0..MAX_SEARCH_STEPS {
            // (group, child, adds a step to score), and each child's step log-probability.
            let mut children: Vec<(usize, Beam, bool)> = Vec::new();
            let mut lps: Vec<Option<f64>> = Vec::new();
            for (g, group) in groups.iter_mut().enumerate() {
                if group.finished.len() >= keep {
                    group.active.clear();
                }
                let n = if depth == 0 {
                    self.width * self.keep
                } else {
                    self.width
                };
                for beam in std::mem::take(&mut group.active) {
                    for resp in self
                        .expand(cx, prompt, rendered.as_deref(), &beam, n, st)
                        .await?
                    {
                        let lp = resp.mean_logprob;
                        let empty = resp.content.as_deref().unwrap_or("").trim().is_empty();
                        let c = self.child(item, &beam, resp, st);
                        children.push((g, c, !empty));
                        lps.push(lp);
                    }
                }
            }
            if children.is_empty() {
                break;
            }
            self.score_children(cx, prompt, &mut children, &lps, st)
                .await?;
            let last = depth + 1 == MAX_SEARCH_STEPS;
            for (g, group) in groups.iter_mut().enumerate() {
                let mut open = Vec::new();
                for (cg, mut c, _) in children.iter().cloned() {
                    if cg != g {
                        continue;
                    }
                    if c.done.is_none() && last {
                        c.done = Some("length");
                    }
                    if c.done.is_some() {
                        group.finished.push(c);
                    } else {
                        open.push(c);
                    }
                }
                rank(&mut open, self.agg);
                let slots = keep.saturating_sub(group.finished.len());
                for b in open.iter().skip(slots) {
                    if let Some(n) = b.node {
                        st.nodes[n].status = PRUNED;
                    }
                }
                open.truncate(slots);
                group.active = open;
            }
            if groups.iter().all(|g| g.active.is_empty()) {
                break;
            }
        }
        let mut out = Vec::with_capacity(groups.len());
        for mut group in groups {
            rank(&mut group.finished, self.agg);
            for b in group.finished.iter().skip(keep) {
                if let Some(n) = b.node {
                    st.nodes[n].status = PRUNED;
                }
            }
            group.finished.truncate(keep);
            for b in &group.finished {
                if let Some(n) = b.node {
                    st.nodes[n].status = FINAL;
                }
            }
            out.push(group.finished);
        }
        for node in &mut st.nodes {
            if node.cut && node.status == KEPT {
                node.status = CUT;
            }
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl Solver for Search {
    fn label(&self) -> String {
        self.label.clone()
    }
    fn candidates_per_item(&self) -> u32 {
        self.groups * self.keep
    }
    fn whole_item(&self) -> bool {
        true
    }
    fn batch_limit(&self, _backend: &dyn anesbench_backend::Backend) -> u32 {
        self.candidates_per_item()
    }
    async fn candidate(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        sample: u32,
        prompt: &PreparedPrompt,
        rec: &mut SampleRecord,
    ) {
        // Only reached with one candidate per item (`beam:W,1,T`, `dvts:M,M`).
        self.candidates(cx, item, &[sample], prompt, std::slice::from_mut(rec))
            .await;
    }
    async fn candidates(
        &self,
        cx: &CallCtx<'_>,
        item: &Item,
        samples: &[u32],
        prompt: &PreparedPrompt,
        recs: &mut [SampleRecord],
    ) {
        let t0 = Instant::now();
        let mut st = State {
            seed: self.base.seed.unwrap_or(0),
            ..State::default()
        };
        let res = self.run(cx, item, &prompt.prompt, &mut st).await;
        let ms = t0.elapsed().as_secs_f64() * 1000.0;
        st.compute.wall_ms = ms;
        let total = self.candidates_per_item();
        let finals: Vec<Beam> = match res {
            Ok(groups) => groups.into_iter().flatten().collect(),
            Err(e) => {
                for rec in recs.iter_mut() {
                    rec.error = Some(e.to_string());
                    rec.attempts = st.attempts.max(1);
                    rec.latency_ms = ms;
                }
                return;
            }
        };
        if finals.len() != total as usize || samples.len() != total as usize {
            let msg = format!(
                "search made {} candidates, {} expected (samples {:?})",
                finals.len(),
                total,
                samples
            );
            for rec in recs.iter_mut() {
                rec.error = Some(msg.clone());
            }
            return;
        }
        for (k, (rec, b)) in recs.iter_mut().zip(finals).enumerate() {
            let response = b.prefix.trim_end().to_string();
            let (think, ex) = score_text(Some(&response), None, &item.options, b.done);
            rec.reasoning = join_reasoning(b.reasoning.clone(), think);
            rec.response = Some(response);
            rec.answer = ex.answer;
            rec.rule = ex.rule;
            rec.finish_reason = b.done.map(String::from);
            rec.completion_tokens = Some(b.tokens.min(u64::from(u32::MAX)) as u32);
            rec.mean_logprob =
                (!b.lps.is_empty()).then(|| b.lps.iter().sum::<f64>() / b.lps.len() as f64);
            rec.reward = self.agg.apply(&b.step_rewards);
            rec.step_rewards = Some(b.step_rewards);
            rec.reward_input_hash = b.input_hash;
            rec.endpoint = b.endpoint;
            rec.attempts = st.attempts.max(1);
            rec.latency_ms = ms;
            rec.batch = (total > 1).then_some(total);
            rec.compute = Some(if k == 0 {
                st.compute
            } else {
                Compute::default()
            });
        }
        if let Some(slot) = cx.tree {
            let line = TreeLine {
                id: item.id.clone(),
                lang: item.lang,
                strategy: self.label.clone(),
                nodes: std::mem::take(&mut st.nodes),
            };
            if let Ok(mut s) = slot.lock() {
                *s = serde_json::to_value(&line).ok();
            }
        }
    }
}
