//! The one serialisable report value every output format renders.

use anesbench_core::summary::{Cell, LengthStats};
use anesbench_core::{Lang, Level};
use serde::Serialize;

use crate::label::run_labels;
use crate::rundir::RunDir;
use crate::size::{resolve_size, SizeMap, SizeSource};
use crate::status::Completion;

/// Version of the JSON report layout.
pub const REPORT_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    /// Whether incomplete runs (interrupted, errored, subsets) are ranked too.
    pub include_incomplete: bool,
    pub runs: Vec<RunReport>,
    /// Robustness, calibration, bilingual consistency, pairs ([`crate::analysis`]);
    /// filled by [`crate::write::write_report`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis: Option<crate::analysis::Analysis>,
    /// Accuracy against compute, when the runs use more than one strategy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compute: Option<crate::compute::ComputeReport>,
}

/// Why a loglik run has no output-length table.
pub const LOGLIK_NO_LENGTH: &str =
    "loglik mode scores each option's log-likelihood and generates no text";

/// Settings that change a score, as the manifest recorded them.
#[derive(Debug, Clone, Serialize)]
pub struct ShownSettings {
    pub mode: String,
    pub prompt: String,
    pub temperature: Option<f64>,
    pub samples_per_item: u32,
    pub solver: String,
    pub dataset_source: String,
    pub dataset_fingerprint: String,
    pub tool_version: String,
    pub started_at: String,
    pub finished_at: Option<String>,
}

/// One language x level slice; `lang` / `level` are `all` for margins.
#[derive(Debug, Clone, Serialize)]
pub struct CellRow {
    pub lang: String,
    pub level: String,
    #[serde(flatten)]
    pub cell: Cell,
}

#[derive(Debug, Clone, Serialize)]
pub struct LengthRow {
    pub level: String,
    #[serde(flatten)]
    pub stats: LengthStats,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Run directory name.
    pub name: String,
    pub path: String,
    pub model: String,
    /// How the run is named in tables and figures: the model, or the model with the run
    /// name and the settings that differ when several runs of the model are shown.
    pub label: String,
    /// Samples done / selected and the status word.
    pub completion: Completion,
    /// 1-based rank by overall accuracy among the ranked runs; `None` when not ranked.
    pub rank: Option<usize>,
    /// Why the run is not ranked (incomplete or a subset), when it is not.
    pub unranked_reason: Option<String>,
    pub param_count_b: Option<f64>,
    pub size_source: Option<SizeSource>,
    pub settings: ShownSettings,
    pub items: u64,
    pub samples: u64,
    /// en, zh, all (languages present only) x System 1, 1.x, 2, all.
    pub cells: Vec<CellRow>,
    pub length: Vec<LengthRow>,
    /// Why there is no output-length table (loglik runs generate no text).
    pub length_omitted: Option<String>,
    pub warnings: Vec<String>,
}

impl RunReport {
    /// A run on its own; [`Report::new`] names it among the other runs and ranks it.
    pub fn from_run(run: &RunDir, sizes: Option<&SizeMap>) -> RunReport {
        let info = &run.info;
        let s = &run.summary;
        let (param_count_b, size_source) = resolve_size(run.model(), info.recorded_size(), sizes);
        let loglik = info.mode == "loglik";
        let mut cells = Vec::new();
        let langs: Vec<Option<Lang>> = Lang::ALL
            .into_iter()
            .filter(|l| run.has_lang(*l))
            .map(Some)
            .chain([None])
            .collect();
        for lang in langs {
            for level in Level::ALL.into_iter().map(Some).chain([None]) {
                let cell = match (lang, level) {
                    (Some(la), Some(le)) => s.lang_level(la, le),
                    (Some(la), None) => s.lang(la),
                    (None, Some(le)) => s.level(le),
                    (None, None) => Some(&s.overall),
                };
                if let Some(cell) = cell {
                    cells.push(CellRow {
                        lang: lang.map_or("all", |l| l.code()).into(),
                        level: level.map_or("all", |l| l.key()).into(),
                        cell: cell.clone(),
                    });
                }
            }
        }
        let length = Level::ALL
            .into_iter()
            .filter(|_| !loglik)
            .filter_map(|l| {
                s.length_by_level.get(l.key()).map(|st| LengthRow {
                    level: l.key().into(),
                    stats: st.clone(),
                })
            })
            .collect();
        RunReport {
            name: run.name.clone(),
            path: run.path.display().to_string(),
            model: run.model().to_string(),
            label: run.model().to_string(),
            completion: run.completion(),
            rank: None,
            unranked_reason: None,
            param_count_b,
            size_source,
            settings: ShownSettings {
                mode: info.mode.clone(),
                prompt: info.prompt.clone(),
                temperature: info.temperature,
                samples_per_item: info.samples_per_item,
                solver: info.solver.clone(),
                dataset_source: info.dataset_source.clone(),
                dataset_fingerprint: info.dataset_fingerprint.clone(),
                tool_version: info.tool_version.clone(),
                started_at: info.started_at.clone(),
                finished_at: info.finished_at.clone(),
            },
            items: s.items,
            samples: s.samples,
            cells,
            length,
            length_omitted: loglik.then(|| LOGLIK_NO_LENGTH.to_string()),
            warnings: run.warnings.clone(),
        }
    }

