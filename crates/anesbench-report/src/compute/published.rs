//! The study's published reasoning-strategy table, embedded from
//! `data/reasoning_strategies.tsv` (see `data/SOURCE.md`).

use serde::Serialize;

pub const STRATEGIES_TSV: &str = include_str!("../../data/reasoning_strategies.tsv");

/// Where the figures come from, for the report.
pub const STRATEGIES_SOURCE: &str = "AnesBench project page (MiliLab, anesbench.ai, \"Reasoning strategies\"), read 2026-11; \
AnesBench/AnesSuite paper, arXiv 2504.02404, Conclusion 2.5. Model: Qwen2.5-7B-Base + CPT on AnesCorpus + SFT on AnesQA and Medical-o1. \
Aggregate accuracy only (no per-level or per-language figure).";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedStrategy {
    pub strategy: String,
    pub setting: String,
    /// Accuracy as a fraction.
    pub accuracy: f64,
}

/// The embedded table; the shipped file is checked by the tests.
pub fn published_strategies() -> Vec<PublishedStrategy> {
    parse(STRATEGIES_TSV).expect("embedded reasoning_strategies.tsv is well formed")
}

/// Parse the table (`#` comments, a header, then strategy / setting / accuracy in %).
pub fn parse(text: &str) -> Result<Vec<PublishedStrategy>, String> {
    let mut rows = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    match rows.next() {
        Some((_, h))
            if h.split('\t').collect::<Vec<_>>() == ["strategy", "setting", "accuracy"] => {}
        Some((i, h)) => return Err(format!("line {}: unexpected header `{h}`", i + 1)),
        None => return Err("empty table".into()),
    }
    rows.map(|(i, l)| {
        let f: Vec<&str> = l.split('\t').collect();
        let [strategy, setting, acc] = f.as_slice() else {
            return Err(format!("line {}: {} fields, expected 3", i + 1, f.len()));
        };
        let pct: f64 = acc
            .trim()
            .parse()
            .map_err(|_| format!("line {}: accuracy `{acc}` is not a number", i + 1))?;
        Ok(PublishedStrategy {
            strategy: strategy.trim().into(),
            setting: setting.trim().into(),
            accuracy: pct / 100.0,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_is_the_studys() {
        let t = published_strategies();
        let got: Vec<(String, u32)> = t
            .iter()
            .map(|r| (r.setting.clone(), (r.accuracy * 1000.0).round() as u32))
            .collect();
        let want = [
            ("greedy", 512),
            ("N=4", 515),
            ("N=8", 515),
            ("tree width 4, beam 4, 32 step tokens", 521),
            ("tree width 8, beam 8, 32 step tokens", 524),
        ];
        assert_eq!(got.len(), want.len());
        for ((s, a), (ws, wa)) in got.iter().zip(want) {
            assert_eq!((s.as_str(), *a), (ws, wa));
        }
        assert!(parse("strategy\tsetting\taccuracy\nx\ty\tz\n")
            .unwrap_err()
            .contains("line 2"));
    }
}
