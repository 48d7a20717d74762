//! Base-vs-derived pairs (`report --pairs FILE`): lines `base -> derived : label`, each
//! name resolved to one of the report's own runs or to the published leaderboard, then a
//! per-level arrow from base to derived; a paired interval when both are own runs.

use std::path::{Path, PathBuf};

use anesbench_core::{Lang, Level};
use serde::Serialize;

use crate::compare::{compare_runs, CompareOptions};
use crate::error::{ReportError, Result};
use crate::published::{published, PublishedEntry, PUBLISHED_SOURCE};
use crate::rundir::RunDir;

/// The pairs file shipped for the published models (see the comments in it).
pub const PUBLISHED_PAIRS: &str = include_str!("../../data/pairs_published.txt");
/// What `--pairs` names to use [`PUBLISHED_PAIRS`].
pub const PUBLISHED_PAIRS_NAME: &str = "published";

/// One line of a pairs file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairLine {
    pub line: usize,
    pub base: String,
    pub derived: String,
    pub label: String,
}

/// Parse `base -> derived : label` lines (`#` comments and blank lines skipped; the
/// label is optional). Errors name the file and line.
pub fn parse_pairs(text: &str, path: &Path) -> Result<Vec<PairLine>> {
    let err = |line: usize, message: String| ReportError::Pairs {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((base, rest)) = l.split_once("->") else {
            return Err(err(
                i + 1,
                format!("`{l}` has no `->` (hint: write `base -> derived : label`)"),
            ));
        };
        let (derived, label) = match rest.split_once(" : ") {
            Some((d, lab)) => (d.trim(), lab.trim()),
            None => (rest.trim(), ""),
        };
        let base = base.trim();
        if base.is_empty() || derived.is_empty() {
            return Err(err(
                i + 1,
                format!("`{l}` names no base or no derived model"),
            ));
        }
        out.push(PairLine {
            line: i + 1,
            base: base.into(),
            derived: derived.into(),
            label: label.into(),
        });
    }
    if out.is_empty() {
        return Err(err(0, "no pairs in the file".into()));
    }
    Ok(out)
}

/// Where one side of a pair comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Source {
    /// One of the report's runs (directory name given); its English cells when it has
    /// English items, else all languages.
    Run {
        run: String,
        lang: String,
    },
    Published {
        source: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub name: String,
    pub source: Source,
    /// System 1, 1.x, 2, overall.
    pub levels: [Option<f64>; 4],
}

/// Derived minus base on one level, with a paired 95% bootstrap interval when both are
/// own runs (on the items they share).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delta {
    pub level: String,
    pub base: Option<f64>,
    pub derived: Option<f64>,
    pub diff: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub mcnemar_p: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pair {
    pub line: usize,
    pub label: String,
    pub base: Side,
    pub derived: Side,
    pub deltas: Vec<Delta>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairsReport {
    pub file: String,
    pub pairs: Vec<Pair>,
    /// The published figures are English AnesBench (paper v1); a pair that mixes them with
    /// an own run's cells compares different evaluations.
    pub notes: Vec<String>,
}

const KEYS: [&str; 4] = ["system1", "system1x", "system2", "all"];

/// Read `--pairs FILE` (or the shipped file for [`PUBLISHED_PAIRS_NAME`]) and resolve it
/// against `runs` first, then the published table.
pub fn load_pairs(
    file: &Path,
    runs: &[RunDir],
    labels: &[String],
    include_incomplete: bool,
) -> Result<PairsReport> {
    let text = if file == Path::new(PUBLISHED_PAIRS_NAME) && !file.exists() {
        PUBLISHED_PAIRS.to_string()
    } else {
        std::fs::read_to_string(file).map_err(|e| ReportError::io(file, e))?
    };
    let lines = parse_pairs(&text, file)?;
    resolve_pairs(&lines, file, runs, labels, include_incomplete)
}

enum Found<'a> {
    Run(&'a RunDir),
    Published(PublishedEntry),
}

fn find<'a>(
    name: &str,
    runs: &'a [RunDir],
    labels: &[String],
    table: &[PublishedEntry],
) -> Option<Found<'a>> {
    let by_run = runs.iter().enumerate().find(|(i, r)| {
        labels.get(*i).is_some_and(|l| l == name) || r.name == name || r.model() == name
    });
    if let Some((_, r)) = by_run {
        return Some(Found::Run(r));
    }
    table
        .iter()
        .find(|e| e.model == name)
        .cloned()
        .map(Found::Published)
}

