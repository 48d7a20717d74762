//! CSV report: one row per run x language x level (margins as `all`), tidy for pandas / R.

use anesbench_core::Level;

use super::text::trim_num;
use super::{Exporter, RenderedFigure};
use crate::error::Result;
use crate::model::Report;

pub struct CsvExporter;

const HEADER: &str = "run,label,model,param_count_b,size_source,done,expected,status,rank,mode,prompt,temperature,samples_per_item,solver,dataset_source,subset,lang,level,n,correct,accuracy,ci_low,ci_high,no_answer,truncated,errors,mean_completion_tokens,median_completion_tokens";

/// RFC 4180 quoting, only where needed.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.6}")).unwrap_or_default()
}

impl Exporter for CsvExporter {
    fn extension(&self) -> &'static str {
        "csv"
    }

    fn render(&self, report: &Report, _figures: &[RenderedFigure]) -> Result<String> {
        let mut o = String::from(HEADER);
        o.push('\n');
        for r in &report.runs {
            let s = &r.settings;
            for c in &r.cells {
                let k = &c.cell;
                // Output length is recorded per level over all languages only.
                let len = (c.lang == "all")
                    .then(|| Level::ALL.into_iter().find(|l| l.key() == c.level))
                    .flatten()
                    .and_then(|l| r.length.iter().find(|x| x.level == l.key()));
                let cols = [
                    field(&r.name),
                    field(&r.label),
                    field(&r.model),
                    r.param_count_b.map(trim_num).unwrap_or_default(),
                    r.size_source
                        .map(|s| s.name().to_string())
                        .unwrap_or_default(),
                    r.completion.done.to_string(),
                    r.completion.expected.to_string(),
                    field(&r.completion.status),
                    r.rank.map(|k| k.to_string()).unwrap_or_default(),
                    field(&s.mode),
                    field(&s.prompt),
                    s.temperature.map(trim_num).unwrap_or_default(),
                    s.samples_per_item.to_string(),
                    field(&s.solver),
                    field(&s.dataset_source),
                    field(&r.completion.subset.join("; ")),
                    c.lang.clone(),
                    c.level.clone(),
                    k.n.to_string(),
                    k.correct.to_string(),
                    num(Some(k.accuracy)),
                    num(Some(k.ci_low)),
                    num(Some(k.ci_high)),
                    k.no_answer.to_string(),
                    k.truncated.to_string(),
                    k.errors.to_string(),
                    num(len.and_then(|l| l.stats.mean_completion_tokens)),
                    num(len.and_then(|l| l.stats.median_completion_tokens)),
                ];
                o.push_str(&cols.join(","));
                o.push('\n');
            }
        }
        Ok(o)
    }
}
