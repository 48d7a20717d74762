//! The sample-list filters, as they sit in the URL, and how they run over the index.
//!
//! Cheap filters (level, language, option count, outcome, rule, letters) look only at the
//! index. Full-text search then reads, for the remaining records, just the bytes of their
//! `response` and `reasoning` from the file (still JSON-escaped: the needle is escaped the
//! same way; `serde_json` writes Chinese as raw UTF-8, so CJK text matches byte for byte),
//! and matches question and options from the dataset. ASCII letters match without regard
//! to case; other characters match exactly.

use std::sync::Arc;

use anesbench_core::{Lang, Level};

use crate::index::{Entry, Index};
use crate::runs::Items;

pub const PER_PAGE: usize = 50;
pub const MAX_PER_PAGE: usize = 500;

/// Filter state of a sample list (and of the flips of a comparison).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub level: Option<Level>,
    pub lang: Option<Lang>,
    pub nopt: Option<u8>,
    /// `correct`, `wrong` (every sample not correct), `no_answer`, `truncated`, `error`.
    pub outcome: Option<String>,
    pub rule: Option<String>,
    /// A letter, or `none` for no answer.
    pub pred: Option<String>,
    pub gold: Option<char>,
    pub q: Option<String>,
    /// Comparison only: `a` (right in A, wrong in B) or `b`.
    pub flip: Option<String>,
    pub page: usize,
    pub per: usize,
}

pub const OUTCOMES: [&str; 5] = ["correct", "wrong", "no_answer", "truncated", "error"];

impl Query {
    /// Parse a query string. Unknown keys and malformed values are ignored (a filter
    /// that does not parse filters nothing) and reported in `notes`.
    pub fn parse(qs: Option<&str>) -> (Query, Vec<String>) {
        let mut q = Query {
            per: PER_PAGE,
            ..Query::default()
        };
        let mut notes = Vec::new();
        for (k, v) in form_urlencoded::parse(qs.unwrap_or("").as_bytes()) {
            let v = v.trim().to_string();
            if v.is_empty() {
                continue;
            }
            match k.as_ref() {
                "level" => match parse_level(&v) {
                    Some(l) => q.level = Some(l),
                    None => notes.push(format!("level `{v}` ignored")),
                },
                "lang" => match v.parse() {
                    Ok(l) => q.lang = Some(l),
                    Err(_) => notes.push(format!("lang `{v}` ignored")),
                },
                "nopt" => match v.parse() {
                    Ok(n) => q.nopt = Some(n),
                    Err(_) => notes.push(format!("nopt `{v}` ignored")),
                },
                "outcome" if OUTCOMES.contains(&v.as_str()) => q.outcome = Some(v),
                "rule" => q.rule = Some(v),
                "pred" => {
                    let up = v.to_ascii_uppercase();
                    if up == "NONE" || (up.len() == 1 && up.as_bytes()[0].is_ascii_uppercase()) {
                        q.pred = Some(if up == "NONE" { "none".into() } else { up });
                    } else {
                        notes.push(format!("pred `{v}` ignored"));
                    }
                }
                "gold" => match v.chars().next().filter(|c| c.is_ascii_alphabetic()) {
                    Some(c) if v.len() == 1 => q.gold = Some(c.to_ascii_uppercase()),
                    _ => notes.push(format!("gold `{v}` ignored")),
                },
                "q" => q.q = Some(v),
                "flip" if v == "a" || v == "b" => q.flip = Some(v),
                "page" => q.page = v.parse().unwrap_or(0),
                "per" => q.per = v.parse().unwrap_or(PER_PAGE).clamp(1, MAX_PER_PAGE),
                other => notes.push(format!("`{other}` ignored")),
            }
        }
        (q, notes)
    }

    /// The query string for this state (keys in a fixed order), without `page` when 0.
    pub fn to_qs(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(l) = self.level {
            s.append_pair("level", l.key());
        }
        if let Some(l) = self.lang {
            s.append_pair("lang", l.code());
        }
        if let Some(n) = self.nopt {
            s.append_pair("nopt", &n.to_string());
        }
        for (k, v) in [
            ("outcome", &self.outcome),
            ("rule", &self.rule),
            ("pred", &self.pred),
        ] {
            if let Some(v) = v {
                s.append_pair(k, v);
            }
        }
        if let Some(g) = self.gold {
            s.append_pair("gold", &g.to_string());
        }
        if let Some(v) = &self.q {
            s.append_pair("q", v);
        }
        if let Some(v) = &self.flip {
            s.append_pair("flip", v);
        }
        if self.per != PER_PAGE && self.per != 0 {
            s.append_pair("per", &self.per.to_string());
        }
        if self.page > 0 {
            s.append_pair("page", &self.page.to_string());
        }
        s.finish()
    }

