//! Model sizes for reports: the parser, the known table and the resolution order live in
//! [`anesbench_core::size`] (one parser for the runner and the reports); this module adds
//! the user's `--sizes` mapping file.

use std::collections::BTreeMap;
use std::path::Path;

pub use anesbench_core::size::{
    base_name, known_size, parse_size_from_name, parse_size_token, parse_size_value, SizeSource,
    KNOWN,
};

use crate::error::{ReportError, Result};

/// A user's `--sizes` file: model -> billions.
#[derive(Debug, Clone, Default)]
pub struct SizeMap(pub BTreeMap<String, f64>);

impl SizeMap {
    /// Read a JSON object (`{"model": 7, "other": "270M"}`) or TSV lines `model<TAB>size`
    /// (`#` comments, blank lines allowed; the size may carry a B/M unit).
    pub fn load(path: &Path) -> Result<SizeMap> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
        if text.trim_start().starts_with('{') {
            let v: BTreeMap<String, serde_json::Value> =
                serde_json::from_str(&text).map_err(|e| ReportError::SizeMap {
                    path: path.into(),
                    line: e.line(),
                    message: format!("{e} (hint: expected {{\"model\": billions, ...}})"),
                })?;
            let mut m = BTreeMap::new();
            for (k, v) in v {
                let b = match &v {
                    serde_json::Value::Number(n) => n.as_f64(),
                    serde_json::Value::String(s) => parse_size_value(s),
                    _ => None,
                };
                let b = b.ok_or_else(|| ReportError::SizeMap {
                    path: path.into(),
                    line: 0,
                    message: format!("model `{k}`: size {v} is not a number of billions (e.g. 7, 0.27, \"270M\")"),
                })?;
                m.insert(k, b);
            }
            return Ok(SizeMap(m));
        }
        let mut m = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let bad = |message: String| ReportError::SizeMap {
                path: path.into(),
                line: i + 1,
                message,
            };
            let (k, v) = l
                .rsplit_once('\t')
                .ok_or_else(|| bad("expected `model<TAB>billions`".into()))?;
            let b = parse_size_value(v.trim()).ok_or_else(|| {
                bad(format!(
                    "size `{}` is not a number of billions (e.g. 7, 0.27, 270M)",
                    v.trim()
                ))
            })?;
            m.insert(k.trim().to_string(), b);
        }
        Ok(SizeMap(m))
    }

    pub fn get(&self, model: &str) -> Option<f64> {
        self.0
            .get(model)
            .or_else(|| self.0.get(base_name(model)))
            .copied()
    }
}

/// Resolve a model's size for a report: an explicit `--param-count` recorded in the
/// manifest, then the mapping file, then the known table, then the name.
pub fn resolve_size(
    model: &str,
    recorded: Option<(f64, SizeSource)>,
    map: Option<&SizeMap>,
) -> (Option<f64>, Option<SizeSource>) {
    anesbench_core::size::resolve_size(model, recorded, map.and_then(|m| m.get(model)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_file_beats_known_and_name() {
        let map = SizeMap([("gpt-4o".to_string(), 200.0)].into());
        assert_eq!(
            resolve_size("gpt-4o", None, Some(&map)),
            (Some(200.0), Some(SizeSource::Mapping))
        );
        assert_eq!(
            resolve_size("gemma-3-1b-it", None, Some(&map)),
            (Some(1.0), Some(SizeSource::Name))
        );
    }

    #[test]
    fn loads_tsv_and_json_maps() {
        let d = tempfile::tempdir().unwrap();
        let tsv = d.path().join("s.tsv");
        std::fs::write(&tsv, "# sizes\nmy-model\t7\nsmall one\t270M\n").unwrap();
        let m = SizeMap::load(&tsv).unwrap();
        assert_eq!(m.get("my-model"), Some(7.0));
        assert!((m.get("small one").unwrap() - 0.27).abs() < 1e-12);
        let js = d.path().join("s.json");
        std::fs::write(&js, r#"{"a": 1.5, "b": "3B"}"#).unwrap();
        let m = SizeMap::load(&js).unwrap();
        assert_eq!(m.get("b"), Some(3.0));
        std::fs::write(&tsv, "x\tseven\n").unwrap();
        let e = SizeMap::load(&tsv).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("seven"), "{e}");
    }
}
