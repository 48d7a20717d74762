//! Markdown report.

use std::fmt::Write;

use super::text::{
    cell_row, length_omitted, opt_num, overview, run_heading, settings, CELL_HEADER, LENGTH_HEADER,
    OVERVIEW_HEADER, UNRANKED_NOTE,
};
use super::{Exporter, RenderedFigure};
use crate::error::Result;
use crate::model::{level_name, Report};

pub struct MarkdownExporter;

fn row(out: &mut String, cells: impl IntoIterator<Item = impl AsRef<str>>) {
    out.push('|');
    for c in cells {
        let _ = write!(out, " {} |", c.as_ref().replace('|', "\\|"));
    }
    out.push('\n');
}

fn header(out: &mut String, cols: &[&str]) {
    row(out, cols);
    row(out, cols.iter().map(|_| "---"));
}

impl Exporter for MarkdownExporter {
    fn extension(&self) -> &'static str {
        "md"
    }

    fn render(&self, report: &Report, figures: &[RenderedFigure]) -> Result<String> {
        let mut o = String::from("# AnesBench report\n\n");
        o.push_str("Accuracy counts every sample: no answer and errors count as wrong and are also counted apart.\n\n");
        let (ranked, rest) = report.ranked();
        if !ranked.is_empty() {
            header(&mut o, &OVERVIEW_HEADER);
            for r in &ranked {
                row(&mut o, overview(r));
            }
        }
        if !rest.is_empty() {
            let _ = write!(o, "\n{UNRANKED_NOTE}\n\n");
            header(&mut o, &OVERVIEW_HEADER);
            for r in &rest {
                row(&mut o, overview(r));
            }
        }
        for r in &report.runs {
            let _ = write!(o, "\n## {}\n\n", run_heading(r));
            header(&mut o, &["Setting", "Value"]);
            for (k, v) in settings(r) {
                row(&mut o, [k.to_string(), v]);
            }
            o.push_str("\n### Accuracy by level and language\n\n");
            header(&mut o, &CELL_HEADER);
            for c in &r.cells {
                row(&mut o, cell_row(c));
            }
            o.push_str("\n### Output length per level (completion tokens)\n\n");
            if let Some(why) = &r.length_omitted {
                let _ = writeln!(o, "_{}_", length_omitted(why));
            } else {
                header(&mut o, &LENGTH_HEADER);
            }
            for l in &r.length {
                let s = &l.stats;
                row(
                    &mut o,
                    [
                        level_name(&l.level).to_string(),
                        s.n.to_string(),
                        opt_num(s.mean_completion_tokens, 1),
                        opt_num(s.median_completion_tokens, 1),
                        opt_num(s.mean_reasoning_tokens, 1),
                    ],
                );
            }
            if !r.warnings.is_empty() {
                o.push_str("\n### Warnings\n\n");
                for w in &r.warnings {
                    let _ = writeln!(o, "- {w}");
                }
            }
        }
        if let Some(a) = &report.analysis {
            super::analysis::markdown(&mut o, a);
        }
        if !figures.is_empty() {
            o.push_str("\n## Figures\n");
            for f in figures {
                let _ = write!(o, "\n### {}\n\n", f.title);
                match (&f.file, &f.skipped) {
                    (Some(file), _) => {
                        let _ = writeln!(o, "![{}]({file})", f.title);
                        if f.files.len() > 1 {
                            let _ = writeln!(
                                o,
                                "\nFiles: {}",
                                files_line(&f.files, |n, p| format!("[{n}]({p})"))
                            );
                        }
                    }
                    (None, Some(why)) => {
                        let _ = writeln!(o, "_Not drawn: {why}._");
                    }
                    (None, None) => {}
                }
                if !f.notes.is_empty() {
                    o.push('\n');
                    for n in &f.notes {
                        let _ = writeln!(o, "- {n}");
                    }
                }
            }
        }
        if let Some(c) = &report.compute {
            o.push_str(&crate::compute::markdown(c));
        }
        Ok(o)
    }
}

/// `two-column: svg, pdf, png; one-column: ...` links to every file of a figure.
pub(super) fn files_line(files: &[String], link: impl Fn(&str, &str) -> String) -> String {
    let mut two = Vec::new();
    let mut one = Vec::new();
    for p in files {
        let ext = p.rsplit('.').next().unwrap_or_default();
        let name = if ext == "png" {
            "PNG 300 dpi".to_string()
        } else {
            ext.to_uppercase()
        };
        if p.contains("-1col.") {
            one.push(link(&name, p));
        } else {
            two.push(link(&name, p));
        }
    }
    format!(
        "two-column (7 in): {}; one-column (3.5 in): {}",
        two.join(", "),
        one.join(", ")
    )
}
