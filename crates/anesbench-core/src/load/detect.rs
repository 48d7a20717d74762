//! Which schema a file's records follow, and which language a file name says.

use std::path::Path;

use super::raw::RawRecord;
use crate::item::Lang;

/// The record layouts the loader knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Seed README: `id, choice_num, answer, level, en_question, en_A.., zh_|cn_question, ..`;
    /// one record holds both languages.
    Seed,
    /// Hugging Face release: `id, question, A..I, choice_num, target, category`; one
    /// language per file.
    Release,
    /// An explicit [`super::FieldMapping`].
    Mapped,
}

impl Schema {
    pub fn name(self) -> &'static str {
        match self {
            Schema::Seed => "seed README schema",
            Schema::Release => "Hugging Face release schema",
            Schema::Mapped => "field mapping",
        }
    }
}

/// Prefixes that mark a seed record's language (`cn_` is the README table's spelling).
pub const SEED_PREFIXES: [(&str, Lang); 3] = [("en", Lang::En), ("zh", Lang::Zh), ("cn", Lang::Zh)];

fn schema_of(rec: &RawRecord) -> Option<Schema> {
    let has = |k: &str| rec.fields.contains_key(k);
    if SEED_PREFIXES
        .iter()
        .any(|(p, _)| has(&format!("{p}_question")))
    {
        Some(Schema::Seed)
    } else if has("question") && (has("target") || has("category") || has("A")) {
        Some(Schema::Release)
    } else {
        None
    }
}

/// Schema of a file from its first record that fits one; `Err` lists the fields seen.
pub fn detect(records: &[RawRecord]) -> Result<Schema, String> {
    if let Some(s) = records.iter().find_map(schema_of) {
        return Ok(s);
    }
    let fields: Vec<&str> = records
        .first()
        .map(|r| r.fields.keys().map(String::as_str).take(20).collect())
        .unwrap_or_default();
    Err(format!(
        "records follow neither AnesBench schema (fields seen: {}); hint: pass a field mapping \
         (--question-field, --option-fields, --answer-field, .. or --mapping FILE.toml)",
        if fields.is_empty() {
            "none".to_string()
        } else {
            fields.join(", ")
        }
    ))
}

/// Language a path names, as a word in the file stem (`anesbench_zh.json`) or a folder name
/// between `root` and the file (`en/test-00000.parquet`).
pub fn lang_from_path(path: &Path, root: &Path) -> Option<Lang> {
    let word = |s: &str| -> Option<Lang> {
        s.split(|c: char| !c.is_ascii_alphanumeric()).find_map(|w| {
            match w.to_ascii_lowercase().as_str() {
                "en" | "english" => Some(Lang::En),
                "zh" | "cn" | "chinese" => Some(Lang::Zh),
                _ => None,
            }
        })
    };
    if let Some(l) = path.file_stem().and_then(|s| s.to_str()).and_then(word) {
        return Some(l);
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut dirs: Vec<&str> = rel
        .parent()
        .into_iter()
        .flat_map(|p| p.iter())
        .filter_map(|c| c.to_str())
        .collect();
    if rel == path || rel.as_os_str().is_empty() {
        // A single file given directly: only its own folder counts.
        dirs = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .into_iter()
            .collect();
    }
    dirs.iter()
        .rev()
        .find_map(|d| match d.to_ascii_lowercase().as_str() {
            "en" | "english" => Some(Lang::En),
            "zh" | "cn" | "chinese" => Some(Lang::Zh),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_file_and_folder_names() {
        let root = Path::new("/d");
        assert_eq!(
            lang_from_path(Path::new("/d/anesbench_en.json"), root),
            Some(Lang::En)
        );
        assert_eq!(
            lang_from_path(Path::new("/d/anesbench_zh.jsonl"), root),
            Some(Lang::Zh)
        );
        assert_eq!(
            lang_from_path(Path::new("/d/zh/test-00000-of-00001.parquet"), root),
            Some(Lang::Zh)
        );
        assert_eq!(lang_from_path(Path::new("/d/anesbench.json"), root), None);
        // "benchmark" contains "en" but is not the word "en".
        assert_eq!(lang_from_path(Path::new("/d/benchmark.json"), root), None);
        assert_eq!(
            lang_from_path(Path::new("/x/en/test.json"), Path::new("/x/en/test.json")),
            Some(Lang::En)
        );
    }
}
