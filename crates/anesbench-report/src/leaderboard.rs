//! `anesbench leaderboard`: runs ranked by accuracy, optionally beside the published
//! models. Published AnesBench scores are English; published AMCQA is another Chinese
//! set, so ranking beside the published table uses English by default.

use std::fmt::Write;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{ReportError, Result};
use crate::model::RunReport;
use crate::published::PublishedEntry;
use crate::size::{resolve_size, SizeMap, SizeSource};

/// What the ranking sorts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// A run's accuracy over all its samples (published rows have none).
    Overall,
    /// English: a run's English items, AnesBench for published rows.
    En,
    /// Chinese: a run's Chinese items, AMCQA for published rows.
    Zh,
    /// Mean of English and Chinese.
    Average,
}

impl FromStr for RankBy {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "overall" => Ok(RankBy::Overall),
            "en" => Ok(RankBy::En),
            "zh" => Ok(RankBy::Zh),
            "average" => Ok(RankBy::Average),
            o => Err(ReportError::Invalid(format!(
                "--by: unknown `{o}` (expected overall, en, zh or average)"
            ))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaderRow {
    /// 1-based; `None` when the row has no score for the ranking key, or is not ranked
    /// (`unranked_reason`).
    pub rank: Option<usize>,
    /// How the row is named: the model, or model, run name and the differing settings
    /// when several runs of one model are listed.
    pub model: String,
    /// `run:<dir name>` or `published`.
    pub source: String,
    pub size_b: Option<f64>,
    pub size_source: Option<SizeSource>,
    /// Samples done without error / selected (runs only).
    pub done: Option<usize>,
    pub expected: Option<usize>,
    /// `complete`, `interrupted`, `errors: N`, `subset: limit 12`; `published` for the
    /// published rows.
    pub status: String,
    /// The run's dataset source as given (`demo`, `hf:MiliLab/AnesBench`, a path);
    /// `published` for the published rows.
    pub dataset: String,
    /// A run whose dataset is not the published AnesBench (the demo set, a subset):
    /// not comparable with the published scores.
    pub not_published_benchmark: bool,
    /// Why the row is not ranked: an incomplete run or a subset.
    pub unranked_reason: Option<String>,
    /// English System 1, 1.x, 2.
    pub en_levels: [Option<f64>; 3],
    pub en: Option<f64>,
    pub zh: Option<f64>,
    pub overall: Option<f64>,
    pub average: Option<f64>,
}

impl LeaderRow {
    pub fn from_run(r: &RunReport) -> LeaderRow {
        let acc =
            |lang: &str, level: &str| r.cell(lang, level).filter(|c| c.n > 0).map(|c| c.accuracy);
        let en = acc("en", "all");
        let zh = acc("zh", "all");
        let dataset = &r.settings.dataset_source;
        LeaderRow {
            rank: None,
            model: r.label.clone(),
            source: format!("run:{}", r.name),
            size_b: r.param_count_b,
            size_source: r.size_source,
            done: Some(r.completion.done),
            expected: Some(r.completion.expected),
            status: r.completion.status.clone(),
            dataset: if dataset.is_empty() {
                "unknown".into()
            } else {
                dataset.clone()
            },
            not_published_benchmark: dataset == "demo" || !r.completion.subset.is_empty(),
            unranked_reason: r.completion.unranked_reason(),
            en_levels: ["system1", "system1x", "system2"].map(|l| acc("en", l)),
            en,
            zh,
            overall: acc("all", "all"),
            average: en.zip(zh).map(|(a, b)| (a + b) / 2.0),
        }
    }

    pub fn from_published(e: &PublishedEntry, sizes: Option<&SizeMap>) -> LeaderRow {
        let (size_b, size_source) = resolve_size(&e.model, None, sizes);
        LeaderRow {
            rank: None,
            model: e.model.clone(),
            source: "published".into(),
            size_b,
            size_source,
            done: None,
            expected: None,
            status: "published".into(),
            dataset: "published".into(),
            not_published_benchmark: false,
            unranked_reason: None,
            en_levels: e.anesbench_levels.map(Some),
            en: Some(e.anesbench_overall),
            zh: Some(e.amcqa_overall),
            overall: None,
            average: Some(e.average),
        }
    }

    fn key(&self, by: RankBy) -> Option<f64> {
        if self.unranked_reason.is_some() {
            return None;
        }
        match by {
            RankBy::Overall => self.overall,
            RankBy::En => self.en,
            RankBy::Zh => self.zh,
            RankBy::Average => self.average,
        }
    }

    fn is_run(&self) -> bool {
        self.source.starts_with("run:")
    }
}

/// Sort best first and number the rows that have a score; ties share a rank. Incomplete
/// runs and subsets are not ranked: they come last, with their reason.
pub fn rank(rows: Vec<LeaderRow>, by: RankBy) -> Vec<LeaderRow> {
    rank_with(rows, by, false)
}

/// As [`rank`]; `include_incomplete` ranks incomplete runs and subsets too (their status
/// still says what they are).
pub fn rank_with(mut rows: Vec<LeaderRow>, by: RankBy, include_incomplete: bool) -> Vec<LeaderRow> {
    if include_incomplete {
        for r in &mut rows {
            r.unranked_reason = None;
        }
    }
    rows.sort_by(|a, b| match (a.key(by), b.key(by)) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.model.cmp(&b.model)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a
            .unranked_reason
            .is_some()
            .cmp(&b.unranked_reason.is_some())
            .then_with(|| a.model.cmp(&b.model)),
    });
    let mut prev: Option<(f64, usize)> = None;
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = r.key(by).map(|k| match prev {
            Some((pk, pr)) if pk == k => pr,
            _ => {
                prev = Some((k, i + 1));
                i + 1
            }
        });
    }
    rows
}