    pub fn with_page(&self, page: usize) -> Query {
        Query {
            page,
            ..self.clone()
        }
    }

    /// The filter part, as a cache key.
    pub fn key(&self) -> String {
        Query {
            page: 0,
            per: PER_PAGE,
            ..self.clone()
        }
        .to_qs()
    }

    pub fn is_empty(&self) -> bool {
        self.key().is_empty()
    }

    /// The cheap filters, on one entry.
    pub fn keeps(&self, ix: &Index, e: &Entry) -> bool {
        if self.level.is_some_and(|l| l != e.level) {
            return false;
        }
        if self.lang.is_some_and(|l| l != ix.lang(e)) {
            return false;
        }
        if self.nopt.is_some_and(|n| n != e.nopt) {
            return false;
        }
        if let Some(o) = &self.outcome {
            let ok = match o.as_str() {
                "correct" => e.correct(),
                "wrong" => !e.correct(),
                "no_answer" => e.no_answer(),
                "truncated" => e.truncated(),
                "error" => e.error(),
                _ => true,
            };
            if !ok {
                return false;
            }
        }
        if self.rule.as_deref().is_some_and(|r| r != ix.rule(e)) {
            return false;
        }
        if let Some(p) = &self.pred {
            let ok = match e.answer() {
                None => p == "none",
                Some(a) => p.len() == 1 && p.starts_with(a),
            };
            if !ok {
                return false;
            }
        }
        if self.gold.is_some_and(|g| g != e.gold()) {
            return false;
        }
        true
    }
}

pub fn parse_level(v: &str) -> Option<Level> {
    match v {
        "1" | "system1" | "s1" => Some(Level::S1),
        "2" | "system1x" | "s1x" => Some(Level::S1x),
        "3" | "system2" | "s2" => Some(Level::S2),
        _ => None,
    }
}

/// A search needle, ready for the raw bytes of a JSON string: the text JSON-escaped the
/// way `serde_json` writes it, matched as a case-insensitive literal by `regex` (which
/// finds literals with SIMD prefilters).
pub struct Needle {
    raw: regex::bytes::Regex,
    text: regex::Regex,
}

impl Needle {
    pub fn new(q: &str) -> Needle {
        let esc = serde_json::to_string(q).unwrap_or_default();
        let json = &esc[1..esc.len() - 1];
        let build = |lit: &str| regex::escape(lit);
        Needle {
            raw: regex::bytes::RegexBuilder::new(&build(json))
                .case_insensitive(true)
                .build()
                .expect("an escaped literal is a valid pattern"),
            text: regex::RegexBuilder::new(&build(q))
                .case_insensitive(true)
                .build()
                .expect("an escaped literal is a valid pattern"),
        }
    }

    /// Whether the raw (JSON-escaped) bytes contain the needle.
    pub fn in_raw(&self, hay: &[u8]) -> bool {
        self.raw.is_match(hay)
    }

    /// Whether plain text (a question or an option) contains the needle.
    pub fn in_text(&self, text: &str) -> bool {
        self.text.is_match(text)
    }
}

/// Entries (positions in the index) that pass `q`, in index order.
pub fn run_query(ix: &Index, q: &Query, items: Option<&Items>) -> Vec<u32> {
    let mut hits: Vec<u32> = (0..ix.entries.len() as u32)
        .filter(|&i| q.keeps(ix, &ix.entries[i as usize]))
        .collect();
    if let Some(text) = q.q.as_deref() {
        hits = search(ix, &hits, text, items);
    }
    hits
}

/// Bytes read from the file at a time while searching.
const READ_GROUP: u64 = 8 << 20;

/// Of `cands`, those whose response, reasoning, question or options contain `text`.
pub fn search(ix: &Index, cands: &[u32], text: &str, items: Option<&Items>) -> Vec<u32> {
    let needle = Needle::new(text);
    let mut keep = search_raw(ix, cands, &needle);
    search_items(ix, cands, &needle, items, &mut keep);
    cands
        .iter()
        .copied()
        .filter(|&i| keep[i as usize])
        .collect()
}

/// Mark the candidates whose item's question or options contain the needle.
pub fn search_items(
    ix: &Index,
    cands: &[u32],
    needle: &Needle,
    items: Option<&Items>,
    keep: &mut [bool],
) {
    let Some(d) = items else { return };
    let mut item_hit: Vec<Option<bool>> = vec![None; ix.items.len()];
    for &i in cands {
        if keep[i as usize] {
            continue;
        }
        let it = ix.entries[i as usize].item as usize;
        let hit = *item_hit[it].get_or_insert_with(|| {
            let k = &ix.items[it];
            d.get(k.lang, &k.id).is_some_and(|item| {
                needle.in_text(&item.question) || item.options.iter().any(|o| needle.in_text(o))
            })
        });
        keep[i as usize] = hit;
    }
}

