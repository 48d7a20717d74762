//! HTML building: escaping, the page frame, and where links point (the live server or a
//! static export). Every piece of text from a run, a dataset or a model goes through
//! [`esc`]; the pages carry no inline script, style or event handler.

use std::fmt::Write;

use crate::query::Query;

/// Escape text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Where the pages live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    Server,
    /// A static export; `depth` folders below its root.
    Export {
        depth: usize,
    },
}

/// Link targets for one page.
#[derive(Debug, Clone, Copy)]
pub struct Links {
    pub site: Site,
}

/// The single-filter sample lists a static export writes: (key, query).
pub fn export_lists() -> Vec<(&'static str, Query)> {
    use anesbench_core::{Lang, Level};
    let base = Query {
        per: crate::query::PER_PAGE,
        ..Query::default()
    };
    let mut v = vec![("all", base.clone())];
    for o in crate::query::OUTCOMES {
        v.push((
            o,
            Query {
                outcome: Some(o.to_string()),
                ..base.clone()
            },
        ));
    }
    for l in Lang::ALL {
        v.push((
            l.code(),
            Query {
                lang: Some(l),
                ..base.clone()
            },
        ));
    }
    for l in Level::ALL {
        v.push((
            l.key(),
            Query {
                level: Some(l),
                ..base.clone()
            },
        ));
    }
    v
}

impl Links {
    pub const SERVER: Links = Links { site: Site::Server };

    pub fn export(depth: usize) -> Links {
        Links {
            site: Site::Export { depth },
        }
    }

    pub fn is_export(&self) -> bool {
        matches!(self.site, Site::Export { .. })
    }

    fn root(&self) -> String {
        match self.site {
            Site::Server => "/".into(),
            Site::Export { depth } => "../".repeat(depth),
        }
    }

    pub fn home(&self) -> String {
        self.index_page(0)
    }

    pub fn index_page(&self, page: usize) -> String {
        match (self.site, page) {
            (Site::Server, 0) => "/".into(),
            (Site::Server, p) => format!("/?page={p}"),
            (Site::Export { .. }, 0) => format!("{}index.html", self.root()),
            (Site::Export { .. }, p) => format!("{}index-p{p}.html", self.root()),
        }
    }

    pub fn run(&self, id: &str) -> String {
        match self.site {
            Site::Server => format!("/run/{id}"),
            Site::Export { .. } => format!("{}r-{id}/index.html", self.root()),
        }
    }

    /// A filtered, paged sample list; `None` where an export did not write that list.
    pub fn list(&self, id: &str, q: &Query) -> Option<String> {
        match self.site {
            Site::Server => {
                let qs = q.to_qs();
                Some(if qs.is_empty() {
                    format!("/run/{id}")
                } else {
                    format!("/run/{id}?{qs}")
                })
            }
            Site::Export { .. } => {
                let key = q.key();
                let name = export_lists()
                    .into_iter()
                    .find(|(_, eq)| eq.key() == key)?
                    .0;
                Some(format!("{}r-{id}/{name}-p{}.html", self.root(), q.page))
            }
        }
    }

    pub fn sample(&self, id: &str, n: u32) -> String {
        match self.site {
            Site::Server => format!("/run/{id}/sample/{n}"),
            Site::Export { .. } => format!("{}r-{id}/s-{n}.html", self.root()),
        }
    }

    /// The run's robustness, calibration and bilingual-consistency page.
    pub fn run_analysis(&self, id: &str) -> String {
        match self.site {
            Site::Server => format!("/run/{id}/analysis"),
            Site::Export { .. } => format!("{}r-{id}/analysis.html", self.root()),
        }
    }

    pub fn run_fig(&self, id: &str, kind: &str) -> String {
        match self.site {
            Site::Server => format!("/run/{id}/fig/{kind}.svg"),
            Site::Export { .. } => format!("{}r-{id}/fig-{kind}.svg", self.root()),
        }
    }