    pub fn cell(&self, lang: &str, level: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.lang == lang && c.level == level)
            .map(|c| &c.cell)
    }

    pub fn mean_tokens(&self, level: Level) -> Option<f64> {
        self.length
            .iter()
            .find(|l| l.level == level.key())
            .and_then(|l| l.stats.mean_completion_tokens)
    }
}

impl Report {
    /// Runs named among each other and ranked by overall accuracy; incomplete runs and
    /// subsets are left out of the ranking (see [`Report::with_incomplete`]).
    pub fn new(runs: &[RunDir], sizes: Option<&SizeMap>) -> Report {
        Report::with_incomplete(runs, sizes, false)
    }

    /// As [`Report::new`]; `include_incomplete` ranks incomplete runs and subsets too.
    pub fn with_incomplete(
        runs: &[RunDir],
        sizes: Option<&SizeMap>,
        include_incomplete: bool,
    ) -> Report {
        let labels = run_labels(&runs.iter().collect::<Vec<_>>());
        let compute = crate::compute::analyse(runs, &labels);
        let mut out: Vec<RunReport> = runs
            .iter()
            .zip(labels)
            .map(|(r, label)| RunReport {
                label,
                ..RunReport::from_run(r, sizes)
            })
            .collect();
        for r in &mut out {
            if !include_incomplete {
                r.unranked_reason = r.completion.unranked_reason();
            }
        }
        let mut order: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].unranked_reason.is_none())
            .collect();
        let acc = |r: &RunReport| {
            r.cell("all", "all")
                .map_or(f64::NEG_INFINITY, |c| c.accuracy)
        };
        order.sort_by(|&a, &b| acc(&out[b]).total_cmp(&acc(&out[a])));
        let mut prev: Option<(f64, usize)> = None;
        for (pos, &i) in order.iter().enumerate() {
            let a = acc(&out[i]);
            let rank = match prev {
                Some((pa, pr)) if pa == a => pr,
                _ => pos + 1,
            };
            prev = Some((a, rank));
            out[i].rank = Some(rank);
        }
        Report {
            schema: REPORT_SCHEMA,
            include_incomplete,
            runs: out,
            analysis: None,
            compute,
        }
    }

    /// Ranked runs best first, then the others in the order given.
    pub fn ranked(&self) -> (Vec<&RunReport>, Vec<&RunReport>) {
        let mut ranked: Vec<&RunReport> = self.runs.iter().filter(|r| r.rank.is_some()).collect();
        ranked.sort_by_key(|r| r.rank);
        let rest = self.runs.iter().filter(|r| r.rank.is_none()).collect();
        (ranked, rest)
    }
}

/// Display name of a `lang` / `level` key used in [`CellRow`].
pub fn lang_name(code: &str) -> &str {
    match code {
        "en" => "English",
        "zh" => "Chinese",
        _ => "All",
    }
}

pub fn level_name(key: &str) -> &str {
    Level::ALL
        .into_iter()
        .find(|l| l.key() == key)
        .map_or("All levels", |l| l.name())
}