const COLUMNS: [&str; 18] = [
    "rank",
    "model",
    "source",
    "size_b",
    "en_system1",
    "en_system1x",
    "en_system2",
    "en",
    "zh",
    "overall",
    "average",
    "size_source",
    "done",
    "expected",
    "status",
    "dataset",
    "not_published_benchmark",
    "unranked_reason",
];

/// Whether the rows stand beside the published table, so that runs on another dataset
/// must be marked.
fn beside_published(rows: &[LeaderRow]) -> bool {
    rows.iter().any(|r| r.source == "published")
}

const MARK: &str = "\u{2020}";

fn cells(r: &LeaderRow, pct: bool, mark: bool) -> Vec<String> {
    let f = |x: Option<f64>| match x {
        Some(v) if pct => format!("{:.1}", v * 100.0),
        Some(v) => format!("{v:.4}"),
        None => {
            if pct {
                "-".into()
            } else {
                String::new()
            }
        }
    };
    let dash = || if pct { "-".to_string() } else { String::new() };
    let mut v = vec![
        r.rank.map_or_else(dash, |k| k.to_string()),
        if pct && mark && r.not_published_benchmark {
            format!("{} {MARK}", r.model)
        } else {
            r.model.clone()
        },
        r.source.clone(),
        match (r.size_b, r.size_source) {
            (Some(b), Some(src)) if pct => format!(
                "{} ({})",
                crate::formats::trim_size(b),
                crate::formats::size_source_text(src)
            ),
            (Some(b), _) => crate::formats::trim_size(b),
            (None, _) if pct => "?".into(),
            (None, _) => String::new(),
        },
    ];
    if pct {
        v.push(match (r.done, r.expected) {
            (Some(d), Some(e)) => format!("{d}/{e}"),
            _ => "-".into(),
        });
        v.push(r.status.clone());
        v.push(r.dataset.clone());
    }
    v.extend(r.en_levels.iter().map(|x| f(*x)));
    v.extend([f(r.en), f(r.zh), f(r.overall), f(r.average)]);
    if !pct {
        v.extend([
            r.size_source
                .map(|s| s.name().to_string())
                .unwrap_or_default(),
            r.done.map(|d| d.to_string()).unwrap_or_default(),
            r.expected.map(|d| d.to_string()).unwrap_or_default(),
            r.status.clone(),
            r.dataset.clone(),
            r.not_published_benchmark.to_string(),
            r.unranked_reason.clone().unwrap_or_default(),
        ]);
    }
    v
}

