//! Search trees of step-level solvers (`trees.jsonl`, see docs/RECORDS.md): the tree of
//! one item, found in the run's file and drawn as a nested list, every node with its
//! status (kept / pruned / cut / final), reward and tokens.

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use anesbench_core::Lang;
use serde::Deserialize;

use crate::html::esc;

pub const TREES: &str = "trees.jsonl";

#[derive(Debug, Clone, Deserialize)]
pub struct Tree {
    pub id: String,
    pub lang: Lang,
    #[serde(default)]
    pub strategy: String,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Node {
    pub n: usize,
    pub parent: Option<usize>,
    #[serde(default)]
    pub text: String,
    pub tokens: Option<u32>,
    pub reward: Option<f64>,
    pub status: String,
}

/// What the file holds for one item: its tree, or why it cannot be shown.
#[derive(Debug, Clone)]
pub enum Found {
    Tree(Tree),
    Corrupt(String),
}

/// The tree of item (lang, id) in `dir/trees.jsonl` (the last complete line for it wins;
/// a torn last line is skipped), or `None` when the run has no tree for it.
pub fn find(dir: &Path, lang: Lang, id: &str) -> Option<Found> {
    let path = dir.join(TREES);
    let file = std::fs::File::open(&path).ok()?;
    let mut r = std::io::BufReader::new(file);
    // Only lines that name the id are parsed.
    let needle = serde_json::to_string(id).ok()?;
    let mut found = None;
    let mut line = Vec::new();
    let mut no = 0;
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Some(Found::Corrupt(format!("{}: {e}", path.display()))),
        }
        no += 1;
        if line.last() != Some(&b'\n') {
            break; // torn: the solver is still writing it
        }
        if memchr::memmem::find(&line, needle.as_bytes()).is_none() {
            continue;
        }
        match serde_json::from_slice::<Tree>(&line) {
            Ok(t) if t.id == id && t.lang == lang => found = Some(Found::Tree(t)),
            Ok(_) => {}
            Err(e) => {
                found = Some(Found::Corrupt(format!(
                    "{}: line {no}: not a tree record: {e}",
                    path.display()
                )))
            }
        }
    }
    found
}

