//! What the figures draw: one point per model, from a run or from the published table.

use anesbench_core::Level;
use serde::Serialize;

use crate::model::RunReport;
use crate::published::PublishedEntry;
use crate::size::{resolve_size, SizeMap};

/// An accuracy with an optional 95% interval (published figures have none).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    pub value: f64,
    pub ci: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelPoint {
    pub label: String,
    /// The model the point is of: runs of one model share it (figures draw one point
    /// per model where a point stands for a model, as in the scale figure).
    pub model: String,
    /// Which language the level scores are over: `en`, `zh` or `all`.
    pub levels_lang: String,
    pub size_b: Option<f64>,
    /// System 1, 1.x, 2 (a run: all its languages; published: English AnesBench).
    pub levels: [Option<Score>; 3],
    pub en: Option<Score>,
    pub zh: Option<Score>,
    /// Mean completion tokens per level, where recorded.
    pub mean_tokens: [Option<f64>; 3],
    /// Whether `zh` is the published AMCQA set rather than AnesBench's Chinese half.
    pub zh_is_amcqa: bool,
}

fn score(c: Option<&anesbench_core::summary::Cell>) -> Option<Score> {
    c.filter(|c| c.n > 0).map(|c| Score {
        value: c.accuracy,
        ci: Some((c.ci_low, c.ci_high)),
    })
}

impl ModelPoint {
    /// A run's point; level scores over all its languages.
    pub fn from_run(r: &RunReport) -> ModelPoint {
        Self::from_run_lang(r, "all")
    }

    /// A run's point with level scores from one language (`en`, `zh`) where the run has
    /// it, else over all languages: `en` makes runs comparable with the published table.
    pub fn from_run_lang(r: &RunReport, lang: &str) -> ModelPoint {
        let lang = if r.cell(lang, "all").is_some() {
            lang
        } else {
            "all"
        };
        let lv = Level::ALL.map(|l| score(r.cell(lang, l.key())));
        let (en, zh) = (score(r.cell("en", "all")), score(r.cell("zh", "all")));
        let levels_lang = match (lang, en.is_some(), zh.is_some()) {
            ("all", true, false) => "en",
            ("all", false, true) => "zh",
            (l, _, _) => l,
        };
        ModelPoint {
            label: r.label.clone(),
            model: r.model.clone(),
            levels_lang: levels_lang.to_string(),
            size_b: r.param_count_b,
            levels: lv,
            en,
            zh,
            mean_tokens: Level::ALL.map(|l| r.mean_tokens(l)),
            zh_is_amcqa: false,
        }
    }

    pub fn from_published(e: &PublishedEntry, sizes: Option<&SizeMap>) -> ModelPoint {
        let plain = |v: f64| Some(Score { value: v, ci: None });
        ModelPoint {
            label: e.model.clone(),
            model: e.model.clone(),
            levels_lang: "en".into(),
            size_b: resolve_size(&e.model, None, sizes).0,
            levels: e.anesbench_levels.map(plain),
            en: plain(e.anesbench_overall),
            zh: plain(e.amcqa_overall),
            mean_tokens: [None; 3],
            zh_is_amcqa: true,
        }
    }
}
