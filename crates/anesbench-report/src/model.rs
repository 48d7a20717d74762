//! The one serialisable report value every output format renders.

use anesbench_core::summary::{Cell, LengthStats};
use anesbench_core::{Lang, Level};
use serde::Serialize;

use crate::rundir::RunDir;
use crate::size::{resolve_size, SizeMap, SizeSource};

/// Version of the JSON report layout.
pub const REPORT_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema: u32,
    pub runs: Vec<RunReport>,
}

/// Settings that change a score, as the manifest recorded them.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
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
    pub param_count_b: Option<f64>,
    pub size_source: Option<SizeSource>,
    pub settings: Settings,
    pub items: u64,
    pub samples: u64,
    /// en, zh, all (languages present only) x System 1, 1.x, 2, all.
    pub cells: Vec<CellRow>,
    pub length: Vec<LengthRow>,
    pub warnings: Vec<String>,
}

impl RunReport {
    pub fn from_run(run: &RunDir, sizes: Option<&SizeMap>) -> RunReport {
        let info = &run.info;
        let s = &run.summary;
        let (param_count_b, size_source) = resolve_size(run.label(), info.recorded_size(), sizes);
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
            model: run.label().to_string(),
            param_count_b,
            size_source,
            settings: Settings {
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
    pub fn new(runs: &[RunDir], sizes: Option<&SizeMap>) -> Report {
        Report {
            schema: REPORT_SCHEMA,
            runs: runs.iter().map(|r| RunReport::from_run(r, sizes)).collect(),
        }
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
