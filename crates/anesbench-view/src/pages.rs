//! The pages, rendered on the server as plain HTML. Every function here is synchronous
//! (it reads files); the server calls them on blocking threads.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::Arc;

use anesbench_core::{Lang, Level, SampleRecord, Summary};
use anesbench_report::compare::{compare_runs, CompareOptions, Comparison, PairedStats};
use anesbench_report::leaderboard::{rank, LeaderRow, RankBy};
use anesbench_report::model::RunReport;
use anesbench_report::plots::{render_svg, FigureKind};
use anesbench_report::points::ModelPoint;
use anesbench_report::published::published;

use crate::html::{esc, page, pager, pct, Links};
use crate::index::{decode_span, Entry, Index, LineReader, NONE_U32};
use crate::query::{run_query, search, Query, OUTCOMES};
use crate::runs::{Run, RunState};
use crate::Viewer;

#[derive(Debug)]
pub enum PageError {
    NotFound(String),
    Bad(String),
}

pub type PageResult = Result<String, PageError>;

const RUNS_PER_PAGE: usize = 50;

fn run_of(v: &Viewer, id: &str) -> Result<Arc<Run>, PageError> {
    v.registry
        .get(id)
        .ok_or_else(|| PageError::NotFound(format!("no run with id {id}")))
}

fn title_of(run: &Run, s: &RunState) -> String {
    if s.info.model.is_empty() {
        run.shown.clone()
    } else {
        s.info.model.clone()
    }
}

/// The run as the report crate sees it, built from the index (no text).
pub fn report_run(run: &Run, s: &mut RunState) -> anesbench_report::RunDir {
    let summary: Summary = (*s.summary()).clone();
    anesbench_report::RunDir {
        path: run.dir.clone(),
        name: run
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        info: s.info.clone(),
        records: s.index.light_records(),
        summary,
        warnings: Vec::new(),
    }
}

// ---------------------------------------------------------------- runs index

pub fn index_page(v: &Viewer, l: &Links, page_no: usize) -> PageResult {
    let runs = v.registry.runs();
    let pages = runs.len().div_ceil(RUNS_PER_PAGE).max(1);
    let page_no = page_no.min(pages - 1);
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Runs</h1><p>{} run{} under {}.</p>",
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        v.registry
            .roots()
            .iter()
            .map(|r| format!("<code>{}</code>", esc(&r.display().to_string())))
            .collect::<Vec<_>>()
            .join(", ")
    );
    b.push_str(&pager(page_no, pages, |p| Some(l.index_page(p))));
    b.push_str(
        "<table class=\"runs\"><thead><tr><th>Run</th><th>Model</th><th>Dataset</th><th>Strategy</th>\
         <th>Mode</th><th>Prompt</th><th>Done / selected</th><th>Accuracy</th><th>Started</th><th>Finished</th></tr></thead><tbody>",
    );
    for run in runs
        .iter()
        .skip(page_no * RUNS_PER_PAGE)
        .take(RUNS_PER_PAGE)
    {
        let live = run.live();
        let mut s = run.fresh();
        let sum = s.summary();
        let n = s.index.entries.len();
        let expected = s.info.expected_samples();
        let _ = write!(
            b,
            "<tr><td><a href=\"{}\">{}</a>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{} / {}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&l.run(&run.id)),
            esc(&run.shown),
            if live {
                " <span class=\"live\">live</span>"
            } else {
                ""
            },
            esc(&s.info.model),
            esc(&s.info.dataset_source),
            esc(&s.info.solver),
            esc(&s.info.mode),
            esc(&s.info.prompt),
            n,
            if expected > 0 {
                expected.to_string()
            } else {
                "?".into()
            },
            if sum.overall.n > 0 {
                pct(sum.overall.accuracy)
            } else {
                "–".into()
            },
            esc(&s.info.started_at),
            esc(s.info.finished_at.as_deref().unwrap_or(if live {
                "running"
            } else {
                "–"
            })),
        );
    }
    b.push_str("</tbody></table>");
    if runs.len() >= 2 {
        b.push_str("<h2>Compare two runs</h2>");
        if l.is_export() {
            b.push_str("<ul>");
            for (i, a) in runs.iter().enumerate() {
                for bb in runs.iter().skip(i + 1) {
                    if let Some(u) = l.compare(&a.id, &bb.id, &Query::default()) {
                        let _ = write!(
                            b,
                            "<li><a href=\"{}\">{} vs {}</a></li>",
                            esc(&u),
                            esc(&a.shown),
                            esc(&bb.shown)
                        );
                    }
                }
            }
            b.push_str("</ul>");
        } else {
            let opts = |sel: usize| {
                runs.iter()
                    .enumerate()
                    .map(|(i, r)| {
                        format!(
                            "<option value=\"{}\"{}>{}</option>",
                            esc(&r.id),
                            if i == sel { " selected" } else { "" },
                            esc(&r.shown)
                        )
                    })
                    .collect::<String>()
            };
            let _ = write!(
                b,
                "<form action=\"/compare\" method=\"get\"><label>A <select name=\"a\">{}</select></label> \
                 <label>B <select name=\"b\">{}</select></label> <button type=\"submit\">Compare</button></form>",
                opts(0),
                opts(1)
            );
        }
    }
    Ok(page(l, "Runs", &b, None))
}

// ---------------------------------------------------------------- run page

fn cell_text(c: Option<&anesbench_core::summary::Cell>) -> String {
    match c {
        Some(c) if c.n > 0 => format!(
            "<td class=\"num\">{} <small>[{}–{}]</small><br><small>n={}</small></td>",
            pct(c.accuracy),
            pct(c.ci_low),
            pct(c.ci_high),
            c.n
        ),
        _ => "<td class=\"num\">–</td>".into(),
    }
}

fn accuracy_table(sum: &Summary) -> String {
    let langs: Vec<&str> = Lang::ALL
        .iter()
        .map(|l| l.code())
        .filter(|c| sum.by_lang.contains_key(*c))
        .collect();
    let mut b = String::from("<table class=\"acc\"><thead><tr><th>Level</th>");
    for c in &langs {
        let _ = write!(
            b,
            "<th>{}</th>",
            if *c == "en" { "English" } else { "Chinese" }
        );
    }
    b.push_str("<th>All</th></tr></thead><tbody>");
    for lv in Level::ALL {
        let _ = write!(b, "<tr><th>{}</th>", lv.name());
        for c in &langs {
            b.push_str(&cell_text(sum.by_lang_level.get(
                &anesbench_core::summary::lang_level_key(c.parse().unwrap_or(Lang::En), lv),
            )));
        }
        b.push_str(&cell_text(sum.by_level.get(lv.key())));
        b.push_str("</tr>");
    }
    b.push_str("<tr><th>All</th>");
    for c in &langs {
        b.push_str(&cell_text(sum.by_lang.get(*c)));
    }
    b.push_str(&cell_text(Some(&sum.overall)));
    b.push_str("</tr></tbody></table>");
    let _ =
        write!(
        b,
        "<p class=\"counts\">Samples: {} · items: {} · counted per {} (95% Wilson intervals) · \
         no answer: <b>{}</b> · truncated: <b>{}</b> · errors: <b>{}</b></p>",
        sum.samples,
        sum.items,
        match sum.aggregation.as_str() {
            "sample" => "sample".to_string(),
            "majority" => "item (majority vote of its samples)".to_string(),
            agg => format!("item (decided by <code>{}</code> over its samples)", esc(agg)),
        },
        sum.sample_counts.no_answer,
        sum.sample_counts.truncated,
        sum.sample_counts.errors
    );
    b
}

