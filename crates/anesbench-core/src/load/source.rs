//! Which files a path source stands for, and which reader each one needs.

use std::path::{Path, PathBuf};

use super::error::LoadError;

/// File formats the loader reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON array, JSONL, or one JSON object.
    Json,
    Parquet,
}

/// Format from a file extension; `None` for files a directory walk should pass over.
pub fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "json" | "jsonl" | "ndjson" => Some(Format::Json),
        "parquet" | "pq" => Some(Format::Parquet),
        _ => None,
    }
}

/// Format of a file named directly: its extension, or its first bytes when the extension
/// says nothing.
pub fn sniff(path: &Path, bytes: &[u8]) -> Format {
    format_of(path).unwrap_or(if bytes.starts_with(super::parquet::MAGIC) {
        Format::Parquet
    } else {
        Format::Json
    })
}

/// The data files of a path: the file itself, or every JSON/JSONL/Parquet file under a
/// directory (recursively, sorted, hidden entries skipped).
pub fn files(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let meta = std::fs::metadata(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    walk(path, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let p = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // metadata() follows symlinks: Hugging Face cache snapshots are links into blobs/.
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk(&p, out)?,
            Ok(_) if format_of(&p).is_some() => out.push(p),
            _ => {}
        }
    }
    Ok(())
}
