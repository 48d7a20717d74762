//! A loaded source: its items, fingerprint and counts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::item::{Item, Lang, Level};
use crate::record::sha256_hex;

/// A loaded, validated source.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// What the user passed (`demo`, a path, `hf:OWNER/NAME@rev`).
    pub source: String,
    pub items: Vec<Item>,
    /// Files read, in order.
    pub files: Vec<PathBuf>,
    /// Hex SHA-256 over the items in canonical form: equal fingerprints, equal benchmark.
    pub fingerprint: String,
    /// Records skipped under `--lenient`.
    pub skipped: usize,
    pub warnings: Vec<String>,
}

/// The fields that decide a prompt and its scoring, in a fixed order.
#[derive(Serialize)]
struct Canonical<'a> {
    lang: Lang,
    id: &'a str,
    level: u8,
    question: &'a str,
    options: &'a [String],
    answer: char,
}

/// SHA-256 over the items sorted by (language, id), one canonical JSON line each. Order of
/// files and records, file paths and extra fields do not change it.
pub fn fingerprint(items: &[Item]) -> String {
    let mut sorted: Vec<&Item> = items.iter().collect();
    sorted.sort_by(|a, b| (a.lang, &a.id).cmp(&(b.lang, &b.id)));
    let mut buf = Vec::new();
    for it in sorted {
        let c = Canonical {
            lang: it.lang,
            id: &it.id,
            level: it.level.code(),
            question: &it.question,
            options: &it.options,
            answer: it.answer,
        };
        serde_json::to_writer(&mut buf, &c).expect("serialising plain data cannot fail");
        buf.push(b'\n');
    }
    sha256_hex(&buf)
}

/// Item counts per language x level x option count.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    pub total: usize,
    /// language -> level key (`system1`, ..) -> option count -> items.
    pub by_lang: BTreeMap<Lang, LangCounts>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LangCounts {
    pub total: usize,
    pub by_level: BTreeMap<&'static str, usize>,
    pub by_options: BTreeMap<usize, usize>,
    /// level key -> option count -> items.
    pub cells: BTreeMap<&'static str, BTreeMap<usize, usize>>,
}

impl Dataset {
    /// Counts per language x level x option count.
    pub fn breakdown(&self) -> Breakdown {
        let mut b = Breakdown::default();
        for it in &self.items {
            b.total += 1;
            let l = b.by_lang.entry(it.lang).or_default();
            l.total += 1;
            *l.by_level.entry(it.level.key()).or_default() += 1;
            *l.by_options.entry(it.options.len()).or_default() += 1;
            *l.cells
                .entry(it.level.key())
                .or_default()
                .entry(it.options.len())
                .or_default() += 1;
        }
        b
    }

    /// Items of one language and level.
    pub fn count(&self, lang: Lang, level: Level) -> usize {
        self.items
            .iter()
            .filter(|i| i.lang == lang && i.level == level)
            .count()
    }
}