/// The one-run figures that have data, judged from the summary (the figures themselves
/// are drawn by the report crate when their URL is fetched).
/// A loglik run generates no text, so it has no output-length figure (the report leaves
/// it out and says why).
fn run_figures(sum: &Summary, loglik: bool) -> Vec<FigureKind> {
    let mut v = Vec::new();
    if sum.by_level.values().any(|c| c.n > 0) {
        v.push(FigureKind::Levels);
    }
    if ["en", "zh"]
        .iter()
        .all(|l| sum.by_lang.get(*l).is_some_and(|c| c.n > 0))
    {
        v.push(FigureKind::Lang);
    }
    if !loglik
        && sum
            .length_by_level
            .values()
            .any(|x| x.mean_completion_tokens.is_some())
    {
        v.push(FigureKind::Cot);
    }
    v
}

/// Option-order robustness, calibration and bilingual consistency of one run: the
/// report's analysis sections (the same numbers and figures as `anesbench report`), read
/// from the run's records on demand.
pub fn analysis_page(v: &Viewer, l: &Links, id: &str) -> PageResult {
    use anesbench_report::analysis::{figures::draw_all, Analysis};
    let run = run_of(v, id)?;
    let title = {
        let s = run.fresh();
        title_of(&run, &s)
    };
    let rd = anesbench_report::RunDir::open(&run.dir)
        .map_err(|e| PageError::NotFound(format!("cannot read the run: {e}")))?;
    let mut a = Analysis::build(
        std::slice::from_ref(&rd),
        std::slice::from_ref(&title),
        None,
        true,
    )
    .map_err(|e| PageError::NotFound(e.to_string()))?;
    draw_all(&mut a, None).map_err(|e| PageError::NotFound(e.to_string()))?;
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>{}</h1><p class=\"sub\"><a href=\"{}\">back to the run</a></p>",
        esc(&title),
        esc(&l.run(&run.id))
    );
    anesbench_report::formats::analysis::html(&mut b, &a);
    Ok(page(l, &format!("Analysis: {title}"), &b, None))
}

pub fn run_fig(v: &Viewer, id: &str, kind: &str) -> PageResult {
    let run = run_of(v, id)?;
    let kind = FigureKind::ALL
        .into_iter()
        .find(|k| k.id() == kind)
        .ok_or_else(|| PageError::NotFound(format!("no figure {kind}")))?;
    let mut s = run.fresh();
    let rd = report_run(&run, &mut s);
    let pts = [ModelPoint::from_run(&RunReport::from_run(&rd, None))];
    render_svg(kind, &pts).map_err(|e| PageError::NotFound(e.to_string()))
}

/// How long a search waits, from the start of its request, for a dataset still loading
/// in the background before it answers from responses and reasoning alone.
pub const SEARCH_WAIT: std::time::Duration = std::time::Duration::from_millis(300);

/// Query results for a run, cached per index generation, and whether questions and
/// options were left out of a search because the dataset was still loading (`wait`:
/// wait for it instead). Results without them are not cached: the next request has them.
fn hits(s: &mut RunState, run: &Run, q: &Query, wait: bool) -> (Arc<Vec<u32>>, bool) {
    let started = std::time::Instant::now();
    let key = q.key();
    let g = s.index.generation;
    if let Some(h) = s.cache.get(&key, g) {
        return (h, false);
    }
    let mut partial = false;
    let h = match q.q.as_deref() {
        None => run_query(&s.index, q, None),
        // Responses are searched first, while the dataset may still be loading; then
        // questions and options, once it is in.
        Some(text) => {
            let cands = run_query(
                &s.index,
                &Query {
                    q: None,
                    ..q.clone()
                },
                None,
            );
            let needle = crate::query::Needle::new(text);
            let mut keep = crate::query::search_raw(&s.index, &cands, &needle);
            let items = if wait {
                s.dataset(&run.dir)
            } else {
                s.dataset_by(&run.dir, started + SEARCH_WAIT)
                    .unwrap_or_else(|_| {
                        partial = true;
                        None
                    })
            };
            crate::query::search_items(&s.index, &cands, &needle, items.as_deref(), &mut keep);
            cands.into_iter().filter(|&i| keep[i as usize]).collect()
        }
    };
    let h = Arc::new(h);
    if !partial {
        s.cache.put(key, g, h.clone());
    }
    (h, partial)
}

fn select(name: &str, label: &str, cur: Option<&str>, values: &[(String, String)]) -> String {
    let mut o = format!("<label>{label} <select name=\"{name}\"><option value=\"\">any</option>");
    for (v, shown) in values {
        let _ = write!(
            o,
            "<option value=\"{}\"{}>{}</option>",
            esc(v),
            if cur == Some(v.as_str()) {
                " selected"
            } else {
                ""
            },
            esc(shown)
        );
    }
    o.push_str("</select></label> ");
    o
}

