//! JSON report: the [`Report`] value plus the figures' files and fitted numbers.

use serde::Serialize;

use super::{Exporter, RenderedFigure};
use crate::error::Result;
use crate::model::Report;

pub struct JsonExporter;

#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    report: &'a Report,
    figures: &'a [RenderedFigure],
}

impl Exporter for JsonExporter {
    fn extension(&self) -> &'static str {
        "json"
    }

    fn render(&self, report: &Report, figures: &[RenderedFigure]) -> Result<String> {
        let mut s = serde_json::to_string_pretty(&JsonReport { report, figures })
            .expect("report serialises");
        s.push('\n');
        Ok(s)
    }
}
