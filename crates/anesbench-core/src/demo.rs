//! The built-in demo set: 64 anesthesiology questions written for this project, each in
//! English and Chinese, over the three cognitive levels, with a short rationale.
//!
//! The data lives in `data/demo.json` (the seed README schema, one record per question with
//! both languages) and is compiled into the binary, so `demo` works offline and anywhere.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::item::{letter, Item, Lang, Level};

/// The demo set as shipped: a JSON array in the seed README schema
/// (`id, choice_num, answer, level, en_question, en_A.., zh_question, zh_A..`), plus
/// `en_rationale` / `zh_rationale`.
pub const DEMO_JSON: &str = include_str!("../data/demo.json");

/// Every demo item: for each record, the English item then the Chinese one.
pub fn items() -> Vec<Item> {
    let records: Vec<Map<String, Value>> = serde_json::from_str(DEMO_JSON)
        .expect("data/demo.json is a JSON array of objects (checked by unit tests)");
    records
        .iter()
        .enumerate()
        .flat_map(|(index, rec)| Lang::ALL.map(|lang| item_from(rec, lang, index)))
        .collect()
}

/// Demo items in one language.
pub fn items_for(lang: Lang) -> Vec<Item> {
    items().into_iter().filter(|i| i.lang == lang).collect()
}

// The file is part of the source tree and covered by the tests below, so a malformed
// record is a build-time bug: panicking with the record and field is the right report.
fn item_from(rec: &Map<String, Value>, lang: Lang, index: usize) -> Item {
    let id = text(rec, "id", index);
    let field = |name: &str| text(rec, &format!("{}_{name}", lang.code()), index);
    let num = rec
        .get("choice_num")
        .and_then(Value::as_u64)
        .unwrap_or_else(|| {
            panic!("demo.json record {index} ({id}): `choice_num` missing or not a number")
        }) as usize;
    let code = rec.get("level").and_then(Value::as_u64).unwrap_or(0) as u8;
    let level = Level::from_code(code)
        .unwrap_or_else(|| panic!("demo.json record {index} ({id}): `level` must be 1, 2 or 3"));
    let answer = text(rec, "answer", index).chars().next().unwrap_or('?');
    Item {
        lang,
        level,
        question: field("question"),
        options: (0..num).map(|i| field(&letter(i).to_string())).collect(),
        answer,
        rationale: Some(field("rationale")),
        extra: BTreeMap::new(),
        id,
    }
}