fn filter_form(
    action: &str,
    hidden: &[(&str, &str)],
    ix: &Index,
    q: &Query,
    flips: bool,
) -> String {
    let mut nopts = BTreeSet::new();
    let mut letters = BTreeSet::new();
    for e in &ix.entries {
        nopts.insert(e.nopt);
        letters.insert(e.gold);
        if e.answer != 0 {
            letters.insert(e.answer);
        }
    }
    let mut rules: Vec<&str> = ix.rules.iter().map(|r| &**r).collect();
    rules.sort_unstable();
    let pair = |s: &str| (s.to_string(), s.to_string());
    let mut o = format!(
        "<form class=\"filters\" action=\"{}\" method=\"get\">",
        esc(action)
    );
    for (k, v) in hidden {
        let _ = write!(
            o,
            "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
            esc(v)
        );
    }
    o.push_str(&select(
        "level",
        "Level",
        q.level.map(|l| l.key()),
        &Level::ALL
            .iter()
            .map(|l| (l.key().to_string(), l.name().to_string()))
            .collect::<Vec<_>>(),
    ));
    o.push_str(&select(
        "lang",
        "Language",
        q.lang.map(|l| l.code()),
        &[
            ("en".into(), "English".into()),
            ("zh".into(), "Chinese".into()),
        ],
    ));
    o.push_str(&select(
        "nopt",
        "Options",
        q.nopt.map(|n| n.to_string()).as_deref(),
        &nopts
            .iter()
            .map(|n| pair(&n.to_string()))
            .collect::<Vec<_>>(),
    ));
    if flips {
        o.push_str(&select(
            "flip",
            "Flip",
            q.flip.as_deref(),
            &[
                ("a".into(), "right in A, wrong in B".into()),
                ("b".into(), "wrong in A, right in B".into()),
            ],
        ));
    }
    o.push_str(&select(
        "outcome",
        if flips { "Outcome (A)" } else { "Outcome" },
        q.outcome.as_deref(),
        &OUTCOMES
            .iter()
            .map(|s| (s.to_string(), s.replace('_', " ")))
            .collect::<Vec<_>>(),
    ));
    o.push_str(&select(
        "rule",
        if flips { "Rule (A)" } else { "Rule" },
        q.rule.as_deref(),
        &rules.iter().map(|r| pair(r)).collect::<Vec<_>>(),
    ));
    let mut preds: Vec<(String, String)> = letters
        .iter()
        .map(|&c| pair(&(c as char).to_string()))
        .collect();
    preds.push(("none".into(), "no answer".into()));
    o.push_str(&select(
        "pred",
        if flips { "Predicted (A)" } else { "Predicted" },
        q.pred.as_deref(),
        &preds,
    ));
    o.push_str(&select(
        "gold",
        "Gold",
        q.gold.map(|g| g.to_string()).as_deref(),
        &letters
            .iter()
            .map(|&c| pair(&(c as char).to_string()))
            .collect::<Vec<_>>(),
    ));
    let _ = write!(
        o,
        "<label>Search <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"question, options, response, reasoning\"></label> \
         <button type=\"submit\">Apply</button> <a href=\"{}\">clear</a></form>",
        esc(q.q.as_deref().unwrap_or("")),
        esc(&if hidden.is_empty() {
            action.to_string()
        } else {
            format!(
                "{action}?{}",
                hidden
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            )
        })
    );
    o
}

fn snippet(line: Option<&[u8]>, e: &Entry) -> String {
    let text = line
        .and_then(|l| decode_span(l, e.resp).or_else(|| decode_span(l, e.reas)))
        .unwrap_or_default();
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut s: String = one.chars().take(140).collect();
    if one.chars().count() > 140 {
        s.push('…');
    }
    s
}

fn tokens(e: &Entry) -> String {
    if e.ctok == NONE_U32 {
        "–".into()
    } else {
        e.ctok.to_string()
    }
}

fn outcome_cell(e: &Entry) -> String {
    let o = e.outcome();
    let mut s = format!("<span class=\"o-{}\">{}</span>", o.replace(' ', "-"), o);
    if e.truncated() {
        s.push_str(" <span class=\"o-truncated\">truncated</span>");
    }
    s
}

pub fn run_page(v: &Viewer, l: &Links, id: &str, qs: Option<&str>) -> PageResult {
    let run = run_of(v, id)?;
    let (q, notes) = Query::parse(qs);
    let live = run.live();
    let mut s = run.fresh();
    let sum = s.summary();
    let title = title_of(&run, &s);
    let mut b = String::from("<div id=\"live-head\" data-live>");
    let _ = write!(
        b,
        "<h1>{}{}</h1><p class=\"sub\"><code>{}</code></p>",
        esc(&title),
        if live {
            " <span class=\"live\">live</span>"
        } else {
            ""
        },
        esc(&run.shown)
    );
    let info = s.info.clone();
    let _ = write!(
        b,
        "<table class=\"info\"><tr><th>Dataset</th><td>{}</td><th>Mode</th><td>{}</td><th>Strategy</th><td>{}</td></tr>\
         <tr><th>Prompt</th><td>{}</td><th>Samples per item</th><td>{}</td><th>Done / selected</th><td>{} / {}</td></tr>\
         <tr><th>Started</th><td>{}</td><th>Finished</th><td>{}</td><th>Tool</th><td>{}</td></tr></table>",
        esc(&info.dataset_source),
        esc(&info.mode),
        esc(&info.solver),
        esc(&info.prompt),
        info.samples_per_item,
        s.index.entries.len(),
        info.expected_samples(),
        esc(&info.started_at),
        esc(info.finished_at.as_deref().unwrap_or(if live { "running" } else { "–" })),
        esc(&info.tool_version),
    );
    let mut warn = Vec::new();
    if let Some(e) = &s.index.error {
        warn.push(e.clone());
    }
    if s.index.torn_bytes > 0 {
        warn.push(format!(
            "{} bytes after the last complete line (a torn tail, or a line being written): not counted",
            s.index.torn_bytes
        ));
    }
    warn.extend(notes);
    for w in warn {
        let _ = write!(b, "<p class=\"warn\">{}</p>", esc(&w));
    }
    b.push_str("<h2>Accuracy</h2>");
    b.push_str(&accuracy_table(&sum));
    let _ = write!(
        b,
        "<p class=\"sub\"><a class=\"analysis\" href=\"{}\">Robustness, calibration and bilingual consistency</a></p>",
        esc(&l.run_analysis(&run.id))
    );
    let figs = run_figures(&sum, info.mode == "loglik");
    if !figs.is_empty() {
        b.push_str("<div class=\"figs\">");
        for k in figs {
            let _ = write!(
                b,
                "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                esc(&l.run_fig(&run.id, k.id())),
                esc(k.title()),
                esc(k.title())
            );
        }
        b.push_str("</div>");
    }
    b.push_str("</div><h2 id=\"samples\">Samples</h2>");
    if l.is_export() {
        b.push_str("<p class=\"filters\">Lists: ");
        for (name, eq) in crate::html::export_lists() {
            if let Some(u) = l.list(&run.id, &eq) {
                let _ = write!(
                    b,
                    "<a href=\"{}\">{}</a> ",
                    esc(&u),
                    esc(&name.replace('_', " "))
                );
            }
        }
        b.push_str("<br><small>(a static export holds these lists; search and combined filters need <code>anesbench view</code>)</small></p>");
    } else {
        b.push_str(&filter_form(&l.run(&run.id), &[], &s.index, &q, false));
    }
    b.push_str("<div id=\"live-list\" data-live>");
    let (h, partial) = hits(&mut s, &run, &q, l.is_export());
    if partial {
        let _ = write!(
            b,
            "<p class=\"warn\" id=\"q-partial\">Questions and options are not searchable yet: the dataset is still loading, \
             so this search covered responses and reasoning only. <a href=\"{}\">Search again</a> in a few seconds to include them.</p>",
            esc(&l.list(&run.id, &q).unwrap_or_default())
        );
    }
    let per = q.per.max(1);
    let pages = h.len().div_ceil(per).max(1);
    let page_no = q.page.min(pages - 1);
    let _ = write!(
        b,
        "<p class=\"count\">{} of {} samples{}.</p>",
        h.len(),
        s.index.entries.len(),
        if q.is_empty() { "" } else { " match" }
    );
    let rid = run.id.clone();
    b.push_str(&pager(page_no, pages, |p| l.list(&rid, &q.with_page(p))));
    b.push_str(
        "<table class=\"samples\"><thead><tr><th>#</th><th>Lang</th><th>Level</th><th>Item</th><th>Sample</th>\
         <th>Gold</th><th>Pred</th><th>Rule</th><th>Outcome</th><th>Tokens</th><th>Response</th></tr></thead><tbody>",
    );
    let mut reader = LineReader::open(&s.index.path);
    for &i in h.iter().skip(page_no * per).take(per) {
        let e = s.index.entries[i as usize];
        let key = s.index.item(&e).clone();
        let snip = snippet(reader.line(&e), &e);
        let _ = write!(
            b,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"snip\">{}</td></tr>",
            esc(&l.sample(&run.id, i)),
            i,
            key.lang,
            e.level.key(),
            esc(&key.id),
            e.sample,
            e.gold(),
            e.answer().map_or("–".to_string(), |c| c.to_string()),
            esc(s.index.rule(&e)),
            outcome_cell(&e),
            tokens(&e),
            esc(&snip)
        );
    }
    b.push_str("</tbody></table>");
    b.push_str(&pager(page_no, pages, |p| l.list(&rid, &q.with_page(p))));
    b.push_str("</div>");
    let poll = format!("/run/{}/poll", run.id);
    let gen = s.index.generation;
    Ok(page(l, &title, &b, live.then_some((poll.as_str(), gen))))
}

