//! Records in the two published AnesBench schemas to items.

use std::collections::BTreeMap;

use serde_json::Value;

use super::detect::SEED_PREFIXES;
use super::raw::Reader;
use crate::item::{Item, Lang, LETTERS};

/// Field names `{prefix}A`, `{prefix}B`, .. `{prefix}I`.
pub fn letter_fields(prefix: &str) -> Vec<String> {
    LETTERS.iter().map(|l| format!("{prefix}{l}")).collect()
}

/// Fields not modelled by [`Item`], kept in `extra` for reports.
pub fn extras(
    r: &Reader<'_>,
    consumed: &[String],
    source_file: Option<&str>,
) -> BTreeMap<String, Value> {
    let mut extra: BTreeMap<String, Value> = r
        .rec
        .fields
        .iter()
        .filter(|(k, v)| !v.is_null() && !consumed.iter().any(|c| c == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(f) = source_file {
        extra.insert("source_file".into(), Value::String(f.to_string()));
    }
    extra
}

/// A Hugging Face release record (one language, known from the file or `--lang`).
pub fn release(r: &mut Reader<'_>, lang: Lang, source_file: Option<&str>) -> Option<Item> {
    let id = r.read_id("id");
    let question = r.text("question");
    let choice_num = r.choice_num("choice_num");
    let names = letter_fields("");
    let options = r.lettered_options(&names, choice_num);
    let answer = r.answer_letter("target", choice_num);
    let level_field =
        if r.rec.fields.contains_key("category") || !r.rec.fields.contains_key("level") {
            "category"
        } else {
            "level"
        };
    let level = r.level(level_field);
    let mut consumed: Vec<String> = ["id", "question", "choice_num", "target", level_field]
        .map(String::from)
        .to_vec();
    consumed.extend(names);
    let extra = extras(r, &consumed, source_file);
    Some(Item {
        id: id?,
        lang,
        level: level?,
        question: question?,
        options: options?,
        answer: answer?,
        rationale: None,
        extra,
    })
}

/// A seed README record: one item per language present (only `only`, when given).
pub fn seed(r: &mut Reader<'_>, only: Option<Lang>, source_file: Option<&str>) -> Vec<Item> {
    let id = r.read_id("id");
    let choice_num = r.choice_num("choice_num");
    let answer = r.answer_letter("answer", choice_num);
    let level = r.level("level");
    let mut consumed: Vec<String> = ["id", "choice_num", "answer", "level"]
        .map(String::from)
        .to_vec();
    let mut parts = Vec::new();
    let mut any_lang = false;
    for lang in Lang::ALL {
        // The first prefix of this language that the record uses (`zh_` before `cn_`).
        let prefix = SEED_PREFIXES
            .iter()
            .filter(|(_, l)| *l == lang)
            .map(|(p, _)| *p)
            .find(|p| r.rec.fields.contains_key(&format!("{p}_question")));
        let Some(prefix) = prefix else { continue };
        any_lang = true;
        let qf = format!("{prefix}_question");
        let names = letter_fields(&format!("{prefix}_"));
        consumed.push(qf.clone());
        consumed.extend(names.iter().cloned());
        if only.is_some_and(|o| o != lang) {
            continue;
        }
        let question = r.text(&qf);
        let options = r.lettered_options(&names, choice_num);
        parts.push((lang, question, options));
    }
    if !any_lang {
        r.problem(
            Some("en_question"),
            "no question in any language (expected en_question, zh_question or cn_question)",
        );
    }
    let extra = extras(r, &consumed, source_file);
    let (Some(id), Some(answer), Some(level)) = (id, answer, level) else {
        return Vec::new();
    };
    parts
        .into_iter()
        .filter_map(|(lang, question, options)| {
            Some(Item {
                id: id.clone(),
                lang,
                level,
                question: question?,
                options: options?,
                answer,
                rationale: None,
                extra: extra.clone(),
            })
        })
        .collect()
}