    pub fn compare(&self, a: &str, b: &str, q: &Query) -> Option<String> {
        match self.site {
            Site::Server => {
                let qs = q.to_qs();
                let sep = if qs.is_empty() { "" } else { "&" };
                Some(format!("/compare?a={a}&b={b}{sep}{qs}"))
            }
            Site::Export { .. } => {
                let key = q.key();
                let flip = match key.as_str() {
                    "" => "all",
                    "flip=a" => "a",
                    "flip=b" => "b",
                    _ => return None,
                };
                Some(format!(
                    "{}compare-{a}-{b}-{flip}-p{}.html",
                    self.root(),
                    q.page
                ))
            }
        }
    }

    pub fn leaderboard(&self) -> String {
        match self.site {
            Site::Server => "/leaderboard".into(),
            Site::Export { .. } => format!("{}leaderboard.html", self.root()),
        }
    }

    pub fn lb_fig(&self, kind: &str) -> String {
        match self.site {
            Site::Server => format!("/leaderboard/fig/{kind}.svg"),
            Site::Export { .. } => format!("{}lb-{kind}.svg", self.root()),
        }
    }

    pub fn asset(&self, name: &str) -> String {
        match self.site {
            Site::Server => format!("/static/{name}"),
            Site::Export { .. } => format!("{}{name}", self.root()),
        }
    }
}

/// A whole page. `live` is the poll URL of a running run (server only): the page's
/// script reloads it when new samples land.
pub fn page(l: &Links, title: &str, body: &str, live: Option<(&str, u64)>) -> String {
    let mut o = String::with_capacity(body.len() + 1024);
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · anesbench view</title><link rel=\"stylesheet\" href=\"{}\">",
        esc(title),
        esc(&l.asset("app.css"))
    );
    if let (Some((poll, gen)), false) = (live, l.is_export()) {
        let _ = write!(
            o,
            "<script src=\"{}\" defer></script></head><body data-poll=\"{}\" data-gen=\"{gen}\">",
            esc(&l.asset("live.js")),
            esc(poll)
        );
    } else {
        o.push_str("</head><body>");
    }
    let _ = write!(
        o,
        "<nav><a href=\"{}\">Runs</a> <a href=\"{}\">Leaderboard</a>{}</nav><main>",
        esc(&l.home()),
        esc(&l.leaderboard()),
        if live.is_some() && !l.is_export() {
            " <span class=\"live\">live</span> <span id=\"live-status\" class=\"muted\"></span>"
        } else {
            ""
        }
    );
    o.push_str(body);
    o.push_str("</main></body></html>\n");
    o
}

pub fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// `1 2 3 … next` links for a paged list; `link(page)` gives a page's URL.
pub fn pager(page: usize, pages: usize, link: impl Fn(usize) -> Option<String>) -> String {
    if pages <= 1 {
        return String::new();
    }
    let mut o = String::from("<p class=\"pager\">");
    let mut put = |p: usize, label: String| match (p != usize::MAX).then(|| link(p)).flatten() {
        Some(u) if p != page => {
            let _ = write!(o, "<a href=\"{}\">{label}</a> ", esc(&u));
        }
        _ => {
            let _ = write!(o, "<span>{label}</span> ");
        }
    };
    if page > 0 {
        put(page - 1, "&larr; prev".into());
    }
    let mut shown: Vec<usize> = vec![0, pages - 1];
    shown.extend(page.saturating_sub(3)..(page + 4).min(pages));
    shown.sort_unstable();
    shown.dedup();
    let mut last = None;
    for p in shown {
        if last.is_some_and(|l: usize| p > l + 1) {
            put(usize::MAX, "…".into());
        }
        put(p, (p + 1).to_string());
        last = Some(p);
    }
    if page + 1 < pages {
        put(page + 1, "next &rarr;".into());
    }
    let _ = write!(o, "</p>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<img src=x onerror=\"alert('1')\">&"),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
    }
}