/// How many samples `q` selects in a run.
pub fn list_len(v: &Viewer, id: &str, q: &Query) -> Result<usize, PageError> {
    let run = run_of(v, id)?;
    let mut s = run.fresh();
    Ok(hits(&mut s, &run, q, true).0.len())
}

/// Samples indexed in a run.
pub fn sample_count(v: &Viewer, id: &str) -> Result<usize, PageError> {
    let run = run_of(v, id)?;
    let s = run.fresh();
    Ok(s.index.entries.len())
}

pub fn poll(v: &Viewer, id: &str) -> PageResult {
    let run = run_of(v, id)?;
    let live = run.live();
    let s = run.fresh();
    Ok(serde_json::json!({
        "gen": s.index.generation,
        "samples": s.index.entries.len(),
        "bytes_read": s.index.bytes_read,
        "live": live,
    })
    .to_string())
}

// ---------------------------------------------------------------- sample page

fn prompt_html(s: &RunState, item: &anesbench_core::Item, rec: &SampleRecord) -> String {
    let Some(m) = &s.manifest else {
        return "<p class=\"warn\">The manifest has no resolved settings: the prompt cannot be rendered again.</p>".into();
    };
    let settings = &m.settings;
    let prompter = match anesbench_core::prompt::Prompter::new(
        &anesbench_run::request::prompt_settings(settings),
    ) {
        Ok(p) => p,
        Err(e) => {
            return format!(
                "<p class=\"warn\">Cannot render the prompt: {}</p>",
                esc(&e.to_string())
            )
        }
    };
    let pool = anesbench_core::demo::items();
    let prep = match anesbench_run::request::prepare(&prompter, item, settings, &pool) {
        Ok(p) => p,
        Err(e) => {
            return format!(
                "<p class=\"warn\">Cannot render the prompt: {}</p>",
                esc(&e)
            )
        }
    };
    let mut o = String::new();
    if prep.hash == rec.prompt_hash {
        o.push_str("<p class=\"ok\">Rendered again from the manifest and the dataset; its hash matches the one recorded with the sample, so this is exactly what was sent.</p>");
    } else {
        let _ = write!(
            o,
            "<p class=\"warn\">Rendered again from the manifest and the dataset, but its hash ({}) differs from the one recorded with the sample ({}): the template, shots or dataset changed since. This is what would be sent now.</p>",
            esc(&prep.hash[..12.min(prep.hash.len())]),
            esc(&rec.prompt_hash[..12.min(rec.prompt_hash.len())])
        );
    }
    match &prep.prompt {
        anesbench_backend::Prompt::Chat(msgs) => {
            for m in msgs {
                let _ = write!(
                    o,
                    "<div class=\"msg\"><div class=\"role\">{}</div><pre>{}</pre></div>",
                    esc(&m.role),
                    esc(&m.content)
                );
            }
        }
        anesbench_backend::Prompt::Text(t) => {
            let _ = write!(
                o,
                "<div class=\"msg\"><div class=\"role\">text</div><pre>{}</pre></div>",
                esc(t)
            );
        }
    }
    o
}

fn highlighted(text: &str, span: Option<(usize, usize)>) -> String {
    match span {
        Some((a, b))
            if a < b && b <= text.len() && text.is_char_boundary(a) && text.is_char_boundary(b) =>
        {
            format!(
                "{}<mark>{}</mark>{}",
                esc(&text[..a]),
                esc(&text[a..b]),
                esc(&text[b..])
            )
        }
        _ => esc(text),
    }
}

