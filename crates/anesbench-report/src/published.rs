//! The leaderboard published on the AnesBench project page, embedded (see
//! `data/SOURCE.md`). AnesBench columns are English (paper v1); AMCQA is a separate
//! Chinese set, so a run's Chinese score is not comparable with it.

use serde::Serialize;

/// The TSV as shipped.
pub const PUBLISHED_TSV: &str = include_str!("../data/published_leaderboard.tsv");
/// Where the figures come from, for captions and footers.
pub const PUBLISHED_SOURCE: &str =
    "AnesBench project page (MiliLab, anesbench.ai), \"Leaderboard on AnesBench & AMCQA\", read 2026-11";

/// One published model: accuracies as fractions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedEntry {
    pub model: String,
    /// English AnesBench: System 1, 1.x, 2.
    pub anesbench_levels: [f64; 3],
    pub anesbench_overall: f64,
    /// AMCQA (Chinese): System 1, 1.x, 2.
    pub amcqa_levels: [f64; 3],
    pub amcqa_overall: f64,
    pub average: f64,
}

/// Parse the embedded table. Panics only if the shipped file is malformed, which the
/// tests catch.
pub fn published() -> Vec<PublishedEntry> {
    parse_published(PUBLISHED_TSV).expect("embedded published_leaderboard.tsv is well formed")
}

/// Parse a table with the shipped layout; the error names the line and column.
pub fn parse_published(text: &str) -> Result<Vec<PublishedEntry>, String> {
    let mut out = Vec::new();
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let (_, header) = lines.next().ok_or("empty table")?;
    let cols: Vec<&str> = header.split('\t').collect();
    if cols.len() != 10 || cols[0] != "model" {
        return Err(format!("line 1: unexpected header `{header}`"));
    }
    for (i, line) in lines {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() != 10 {
            return Err(format!("line {}: {} fields, expected 10", i + 1, f.len()));
        }
        let mut v = [0.0; 9];
        for (j, x) in f[1..].iter().enumerate() {
            v[j] = x.trim().parse().map_err(|_| {
                format!(
                    "line {}: column `{}`: `{x}` is not a number",
                    i + 1,
                    cols[j + 1]
                )
            })?;
        }
        out.push(PublishedEntry {
            model: f[0].trim().to_string(),
            anesbench_levels: [v[0], v[1], v[2]],
            anesbench_overall: v[3],
            amcqa_levels: [v[4], v[5], v[6]],
            amcqa_overall: v[7],
            average: v[8],
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses_whole() {
        let p = published();
        assert_eq!(p.len(), 51);
        let q = p.iter().find(|e| e.model == "Qwen2.5-7B-Instruct").unwrap();
        assert_eq!(q.anesbench_levels, [0.56, 0.44, 0.36]);
        assert_eq!(q.amcqa_overall, 0.67);
        for e in &p {
            assert!(
                e.anesbench_levels
                    .iter()
                    .chain(&e.amcqa_levels)
                    .all(|x| (0.0..=1.0).contains(x)),
                "{}",
                e.model
            );
        }
        assert!(parse_published("model\tx\n").is_err());
    }
}
