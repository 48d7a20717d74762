//! Model size in billions of parameters: from the run header, a user mapping file, a
//! small table of names that carry no size, or parsed from the name itself.
//!
//! Mixture-of-experts models count their *total* parameters (`Qwen3-30B-A3B` is 30).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::{ReportError, Result};

/// Where a size came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeSource {
    /// `param_count_b` in the run's manifest (`--param-count` at eval time).
    Manifest,
    /// A `--sizes` mapping file.
    Mapping,
    /// [`KNOWN`], for names without a size in them.
    Known,
    /// Parsed from the name (`Qwen2.5-7B-Instruct`).
    Name,
}

/// Names that carry no (or a misleading) size. `None` = not published; such models are
/// drawn nowhere on a size axis and left out of fits.
pub const KNOWN: &[(&str, Option<f64>)] = &[
    ("gpt-4o", None),
    ("gpt-4o-mini", None),
    ("gpt-4", None),
    ("gpt-4-turbo", None),
    ("claude", None),
    ("gemini", None),
    ("finemedlm", None),
    ("finemedlm-o1", None),
    ("phi-4", Some(14.7)),
    ("deepseek-v3", Some(671.0)),
    ("deepseek-r1", Some(671.0)),
    // The name gives the active 17B; the total is 109B / 400B.
    ("llama-4-scout-17b-16e-instruct", Some(109.0)),
    ("llama-4-maverick-17b-128e-instruct", Some(400.0)),
];

/// Model families matched by prefix, all of unpublished size.
const UNKNOWN_PREFIXES: &[&str] = &["gpt-", "claude", "gemini", "o1-", "o3-", "o4-"];

/// Look a name up in [`KNOWN`]: `Some(None)` = known to be of unpublished size.
pub fn known_size(name: &str) -> Option<Option<f64>> {
    let base = base_name(name).to_ascii_lowercase();
    if let Some((_, s)) = KNOWN.iter().find(|(k, _)| *k == base) {
        return Some(*s);
    }
    UNKNOWN_PREFIXES
        .iter()
        .any(|p| base.starts_with(p))
        .then_some(None)
}

/// The name without an `org/` prefix or a `.gguf` suffix.
fn base_name(name: &str) -> &str {
    let n = name.rsplit('/').next().unwrap_or(name);
    n.strip_suffix(".gguf").unwrap_or(n)
}

/// Parse a size from a model name: the first token like `7B`, `1.5B`, `270m` or `8x7B`
/// between separators (`-`, `_`, `/`, `:`, `.` not inside a number).
pub fn parse_size_from_name(name: &str) -> Option<f64> {
    base_name(name)
        .split(['-', '_', '/', ':', ' '])
        .find_map(parse_size_token)
}

/// `7B` -> 7, `270m` -> 0.27, `8x7B` -> 56, `1.5b` -> 1.5; anything else -> None.
pub fn parse_size_token(tok: &str) -> Option<f64> {
    let (num, unit) = tok.split_at(tok.len().checked_sub(1)?);
    let scale = match unit {
        "B" | "b" => 1.0,
        "M" | "m" => 1e-3,
        "T" | "t" => 1e3,
        _ => return None,
    };
    let value = match num.split_once(['x', 'X']) {
        Some((experts, each)) => experts.parse::<u32>().ok().map(f64::from)? * parse_number(each)?,
        None => parse_number(num)?,
    };
    (value > 0.0).then_some(value * scale)
}

fn parse_number(s: &str) -> Option<f64> {
    let ok = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || c == '.')
        && s.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

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

fn parse_size_value(s: &str) -> Option<f64> {
    s.parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0)
        .or_else(|| parse_size_token(s))
}

/// Resolve a model's size: manifest, then the mapping file, then [`KNOWN`], then the name.
pub fn resolve_size(
    model: &str,
    manifest: Option<f64>,
    map: Option<&SizeMap>,
) -> (Option<f64>, Option<SizeSource>) {
    if let Some(b) = manifest.filter(|b| *b > 0.0) {
        return (Some(b), Some(SizeSource::Manifest));
    }
    if let Some(b) = map.and_then(|m| m.get(model)) {
        return (Some(b), Some(SizeSource::Mapping));
    }
    if let Some(k) = known_size(model) {
        return (k, k.map(|_| SizeSource::Known));
    }
    match parse_size_from_name(model) {
        Some(b) => (Some(b), Some(SizeSource::Name)),
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_from_names() {
        let cases: &[(&str, Option<f64>)] = &[
            ("Qwen2.5-7B-Instruct", Some(7.0)),
            ("gemma-3-270m", Some(0.27)),
            ("gemma-3-270m-it-Q4_K_M.gguf", Some(0.27)),
            ("Qwen3-30B-A3B", Some(30.0)),
            ("Qwen3-235B-A22B", Some(235.0)),
            ("DeepSeek-R1-Distill-Qwen-1.5B", Some(1.5)),
            ("Llama-3.3-70B", Some(70.0)),
            ("Yi-1.5-34B-Chat", Some(34.0)),
            ("chatglm3-6b", Some(6.0)),
            ("Qwen/Qwen2.5-72B-Instruct", Some(72.0)),
            ("Mixtral-8x7B-Instruct", Some(56.0)),
            ("Llama3-OpenBioLLM-8B", Some(8.0)),
            ("phi-4", None),
            ("gpt-4o", None),
            ("FineMedLM-o1", None),
            ("Q4_K_M", None),
            ("", None),
        ];
        for (name, want) in cases {
            let got = parse_size_from_name(name);
            match (got, want) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{name}: {g} != {w}"),
                (g, w) => assert_eq!(g, *w, "{name}"),
            }
        }
    }

    #[test]
    fn resolution_order_and_known_table() {
        assert_eq!(
            resolve_size("Qwen2.5-7B", Some(7.6), None),
            (Some(7.6), Some(SizeSource::Manifest))
        );
        assert_eq!(
            resolve_size("Llama-4-Scout-17B-16E-Instruct", None, None),
            (Some(109.0), Some(SizeSource::Known))
        );
        assert_eq!(resolve_size("gpt-4o", None, None), (None, None));
        assert_eq!(resolve_size("claude-3-5-sonnet", None, None), (None, None));
        let map = SizeMap([("gpt-4o".to_string(), 200.0)].into());
        assert_eq!(
            resolve_size("gpt-4o", None, Some(&map)),
            (Some(200.0), Some(SizeSource::Mapping))
        );
        assert_eq!(
            resolve_size("gemma-3-1b-it", None, None),
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
