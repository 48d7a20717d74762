//! Output formats: one small file each, behind [`Exporter`].

pub mod analysis;
mod csv;
mod html;
mod json;
mod md;
mod text;
pub use text::{size_source_text, trim_num as trim_size};

use std::str::FromStr;

use serde::Serialize;

use crate::error::{ReportError, Result};
use crate::model::Report;
use crate::plots::FigureKind;

pub use csv::CsvExporter;
pub use html::HtmlExporter;
pub use json::JsonExporter;
pub use md::MarkdownExporter;

/// A figure as the formats see it: drawn (SVG text) or skipped with the reason.
#[derive(Debug, Clone, Serialize)]
pub struct RenderedFigure {
    pub kind: FigureKind,
    pub title: String,
    /// Path relative to the report (`figures/levels.svg`), when written.
    pub file: Option<String>,
    /// Every file of the figure, relative to the report: SVG, PDF and PNG at the two-
    /// and the one-column width.
    pub files: Vec<String>,
    #[serde(skip)]
    pub svg: Option<String>,
    pub skipped: Option<String>,
    /// Numbers printed under the figure (fitted lines, left-out models).
    pub notes: Vec<String>,
}

/// Renders a report to one text format.
pub trait Exporter {
    fn extension(&self) -> &'static str;
    fn render(&self, report: &Report, figures: &[RenderedFigure]) -> Result<String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Csv,
    Json,
}

impl Format {
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            Format::Markdown => Box::new(MarkdownExporter),
            Format::Html => Box::new(HtmlExporter),
            Format::Csv => Box::new(CsvExporter),
            Format::Json => Box::new(JsonExporter),
        }
    }

    /// Parse a comma-separated list such as `md,html`.
    pub fn parse_list(s: &str) -> Result<Vec<Format>> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let f = part.parse()?;
            if !out.contains(&f) {
                out.push(f);
            }
        }
        if out.is_empty() {
            return Err(ReportError::Invalid(
                "--format: empty list (hint: md,html,csv,json)".into(),
            ));
        }
        Ok(out)
    }
}

impl FromStr for Format {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            other => Err(ReportError::Invalid(format!(
                "--format: unknown format `{other}` (expected md, html, csv or json)"
            ))),
        }
    }
}
