//! Checks on finished items that no single field reader can make: the item invariants
//! (also applied to the built-in demo set) and duplicate ids within a language.

use std::collections::HashMap;
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