fn text(rec: &Map<String, Value>, name: &str, index: usize) -> String {
    match rec.get(name).and_then(Value::as_str) {
        Some(s) if !s.trim().is_empty() => s.to_string(),
        _ => panic!("demo.json record {index}: field `{name}` missing or empty"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;
    use crate::item::letter_index;

    #[test]
    fn at_least_sixty_items_per_language_over_all_levels() {
        for lang in Lang::ALL {
            let items = items_for(lang);
            assert!(items.len() >= 60, "{lang}: {} items", items.len());
            let mut per_level = BTreeMap::new();
            for it in &items {
                *per_level.entry(it.level).or_insert(0usize) += 1;
            }
            assert_eq!(per_level.len(), 3, "{lang}: levels {per_level:?}");
            assert!(
                per_level[&Level::S2] >= 10,
                "{lang}: System 2 {per_level:?}"
            );
            assert!(
                per_level[&Level::S1] >= 30,
                "{lang}: System 1 {per_level:?}"
            );
            assert!(
                per_level[&Level::S1x] >= 20,
                "{lang}: System 1.x {per_level:?}"
            );
        }
    }

    #[test]
    fn options_are_four_or_five_with_both_counts_used_and_gold_among_them() {
        let mut seen = HashSet::new();
        for it in items() {
            assert!(
                (4..=5).contains(&it.options.len()),
                "{}: {} options",
                it.key(),
                it.options.len()
            );
            let idx = letter_index(it.answer).unwrap_or(usize::MAX);
            assert!(
                idx < it.options.len(),
                "{}: gold {} outside options",
                it.key(),
                it.answer
            );
            seen.insert(it.options.len());
        }
        assert_eq!(
            seen.len(),
            2,
            "both 4- and 5-option questions should appear"
        );
    }

    #[test]
    fn gold_letters_are_spread_over_positions() {
        let all = items_for(Lang::En);
        let mut count = BTreeMap::new();
        for it in &all {
            *count.entry(it.answer).or_insert(0usize) += 1;
        }
        for l in ['A', 'B', 'C', 'D', 'E'] {
            let n = count.get(&l).copied().unwrap_or(0);
            assert!(n > 0, "gold letter {l} never used: {count:?}");
            assert!(
                n * 100 <= all.len() * 35,
                "gold letter {l} used {n} of {} times",
                all.len()
            );
        }
    }

    #[test]
    fn every_record_has_both_languages_matching_and_nonempty() {
        let en = items_for(Lang::En);
        let zh = items_for(Lang::Zh);
        assert_eq!(en.len(), zh.len());
        for (e, z) in en.iter().zip(&zh) {
            assert_eq!(e.id, z.id);
            assert_eq!(
                (e.level, e.answer, e.options.len()),
                (z.level, z.answer, z.options.len()),
                "{}",
                e.id
            );
            for it in [e, z] {
                assert!(!it.question.trim().is_empty());
                assert!(
                    it.options.iter().all(|o| !o.trim().is_empty()),
                    "{}",
                    it.key()
                );
                assert!(
                    it.rationale.as_deref().is_some_and(|r| r.trim().len() > 20),
                    "{}",
                    it.key()
                );
            }
            // A Chinese item must actually be in Chinese (not an English copy).
            assert!(
                z.question
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{}",
                z.id
            );
            assert!(z
                .rationale
                .as_deref()
                .unwrap()
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
            assert!(
                !e.question
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{}",
                e.id
            );
        }
    }

    #[test]
    fn ids_are_unique_and_follow_the_demo_pattern() {
        let en = items_for(Lang::En);
        let ids: HashSet<_> = en.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids.len(), en.len());
        for (n, it) in en.iter().enumerate() {
            assert_eq!(it.id, format!("demo-{:03}", n + 1));
        }
    }

    #[test]
    fn options_within_an_item_are_distinct() {
        for it in items() {
            let set: HashSet<_> = it.options.iter().collect();
            assert_eq!(
                set.len(),
                it.options.len(),
                "{}: repeated option text",
                it.key()
            );
        }
    }

    #[test]
    fn the_data_file_loads_through_the_generic_loader_like_the_builtin() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo.json");
        let opts = crate::load::LoadOptions::default();
        let from_file =
            crate::load::load(path, &opts).expect("demo.json loads as a seed-schema file");
        let builtin = crate::load::load("demo", &opts).expect("`demo` is a valid source");
        assert_eq!(from_file.items.len(), items().len());
        assert_eq!(builtin.items.len(), items().len());
        let key = |it: &Item| {
            (
                it.key(),
                it.question.clone(),
                it.options.clone(),
                it.answer,
                it.level,
            )
        };
        let mut a: Vec<_> = from_file.items.iter().map(key).collect();
        let mut b: Vec<_> = items().iter().map(key).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn records_carry_no_unexpected_fields() {
        let records: Vec<Map<String, Value>> = serde_json::from_str(DEMO_JSON).unwrap();
        for rec in &records {
            let n = rec["choice_num"].as_u64().unwrap() as usize;
            let mut allowed: HashSet<String> = [
                "id",
                "choice_num",
                "answer",
                "level",
                "en_question",
                "zh_question",
                "en_rationale",
                "zh_rationale",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            for i in 0..n {
                allowed.insert(format!("en_{}", letter(i)));
                allowed.insert(format!("zh_{}", letter(i)));
            }
            for k in rec.keys() {
                assert!(
                    allowed.contains(k),
                    "{}: unexpected field `{k}` (choice_num {n})",
                    rec["id"]
                );
            }
        }
    }
}
