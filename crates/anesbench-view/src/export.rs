//! `anesbench view --export DIR`: the same pages written as a self-contained static
//! site (relative links, no server, no script). Sample lists are written for each single
//! filter (outcome, language, level) and all their pages; search and combined filters
//! need the server.

use std::path::Path;

use anyhow::Context;

use crate::html::{export_lists, Links};
use crate::pages::{self, PageError};
use crate::query::Query;
use crate::Viewer;

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Exported {
    pub runs: usize,
    pub files: usize,
}

fn err(e: PageError) -> anyhow::Error {
    match e {
        PageError::NotFound(m) | PageError::Bad(m) => anyhow::anyhow!(m),
    }
}

fn put(dir: &Path, name: &str, body: &str, n: &mut usize) -> anyhow::Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, body).with_context(|| format!("writing {}", p.display()))?;
    *n += 1;
    Ok(())
}

/// Compare pages are written for every pair of runs when there are at most this many.
pub const MAX_COMPARE_RUNS: usize = 8;

pub fn export(v: &Viewer, out: &Path) -> anyhow::Result<Exported> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut n = 0;
    let top = Links::export(0);
    let runs = v.registry.runs();
    put(out, "app.css", crate::CSS, &mut n)?;
    let index_pages = runs.len().div_ceil(50).max(1);
    for p in 0..index_pages {
        let name = if p == 0 {
            "index.html".to_string()
        } else {
            format!("index-p{p}.html")
        };
        put(
            out,
            &name,
            &pages::index_page(v, &top, p).map_err(err)?,
            &mut n,
        )?;
    }
    put(
        out,
        "leaderboard.html",
        &pages::leaderboard_page(v, &top).map_err(err)?,
        &mut n,
    )?;
    for k in pages::LB_FIGS {
        if let Ok(svg) = pages::lb_fig(v, k.id()) {
            put(out, &format!("lb-{}.svg", k.id()), &svg, &mut n)?;
        }
    }
    let inner = Links::export(1);
    for run in &runs {
        let dir = out.join(format!("r-{}", run.id));
        std::fs::create_dir_all(&dir)?;
        put(
            &dir,
            "index.html",
            &pages::run_page(v, &inner, &run.id, None).map_err(err)?,
            &mut n,
        )?;
        put(
            &dir,
            "analysis.html",
            &pages::analysis_page(v, &inner, &run.id).map_err(err)?,
            &mut n,
        )?;
        for k in ["levels", "lang", "cot"] {
            if let Ok(svg) = pages::run_fig(v, &run.id, k) {
                put(&dir, &format!("fig-{k}.svg"), &svg, &mut n)?;
            }
        }
        for (name, q) in export_lists() {
            let total = pages::list_len(v, &run.id, &q).map_err(err)?;
            let pages_n = total.div_ceil(q.per.max(1)).max(1);
            for p in 0..pages_n {
                let qp = q.with_page(p);
                let body = pages::run_page(v, &inner, &run.id, Some(&qp.to_qs())).map_err(err)?;
                put(&dir, &format!("{name}-p{p}.html"), &body, &mut n)?;
            }
        }
        let samples = pages::sample_count(v, &run.id).map_err(err)?;
        for i in 0..samples as u32 {
            let body = pages::sample_page(v, &inner, &run.id, i).map_err(err)?;
            put(&dir, &format!("s-{i}.html"), &body, &mut n)?;
        }
    }
    if runs.len() <= MAX_COMPARE_RUNS {
        for (i, a) in runs.iter().enumerate() {
            for b in runs.iter().skip(i + 1) {
                for flip in [None, Some("a"), Some("b")] {
                    let q = Query {
                        flip: flip.map(String::from),
                        per: crate::query::PER_PAGE,
                        ..Query::default()
                    };
                    let (_, flips) =
                        match pages::compare_inner(v, &top, &a.id, &b.id, &q, Vec::new()) {
                            Ok(x) => x,
                            Err(_) => continue,
                        };
                    let pages_n = flips.div_ceil(q.per).max(1);
                    for p in 0..pages_n {
                        let qp = q.with_page(p);
                        let (body, _) =
                            pages::compare_inner(v, &top, &a.id, &b.id, &qp, Vec::new())
                                .map_err(err)?;
                        let name = format!(
                            "compare-{}-{}-{}-p{p}.html",
                            a.id,
                            b.id,
                            flip.unwrap_or("all")
                        );
                        put(out, &name, &body, &mut n)?;
                    }
                }
            }
        }
    }
    Ok(Exported {
        runs: runs.len(),
        files: n,
    })
}
