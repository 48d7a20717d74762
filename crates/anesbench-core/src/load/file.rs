//! One file: bytes -> raw records -> schema -> items, with every problem collected.

use std::path::Path;

use super::detect::{self, Schema};
use super::error::Problem;
use super::raw::Reader;
use super::source::{self, Format};
use super::validate::Origin;
use super::{json, parquet, schema, LoadOptions};
use crate::item::Item;

pub struct FileLoad {
    pub items: Vec<(Item, Origin)>,
    pub problems: Vec<Problem>,
    /// Things worth telling that are not errors (a file left out by `--lang`).
    pub notes: Vec<String>,
}

pub fn load_file(path: &Path, root: &Path, bytes: &[u8], opts: &LoadOptions) -> FileLoad {
    let mut out = FileLoad {
        items: Vec::new(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    let file = Some(path.to_path_buf());
    let (records, problems) = match source::sniff(path, bytes) {
        Format::Json => json::parse(bytes, Some(path)),
        Format::Parquet => parquet::parse(bytes, Some(path)),
    };
    out.problems = problems;
    if records.is_empty() {
        if out.problems.is_empty() {
            out.problems
                .push(Problem::file(file, "file holds no records"));
        }
        return out;
    }
    let schema = match &opts.mapping {
        Some(_) => Schema::Mapped,
        None => match detect::detect(&records) {
            Ok(s) => s,
            Err(msg) => {
                out.problems.push(Problem::file(file, msg));
                return out;
            }
        },
    };
    let name_lang = detect::lang_from_path(path, root);
    // The file's own language: the name's, else --lang. A name that says another language
    // than --lang leaves the file out.
    let file_lang = name_lang.or(opts.lang);
    if schema != Schema::Seed {
        if let (Some(n), Some(want)) = (name_lang, opts.lang) {
            if n != want {
                out.notes.push(format!(
                    "left out {} (language {n}; --lang {want})",
                    path.display()
                ));
                return out;
            }
        }
        if schema == Schema::Release && file_lang.is_none() {
            out.problems.push(Problem::file(
                file,
                "language unknown: name the file like anesbench_en.json / anesbench_zh.json, or pass --lang en|zh",
            ));
            return out;
        }
    }
    let source_file = path
        .file_name()
        .and_then(|s| s.to_str())
        .map(str::to_string);
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("record")
        .to_string();
    for rec in &records {
        let mut r = Reader::new(rec, file.clone());
        let items: Vec<Item> = match (schema, &opts.mapping) {
            (Schema::Seed, _) => schema::seed(&mut r, opts.lang, source_file.as_deref()),
            (Schema::Release, _) => schema::release(
                &mut r,
                file_lang.expect("checked above"),
                source_file.as_deref(),
            )
            .into_iter()
            .collect(),
            (Schema::Mapped, Some(m)) => m
                .apply(&mut r, file_lang, &stem, source_file.as_deref())
                .into_iter()
                .filter(|it| opts.lang.is_none_or(|l| l == it.lang))
                .collect(),
            (Schema::Mapped, None) => unreachable!("Mapped is chosen only with a mapping"),
        };
        let origin = Origin {
            file: file.clone(),
            line: rec.line,
            index: rec.index,
        };
        out.problems.append(&mut r.problems);
        out.items
            .extend(items.into_iter().map(|it| (it, origin.clone())));
    }
    out
}