fn side(name: &str, f: &Found<'_>) -> Side {
    match f {
        Found::Run(r) => {
            let en = r.records.iter().any(|x| x.lang == Lang::En);
            let s = &r.summary;
            let cell = |l: Level| {
                if en {
                    s.lang_level(Lang::En, l)
                } else {
                    s.level(l)
                }
                .map(|c| c.accuracy)
            };
            let overall = if en {
                s.lang(Lang::En).map(|c| c.accuracy)
            } else {
                Some(s.overall.accuracy)
            };
            Side {
                name: name.into(),
                source: Source::Run {
                    run: r.name.clone(),
                    lang: if en { "en" } else { "all" }.into(),
                },
                levels: [cell(Level::S1), cell(Level::S1x), cell(Level::S2), overall],
            }
        }
        Found::Published(e) => Side {
            name: name.into(),
            source: Source::Published {
                source: PUBLISHED_SOURCE.into(),
            },
            levels: [
                Some(e.anesbench_levels[0]),
                Some(e.anesbench_levels[1]),
                Some(e.anesbench_levels[2]),
                Some(e.anesbench_overall),
            ],
        },
    }
}

pub fn resolve_pairs(
    lines: &[PairLine],
    file: &Path,
    runs: &[RunDir],
    labels: &[String],
    include_incomplete: bool,
) -> Result<PairsReport> {
    let table = published();
    let mut pairs = Vec::new();
    let mut mixed = false;
    for pl in lines {
        let look = |name: &str| {
            find(name, runs, labels, &table).ok_or_else(|| ReportError::Pairs {
                path: PathBuf::from(file),
                line: pl.line,
                message: format!(
                    "model `{name}` is neither one of the report's runs ({}) nor in the published table (hint: use a run's directory name or label, or a model exactly as published_leaderboard.tsv spells it)",
                    if runs.is_empty() {
                        "none given".to_string()
                    } else {
                        runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")
                    }
                ),
            })
        };
        let fb = look(&pl.base)?;
        let fd = look(&pl.derived)?;
        let base = side(&pl.base, &fb);
        let derived = side(&pl.derived, &fd);
        let paired = match (&fb, &fd) {
            (Found::Run(a), Found::Run(b)) => {
                let opts = CompareOptions {
                    include_incomplete,
                    ..CompareOptions::default()
                };
                // Derived first: the difference reads derived - base.
                Some(compare_runs(b, a, &opts)?)
            }
            (Found::Run(..), _) | (_, Found::Run(..)) => {
                mixed = true;
                None
            }
            _ => None,
        };
        let deltas = KEYS
            .iter()
            .enumerate()
            .map(|(j, key)| {
                let (b, d) = (base.levels[j], derived.levels[j]);
                let stats = paired.as_ref().and_then(|c| {
                    if *key == "all" {
                        Some(&c.overall)
                    } else {
                        c.by_level.iter().find(|s| s.slice == *key)
                    }
                });
                Delta {
                    level: key.to_string(),
                    base: b,
                    derived: d,
                    diff: b.zip(d).map(|(b, d)| d - b),
                    ci: stats.map(|s| (s.ci_low, s.ci_high)),
                    mcnemar_p: stats.map(|s| s.mcnemar_p),
                }
            })
            .collect();
        pairs.push(Pair {
            line: pl.line,
            label: pl.label.clone(),
            base,
            derived,
            deltas,
        });
    }
    let mut notes = vec![format!(
        "Published values: English AnesBench as evaluated for the leaderboard ({PUBLISHED_SOURCE})."
    )];
    if mixed {
        notes.push("A pair joins an own run with a published figure: they are different evaluations (prompt, decoding, dataset version), so that arrow is indicative only and has no interval.".into());
    }
    Ok(PairsReport {
        file: file.display().to_string(),
        pairs,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_pairs_resolve_against_the_published_table() {
        let lines = parse_pairs(PUBLISHED_PAIRS, Path::new("published")).unwrap();
        assert!(lines.len() >= 5);
        let r = resolve_pairs(&lines, Path::new("published"), &[], &[], false).unwrap();
        let p = r
            .pairs
            .iter()
            .find(|p| p.derived.name == "DeepSeek-R1-Distill-Llama-70B")
            .unwrap();
        assert_eq!(p.base.name, "Llama-3.3-70B-Instruct");
        // 0.77 - 0.74 on System 1 (published table).
        assert!((p.deltas[0].diff.unwrap() - 0.03).abs() < 1e-9);
        assert!(p.deltas[0].ci.is_none());
    }

    #[test]
    fn a_model_missing_everywhere_is_an_error_naming_file_line_and_name() {
        let text = "# c\nLlama-3.1-8B-Instruct -> HuatuoGPT-o1-8B : ok\nQwen2.5-7B-Instruct -> Nonexistent-Model-9B : bad\n";
        let f = Path::new("my_pairs.txt");
        let lines = parse_pairs(text, f).unwrap();
        let e = resolve_pairs(&lines, f, &[], &[], false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("my_pairs.txt") && e.contains("line 3"), "{e}");
        assert!(e.contains("`Nonexistent-Model-9B`"), "{e}");
        let e = parse_pairs("a => b\n", f).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("->"), "{e}");
    }
}
