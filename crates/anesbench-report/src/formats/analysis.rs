//! The analysis sections ([`crate::analysis::Section`]) in Markdown and HTML.

use std::fmt::Write;

use super::html::{escape, inline_svg};
use crate::analysis::Analysis;

fn md_row(o: &mut String, cells: &[String]) {
    o.push('|');
    for c in cells {
        let _ = write!(o, " {} |", c.replace('|', "\\|"));
    }
    o.push('\n');
}

pub fn markdown(o: &mut String, a: &Analysis) {
    for s in a.sections() {
        let _ = write!(o, "\n## {}\n\n", s.title);
        for t in &s.text {
            let _ = writeln!(o, "{t}\n");
        }
        for t in &s.tables {
            md_row(o, &t.header);
            md_row(
                o,
                &t.header
                    .iter()
                    .map(|_| "---".to_string())
                    .collect::<Vec<_>>(),
            );
            for r in &t.rows {
                md_row(o, r);
            }
            o.push('\n');
        }
        for f in &s.figures {
            if let Some(file) = &f.file {
                let _ = writeln!(o, "![{}]({file})\n", f.title);
            }
            for n in &f.notes {
                let _ = writeln!(o, "_{n}_\n");
            }
        }
    }
}

pub fn html(o: &mut String, a: &Analysis) {
    for s in a.sections() {
        let _ = writeln!(o, "<h2>{}</h2>", escape(&s.title));
        for t in &s.text {
            let _ = writeln!(o, "<p>{}</p>", escape(t));
        }
        for t in &s.tables {
            o.push_str("<table><thead><tr>");
            for h in &t.header {
                let _ = write!(o, "<th>{}</th>", escape(h));
            }
            o.push_str("</tr></thead><tbody>\n");
            for r in &t.rows {
                o.push_str("<tr>");
                for c in r {
                    let _ = write!(o, "<td>{}</td>", escape(c));
                }
                o.push_str("</tr>\n");
            }
            o.push_str("</tbody></table>\n");
        }
        for f in &s.figures {
            let _ = write!(o, "<figure id=\"fig-{}\">", escape(&f.id));
            if let Some(svg) = &f.svg {
                o.push_str(inline_svg(svg));
            }
            let _ = write!(o, "<figcaption><strong>{}</strong>", escape(&f.title));
            for n in &f.notes {
                let _ = write!(o, "<br>{}", escape(n));
            }
            o.push_str("</figcaption></figure>\n");
        }
    }
}