/// Every candidate of an item with its answer, votes, mean log-probability, reward and
/// batch, and the decision of the run's aggregation ([`anesbench_core::vote`]): for a
/// majority vote the candidates that voted for the decided letter are marked, for
/// best-of-N by likelihood the candidate whose likelihood decided.
pub fn candidates_html(
    l: &Links,
    run_id: &str,
    current: u32,
    solver: &str,
    recs: &[(u32, SampleRecord)],
    outcome: impl Fn(u32) -> String,
) -> String {
    use anesbench_core::vote::Aggregation;
    let agg = Aggregation::for_solver(solver);
    let vote = agg.decide(recs.iter().map(|(_, r)| r));
    // Best-of-N: the highest mean log-probability among candidates that could be chosen.
    let best_lp = recs
        .iter()
        .filter(|(_, r)| r.error.is_none())
        .filter_map(|(_, r)| r.mean_logprob.filter(|v| v.is_finite()))
        .fold(f64::NEG_INFINITY, f64::max);
    let decided = |r: &SampleRecord| match agg {
        Aggregation::Majority => {
            vote.answer.is_some() && r.error.is_none() && r.answer == vote.answer
        }
        Aggregation::BestLikelihood => {
            vote.rule == anesbench_core::vote::RULE_BEST_LIKELIHOOD
                && r.error.is_none()
                && r.answer == vote.answer
                && r.mean_logprob.is_some_and(|v| {
                    v.is_finite() && best_lp - v <= anesbench_core::loglik::TIE_EPS
                })
        }
        // Permuted runs: the original option order (candidate 0) decides.
        Aggregation::IdentityOrder => r.sample == 0 && r.error.is_none(),
        Aggregation::Reward(step_agg, sel) => {
            let agrees = vote.answer.is_some() && r.error.is_none() && r.answer == vote.answer;
            match sel {
                anesbench_core::vote::Selection::Weighted => agrees,
                anesbench_core::vote::Selection::Max => {
                    let best = recs
                        .iter()
                        .filter(|(_, c)| c.error.is_none())
                        .filter_map(|(_, c)| anesbench_core::vote::candidate_score(c, step_agg))
                        .fold(f64::NEG_INFINITY, f64::max);
                    agrees
                        && anesbench_core::vote::candidate_score(r, step_agg)
                            .is_some_and(|v| best - v <= anesbench_core::loglik::TIE_EPS)
                }
            }
        }
    };
    let mut o = String::new();
    let _ = write!(
        o,
        "<h2>Candidates</h2><p class=\"cands\">{} candidates · aggregation <code>{}</code> · votes: {} · decision: <b class=\"decision\">{}</b> (<code>{}</code>)</p>\
         <table class=\"samples cands\"><thead><tr><th>Candidate</th><th>Answer</th><th>Votes for it</th><th>Mean log-prob</th><th>Reward</th><th>Batch</th><th>Rule</th><th>Outcome</th><th>Decision</th></tr></thead><tbody>",
        recs.len(),
        agg.name(),
        esc(&if vote.votes.is_empty() {
            "none".to_string()
        } else {
            vote.votes.iter().map(|(c, n)| format!("{c}: {n}")).collect::<Vec<_>>().join(", ")
        }),
        vote.answer.map_or("no answer".into(), |c| c.to_string()),
        vote.rule
    );
    for (j, r) in recs {
        let votes = r
            .answer
            .and_then(|a| vote.votes.get(&a))
            .copied()
            .unwrap_or(0);
        let mark = if decided(r) {
            match agg {
                Aggregation::Majority => "<span class=\"tag pred\">voted for the decision</span>",
                Aggregation::BestLikelihood => {
                    "<span class=\"tag pred\">decided (highest likelihood)</span>"
                }
                Aggregation::IdentityOrder => {
                    "<span class=\"tag pred\">decided (original option order)</span>"
                }
                Aggregation::Reward(_, anesbench_core::vote::Selection::Max) => {
                    "<span class=\"tag pred\">decided (highest reward)</span>"
                }
                Aggregation::Reward(_, anesbench_core::vote::Selection::Weighted) => {
                    "<span class=\"tag pred\">weighted for the decision</span>"
                }
            }
        } else {
            ""
        };
        let _ = write!(
            o,
            "<tr{}><td><a href=\"{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if *j == current { " class=\"current\"" } else { "" },
            esc(&l.sample(run_id, *j)),
            r.sample,
            r.answer.map_or("–".into(), |c| c.to_string()),
            votes,
            r.mean_logprob.map_or("–".into(), |x| format!("{x:.3}")),
            r.reward.map_or("–".into(), |x| format!("{x:.3}")),
            r.batch.map_or("1".into(), |x| x.to_string()),
            esc(&r.rule),
            outcome(*j),
            mark
        );
    }
    o.push_str("</tbody></table>");
    o
}

type Span = Option<(usize, usize)>;

/// The spans of the response and the reasoning that decided the recorded answer, from the
/// extractor itself ([`anesbench_core::extract::locate`]), and a note saying where it is.
/// A record whose text no longer extracts to its recorded answer and rule (an extractor
/// change since the run; `rescore` brings it up to date) gets no span.
fn deciding_spans(rec: &SampleRecord, options: &[String], have_item: bool) -> (Span, Span, String) {
    use anesbench_core::extract::{locate, Ending, Field};
    if rec.answer.is_none() || rec.option_logprobs.is_some() {
        return (None, None, String::new());
    }
    // Option texts matter only to the option-text and numbered-option rules; without the
    // dataset the letters alone still locate every other rule.
    let l = locate(
        rec.response.as_deref(),
        rec.reasoning.as_deref(),
        options,
        Ending::from_finish_reason(rec.finish_reason.as_deref()),
    );
    if l.extraction.answer != rec.answer || l.extraction.rule != rec.rule {
        return (
            None,
            None,
            format!(
                " (extracting again now gives {} by rule {}{}: no span shown; `anesbench rescore` updates the record)",
                l.extraction.answer.map_or("no answer".into(), |c| c.to_string()),
                l.extraction.rule,
                if have_item { "" } else { ", without the dataset's option texts" }
            ),
        );
    }
    match l.span {
        Some((Field::Response, a, b)) => (
            Some((a, b)),
            None,
            " — the highlighted span of the response, as the extractor located it".into(),
        ),
        Some((Field::Reasoning, a, b)) => (
            None,
            Some((a, b)),
            " — the highlighted span of the reasoning, as the extractor located it".into(),
        ),
        None => (None, None, " (the extractor gave no span for it)".into()),
    }
}

/// How long a sample page waits, from the start of its request, for a dataset still
/// loading before it is shown without the question (and says so).
pub const SAMPLE_WAIT: std::time::Duration = std::time::Duration::from_millis(800);

