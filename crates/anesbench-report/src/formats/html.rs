//! Self-contained HTML report: inline CSS and inline SVG figures, no scripts, no network.

use std::fmt::Write;

use super::text::{
    cell_row, length_omitted, opt_num, overview, run_heading, settings, CELL_HEADER, LENGTH_HEADER,
    OVERVIEW_HEADER, UNRANKED_NOTE,
};
use super::{Exporter, RenderedFigure};
use crate::error::Result;
use crate::model::{level_name, Report};

pub struct HtmlExporter;

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1240px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}h2{border-bottom:1px solid #ddd;padding-bottom:.2em}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.9em;color:#444}\
.warn{color:#a40}code{background:#f5f5f5;padding:0 .2em}";

pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            _ => o.push(c),
        }
    }
    o
}

fn table<R: IntoIterator<Item = String>>(
    o: &mut String,
    head: &[&str],
    rows: impl IntoIterator<Item = R>,
) {
    o.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr></thead><tbody>\n");
    for r in rows {
        o.push_str("<tr>");
        for c in r {
            let _ = write!(o, "<td>{}</td>", escape(&c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table>\n");
}

/// An SVG document without its XML prolog, ready to inline.
pub(super) fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

impl Exporter for HtmlExporter {
    fn extension(&self) -> &'static str {
        "html"
    }

    fn render(&self, report: &Report, figures: &[RenderedFigure]) -> Result<String> {
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>AnesBench report</title><style>{STYLE}</style></head><body>\n<h1>AnesBench report</h1>\n<p>Accuracy counts every sample: no answer and errors count as wrong and are also counted apart. Intervals are 95% Wilson intervals.</p>\n"
        );
        let (ranked, rest) = report.ranked();
        if !ranked.is_empty() {
            table(&mut o, &OVERVIEW_HEADER, ranked.iter().map(|r| overview(r)));
        }
        if !rest.is_empty() {
            let _ = writeln!(o, "<p>{}</p>", escape(UNRANKED_NOTE));
            table(&mut o, &OVERVIEW_HEADER, rest.iter().map(|r| overview(r)));
        }
        for r in &report.runs {
            let _ = writeln!(o, "<h2>{}</h2>", escape(&run_heading(r)));
            table(
                &mut o,
                &["Setting", "Value"],
                settings(r).into_iter().map(|(k, v)| vec![k.to_string(), v]),
            );
            o.push_str("<h3>Accuracy by level and language</h3>\n");
            table(&mut o, &CELL_HEADER, r.cells.iter().map(cell_row));
            o.push_str("<h3>Output length per level (completion tokens)</h3>\n");
            if let Some(why) = &r.length_omitted {
                let _ = writeln!(o, "<p><em>{}</em></p>", escape(&length_omitted(why)));
            } else {
                table(
                    &mut o,
                    &LENGTH_HEADER,
                    r.length.iter().map(|l| {
                        vec![
                            level_name(&l.level).to_string(),
                            l.stats.n.to_string(),
                            opt_num(l.stats.mean_completion_tokens, 1),
                            opt_num(l.stats.median_completion_tokens, 1),
                            opt_num(l.stats.mean_reasoning_tokens, 1),
                        ]
                    }),
                );
            }
            for w in &r.warnings {
                let _ = writeln!(o, "<p class=\"warn\">Warning: {}</p>", escape(w));
            }
        }
        if let Some(a) = &report.analysis {
            super::analysis::html(&mut o, a);
        }
        if !figures.is_empty() {
            o.push_str("<h2>Figures</h2>\n");
        }
        for f in figures {
            let _ = write!(o, "<figure id=\"fig-{}\">", f.kind.id());
            match (&f.svg, &f.skipped) {
                (Some(svg), _) => o.push_str(inline_svg(svg)),
                (None, Some(why)) => {
                    let _ = write!(
                        o,
                        "<p><em>{} not drawn: {}.</em></p>",
                        escape(&f.title),
                        escape(why)
                    );
                }
                (None, None) => {}
            }
            let _ = write!(o, "<figcaption><strong>{}</strong>", escape(&f.title));
            for n in &f.notes {
                let _ = write!(o, "<br>{}", escape(n));
            }
            if !f.files.is_empty() {
                let _ = write!(
                    o,
                    "<br>{}",
                    super::md::files_line(&f.files, |n, p| format!(
                        "<a href=\"{}\">{}</a>",
                        escape(p),
                        escape(n)
                    ))
                );
            }
            o.push_str("</figcaption></figure>\n");
        }
        if let Some(c) = &report.compute {
            o.push_str(&crate::compute::html(c));
        }
        o.push_str("</body></html>\n");
        Ok(o)
    }
}
