//! Language of a file from its name, and which files a `--split` selects.
//!
//! The published files carry the language as a token of the name
//! (`AnesCorpus_en-00000.parquet`, `AnesQA_cn.parquet`, `anesbench_zh.json`).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anesbench_core::item::Lang;

use crate::error::DataError;

/// `--split`: one language, or every file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Lang(Lang),
    All,
}

impl Split {
    /// Suffix used in output names: `en`, `zh`, `all`.
    pub fn code(self) -> &'static str {
        match self {
            Split::Lang(l) => l.code(),
            Split::All => "all",
        }
    }
    pub fn selects(self, file_lang: Option<Lang>) -> bool {
        match self {
            Split::All => true,
            Split::Lang(l) => file_lang == Some(l),
        }
    }
}

impl FromStr for Split {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(Split::All),
            other => other
                .parse::<Lang>()
                .map(Split::Lang)
                .map_err(|_| format!("unknown split `{s}` (expected en, cn, zh or all)")),
        }
    }
}

/// Language named by a token of the file name: `en`, or `cn` / `zh` (read as Chinese).
/// Tokens are the runs of ASCII letters, so `AnesCorpus_en-00000` has `anescorpus`, `en`.
pub fn lang_from_file_name(path: &Path) -> Option<Lang> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let stem = name.split('.').next().unwrap_or("");
    let mut found = None;
    for token in stem.split(|c: char| !c.is_ascii_alphabetic()) {
        let lang = match token {
            "en" | "english" => Some(Lang::En),
            "cn" | "zh" | "chinese" => Some(Lang::Zh),
            _ => None,
        };
        if lang.is_some() {
            found = lang;
        }
    }
    found
}

/// Data files recognised by extension.
pub fn is_data_file(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("parquet" | "jsonl" | "ndjson" | "json")
    )
}

/// Expand `--input` arguments (files or directories, directories not recursed past one
/// level of data files) into a sorted list of data files.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, DataError> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| DataError::io(input, e))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| DataError::io(input, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_data_file(p))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(DataError::Input(format!(
                    "{}: no .parquet, .jsonl or .json files in this directory",
                    input.display()
                )));
            }
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    Ok(files)
}

/// Files a split selects, with their language; an error when it selects none.
pub fn select(files: &[PathBuf], split: Split) -> Result<Vec<(PathBuf, Option<Lang>)>, DataError> {
    let tagged: Vec<(PathBuf, Option<Lang>)> = files
        .iter()
        .map(|f| (f.clone(), lang_from_file_name(f)))
        .collect();
    let chosen: Vec<_> = tagged
        .iter()
        .filter(|(_, l)| split.selects(*l))
        .cloned()
        .collect();
    if chosen.is_empty() {
        let names: Vec<String> = tagged
            .iter()
            .map(|(p, l)| {
                format!(
                    "{} ({})",
                    p.display(),
                    l.map_or("no language token", |l| l.code())
                )
            })
            .collect();
        return Err(DataError::Input(format!(
            "--split {} selects none of the input files: {}\n  hint: the language is read from an `en`, `cn` or `zh` token in the file name; use --split all for files without one",
            split.code(),
            names.join(", ")
        )));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tokens_in_published_names() {
        let l = |s: &str| lang_from_file_name(Path::new(s));
        assert_eq!(l("AnesCorpus_en-00000.parquet"), Some(Lang::En));
        assert_eq!(l("data/AnesCorpus_cn-00003.parquet"), Some(Lang::Zh));
        assert_eq!(l("anesbench_zh.json"), Some(Lang::Zh));
        assert_eq!(l("AnesQA_en.parquet"), Some(Lang::En));
        // `en` inside a word is not a token.
        assert_eq!(l("agent_tokens.parquet"), None);
        assert_eq!(l("corpus.parquet"), None);
    }

    #[test]
    fn split_parses_cn_as_zh_and_selects() {
        assert_eq!("cn".parse::<Split>().unwrap(), Split::Lang(Lang::Zh));
        assert_eq!("all".parse::<Split>().unwrap(), Split::All);
        assert!("fr".parse::<Split>().is_err());
        let files = vec![PathBuf::from("a_en.parquet"), PathBuf::from("a_cn.parquet")];
        let en = select(&files, Split::Lang(Lang::En)).unwrap();
        assert_eq!(en.len(), 1);
        assert!(select(&[PathBuf::from("x.parquet")], Split::Lang(Lang::En)).is_err());
    }
}