/// Lines under a table: the runs left out of the ranking, and the runs that are not on
/// the published benchmark when the table has the published rows.
pub fn footnotes(rows: &[LeaderRow]) -> Vec<String> {
    let mut out = Vec::new();
    let unranked: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            r.unranked_reason
                .as_ref()
                .map(|why| format!("{} ({why})", r.source))
        })
        .collect();
    if !unranked.is_empty() {
        out.push(format!(
            "Not ranked (incomplete runs and subsets are not ranked beside full runs; --include-incomplete ranks them): {}",
            unranked.join("; ")
        ));
    }
    if beside_published(rows) {
        for r in rows
            .iter()
            .filter(|r| r.is_run() && r.not_published_benchmark)
        {
            let subset = r
                .status
                .split("; ")
                .find(|w| w.starts_with("subset: "))
                .map(|w| format!(", {w}"))
                .unwrap_or_default();
            out.push(format!(
                "{MARK} {}: dataset `{}`{subset}, not the published AnesBench: not comparable with the published scores.",
                r.source, r.dataset
            ));
        }
        let own: Vec<String> = rows
            .iter()
            .filter(|r| r.is_run())
            .map(|r| format!("{} on dataset `{}`", r.source, r.dataset))
            .collect();
        if !own.is_empty() {
            out.push(format!(
                "Own runs: {}; the published scores are English AnesBench (AMCQA for zh).",
                own.join(", ")
            ));
        }
    }
    out
}

const TEXT_HEAD: [&str; 14] = [
    "#", "Model", "Source", "Size B", "Done", "Status", "Dataset", "EN S1", "EN S1.x", "EN S2",
    "EN", "ZH", "Overall", "Avg",
];

/// Aligned text table for the terminal (percentages), with its footnotes.
pub fn to_table(rows: &[LeaderRow]) -> String {
    let mark = beside_published(rows);
    let body: Vec<Vec<String>> = rows.iter().map(|r| cells(r, true, mark)).collect();
    let head = TEXT_HEAD;
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            body.iter()
                .map(|r| r[i].chars().count())
                .chain([head[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut o = String::new();
    for r in std::iter::once(head.iter().map(|s| s.to_string()).collect::<Vec<_>>()).chain(body) {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if matches!(i, 1 | 2 | 5 | 6) {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect();
        let _ = writeln!(o, "{}", line.join("  ").trim_end());
    }
    let notes = footnotes(rows);
    if !notes.is_empty() {
        o.push('\n');
        for n in notes {
            let _ = writeln!(o, "{n}");
        }
    }
    o
}

pub fn to_markdown(rows: &[LeaderRow]) -> String {
    let head = [
        "#",
        "Model",
        "Source",
        "Size (B)",
        "Done",
        "Status",
        "Dataset",
        "EN S1 %",
        "EN S1.x %",
        "EN S2 %",
        "EN %",
        "ZH %",
        "Overall %",
        "Avg %",
    ];
    let mark = beside_published(rows);
    let mut o = format!(
        "| {} |\n|{}\n",
        head.join(" | "),
        " --- |".repeat(head.len())
    );
    for r in rows {
        let c: Vec<String> = cells(r, true, mark)
            .into_iter()
            .map(|c| c.replace('|', "\\|"))
            .collect();
        let _ = writeln!(o, "| {} |", c.join(" | "));
    }
    let notes = footnotes(rows);
    if !notes.is_empty() {
        o.push('\n');
        for n in notes {
            let _ = writeln!(o, "{n}\n");
        }
    }
    o
}

pub fn to_csv(rows: &[LeaderRow]) -> String {
    let mut o = COLUMNS.join(",");
    o.push('\n');
    for r in rows {
        let c: Vec<String> = cells(r, false, false)
            .into_iter()
            .map(|s| {
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s
                }
            })
            .collect();
        o.push_str(&c.join(","));
        o.push('\n');
    }
    o
}

pub fn to_json(rows: &[LeaderRow], by: RankBy) -> String {
    let v = serde_json::json!({ "ranked_by": by, "rows": rows, "notes": footnotes(rows) });
    let mut s = serde_json::to_string_pretty(&v).expect("rows serialise");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::published::published;

    #[test]
    fn published_ranking_is_by_english_with_shared_ranks() {
        let rows: Vec<LeaderRow> = published()
            .iter()
            .map(|e| LeaderRow::from_published(e, None))
            .collect();
        let r = rank(rows, RankBy::En);
        assert_eq!(r[0].model, "deepseek-r1");
        assert_eq!(r[0].rank, Some(1));
        assert_eq!(r[1].model, "gpt-4o");
        // deepseek-v3 and DeepSeek-R1-Distill-Llama-70B both publish 0.73.
        let a = r.iter().find(|x| x.model == "deepseek-v3").unwrap().rank;
        let b = r
            .iter()
            .find(|x| x.model == "DeepSeek-R1-Distill-Llama-70B")
            .unwrap()
            .rank;
        assert_eq!(a, b);
        assert!(r.windows(2).all(|w| w[0].en >= w[1].en));
        let by_overall = rank(r, RankBy::Overall);
        assert!(by_overall.iter().all(|x| x.rank.is_none()));
    }
}
