//! The study's figures, drawn with `plotters` on any backend: SVG strings for HTML and
//! Markdown, PNG files on request. Text uses an embedded DejaVu Sans, so no system fonts
//! are needed.

pub mod cot;
pub mod lang;
pub mod levels;
pub mod scale;
pub(crate) mod style;

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::Serialize;

use crate::error::{ReportError, Result};
use crate::points::ModelPoint;

pub use scale::{scale_analysis, ScaleAnalysis};

pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// The four figures of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FigureKind {
    /// (a) accuracy per level with interval whiskers, one series per model.
    Levels,
    /// (b) score per level against log model size, fitted lines, System 1 - 2 gap.
    Scale,
    /// (c) English vs Chinese score per model.
    Lang,
    /// (d) score against log mean output length, one panel per level.
    Cot,
}

impl FigureKind {
    pub const ALL: [FigureKind; 4] = [
        FigureKind::Levels,
        FigureKind::Scale,
        FigureKind::Lang,
        FigureKind::Cot,
    ];

    /// File stem of the figure (`figures/<id>.svg`).
    pub fn id(self) -> &'static str {
        match self {
            FigureKind::Levels => "levels",
            FigureKind::Scale => "scale",
            FigureKind::Lang => "lang",
            FigureKind::Cot => "cot",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            FigureKind::Levels => "Accuracy per cognitive level",
            FigureKind::Scale => "Model-scale analysis",
            FigureKind::Lang => "Language transfer",
            FigureKind::Cot => "Output (CoT) length",
        }
    }

    /// Why the figure cannot be drawn from these points, if it cannot.
    pub fn unavailable(self, pts: &[ModelPoint]) -> Option<String> {
        match self {
            FigureKind::Levels => (!pts.iter().any(|p| p.levels.iter().any(Option::is_some)))
                .then(|| "no level scores".to_string()),
            FigureKind::Scale => {
                let a = scale_analysis(pts);
                a.fits.iter().all(Option::is_none).then(|| {
                    "needs at least two models of different known size (see --sizes or --param-count)".to_string()
                })
            }
            FigureKind::Lang => (!pts.iter().any(|p| p.en.is_some() && p.zh.is_some()))
                .then(|| "needs a run with both English and Chinese items".to_string()),
            FigureKind::Cot => (!pts
                .iter()
                .any(|p| p.mean_tokens.iter().any(Option::is_some)))
            .then(|| "no completion token counts recorded".to_string()),
        }
    }

    fn size(self, pts: &[ModelPoint]) -> (u32, u32) {
        match self {
            FigureKind::Levels => (820, 500),
            FigureKind::Scale => (860, 560),
            FigureKind::Lang => (820, lang::height(pts)),
            FigureKind::Cot => (1200, 440),
        }
    }

    fn draw<DB: DrawingBackend>(
        self,
        root: &DrawingArea<DB, Shift>,
        pts: &[ModelPoint],
    ) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        match self {
            FigureKind::Levels => levels::draw(root, pts),
            FigureKind::Scale => scale::draw(root, pts),
            FigureKind::Lang => lang::draw(root, pts),
            FigureKind::Cot => cot::draw(root, pts),
        }?;
        root.present()?;
        Ok(())
    }
}

fn plot_err(kind: FigureKind, e: impl std::fmt::Display) -> ReportError {
    ReportError::Plot {
        figure: kind.id().into(),
        message: e.to_string(),
    }
}

/// Draw a figure as an SVG document.
pub fn render_svg(kind: FigureKind, pts: &[ModelPoint]) -> Result<String> {
    style::ensure_font();
    if let Some(why) = kind.unavailable(pts) {
        return Err(plot_err(kind, why));
    }
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, kind.size(pts)).into_drawing_area();
        kind.draw(&root, pts).map_err(|e| plot_err(kind, e))?;
    }
    Ok(out)
}

/// Draw a figure as a PNG file.
pub fn render_png(kind: FigureKind, pts: &[ModelPoint], path: &Path) -> Result<()> {
    style::ensure_font();
    if let Some(why) = kind.unavailable(pts) {
        return Err(plot_err(kind, why));
    }
    let root = BitMapBackend::new(path, kind.size(pts)).into_drawing_area();
    kind.draw(&root, pts)
        .map_err(|e| plot_err(kind, format!("{}: {e}", path.display())))
}

/// Write `<stem>.svg` or `.png` depending on the extension of `path`.
pub fn render_to_file(kind: FigureKind, pts: &[ModelPoint], path: &Path) -> Result<()> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => render_png(kind, pts, path),
        Some("svg") => {
            let svg = render_svg(kind, pts)?;
            std::fs::write(path, svg).map_err(|e| ReportError::io(path, e))
        }
        _ => Err(ReportError::Invalid(format!(
            "{}: unknown figure format (hint: name the file .svg or .png)",
            path.display()
        ))),
    }
}