pub fn sample_page(v: &Viewer, l: &Links, id: &str, n: u32) -> PageResult {
    let started = std::time::Instant::now();
    let run = run_of(v, id)?;
    let live = run.live();
    let mut s = run.fresh();
    let e = *s
        .index
        .entries
        .get(n as usize)
        .ok_or_else(|| PageError::NotFound(format!("run {id} has no sample {n}")))?;
    let mut reader = LineReader::open(&s.index.path);
    let rec = reader
        .record(&e)
        .map_err(|m| PageError::NotFound(format!("sample {n}: {m}")))?;
    let (items, loading) = if l.is_export() {
        (s.dataset(&run.dir), false)
    } else {
        match s.dataset_by(&run.dir, started + SAMPLE_WAIT) {
            Ok(d) => (d, false),
            Err(_) => (None, true),
        }
    };
    let item = items
        .as_ref()
        .and_then(|d| d.get(rec.lang, &rec.id).cloned());
    let title = format!(
        "{} · {} {} #{}",
        title_of(&run, &s),
        rec.lang,
        rec.id,
        rec.sample
    );
    let mut b = String::from("<div id=\"live-sample\" data-live>");
    let _ = write!(
        b,
        "<p class=\"sub\"><a href=\"{}\">{}</a></p><h1>Item {} <small>({}, {}, sample {})</small> {}</h1>",
        esc(&l.run(&run.id)),
        esc(&run.shown),
        esc(&rec.id),
        rec.lang,
        rec.level.name(),
        rec.sample,
        outcome_cell(&e)
    );
    // The same item in the other language.
    let other = match rec.lang {
        Lang::En => Lang::Zh,
        Lang::Zh => Lang::En,
    };
    match s.index.find(other, &rec.id, rec.sample) {
        Some(j) => {
            let _ = write!(
                b,
                "<p><a class=\"other\" href=\"{}\">Same item in {}</a></p>",
                esc(&l.sample(&run.id, j)),
                if other == Lang::Zh {
                    "Chinese"
                } else {
                    "English"
                }
            );
        }
        None => {
            let _ = write!(
                b,
                "<p class=\"muted\">No {} sample of item {} in this run.</p>",
                if other == Lang::Zh {
                    "Chinese"
                } else {
                    "English"
                },
                esc(&rec.id)
            );
        }
    }
    // Question and options.
    b.push_str("<h2>Question</h2>");
    let options: Vec<String> = match &item {
        Some(it) => it.options.clone(),
        None => vec![String::new(); rec.letters.chars().count()],
    };
    match &item {
        Some(it) => {
            let _ = write!(
                b,
                "<pre class=\"question\">{}</pre><ol class=\"options\">",
                esc(&it.question)
            );
            for (i, opt) in it.options.iter().enumerate() {
                let letter = anesbench_core::item::letter(i);
                let gold = letter == rec.gold;
                let pred = rec.answer == Some(letter);
                let _ = write!(
                    b,
                    "<li class=\"{}{}\"><b>{letter}.</b> {}{}{}</li>",
                    if gold { "gold " } else { "" },
                    if pred { "pred" } else { "" },
                    esc(opt),
                    if gold {
                        " <span class=\"tag gold\">gold</span>"
                    } else {
                        ""
                    },
                    if pred {
                        " <span class=\"tag pred\">predicted</span>"
                    } else {
                        ""
                    },
                );
            }
            b.push_str("</ol>");
        }
        None => {
            let _ = write!(
                b,
                "<p class=\"warn\"{}>{}</p><p>Gold: <b>{}</b> · predicted: <b>{}</b> · options: {}</p>",
                if loading { " id=\"ds-loading\"" } else { "" },
                esc(if loading {
                    "The dataset is still loading (a large one takes a few seconds): reload for the question, the options and the prompt."
                } else {
                    s.dataset_note.as_deref().unwrap_or("The dataset item was not found.")
                }),
                rec.gold,
                rec.answer.map_or("no answer".into(), |c| c.to_string()),
                esc(&rec.letters)
            );
        }
    }
    let _ = write!(
        b,
        "<p>Gold <b class=\"tag gold\">{}</b> · predicted <b class=\"tag pred\">{}</b> · rule <code>{}</code></p>",
        rec.gold,
        rec.answer.map_or("no answer".into(), |c| c.to_string()),
        esc(&rec.rule)
    );
    // Prompt.
    b.push_str("<h2>Prompt</h2>");
    match &item {
        Some(it) => b.push_str(&prompt_html(&s, it, &rec)),
        None if loading => b.push_str("<p class=\"warn\">The prompt is rendered from the dataset item, which is still loading.</p>"),
        None => b.push_str("<p class=\"warn\">The prompt is rendered from the dataset item, which was not found.</p>"),
    }
    let _ = write!(
        b,
        "<p class=\"muted\">Recorded prompt hash <code>{}</code></p>",
        esc(&rec.prompt_hash)
    );
    // Response with the deciding span.
    b.push_str("<h2>Response</h2>");
    let resp = rec.response.as_deref().unwrap_or("");
    let (resp_span, reas_span, span_note) = deciding_spans(&rec, &options, item.is_some());
    if rec.response.is_none() {
        b.push_str("<p class=\"muted\">No response.</p>");
    } else {
        let _ = write!(
            b,
            "<pre class=\"response\">{}</pre>",
            highlighted(resp, resp_span)
        );
    }
    let _ = write!(
        b,
        "<p>Decided by rule <code>{}</code>{}</p>",
        esc(&rec.rule),
        esc(&span_note)
    );
    if let Some(r) = &rec.reasoning {
        let _ = write!(
            b,
            "<details class=\"reasoning\"{}><summary>Reasoning ({} characters{})</summary><pre>{}</pre></details>",
            if reas_span.is_some() { " open" } else { "" },
            r.chars().count(),
            rec.reasoning_tokens.map_or(String::new(), |t| format!(", {t} tokens")),
            highlighted(r, reas_span)
        );
    }
    // Log-probabilities.
    if let Some(lp) = &rec.option_logprobs {
        b.push_str("<h2>Option log-probabilities</h2><table class=\"lp\">");
        let finite: Vec<f64> = lp.values().copied().filter(|x| x.is_finite()).collect();
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = finite.iter().map(|x| (x - max).exp()).sum();
        for (c, x) in lp {
            let p = if x.is_finite() && z > 0.0 {
                (x - max).exp() / z
            } else {
                0.0
            };
            let _ = write!(
                b,
                "<tr><th>{c}{}</th><td><meter min=\"0\" max=\"1\" value=\"{p:.4}\">{}</meter></td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                if *c == rec.gold { " (gold)" } else { "" },
                pct(p),
                if x.is_finite() { format!("{x:.3}") } else { "n/a".into() },
                pct(p)
            );
        }
        b.push_str(
            "</table><p class=\"muted\">Bars: probability renormalised over the options.</p>",
        );
    }
    // Candidates (self-consistency, best-of-N): every sample of the item.
    let sib = s.index.samples_of(e.item);
    if sib.len() > 1 {
        let recs: Vec<(u32, SampleRecord)> = sib
            .iter()
            .filter_map(|&j| Some((j, reader.record(&s.index.entries[j as usize]).ok()?)))
            .collect();
        b.push_str(&candidates_html(
            l,
            &run.id,
            n,
            &s.info.solver,
            &recs,
            |j| outcome_cell(&s.index.entries[j as usize]),
        ));
    }
    if let Some(tree) = crate::trees::find(&run.dir, rec.lang, &rec.id) {
        b.push_str(&crate::trees::render(&tree));
    }
    // Metadata.
    let opt = |x: Option<u32>| x.map_or("–".to_string(), |v| v.to_string());
    let _ = write!(
        b,
        "<h2>Request</h2><table class=\"info\"><tr><th>Prompt tokens</th><td>{}</td><th>Completion tokens</th><td>{}</td><th>Reasoning tokens</th><td>{}</td></tr>\
         <tr><th>Latency</th><td>{:.0} ms</td><th>Endpoint</th><td>{}</td><th>Attempts</th><td>{}</td></tr>\
         <tr><th>Finish reason</th><td>{}</td><th>Error</th><td colspan=\"3\">{}</td></tr></table>",
        opt(rec.prompt_tokens),
        opt(rec.completion_tokens),
        opt(rec.reasoning_tokens),
        rec.latency_ms,
        esc(rec.endpoint.as_deref().unwrap_or("–")),
        rec.attempts,
        esc(rec.finish_reason.as_deref().unwrap_or("–")),
        esc(rec.error.as_deref().unwrap_or("–")),
    );
    let _ = write!(
        b,
        "<p class=\"muted\">samples.jsonl line {}</p></div>",
        e.line
    );
    let poll = format!("/run/{}/poll", run.id);
    let gen = s.index.generation;
    Ok(page(l, &title, &b, live.then_some((poll.as_str(), gen))))
}

