//! The study's training-strategy table (Qwen2.5-7B: instruct, Base+SFT, Base+CPT+SFT),
//! shipped as `data/training_strategies.tsv` with its source, shown beside own runs.

use serde::Serialize;

/// The table as shipped (its `#` lines name the source).
pub const TRAINING_TSV: &str = include_str!("../../data/training_strategies.tsv");

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingRow {
    pub model: String,
    pub base: String,
    pub cpt: String,
    pub sft_data: String,
    /// AnesBench accuracy as a fraction.
    pub accuracy: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingTable {
    pub source: String,
    pub rows: Vec<TrainingRow>,
}

/// Parse a table with the shipped layout; errors name the line.
pub fn parse_training(text: &str) -> Result<TrainingTable, String> {
    let mut source = Vec::new();
    let mut rows = Vec::new();
    let mut header = false;
    for (i, l) in text.lines().enumerate() {
        if let Some(c) = l.strip_prefix('#') {
            source.push(c.trim().to_string());
            continue;
        }
        if l.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = l.split('\t').collect();
        if !header {
            if f != ["model", "base", "cpt", "sft_data", "anesbench_accuracy"] {
                return Err(format!("line {}: unexpected header `{l}`", i + 1));
            }
            header = true;
            continue;
        }
        if f.len() != 5 {
            return Err(format!("line {}: {} fields, expected 5", i + 1, f.len()));
        }
        let pct: f64 = f[4]
            .trim()
            .parse()
            .map_err(|_| format!("line {}: `{}` is not a number", i + 1, f[4]))?;
        rows.push(TrainingRow {
            model: f[0].into(),
            base: f[1].into(),
            cpt: f[2].into(),
            sft_data: f[3].into(),
            accuracy: pct / 100.0,
        });
    }
    Ok(TrainingTable {
        source: source.join(" "),
        rows,
    })
}

pub fn training_table() -> TrainingTable {
    parse_training(TRAINING_TSV).expect("embedded training_strategies.tsv is well formed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_holds_the_published_figures() {
        let t = training_table();
        let acc: Vec<f64> = t.rows.iter().map(|r| r.accuracy * 100.0).collect();
        let want = [51.5, 49.3, 49.1, 49.7, 49.7, 50.7, 51.2];
        assert_eq!(acc.len(), want.len());
        for (a, w) in acc.iter().zip(want) {
            assert!((a - w).abs() < 1e-9, "{a} vs {w}");
        }
        assert!(t.source.contains("anesbench.ai"));
        assert!(parse_training("model\tx\n").is_err());
    }
}
