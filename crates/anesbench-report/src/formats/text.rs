//! Number formatting shared by the text formats.

use anesbench_core::summary::Cell;

use crate::model::{lang_name, level_name, CellRow, RunReport};
use crate::size::SizeSource;

pub fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

pub fn ci(c: &Cell) -> String {
    format!("{:.1}-{:.1}", c.ci_low * 100.0, c.ci_high * 100.0)
}

pub fn opt_num(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"))
}

/// Where a size came from, as text output says it.
pub fn size_source_text(src: SizeSource) -> &'static str {
    match src {
        SizeSource::Flag => "--param-count",
        SizeSource::Manifest => "manifest",
        SizeSource::Mapping => "--sizes",
        SizeSource::Known => "known table",
        SizeSource::Name => "from name",
    }
}

pub fn size(r: &RunReport) -> String {
    match (r.param_count_b, r.size_source) {
        (Some(b), Some(src)) => format!("{}B ({})", trim_num(b), size_source_text(src)),
        (Some(b), None) => format!("{}B", trim_num(b)),
        _ => "unknown".into(),
    }
}

pub fn trim_num(b: f64) -> String {
    let s = format!("{b:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The settings block as (name, value) pairs, identical in every format.
pub fn settings(r: &RunReport) -> Vec<(&'static str, String)> {
    let s = &r.settings;
    let or_dash = |v: &str| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.to_string()
        }
    };
    vec![
        ("model", or_dash(&r.model)),
        ("run", r.name.clone()),
        (
            "samples done / selected",
            format!("{} ({})", r.completion.counts(), r.completion.status),
        ),
        (
            "rank",
            match (&r.rank, &r.unranked_reason) {
                (Some(k), _) => k.to_string(),
                (None, Some(why)) => format!("not ranked ({why})"),
                (None, None) => "-".into(),
            },
        ),
        ("size", size(r)),
        ("mode", or_dash(&s.mode)),
        ("prompt", or_dash(&s.prompt)),
        ("temperature", opt_num(s.temperature, 2)),
        ("samples per item", s.samples_per_item.to_string()),
        ("solver", or_dash(&s.solver)),
        ("dataset", or_dash(&s.dataset_source)),
        (
            "subset",
            if r.completion.subset.is_empty() {
                "none (every item)".into()
            } else {
                r.completion.subset.join(", ")
            },
        ),
        (
            "dataset fingerprint",
            or_dash(&s.dataset_fingerprint.chars().take(16).collect::<String>()),
        ),
        ("tool version", or_dash(&s.tool_version)),
        ("started", or_dash(&s.started_at)),
        (
            "finished",
            s.finished_at
                .clone()
                .unwrap_or_else(|| "(not finished)".into()),
        ),
        ("items / samples", format!("{} / {}", r.items, r.samples)),
    ]
}

/// Heading of a run's section: its label, directory, counts and status.
pub fn run_heading(r: &RunReport) -> String {
    format!(
        "{} (run {}; {} samples, {})",
        r.label,
        r.name,
        r.completion.counts(),
        r.completion.status
    )
}

/// The sentence under the ranked overview that introduces the runs left out of it.
pub const UNRANKED_NOTE: &str = "Not ranked: incomplete runs (interrupted, errors) and subsets (--limit, --shard, filters) are not ranked beside full runs; `--include-incomplete` ranks them.";

/// What stands in for the output-length table of a run that has none.
pub fn length_omitted(why: &str) -> String {
    format!("Output length: not shown: {why}.")
}

/// Row of the cross-run summary: overall, per level, per language accuracy.
pub fn overview(r: &RunReport) -> Vec<String> {
    let acc = |lang: &str, level: &str| {
        r.cell(lang, level)
            .map_or_else(|| "-".into(), |c| pct(c.accuracy))
    };
    vec![
        r.rank.map_or_else(|| "-".into(), |k| k.to_string()),
        r.label.clone(),
        r.completion.counts(),
        r.completion.status.clone(),
        size(r),
        acc("all", "all"),
        acc("all", "system1"),
        acc("all", "system1x"),
        acc("all", "system2"),
        acc("en", "all"),
        acc("zh", "all"),
    ]
}

pub const OVERVIEW_HEADER: [&str; 11] = [
    "#",
    "Run",
    "Samples done",
    "Status",
    "Size",
    "Overall %",
    "System 1 %",
    "System 1.x %",
    "System 2 %",
    "English %",
    "Chinese %",
];
pub const CELL_HEADER: [&str; 9] = [
    "Language",
    "Level",
    "n",
    "Correct",
    "Accuracy %",
    "95% CI",
    "No answer",
    "Truncated",
    "Errors",
];
/// One row under [`CELL_HEADER`], as the Markdown and HTML reports show it.
pub fn cell_row(c: &CellRow) -> [String; 9] {
    let k = &c.cell;
    [
        lang_name(&c.lang).to_string(),
        level_name(&c.level).to_string(),
        k.n.to_string(),
        k.correct.to_string(),
        pct(k.accuracy),
        ci(k),
        k.no_answer.to_string(),
        k.truncated.to_string(),
        k.errors.to_string(),
    ]
}

pub const LENGTH_HEADER: [&str; 5] = [
    "Level",
    "n",
    "Mean tokens",
    "Median tokens",
    "Mean reasoning tokens",
];
