//! The accuracy-against-compute section in Markdown and HTML.

use std::fmt::Write;

use super::{ComputeReport, Paired, FIGURE_TITLE};
use crate::model::{lang_name, level_name};

const HEADER: [&str; 12] = [
    "Run",
    "Solver",
    "Language",
    "Level",
    "Items",
    "Accuracy",
    "Tokens/item",
    "Requests/item",
    "Reward calls/item",
    "Wall s/item",
    "vs greedy",
    "vs Best-of-N (matched)",
];

fn intro(c: &ComputeReport) -> String {
    format!(
        "Per complete item (every candidate in, none errored): accuracy of the item's decision, generated tokens, policy requests, reward-model calls and wall time. Where the records carry the solver's own accounting (`compute`: Best-of-N with a reward model, beam search, DVTS) these are its sums, pruned branches included; otherwise the sum of the candidates' completion tokens, of 1/batch and of latency/batch. Differences are this run minus the other on the items both completed, with a paired bootstrap 95% interval ({} resamples, seed {}); * marks an interval that excludes zero (significant). McNemar p is exact.",
        c.resamples, c.seed
    )
}

fn rows(c: &ComputeReport) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for r in &c.runs {
        for row in &r.rows {
            out.push(vec![
                r.label.clone(),
                r.solver.clone(),
                lang_name(&row.lang).to_string(),
                level_name(&row.level).to_string(),
                row.items.to_string(),
                format!("{:.1}%", row.accuracy * 100.0),
                row.tokens_per_item
                    .map_or_else(|| "n/a".to_string(), |t| format!("{t:.1}")),
                format!("{:.3}", row.requests_per_item),
                format!("{:.3}", row.reward_calls_per_item),
                format!("{:.3}", row.wall_s_per_item),
                paired_text(row.vs_greedy.as_ref()),
                paired_text(row.vs_bon.as_ref()),
            ]);
        }
    }
    out
}

fn published_rows(c: &ComputeReport) -> Vec<Vec<String>> {
    c.published
        .iter()
        .map(|p| {
            vec![
                p.strategy.clone(),
                p.setting.clone(),
                format!("{:.1}%", p.accuracy * 100.0),
            ]
        })
        .collect()
}

/// `+2.5 pts [+0.4, +4.6]* (n=200, p=0.021)`.
fn paired_text(p: Option<&Paired>) -> String {
    let Some(p) = p else { return "-".into() };
    format!(
        "{:+.1} pts [{:+.1}, {:+.1}]{} (n={}, p={:.3})",
        p.diff * 100.0,
        p.ci_low * 100.0,
        p.ci_high * 100.0,
        if p.significant { "*" } else { "" },
        p.items,
        p.mcnemar_p
    )
}

fn md_table(o: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let line = |o: &mut String, cells: &mut dyn Iterator<Item = String>| {
        o.push('|');
        for c in cells {
            let _ = write!(o, " {} |", c.replace('|', "\\|"));
        }
        o.push('\n');
    };
    line(o, &mut head.iter().map(|h| h.to_string()));
    line(o, &mut head.iter().map(|_| "---".to_string()));
    for r in rows {
        line(o, &mut r.iter().cloned());
    }
}

/// The section in Markdown (appended to `report.md`).
pub fn markdown(c: &ComputeReport) -> String {
    let mut o = String::from("\n## Accuracy against compute\n\n");
    let _ = writeln!(o, "{}\n", intro(c));
    for n in &c.notes {
        let _ = writeln!(o, "- {n}");
    }
    if !c.notes.is_empty() {
        o.push('\n');
    }
    md_table(&mut o, &HEADER, &rows(c));
    let _ = write!(o, "\n### {FIGURE_TITLE}\n\n");
    match (&c.figure, &c.figure_skipped) {
        (Some(f), _) => {
            let _ = writeln!(o, "![{FIGURE_TITLE}]({f})");
        }
        (None, Some(why)) => {
            let _ = writeln!(o, "_Not drawn: {why}._");
        }
        (None, None) => {}
    }
    o.push_str("\n### The study's reasoning strategies (published)\n\n");
    md_table(
        &mut o,
        &["Strategy", "Setting", "Accuracy"],
        &published_rows(c),
    );
    let _ = writeln!(o, "\nSource: {}", c.published_source);
    o
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_table(o: &mut String, head: &[&str], rows: &[Vec<String>]) {
    o.push_str("<table><thead><tr>");
    for h in head {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr></thead><tbody>\n");
    for r in rows {
        o.push_str("<tr>");
        for c in r {
            let _ = write!(o, "<td>{}</td>", escape(c));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table>\n");
}

/// The section in HTML (inserted before the end of `report.html`), figure inlined.
pub fn html(c: &ComputeReport) -> String {
    let mut o = String::from("<h2 id=\"compute\">Accuracy against compute</h2>\n");
    let _ = writeln!(o, "<p>{}</p>", escape(&intro(c)));
    if !c.notes.is_empty() {
        o.push_str("<ul>");
        for n in &c.notes {
            let _ = write!(o, "<li>{}</li>", escape(n));
        }
        o.push_str("</ul>\n");
    }
    html_table(&mut o, &HEADER, &rows(c));
    o.push_str("<figure id=\"fig-compute\">");
    match (&c.svg, &c.figure_skipped) {
        (Some(svg), _) => o.push_str(svg.find("<svg").map_or(svg.as_str(), |i| &svg[i..])),
        (None, Some(why)) => {
            let _ = write!(o, "<p><em>Not drawn: {}.</em></p>", escape(why));
        }
        (None, None) => {}
    }
    let _ = writeln!(
        o,
        "<figcaption><strong>{}</strong></figcaption></figure>",
        escape(FIGURE_TITLE)
    );
    o.push_str("<h3>The study's reasoning strategies (published)</h3>\n");
    html_table(
        &mut o,
        &["Strategy", "Setting", "Accuracy"],
        &published_rows(c),
    );
    let _ = writeln!(o, "<p>Source: {}</p>", escape(&c.published_source));
    o
}
