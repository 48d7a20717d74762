//! The study's figures, drawn with `plotters` as SVG (inlined in HTML, linked from
//! Markdown) and converted from that SVG to PDF and 300-dpi PNG ([`export`]) at the
//! widths of a one- and a two-column figure. Text uses an embedded DejaVu Sans, so no
//! system fonts are needed.

pub mod cot;
pub mod export;
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

pub use export::{export_figure, Width};
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
            FigureKind::Scale => scale_analysis(pts)
                .points
                .is_empty()
                .then(|| "needs a model of known size (see --sizes or --param-count)".to_string()),
            FigureKind::Lang => (!pts.iter().any(|p| p.en.is_some() && p.zh.is_some()))
                .then(|| "needs a run with both English and Chinese items".to_string()),
            FigureKind::Cot => (!pts
                .iter()
                .any(|p| p.mean_tokens.iter().any(Option::is_some)))
            .then(|| "no completion token counts recorded".to_string()),
        }
    }

    /// Size in SVG pixels. The one-column layout is narrower, not a scaled-down copy,
    /// so its text prints at about 7-9 pt at 3.5 in.
    fn size(self, pts: &[ModelPoint], width: Width) -> (u32, u32) {
        match (self, width) {
            (FigureKind::Levels, Width::TwoColumn) => (820, 500),
            (FigureKind::Levels, Width::OneColumn) => (520, 420),
            (FigureKind::Scale, Width::TwoColumn) => (860, 600),
            (FigureKind::Scale, Width::OneColumn) => (540, 520),
            (FigureKind::Lang, Width::TwoColumn) => (820, lang::height(pts)),
            (FigureKind::Lang, Width::OneColumn) => (540, lang::height(pts)),
            (FigureKind::Cot, Width::TwoColumn) => (1200, 480),
            (FigureKind::Cot, Width::OneColumn) => (540, 1000),
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

pub(crate) fn plot_err(kind: FigureKind, e: impl std::fmt::Display) -> ReportError {
    ReportError::Plot {
        figure: kind.id().into(),
        message: e.to_string(),
    }
}

/// Draw a figure as an SVG document, laid out for a two-column figure.
pub fn render_svg(kind: FigureKind, pts: &[ModelPoint]) -> Result<String> {
    render_svg_at(kind, pts, Width::TwoColumn)
}

/// Draw a figure as an SVG document laid out for `width`.
pub fn render_svg_at(kind: FigureKind, pts: &[ModelPoint], width: Width) -> Result<String> {
    style::ensure_font();
    if let Some(why) = kind.unavailable(pts) {
        return Err(plot_err(kind, why));
    }
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, kind.size(pts, width)).into_drawing_area();
        kind.draw(&root, pts).map_err(|e| plot_err(kind, e))?;
    }
    Ok(out)
}

/// Write one file, its format from the extension: `.svg`, `.pdf` (vector, 7 in wide) or
/// `.png` (7 in at 300 dpi).
pub fn render_to_file(kind: FigureKind, pts: &[ModelPoint], path: &Path) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match ext.as_deref() {
        Some("svg") => render_svg(kind, pts)?.into_bytes(),
        Some("pdf") => {
            export::svg_to_pdf(kind, &render_svg(kind, pts)?, Width::TwoColumn.inches())?
        }
        Some("png") => export::svg_to_png(
            kind,
            &render_svg(kind, pts)?,
            Width::TwoColumn.inches(),
            export::PNG_DPI,
        )?,
        _ => {
            return Err(ReportError::Invalid(format!(
                "{}: unknown figure format (hint: name the file .svg, .pdf or .png)",
                path.display()
            )))
        }
    };
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))
}
