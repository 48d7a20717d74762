//! Checks on finished items that no single field reader can make: the item invariants
//! (also applied to the built-in demo set) and duplicate ids within a language.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use super::error::Problem;
use crate::item::{letter_index, Item, Lang, MAX_OPTIONS, MIN_OPTIONS};

/// Where an item came from, for messages.
#[derive(Debug, Clone)]
pub struct Origin {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub index: usize,
}

impl Origin {
    fn problem(&self, item: &Item, field: &str, message: String) -> Problem {
        Problem {
            file: self.file.clone(),
            line: self.line,
            index: Some(self.index),
            id: Some(item.id.clone()),
            field: Some(field.to_string()),
            message,
        }
    }
}

/// Item invariants: non-empty id and question, 2..=9 non-empty options, gold among them.
pub fn check_item(item: &Item, at: &Origin) -> Vec<Problem> {
    let mut out = Vec::new();
    if item.id.trim().is_empty() {
        out.push(at.problem(item, "id", "field is empty".into()));
    }
    if item.question.trim().is_empty() {
        out.push(at.problem(item, "question", "field is empty".into()));
    }
    let n = item.options.len();
    if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&n) {
        out.push(at.problem(item, "options", format!("{n} options; expected 2 to 9")));
    }
    for (i, o) in item.options.iter().enumerate() {
        if o.trim().is_empty() {
            out.push(at.problem(
                item,
                "options",
                format!("option {} is empty", crate::item::letter(i.min(8))),
            ));
        }
    }
    if letter_index(item.answer).is_none_or(|i| i >= n) {
        out.push(at.problem(
            item,
            "answer",
            format!("gold answer {:?} is outside the {n} options", item.answer),
        ));
    }
    out
}

/// Flag every item whose (language, id) was already seen; returns the indices of the
/// duplicates (later occurrences) in `items`.
pub fn duplicates(items: &[(Item, Origin)], problems: &mut Vec<Problem>) -> Vec<usize> {
    let mut seen: HashMap<(Lang, &str), &Origin> = HashMap::new();
    let mut dups = Vec::new();
    for (i, (item, at)) in items.iter().enumerate() {
        match seen.get(&(item.lang, item.id.as_str())) {
            Some(first) => {
                let where_ = match (&first.file, &at.file) {
                    (Some(f), Some(g)) if f != g => {
                        format!("{} record[{}]", f.display(), first.index)
                    }
                    _ => format!("record[{}]", first.index),
                };
                problems.push(at.problem(
                    item,
                    "id",
                    format!("duplicate id in language {} (first at {where_})", item.lang),
                ));
                dups.push(i);
            }
            None => {
                seen.insert((item.lang, item.id.as_str()), at);
            }
        }
    }
    dups
}

/// Duplicate ids that involve a record which failed for another reason and so never became
/// an item (a missing option, say): [`duplicates`] cannot see it. Checked within one file,
/// where the language is the same for every record of a release file, and a repeated seed
/// record repeats every language it holds. Each record is reported once, against the
/// earliest record with its id.
pub fn duplicates_among_failed(
    items: &[(Item, Origin)],
    already: &[usize],
    problems: &mut Vec<Problem>,
) {
    type Key = (Option<PathBuf>, String);
    // (file, id) -> record indices, from items and from failed records with a readable id.
    let mut seen: HashMap<Key, BTreeSet<usize>> = HashMap::new();
    let with_items: HashSet<(Option<PathBuf>, usize)> = items
        .iter()
        .map(|(_, at)| (at.file.clone(), at.index))
        .collect();
    let mut failed: Vec<(Key, usize, Option<usize>)> = Vec::new();
    for p in problems.iter() {
        let (Some(id), Some(index)) = (&p.id, p.index) else {
            continue;
        };
        if with_items.contains(&(p.file.clone(), index)) {
            continue;
        }
        let key = (p.file.clone(), id.clone());
        if seen.entry(key.clone()).or_default().insert(index) {
            failed.push((key, index, p.line));
        }
    }
    if failed.is_empty() {
        return;
    }
    for (item, at) in items {
        seen.entry((at.file.clone(), item.id.clone()))
            .or_default()
            .insert(at.index);
    }
    let first_of = |key: &Key| seen.get(key).and_then(|s| s.first().copied());
    let mut out = Vec::new();
    for (key, index, line) in &failed {
        if let Some(first) = first_of(key).filter(|f| f < index) {
            out.push(Problem {
                file: key.0.clone(),
                line: *line,
                index: Some(*index),
                id: Some(key.1.clone()),
                field: Some("id".into()),
                message: format!("duplicate id (first at record[{first}])"),
            });
        }
    }
    // Items whose id first appeared on a failed record; item-against-item repeats were
    // reported by `duplicates` already.
    let failed_keys: HashSet<&Key> = failed.iter().map(|(k, _, _)| k).collect();
    let mut reported: HashSet<(Option<PathBuf>, usize)> = HashSet::new();
    for (i, (item, at)) in items.iter().enumerate() {
        let key = (at.file.clone(), item.id.clone());
        if already.contains(&i) || !failed_keys.contains(&key) {
            continue;
        }
        if let Some(first) = first_of(&key).filter(|f| *f < at.index) {
            if reported.insert((at.file.clone(), at.index)) {
                out.push(at.problem(
                    item,
                    "id",
                    format!("duplicate id (first at record[{first}])"),
                ));
            }
        }
    }
    problems.extend(out);
}