/// Per entry of the index: whether it is a candidate whose response or reasoning contains
/// the needle. The file is read in large sequential pieces covering the candidates'
/// lines, and only the response and reasoning spans of each candidate are searched, on
/// every core.
pub fn search_raw(ix: &Index, cands: &[u32], needle: &Needle) -> Vec<bool> {
    let mut keep = vec![false; ix.entries.len()];
    let mut order: Vec<u32> = cands
        .iter()
        .copied()
        .filter(|&i| {
            let e = &ix.entries[i as usize];
            e.resp != (0, 0) || e.reas != (0, 0)
        })
        .collect();
    order.sort_by_key(|&i| ix.entries[i as usize].off);
    let Ok(file) = std::fs::File::open(&ix.path) else {
        return keep;
    };
    // Groups of candidates whose lines fit in one read.
    let mut groups = Vec::new();
    let mut at = 0;
    while at < order.len() {
        let first = ix.entries[order[at] as usize].off;
        let mut end = at;
        while end < order.len() {
            let e = &ix.entries[order[end] as usize];
            if end > at && e.off + u64::from(e.len) - first > READ_GROUP {
                break;
            }
            end += 1;
        }
        groups.push(at..end);
        at = end;
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let found: Vec<Vec<u32>> = std::thread::scope(|sc| {
        let workers: Vec<_> = (0..threads.min(groups.len()).max(1))
            .map(|_| {
                sc.spawn(|| {
                    use std::os::unix::fs::FileExt;
                    let mut buf = Vec::new();
                    let mut hits = Vec::new();
                    loop {
                        let g = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(r) = groups.get(g) else { break };
                        let group = &order[r.clone()];
                        let first = ix.entries[group[0] as usize].off;
                        let last_end = group
                            .iter()
                            .map(|&i| {
                                let e = &ix.entries[i as usize];
                                e.off + u64::from(e.len)
                            })
                            .max()
                            .unwrap_or(first);
                        buf.resize((last_end - first) as usize, 0);
                        if file.read_exact_at(&mut buf, first).is_err() {
                            continue;
                        }
                        for &i in group {
                            let e = &ix.entries[i as usize];
                            let base = (e.off - first) as usize;
                            let hit = [e.resp, e.reas].iter().any(|&(a, b)| {
                                b > a && needle.in_raw(&buf[base + a as usize..base + b as usize])
                            });
                            if hit {
                                hits.push(i);
                            }
                        }
                    }
                    hits
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    for i in found.into_iter().flatten() {
        keep[i as usize] = true;
    }
    keep
}

/// Recent query results per run, valid while the index generation is unchanged.
#[derive(Default)]
pub struct QueryCache {
    entries: Vec<(String, u64, Arc<Vec<u32>>)>,
}

impl QueryCache {
    pub fn get(&mut self, key: &str, generation: u64) -> Option<Arc<Vec<u32>>> {
        let at = self
            .entries
            .iter()
            .position(|(k, g, _)| k == key && *g == generation)?;
        let e = self.entries.remove(at);
        let v = e.2.clone();
        self.entries.push(e);
        Some(v)
    }

    pub fn put(&mut self, key: String, generation: u64, v: Arc<Vec<u32>>) {
        self.entries.retain(|(k, _, _)| *k != key);
        if self.entries.len() >= 16 {
            self.entries.remove(0);
        }
        self.entries.push((key, generation, v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_round_trips_the_filter_state() {
        let (q, notes) = Query::parse(Some(
            "level=system2&lang=zh&nopt=5&outcome=wrong&rule=answer_is&pred=none&gold=c&q=%E9%BA%BB%E9%86%89&page=3&junk=1",
        ));
        assert_eq!(notes, vec!["`junk` ignored".to_string()]);
        assert_eq!(q.level, Some(Level::S2));
        assert_eq!(q.gold, Some('C'));
        assert_eq!(q.q.as_deref(), Some("麻醉"));
        let (back, _) = Query::parse(Some(&q.to_qs()));
        assert_eq!(back, q);
    }

    #[test]
    fn needles_fold_ascii_case_and_match_escaped_json() {
        let n = Needle::new("Say \"B\" (1+1)");
        assert!(n.in_raw(br#"then SAY \"b\" (1+1) now"#));
        assert!(n.in_text("then say \"B\" (1+1)"));
        let n = Needle::new("麻醉");
        assert!(n.in_raw("全身麻醉诱导".as_bytes()));
        assert!(!n.in_raw("麻药".as_bytes()));
    }
}