// ---------------------------------------------------------------- compare

/// Per item: the entry of its lowest sample.
fn first_samples(ix: &Index) -> HashMap<u32, u32> {
    let mut m: HashMap<u32, u32> = HashMap::new();
    for (i, e) in ix.entries.iter().enumerate() {
        m.entry(e.item)
            .and_modify(|j| {
                if ix.entries[*j as usize].sample > e.sample {
                    *j = i as u32;
                }
            })
            .or_insert(i as u32);
    }
    m
}

fn paired_row(p: &PairedStats) -> String {
    format!(
        "<tr><th>{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{:+.1} pp <small>[{:+.1}, {:+.1}]</small></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.3}</td></tr>",
        esc(&p.slice),
        p.n,
        pct(p.accuracy_a),
        pct(p.accuracy_b),
        100.0 * p.diff,
        100.0 * p.ci_low,
        100.0 * p.ci_high,
        p.only_a,
        p.only_b,
        p.both,
        p.neither,
        p.mcnemar_p
    )
}

fn comparison(
    v: &Viewer,
    a: &Run,
    sa: &mut RunState,
    b: &Run,
    sb: &mut RunState,
) -> Result<Arc<Comparison>, String> {
    let key = (
        a.id.clone(),
        sa.index.generation,
        b.id.clone(),
        sb.index.generation,
    );
    let mut cache = v.compare_cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((k, c)) = &*cache {
        if *k == key {
            return Ok(c.clone());
        }
    }
    let ra = report_run(a, sa);
    let rb = report_run(b, sb);
    let c =
        // The viewer shows what a run holds, finished or not; the page states each run's
        // completeness beside the table.
        Arc::new(
            compare_runs(
                &ra,
                &rb,
                &CompareOptions {
                    include_incomplete: true,
                    ..CompareOptions::default()
                },
            )
            .map_err(|e| e.to_string())?,
        );
    *cache = Some((key, c.clone()));
    Ok(c)
}

pub fn compare_page(v: &Viewer, l: &Links, qs: Option<&str>) -> PageResult {
    let mut a_id = String::new();
    let mut b_id = String::new();
    for (k, val) in form_urlencoded::parse(qs.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "a" => a_id = val.into_owned(),
            "b" => b_id = val.into_owned(),
            _ => {}
        }
    }
    // The rest is the flip filter.
    let rest: String = form_urlencoded::parse(qs.unwrap_or("").as_bytes())
        .filter(|(k, _)| k != "a" && k != "b")
        .fold(
            form_urlencoded::Serializer::new(String::new()),
            |mut s, (k, v)| {
                s.append_pair(&k, &v);
                s
            },
        )
        .finish();
    let (q, notes) = Query::parse(Some(&rest));
    compare_with(v, l, &a_id, &b_id, &q, notes)
}

pub fn compare_with(
    v: &Viewer,
    l: &Links,
    a_id: &str,
    b_id: &str,
    q: &Query,
    notes: Vec<String>,
) -> PageResult {
    compare_inner(v, l, a_id, b_id, q, notes).map(|x| x.0)
}

/// The compare page and the number of flips it lists.
pub fn compare_inner(
    v: &Viewer,
    l: &Links,
    a_id: &str,
    b_id: &str,
    q: &Query,
    notes: Vec<String>,
) -> Result<(String, usize), PageError> {
    let a = run_of(v, a_id)?;
    let b = run_of(v, b_id)?;
    if a.id == b.id {
        return Err(PageError::Bad("compare needs two different runs".into()));
    }
    let mut sa = a.fresh();
    let mut sb = b.fresh();
    let title = format!("{} vs {}", title_of(&a, &sa), title_of(&b, &sb));
    let mut o = String::new();
    let _ = write!(
        o,
        "<h1>Compare</h1><p>A: <a href=\"{}\">{}</a> ({})<br>B: <a href=\"{}\">{}</a> ({})</p>",
        esc(&l.run(&a.id)),
        esc(&a.shown),
        esc(&title_of(&a, &sa)),
        esc(&l.run(&b.id)),
        esc(&b.shown),
        esc(&title_of(&b, &sb))
    );
    for n in notes {
        let _ = write!(o, "<p class=\"warn\">{}</p>", esc(&n));
    }
    match comparison(v, &a, &mut sa, &b, &mut sb) {
        Ok(c) => {
            let _ = write!(
                o,
                "<p>{} shared items ({} only in A, {} only in B); one outcome per item: {:?} sample; paired bootstrap ({} resamples, seed {}) and exact McNemar test, as <code>anesbench compare</code>.</p>\
                 <table class=\"acc\"><thead><tr><th>Slice</th><th>n</th><th>A</th><th>B</th><th>A − B [95% CI]</th><th>only A right</th><th>only B right</th><th>both</th><th>neither</th><th>McNemar p</th></tr></thead><tbody>",
                c.shared_items, c.only_in_a, c.only_in_b, c.scoring, c.resamples, c.seed
            );
            o.push_str(&paired_row(&c.overall));
            for p in c.by_level.iter().chain(&c.by_lang) {
                o.push_str(&paired_row(p));
            }
            o.push_str("</tbody></table>");
        }
        Err(e) => {
            let _ = write!(o, "<p class=\"warn\">{}</p>", esc(&e));
        }
    }
    // Flips on shared items (first sample of each item, as the paired table counts).
    let fa = first_samples(&sa.index);
    let fb = first_samples(&sb.index);
    let right = |e: &Entry| e.correct() && !e.error();
    let mut flips: Vec<(u32, u32)> = Vec::new();
    for (&item_a, &ea) in &fa {
        let k = &sa.index.items[item_a as usize];
        let Some(eb) = sb
            .index
            .item_id(k.lang, &k.id)
            .and_then(|ib| fb.get(&ib).copied())
        else {
            continue;
        };
        let (xa, xb) = (
            &sa.index.entries[ea as usize],
            &sb.index.entries[eb as usize],
        );
        if right(xa) == right(xb) {
            continue;
        }
        let dir = if right(xa) { "a" } else { "b" };
        if q.flip.as_deref().is_some_and(|f| f != dir) {
            continue;
        }
        if !q.keeps(&sa.index, xa) {
            continue;
        }
        flips.push((ea, eb));
    }
    flips.sort_unstable();
    if let Some(text) = q.q.as_deref() {
        let items = sa.dataset(&a.dir);
        let ca: Vec<u32> = flips.iter().map(|f| f.0).collect();
        let cb: Vec<u32> = flips.iter().map(|f| f.1).collect();
        let ha: std::collections::HashSet<u32> = search(&sa.index, &ca, text, items.as_deref())
            .into_iter()
            .collect();
        let hb: std::collections::HashSet<u32> =
            search(&sb.index, &cb, text, None).into_iter().collect();
        flips.retain(|f| ha.contains(&f.0) || hb.contains(&f.1));
    }
    let n_a = flips
        .iter()
        .filter(|f| right(&sa.index.entries[f.0 as usize]))
        .count();
    let _ = write!(
        o,
        "<h2 id=\"flips\">Flips</h2><p>{} items shown: {} right in A and wrong in B, {} wrong in A and right in B.</p>",
        flips.len(),
        n_a,
        flips.len() - n_a
    );
    if l.is_export() {
        o.push_str("<p>");
        for (f, label) in [
            (None, "all"),
            (Some("a"), "right → wrong (A right)"),
            (Some("b"), "wrong → right (B right)"),
        ] {
            let fq = Query {
                flip: f.map(String::from),
                ..Query::default()
            };
            if let Some(u) = l.compare(&a.id, &b.id, &fq) {
                let _ = write!(o, "<a href=\"{}\">{}</a> ", esc(&u), esc(label));
            }
        }
        o.push_str("</p>");
    } else {
        o.push_str(&filter_form(
            "/compare",
            &[("a", &a.id), ("b", &b.id)],
            &sa.index,
            q,
            true,
        ));
    }
    let per = q.per.max(1);
    let pages = flips.len().div_ceil(per).max(1);
    let page_no = q.page.min(pages - 1);
    let (aid, bid) = (a.id.clone(), b.id.clone());
    o.push_str(&pager(page_no, pages, |p| {
        l.compare(&aid, &bid, &q.with_page(p))
    }));
    o.push_str("<table class=\"samples\"><thead><tr><th>Item</th><th>Lang</th><th>Level</th><th>Gold</th><th>A</th><th>B</th><th>Flip</th></tr></thead><tbody>");
    for &(ea, eb) in flips.iter().skip(page_no * per).take(per) {
        let xa = sa.index.entries[ea as usize];
        let xb = sb.index.entries[eb as usize];
        let k = sa.index.item(&xa);
        let letter = |e: &Entry| e.answer().map_or("–".to_string(), |c| c.to_string());
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"{}\">{}</a> {}</td><td><a href=\"{}\">{}</a> {}</td><td>{}</td></tr>",
            esc(&k.id),
            k.lang,
            xa.level.key(),
            xa.gold(),
            esc(&l.sample(&a.id, ea)),
            letter(&xa),
            outcome_cell(&xa),
            esc(&l.sample(&b.id, eb)),
            letter(&xb),
            outcome_cell(&xb),
            if right(&xa) { "right → wrong" } else { "wrong → right" }
        );
    }
    o.push_str("</tbody></table>");
    o.push_str(&pager(page_no, pages, |p| {
        l.compare(&aid, &bid, &q.with_page(p))
    }));
    Ok((page(l, &title, &o, None), flips.len()))
}