/// The tree as nested lists, roots first, children in node order.
pub fn render(found: &Found) -> String {
    let t = match found {
        Found::Tree(t) => t,
        Found::Corrupt(m) => {
            return format!("<h2>Search tree</h2><p class=\"warn\">{}</p>", esc(m))
        }
    };
    let n = t.nodes.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    let mut bad = 0;
    for (i, node) in t.nodes.iter().enumerate() {
        match node.parent {
            None => roots.push(i),
            Some(p) if p < n && p != i => children[p].push(i),
            Some(_) => {
                bad += 1;
                roots.push(i);
            }
        }
    }
    let count = |s: &str| t.nodes.iter().filter(|x| x.status == s).count();
    let mut o = String::new();
    let _ = write!(
        o,
        "<h2>Search tree</h2><p class=\"tree-sum\">{} · {} nodes: {} kept, {} pruned, {} cut, {} final</p>",
        esc(if t.strategy.is_empty() { "step search" } else { &t.strategy }),
        n,
        count("kept"),
        count("pruned"),
        count("cut"),
        count("final")
    );
    if bad > 0 {
        let _ = write!(
            o,
            "<p class=\"warn\">{bad} node(s) name a parent that is not in the tree; shown at the top level.</p>"
        );
    }
    // Iterative walk: a cycle in the parents cannot recurse forever.
    let mut seen = vec![false; n];
    o.push_str("<ul class=\"tree\">");
    enum Step {
        Open(usize),
        Close,
    }
    let mut stack: Vec<Step> = roots.iter().rev().map(|&r| Step::Open(r)).collect();
    while let Some(step) = stack.pop() {
        match step {
            Step::Close => o.push_str("</ul></li>"),
            Step::Open(i) => {
                if seen[i] {
                    continue;
                }
                seen[i] = true;
                let node = &t.nodes[i];
                let status = match node.status.as_str() {
                    s @ ("kept" | "pruned" | "cut" | "final") => s,
                    _ => "unknown",
                };
                let _ = write!(
                    o,
                    "<li class=\"node {status}\"><span class=\"tag {status}\">{}</span> <span class=\"reward\">reward {}</span> <span class=\"muted\">{} tokens · node {}</span><pre class=\"step\">{}</pre>",
                    esc(&node.status),
                    node.reward.map_or("–".into(), |r| format!("{r:.3}")),
                    node.tokens.map_or("–".into(), |t| t.to_string()),
                    node.n,
                    esc(&node.text)
                );
                let kids: Vec<usize> = children[i].iter().copied().filter(|&k| !seen[k]).collect();
                if kids.is_empty() {
                    o.push_str("</li>");
                } else {
                    o.push_str("<ul>");
                    stack.push(Step::Close);
                    stack.extend(kids.iter().rev().map(|&k| Step::Open(k)));
                }
            }
        }
    }
    o.push_str("</ul>");
    let unreached = seen.iter().filter(|s| !**s).count();
    if unreached > 0 {
        let _ = write!(
            o,
            "<p class=\"warn\">{unreached} node(s) are not reachable from a first step (their parents form a cycle) and are not drawn.</p>"
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = r#"{"id": "q1", "lang": "en", "strategy": "beam:2,2,32", "nodes": [
        {"n": 0, "parent": null, "text": "Step one <b>", "tokens": 32, "reward": 0.71, "status": "kept"},
        {"n": 1, "parent": null, "text": "Other start", "tokens": 30, "reward": 0.2, "status": "pruned"},
        {"n": 2, "parent": 0, "text": "Then B", "tokens": 12, "reward": 0.9, "status": "final"},
        {"n": 3, "parent": 0, "text": "Ran long", "tokens": 32, "reward": 0.4, "status": "cut"}]}"#;

    fn write(dir: &Path, text: &str) {
        std::fs::write(dir.join(TREES), text).unwrap();
    }

    #[test]
    fn draws_the_tree_of_the_item_nested_with_statuses_and_rewards() {
        let d = tempfile::tempdir().unwrap();
        let one_line = TREE.replace('\n', " ");
        let other = one_line
            .replace("\"q1\"", "\"q2\"")
            .replace("Step one", "Wrong item");
        write(
            d.path(),
            &format!("{other}\n{one_line}\n{{\"id\": \"q1\", \"lang\""),
        );
        let found = find(d.path(), Lang::En, "q1").unwrap();
        let html = render(&found);
        assert!(
            html.contains("4 nodes: 1 kept, 1 pruned, 1 cut, 1 final"),
            "{html}"
        );
        assert!(!html.contains("Wrong item"));
        assert!(html.contains("Step one &lt;b&gt;"), "escaped");
        // Node 2 and 3 sit inside node 0's list, before node 1 (the second root).
        let (p0, p2, p3, p1) = (
            html.find("Step one").unwrap(),
            html.find("Then B").unwrap(),
            html.find("Ran long").unwrap(),
            html.find("Other start").unwrap(),
        );
        assert!(p0 < p2 && p2 < p3 && p3 < p1, "{html}");
        let inner = &html[p0..p1];
        assert!(inner.contains("<ul>") && inner.contains("</ul></li>"));
        assert!(html.contains(
            "<span class=\"tag final\">final</span> <span class=\"reward\">reward 0.900</span>"
        ));
        assert!(find(d.path(), Lang::Zh, "q1").is_none());
        assert!(find(d.path(), Lang::En, "q3").is_none());
    }

    #[test]
    fn a_corrupt_line_or_a_cycle_is_reported_not_drawn_forever() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "{\"id\": \"q1\", \"nodes\": 3}\n");
        let html = render(&find(d.path(), Lang::En, "q1").unwrap());
        assert!(html.contains("line 1: not a tree record"), "{html}");
        let cyc = r#"{"id": "q1", "lang": "en", "nodes": [{"n": 0, "parent": 1, "status": "kept"}, {"n": 1, "parent": 0, "status": "kept"}]}"#;
        write(d.path(), &format!("{cyc}\n"));
        let html = render(&find(d.path(), Lang::En, "q1").unwrap());
        assert!(html.contains("2 node(s) are not reachable"), "{html}");
    }
}
