//! Beyond accuracy, per run: option-order robustness (`--permute` runs), calibration
//! (loglik softmax confidence or self-consistency vote share), bilingual consistency on
//! items present in both languages; across runs and the published table: base-vs-derived
//! pairs (`--pairs`) and the study's training-strategy table. The statistics live in
//! [`anesbench_core::analysis`]; this module gathers them per run and lays them out as
//! [`Section`]s, which Markdown and HTML render the same way and JSON carries whole.

pub mod figures;
pub mod pairs;
pub mod training;

use anesbench_core::analysis::{
    calibration, decisions, paired_by_level, robustness, Calibration, Decision, Robustness,
    ECE_BINS,
};
use anesbench_core::permute::Permute;
use anesbench_core::vote::Aggregation;
use anesbench_core::{Lang, Level};
use serde::Serialize;

use crate::rundir::RunDir;
use crate::stats::mcnemar_exact;
pub use pairs::PairsReport;
pub use training::TrainingTable;

/// What the plain accuracy of a permuted run is.
pub const PLAIN_RULE: &str =
    "plain accuracy = accuracy in the original option order (sample 0 of each item)";

#[derive(Debug, Clone, Serialize)]
pub struct RobustnessView {
    pub mode: String,
    pub plain_rule: &'static str,
    pub plain_accuracy: f64,
    pub circular_accuracy: f64,
    #[serde(flatten)]
    pub stats: Robustness,
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelCalibration {
    /// Level key, or `all`.
    pub level: String,
    #[serde(flatten)]
    pub cal: Calibration,
}

/// English (first) x Chinese (second) on the items with the same id in both.
#[derive(Debug, Clone, Serialize)]
pub struct BilingualRow {
    pub level: String,
    pub n: u64,
    pub agreement: f64,
    pub en_right_zh_right: u64,
    pub en_right_zh_wrong: u64,
    pub en_wrong_zh_right: u64,
    pub en_wrong_zh_wrong: u64,
    /// Exact McNemar (two-sided binomial on the discordant pairs).
    pub mcnemar_p: f64,
    pub right_in_en_only: Vec<String>,
    pub right_in_zh_only: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunAnalysis {
    pub name: String,
    pub label: String,
    /// How the per-item decision is made (`identity_order`, `majority`, ...).
    pub decision: String,
    pub robustness: Option<RobustnessView>,
    /// Where confidence comes from; `None` when the run has none (one generated answer).
    pub confidence_source: Option<String>,
    pub calibration: Vec<LevelCalibration>,
    pub bilingual: Vec<BilingualRow>,
    /// Accuracy on the run's English items (all items when it has none), as the run
    /// decides: what the training-strategy table sets beside the study's figures.
    pub accuracy: Option<f64>,
}

impl RunAnalysis {
    pub fn of(run: &RunDir, label: &str) -> RunAnalysis {
        let agg = Aggregation::for_solver(&run.info.solver);
        let dec = decisions(&run.records, agg);
        let robustness = run
            .info
            .permute
            .as_deref()
            .and_then(|p| p.parse::<Permute>().ok())
            .map(|mode| {
                let stats = robustness(&run.records, mode);
                RobustnessView {
                    mode: mode.to_string(),
                    plain_rule: PLAIN_RULE,
                    plain_accuracy: stats.plain_accuracy(),
                    circular_accuracy: stats.circular_accuracy(),
                    stats,
                }
            });
        let has_conf = dec.iter().any(|d| d.confidence.is_some());
        let confidence_source = has_conf.then(|| {
            if run.info.mode == "loglik" {
                "softmax over the option log-probabilities (probability of the chosen option)"
            } else {
                "vote share of the winning answer among the item's samples"
            }
            .to_string()
        });
        let mut cal = Vec::new();
        if has_conf {
            for level in Level::ALL.map(Some).into_iter().chain([None]) {
                let pts: Vec<(f64, bool)> = dec
                    .iter()
                    .filter(|d| level.is_none_or(|l| d.level == l))
                    .filter_map(|d| d.confidence.map(|c| (c, d.correct)))
                    .collect();
                if let Some(c) = calibration(&pts) {
                    cal.push(LevelCalibration {
                        level: level.map_or("all", |l| l.key()).into(),
                        cal: c,
                    });
                }
            }
        }
        let lang = |l: Lang| {
            dec.iter()
                .filter(|d| d.lang == l)
                .cloned()
                .collect::<Vec<Decision>>()
        };
        let bilingual = paired_by_level(&lang(Lang::En), &lang(Lang::Zh))
            .into_iter()
            .map(|(level, p)| BilingualRow {
                n: p.n(),
                agreement: p.agreement(),
                en_right_zh_right: p.both,
                en_right_zh_wrong: p.first_only,
                en_wrong_zh_right: p.second_only,
                en_wrong_zh_wrong: p.neither,
                mcnemar_p: mcnemar_exact(p.first_only, p.second_only),
                right_in_en_only: p.first_only_ids,
                right_in_zh_only: p.second_only_ids,
                level,
            })
            .collect::<Vec<_>>();
        let mut bilingual = bilingual;
        bilingual.sort_by_key(|b| level_order(&b.level));
        RunAnalysis {
            name: run.name.clone(),
            label: label.to_string(),
            decision: agg.name().into(),
            robustness,
            confidence_source,
            calibration: cal,
            bilingual,
            accuracy: run
                .summary
                .lang(Lang::En)
                .map(|c| c.accuracy)
                .or((run.summary.overall.n > 0).then_some(run.summary.overall.accuracy)),
        }
    }
}

fn level_order(key: &str) -> usize {
    Level::ALL
        .iter()
        .position(|l| l.key() == key)
        .unwrap_or(Level::ALL.len())
}

/// A figure of the analysis: drawn, with its file, or why not.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisFigure {
    pub id: String,
    pub title: String,
    pub file: Option<String>,
    #[serde(skip)]
    pub svg: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub runs: Vec<RunAnalysis>,
    pub pairs: Option<PairsReport>,
    pub training: TrainingTable,
    pub figures: Vec<AnalysisFigure>,
}

/// A table as the formats draw it.
#[derive(Debug, Clone)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A titled block of text, tables and figures, rendered alike by Markdown and HTML.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    pub text: Vec<String>,
    pub tables: Vec<Table>,
    pub figures: Vec<AnalysisFigure>,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn opt_pct(x: Option<f64>) -> String {
    x.map_or("-".into(), pct)
}

fn level_label(key: &str) -> String {
    crate::model::level_name(key).to_string()
}

fn strs<const N: usize>(a: [&str; N]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// At most this many item ids are listed per cell in the text formats (JSON has all).
const LIST_MAX: usize = 50;

fn id_list(ids: &[String]) -> String {
    if ids.is_empty() {
        return "-".into();
    }
    let mut s = ids
        .iter()
        .take(LIST_MAX)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > LIST_MAX {
        s.push_str(&format!(
            " ... ({} more in report.json)",
            ids.len() - LIST_MAX
        ));
    }
    s
}

impl Analysis {
    fn figures_with(&self, prefix: &str) -> Vec<AnalysisFigure> {
        self.figures
            .iter()
            .filter(|f| f.id.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The analysis laid out for the text formats.
    pub fn sections(&self) -> Vec<Section> {
        let mut out = Vec::new();
        for (i, r) in self.runs.iter().enumerate() {
            if let Some(rb) = &r.robustness {
                let s = &rb.stats;
                let letters: Vec<char> = s
                    .gold
                    .keys()
                    .chain(s.picked.keys())
                    .copied()
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let picked_n: u64 = s.picked.values().sum::<u64>() + s.no_answer;
                let gold_n: u64 = s.gold.values().sum();
                let mut rows: Vec<Vec<String>> = letters
                    .iter()
                    .map(|l| {
                        let p = s.picked.get(l).copied().unwrap_or(0);
                        let g = s.gold.get(l).copied().unwrap_or(0);
                        vec![
                            l.to_string(),
                            format!("{p} ({})", pct(p as f64 / picked_n.max(1) as f64)),
                            format!("{g} ({})", pct(g as f64 / gold_n.max(1) as f64)),
                        ]
                    })
                    .collect();
                rows.push(vec![
                    "no answer".into(),
                    format!(
                        "{} ({})",
                        s.no_answer,
                        pct(s.no_answer as f64 / picked_n.max(1) as f64)
                    ),
                    "-".into(),
                ]);
                out.push(Section {
                    title: format!("Option-order robustness: {}", r.label),
                    text: vec![
                        format!(
                            "`--permute {}`: {} items asked in every order. Plain accuracy {} ({PLAIN_RULE}); circular accuracy {} (right in every order).",
                            rb.mode,
                            s.items,
                            pct(rb.plain_accuracy),
                            pct(rb.circular_accuracy)
                        ),
                        "Picked position: the displayed letter the model chose, over all (item, order) candidates; gold position: where the right option stood.".into(),
                    ],
                    tables: vec![Table {
                        header: strs(["Displayed position", "Picked", "Gold"]),
                        rows,
                    }],
                    figures: self.figures_with(&format!("position-bias-{i}")),
                });
            }
            if let Some(src) = &r.confidence_source {
                let rows = r
                    .calibration
                    .iter()
                    .map(|c| {
                        let sel = |cov: f64| {
                            c.cal
                                .selective
                                .iter()
                                .find(|(k, _)| (*k - cov).abs() < 1e-9)
                                .map_or("-".into(), |(_, a)| pct(*a))
                        };
                        vec![
                            level_label(&c.level),
                            c.cal.n.to_string(),
                            format!("{:.4}", c.cal.ece),
                            format!("{:.4}", c.cal.brier),
                            sel(0.5),
                            sel(0.8),
                            sel(1.0),
                        ]
                    })
                    .collect();
                out.push(Section {
                    title: format!("Calibration: {}", r.label),
                    text: vec![format!(
                        "Confidence: {src}. ECE over {ECE_BINS} equal-width bins on [0, 1] (sum of bin share x |accuracy - mean confidence|); Brier score of the chosen answer's confidence (mean of (confidence - correct)^2). Selective accuracy: accuracy of the most confident items at that coverage. A no-answer item counts with confidence 0."
                    )],
                    tables: vec![Table {
                        header: strs([
                            "Level", "Items", "ECE", "Brier", "Acc @50%", "Acc @80%", "Acc @100%",
                        ]),
                        rows,
                    }],
                    figures: self.figures_with(&format!("reliability-{i}")),
                });
            }
            if !r.bilingual.is_empty() {
                let table = Table {
                    header: strs([
                        "Level",
                        "Pairs",
                        "Agreement",
                        "EN right ZH right",
                        "EN right ZH wrong",
                        "EN wrong ZH right",
                        "EN wrong ZH wrong",
                        "McNemar p (exact)",
                    ]),
                    rows: r
                        .bilingual
                        .iter()
                        .map(|b| {
                            vec![
                                level_label(&b.level),
                                b.n.to_string(),
                                pct(b.agreement),
                                b.en_right_zh_right.to_string(),
                                b.en_right_zh_wrong.to_string(),
                                b.en_wrong_zh_right.to_string(),
                                b.en_wrong_zh_wrong.to_string(),
                                format!("{:.4}", b.mcnemar_p),
                            ]
                        })
                        .collect(),
                };
                let lists = Table {
                    header: strs(["Level", "Right in English only", "Right in Chinese only"]),
                    rows: r
                        .bilingual
                        .iter()
                        .filter(|b| b.level != "all")
                        .map(|b| {
                            vec![
                                level_label(&b.level),
                                id_list(&b.right_in_en_only),
                                id_list(&b.right_in_zh_only),
                            ]
                        })
                        .collect(),
                };
                out.push(Section {
                    title: format!("Bilingual consistency: {}", r.label),
                    text: vec!["Items with the same id in English and Chinese, each decided as the run decides it; level of the English item. McNemar: two-sided exact binomial test on the discordant pairs.".into()],
                    tables: vec![table, lists],
                    figures: Vec::new(),
                });
            }
        }
        if let Some(p) = &self.pairs {
            let rows = p
                .pairs
                .iter()
                .flat_map(|pair| {
                    pair.deltas.iter().map(move |d| {
                        vec![
                            format!("{} -> {}", pair.base.name, pair.derived.name),
                            pair.label.clone(),
                            level_label(&d.level),
                            opt_pct(d.base),
                            opt_pct(d.derived),
                            d.diff
                                .map_or("-".into(), |x| format!("{:+.1} pt", x * 100.0)),
                            d.ci.map_or("-".into(), |(lo, hi)| {
                                format!("[{:+.1}, {:+.1}] pt", lo * 100.0, hi * 100.0)
                            }),
                            d.mcnemar_p.map_or("-".into(), |p| format!("{p:.4}")),
                        ]
                    })
                })
                .collect();
            let mut text = vec![format!(
                "Pairs from `{}`. Own runs: their English cells (all languages when a run has no English items); interval: paired bootstrap (10,000 resamples) of derived - base on shared items, only when both are own runs.",
                p.file
            )];
            text.extend(p.notes.iter().cloned());
            out.push(Section {
                title: "Base vs derived models".into(),
                text,
                tables: vec![Table {
                    header: strs([
                        "Pair",
                        "Label",
                        "Level",
                        "Base",
                        "Derived",
                        "Change",
                        "95% interval",
                        "McNemar p",
                    ]),
                    rows,
                }],
                figures: self.figures_with("pairs"),
            });
        }
        let mut rows: Vec<Vec<String>> = self
            .training
            .rows
            .iter()
            .map(|t| {
                vec![
                    "published".into(),
                    t.model.clone(),
                    t.base.clone(),
                    t.cpt.clone(),
                    t.sft_data.clone(),
                    pct(t.accuracy),
                ]
            })
            .collect();
        for r in &self.runs {
            rows.push(vec![
                "own run".into(),
                r.label.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                r.accuracy.map_or("-".into(), pct),
            ]);
        }
        out.push(Section {
            title: "Training strategies (study) beside own runs".into(),
            text: vec![
                format!("Source: {}", self.training.source),
                "Own runs: accuracy on their English items (all items when a run has none), as decided by the run.".into(),
            ],
            tables: vec![Table {
                header: strs(["From", "Model", "Base", "CPT", "SFT data", "AnesBench accuracy"]),
                rows,
            }],
            figures: Vec::new(),
        });
        out
    }
}

impl Analysis {
    /// Gather the analysis of `runs` (named by `labels`) and, with `pairs`, the pairs.
    pub fn build(
        runs: &[RunDir],
        labels: &[String],
        pairs: Option<&std::path::Path>,
        include_incomplete: bool,
    ) -> crate::Result<Analysis> {
        let pairs = pairs
            .map(|p| pairs::load_pairs(p, runs, labels, include_incomplete))
            .transpose()?;
        Ok(Analysis {
            runs: runs
                .iter()
                .zip(labels)
                .map(|(r, l)| RunAnalysis::of(r, l))
                .collect(),
            pairs,
            training: training::training_table(),
            figures: Vec::new(),
        })
    }
}
