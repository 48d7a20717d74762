//! Loading benchmark sources: schema and format detection, field mappings, `hf:` sources,
//! the built-in `demo` set, and validation of every record before work starts.
//!
//! A source is `demo`, a file (JSON array, JSONL, Parquet), a directory of such files, or
//! `hf:OWNER/NAME[@revision]` (read from the Hugging Face cache). Every record is checked;
//! all problems in all files are reported together ([`LoadError::Invalid`]), or skipped with
//! warnings under [`LoadOptions::lenient`].

mod dataset;
mod detect;
mod error;
mod file;
pub mod hf;
mod json;
mod mapping;
mod parquet;
mod raw;
mod schema;
mod source;
mod validate;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use dataset::{fingerprint, Breakdown, Dataset, LangCounts};
pub use detect::Schema;
pub use error::{LoadError, Problem};
pub use mapping::{AnswerKind, FieldMapping};
pub use source::Format;

use crate::item::{Item, Lang};
use validate::Origin;

/// How to read a source.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Only this language; also the language of files whose name and schema do not say it
    /// (`--lang`).
    pub lang: Option<Lang>,
    /// Skip bad records with a warning instead of failing (`--lenient`).
    pub lenient: bool,
    /// Explicit field mapping for other MCQ sets.
    pub mapping: Option<FieldMapping>,
}

/// Load and validate a source: `demo`, a file, a directory, or `hf:OWNER/NAME[@rev]`.
pub fn load(source: &str, opts: &LoadOptions) -> Result<Dataset, LoadError> {
    if let Some(m) = &opts.mapping {
        m.check()?;
    }
    if source == "demo" {
        let items = crate::demo::items()
            .into_iter()
            .filter(|i| opts.lang.is_none_or(|l| l == i.lang))
            .enumerate()
            .map(|(index, it)| {
                (
                    it,
                    Origin {
                        file: None,
                        line: None,
                        index,
                    },
                )
            })
            .collect();
        return finish(source, Vec::new(), items, Vec::new(), opts);
    }
    let root = match hf::HfSource::parse(source) {
        Some(spec) => hf::resolve(&spec?, &hf::HubEnv::from_env()?)?,
        None => {
            let p = PathBuf::from(source);
            if !p.exists() {
                return Err(LoadError::NotFound {
                    spec: source.to_string(),
                    hint: "expected a JSON/JSONL/Parquet file, a folder of them, `demo`, or hf:OWNER/NAME".into(),
                });
            }
            p
        }
    };
    let files = source::files(&root)?;
    if files.is_empty() {
        return Err(LoadError::Empty {
            spec: source.to_string(),
            detail: format!(
                " ({} has no .json, .jsonl or .parquet files)",
                root.display()
            ),
        });
    }
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    // Files are read and parsed on a thread each (a release's two language files in
    // parallel); their results are put together in file order, as one thread would.
    let one = |f: &PathBuf| -> Result<file::FileLoad, LoadError> {
        let bytes = std::fs::read(f).map_err(|e| LoadError::Io {
            path: f.clone(),
            source: e,
        })?;
        Ok(file::load_file(f, &root, &bytes, opts))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let loaded: Vec<Result<file::FileLoad, LoadError>> = if files.len() < 2 || threads < 2 {
        files.iter().map(one).collect()
    } else {
        let mut all = Vec::with_capacity(files.len());
        for group in files.chunks(threads) {
            std::thread::scope(|sc| {
                let hs: Vec<_> = group.iter().map(|f| sc.spawn(move || one(f))).collect();
                all.extend(
                    hs.into_iter()
                        .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
                );
            });
        }
        all
    };
    for out in loaded {
        let out = out?;
        items.extend(out.items);
        problems.extend(out.problems);
        notes.extend(out.notes);
    }
    finish(source, files, items, problems, opts).map(|mut d| {
        d.warnings.splice(0..0, notes);
        d
    })
}

/// Load one file's content from memory; `name` gives the format (extension) and language
/// (file name) as a path would.
pub fn load_bytes(name: &Path, bytes: &[u8], opts: &LoadOptions) -> Result<Dataset, LoadError> {
    if let Some(m) = &opts.mapping {
        m.check()?;
    }
    let root = name.parent().unwrap_or(Path::new(""));
    let out = file::load_file(name, root, bytes, opts);
    let source = name.display().to_string();
    finish(
        &source,
        vec![name.to_path_buf()],
        out.items,
        out.problems,
        opts,
    )
    .map(|mut d| {
        d.warnings.splice(0..0, out.notes);
        d
    })
}

/// Cross-record checks, then strict failure or lenient skipping.
fn finish(
    source: &str,
    files: Vec<PathBuf>,
    mut items: Vec<(Item, Origin)>,
    mut problems: Vec<Problem>,
    opts: &LoadOptions,
) -> Result<Dataset, LoadError> {
    for (it, at) in &items {
        problems.extend(validate::check_item(it, at));
    }
    let dups = validate::duplicates(&items, &mut problems);
    validate::duplicates_among_failed(&items, &dups, &mut problems);
    // A record is bad when any problem names it; its items are all dropped.
    let bad: BTreeSet<(Option<PathBuf>, Option<usize>)> =
        problems.iter().map(|p| (p.file.clone(), p.index)).collect();
    if !problems.is_empty() && !opts.lenient {
        return Err(LoadError::Invalid {
            records: bad.len(),
            problems,
        });
    }
    let mut warnings: Vec<String> = problems.iter().map(|p| format!("skipped: {p}")).collect();
    let dup_set: BTreeSet<usize> = dups.into_iter().collect();
    let mut kept = Vec::with_capacity(items.len());
    for (i, (it, at)) in items.drain(..).enumerate() {
        let named = bad.contains(&(at.file.clone(), Some(at.index)))
            || bad.contains(&(at.file.clone(), None));
        if !named && !dup_set.contains(&i) {
            kept.push(it);
        }
    }
    let skipped = bad.len();
    if skipped > 0 {
        warnings.push(format!(
            "--lenient: skipped {skipped} bad record(s) or file(s) of {source}"
        ));
    }
    if kept.is_empty() {
        let detail = match opts.lang {
            Some(l) => format!(" in language {l}"),
            None => String::new(),
        };
        return Err(LoadError::Empty {
            spec: source.to_string(),
            detail,
        });
    }
    Ok(Dataset {
        source: source.to_string(),
        fingerprint: fingerprint(&kept),
        items: kept,
        files,
        skipped,
        warnings,
    })
}