// ---------------------------------------------------------------- leaderboard

fn leaderboard_reports(v: &Viewer) -> Vec<RunReport> {
    v.registry
        .runs()
        .iter()
        .filter_map(|r| {
            let mut s = r.fresh();
            if s.index.entries.is_empty() {
                return None;
            }
            let rd = report_run(r, &mut s);
            Some(RunReport::from_run(&rd, None))
        })
        .collect()
}

fn lb_points(reports: &[RunReport]) -> Vec<ModelPoint> {
    let mut pts: Vec<ModelPoint> = reports
        .iter()
        .map(|r| ModelPoint::from_run_lang(r, "en"))
        .collect();
    pts.extend(
        published()
            .iter()
            .map(|e| ModelPoint::from_published(e, None)),
    );
    pts
}

pub const LB_FIGS: [FigureKind; 3] = [FigureKind::Scale, FigureKind::Lang, FigureKind::Cot];

pub fn lb_fig(v: &Viewer, kind: &str) -> PageResult {
    let kind = LB_FIGS
        .into_iter()
        .find(|k| k.id() == kind)
        .ok_or_else(|| PageError::NotFound(format!("no figure {kind}")))?;
    let pts = lb_points(&leaderboard_reports(v));
    render_svg(kind, &pts).map_err(|e| PageError::NotFound(e.to_string()))
}

pub fn leaderboard_page(v: &Viewer, l: &Links) -> PageResult {
    let reports = leaderboard_reports(v);
    let by_name: BTreeMap<String, String> = v
        .registry
        .runs()
        .iter()
        .map(|r| {
            (
                r.dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                r.id.clone(),
            )
        })
        .collect();
    let mut rows: Vec<LeaderRow> = reports.iter().map(LeaderRow::from_run).collect();
    rows.extend(
        published()
            .iter()
            .map(|e| LeaderRow::from_published(e, None)),
    );
    let rows = rank(rows, RankBy::En);
    let mut o = String::from(
        "<h1>Leaderboard</h1><p>Your runs beside the published AnesBench table, ranked by English accuracy \
         (published AnesBench scores are English; the published Chinese column is AMCQA, another set).</p>\
         <table class=\"acc\"><thead><tr><th>#</th><th>Model</th><th>Source</th><th>Size (B)</th><th>EN System 1</th><th>EN System 1.x</th>\
         <th>EN System 2</th><th>English</th><th>Chinese</th><th>Average</th></tr></thead><tbody>",
    );
    let f = |x: Option<f64>| x.map_or("–".to_string(), pct);
    for r in &rows {
        let source = match r.source.strip_prefix("run:") {
            Some(name) => match by_name.get(name) {
                Some(id) => format!("<a href=\"{}\">run {}</a>", esc(&l.run(id)), esc(name)),
                None => esc(&r.source),
            },
            None => "published".into(),
        };
        let _ = write!(
            o,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            if r.source.starts_with("run:") { "mine" } else { "pub" },
            r.rank.map_or("–".into(), |x| x.to_string()),
            esc(&r.model),
            source,
            r.size_b.map_or("–".into(), |x| format!("{x}")),
            f(r.en_levels[0]),
            f(r.en_levels[1]),
            f(r.en_levels[2]),
            f(r.en),
            f(r.zh),
            f(r.average)
        );
    }
    o.push_str("</tbody></table><div class=\"figs\">");
    let pts = lb_points(&reports);
    for k in LB_FIGS {
        match k.unavailable(&pts) {
            None => {
                let _ = write!(
                    o,
                    "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                    esc(&l.lb_fig(k.id())),
                    esc(k.title()),
                    esc(k.title())
                );
            }
            Some(why) => {
                let _ = write!(
                    o,
                    "<p class=\"muted\">{}: {}</p>",
                    esc(k.title()),
                    esc(&why)
                );
            }
        }
    }
    o.push_str("</div>");
    Ok(page(l, "Leaderboard", &o, None))
}
