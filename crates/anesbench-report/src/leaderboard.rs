//! `anesbench leaderboard`: runs ranked by accuracy, optionally beside the published
//! models. Published AnesBench scores are English; published AMCQA is another Chinese
//! set, so ranking beside the published table uses English by default.

use std::fmt::Write;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{ReportError, Result};
use crate::model::RunReport;
use crate::published::PublishedEntry;
use crate::size::{resolve_size, SizeMap};

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
    /// 1-based; `None` when the row has no score for the ranking key.
    pub rank: Option<usize>,
    pub model: String,
    /// `run:<dir name>` or `published`.
    pub source: String,
    pub size_b: Option<f64>,
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
        LeaderRow {
            rank: None,
            model: r.model.clone(),
            source: format!("run:{}", r.name),
            size_b: r.param_count_b,
            en_levels: ["system1", "system1x", "system2"].map(|l| acc("en", l)),
            en,
            zh,
            overall: acc("all", "all"),
            average: en.zip(zh).map(|(a, b)| (a + b) / 2.0),
        }
    }

    pub fn from_published(e: &PublishedEntry, sizes: Option<&SizeMap>) -> LeaderRow {
        LeaderRow {
            rank: None,
            model: e.model.clone(),
            source: "published".into(),
            size_b: resolve_size(&e.model, None, sizes).0,
            en_levels: e.anesbench_levels.map(Some),
            en: Some(e.anesbench_overall),
            zh: Some(e.amcqa_overall),
            overall: None,
            average: Some(e.average),
        }
    }

    fn key(&self, by: RankBy) -> Option<f64> {
        match by {
            RankBy::Overall => self.overall,
            RankBy::En => self.en,
            RankBy::Zh => self.zh,
            RankBy::Average => self.average,
        }
    }
}

/// Sort best first and number the rows that have a score; ties share a rank.
pub fn rank(mut rows: Vec<LeaderRow>, by: RankBy) -> Vec<LeaderRow> {
    rows.sort_by(|a, b| match (a.key(by), b.key(by)) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.model.cmp(&b.model)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.model.cmp(&b.model),
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

const COLUMNS: [&str; 11] = [
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
];

fn cells(r: &LeaderRow, pct: bool) -> Vec<String> {
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
    let mut v = vec![
        r.rank.map_or_else(
            || if pct { "-".into() } else { String::new() },
            |k| k.to_string(),
        ),
        r.model.clone(),
        r.source.clone(),
        r.size_b.map_or_else(
            || if pct { "?".into() } else { String::new() },
            crate::formats::trim_size,
        ),
    ];
    v.extend(r.en_levels.iter().map(|x| f(*x)));
    v.extend([f(r.en), f(r.zh), f(r.overall), f(r.average)]);
    v
}

/// Aligned text table for the terminal (percentages).
pub fn to_table(rows: &[LeaderRow]) -> String {
    let head = [
        "#", "Model", "Source", "Size B", "EN S1", "EN S1.x", "EN S2", "EN", "ZH", "Overall", "Avg",
    ];
    let body: Vec<Vec<String>> = rows.iter().map(|r| cells(r, true)).collect();
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
                if i == 1 || i == 2 {
                    format!("{c:<w$}", w = widths[i])
                } else {
                    format!("{c:>w$}", w = widths[i])
                }
            })
            .collect();
        let _ = writeln!(o, "{}", line.join("  ").trim_end());
    }
    o
}

pub fn to_markdown(rows: &[LeaderRow]) -> String {
    let head = [
        "#",
        "Model",
        "Source",
        "Size (B)",
        "EN S1 %",
        "EN S1.x %",
        "EN S2 %",
        "EN %",
        "ZH %",
        "Overall %",
        "Avg %",
    ];
    let mut o = format!(
        "| {} |\n|{}\n",
        head.join(" | "),
        " --- |".repeat(head.len())
    );
    for r in rows {
        let _ = writeln!(
            o,
            "| {} |",
            cells(r, true)
                .join(" | ")
                .replace('|', "\\|")
                .replace(" \\| ", " | ")
        );
    }
    o
}

pub fn to_csv(rows: &[LeaderRow]) -> String {
    let mut o = COLUMNS.join(",");
    o.push('\n');
    for r in rows {
        let c: Vec<String> = cells(r, false)
            .into_iter()
            .map(|s| {
                if s.contains([',', '"']) {
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
    let v = serde_json::json!({ "ranked_by": by, "rows": rows });
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
