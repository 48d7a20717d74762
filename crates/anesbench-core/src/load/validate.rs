//! Checks on finished items that no single field reader can make: the item invariants
//! (also applied to the built-in demo set) and duplicate ids within a language.

use std::collections::{HashMap, HashSet};
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
    let with_items: HashSet<(Option<PathBuf>, usize)> = items
        .iter()
        .map(|(_, at)| (at.file.clone(), at.index))
        .collect();
    // One entry per failed record with a readable id (a record may have several problems).
    let mut visited = HashSet::new();
    let failed: Vec<(Key, usize, Option<usize>)> = problems
        .iter()
        .filter_map(|p| Some((p.id.clone()?, p.index?, p)))
        .filter(|(_, index, p)| !with_items.contains(&(p.file.clone(), *index)))
        .filter(|(_, index, p)| visited.insert((p.file.clone(), *index)))
        .map(|(id, index, p)| ((p.file.clone(), id), index, p.line))
        .collect();
    if failed.is_empty() {
        return;
    }
    // (file, id) -> the earliest record holding it, failed or not.
    let mut first: HashMap<&Key, usize> = HashMap::new();
    let item_keys: Vec<Key> = items
        .iter()
        .map(|(item, at)| (at.file.clone(), item.id.clone()))
        .collect();
    let records = failed.iter().map(|(key, index, _)| (key, *index)).chain(
        item_keys
            .iter()
            .zip(items)
            .map(|(k, (_, at))| (k, at.index)),
    );
    for (key, index) in records {
        first
            .entry(key)
            .and_modify(|f| *f = (*f).min(index))
            .or_insert(index);
    }
    let message = |f: usize| format!("duplicate id (first at record[{f}])");
    let mut out = Vec::new();
    for (key, index, line) in &failed {
        if let Some(f) = first.get(key).copied().filter(|f| f < index) {
            out.push(Problem {
                file: key.0.clone(),
                line: *line,
                index: Some(*index),
                id: Some(key.1.clone()),
                field: Some("id".into()),
                message: message(f),
            });
        }
    }
    // Items whose id first appeared on a failed record; item-against-item repeats were
    // reported by `duplicates` already. A seed record's items share one report.
    let failed_keys: HashSet<&Key> = failed.iter().map(|(k, _, _)| k).collect();
    let already: HashSet<usize> = already.iter().copied().collect();
    let mut reported = HashSet::new();
    for (i, ((item, at), key)) in items.iter().zip(&item_keys).enumerate() {
        if !failed_keys.contains(key) || already.contains(&i) {
            continue;
        }
        if let Some(f) = first.get(key).copied().filter(|f| *f < at.index) {
            if reported.insert((at.file.clone(), at.index)) {
                out.push(at.problem(item, "id", message(f)));
            }
        }
    }
    problems.extend(out);
}
