//! Model size in billions of parameters: the one parser of sizes in model names, the table
//! of names that carry no (or a misleading) size, and the order in which sources win.
//!
//! Mixture-of-experts models count their *total* parameters (`Qwen3-30B-A3B` is 30,
//! `Mixtral-8x7B` is 56). Context-length suffixes (`-1M`, `-128k`) are not sizes.

use serde::{Deserialize, Serialize};

/// Where a size came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeSource {
    /// Given explicitly: `--param-count` at eval time.
    Flag,
    /// A `--sizes` mapping file given to a report.
    Mapping,
    /// [`KNOWN`], for names without a (correct) size in them.
    Known,
    /// Parsed from the name (`Qwen2.5-7B-Instruct`).
    Name,
    /// A manifest written before sources were recorded: origin unknown, so it ranks
    /// below every other source.
    Manifest,
}

impl SizeSource {
    pub fn name(self) -> &'static str {
        match self {
            SizeSource::Flag => "flag",
            SizeSource::Mapping => "mapping",
            SizeSource::Known => "known",
            SizeSource::Name => "name",
            SizeSource::Manifest => "manifest",
        }
    }
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
pub fn base_name(name: &str) -> &str {
    let n = name.rsplit('/').next().unwrap_or(name);
    n.strip_suffix(".gguf").unwrap_or(n)
}

/// Parse a size from a model name. Tokens are split at `-`, `_`, `/`, `:` and spaces.
/// The first billions token (`7B`, `1.5B`, `8x7B`) wins; only when there is none does a
/// millions token count (`270m`, `135M`), and then not one under 10M, which is a context
/// length (`Qwen2.5-7B-Instruct-1M`, `Foo-1M`), not a parameter count.
pub fn parse_size_from_name(name: &str) -> Option<f64> {
    let tokens: Vec<&str> = base_name(name)
        .split(['-', '_', '/', ':', ' '])
        .filter(|t| !t.is_empty())
        .collect();
    let billions = tokens.iter().find_map(|t| {
        let (v, unit) = parse_size_token_unit(t)?;
        matches!(unit, 'b' | 't').then_some(v)
    });
    billions.or_else(|| {
        tokens.iter().find_map(|t| {
            let (v, unit) = parse_size_token_unit(t)?;
            (unit == 'm' && v >= 0.01).then_some(v)
        })
    })
}

/// `7B` -> 7, `270m` -> 0.27, `8x7B` -> 56, `1.5b` -> 1.5; anything else -> None.
pub fn parse_size_token(tok: &str) -> Option<f64> {
    parse_size_token_unit(tok).map(|(v, _)| v)
}

/// A size token in billions with its unit letter (lowercase `b`, `m` or `t`).
fn parse_size_token_unit(tok: &str) -> Option<(f64, char)> {
    let unit = tok.chars().last()?;
    let num = &tok[..tok.len() - unit.len_utf8()];
    let (scale, unit) = match unit {
        'B' | 'b' => (1.0, 'b'),
        'M' | 'm' => (1e-3, 'm'),
        'T' | 't' => (1e3, 't'),
        _ => return None,
    };
    let value = match num.split_once(['x', 'X']) {
        Some((experts, each)) => experts.parse::<u32>().ok().map(f64::from)? * parse_number(each)?,
        None => parse_number(num)?,
    };
    (value > 0.0).then_some((value * scale, unit))
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

/// A size value as a user writes it: `7`, `0.27`, `270M`, `1.5B`.
pub fn parse_size_value(s: &str) -> Option<f64> {
    s.parse::<f64>()
        .ok()
        .filter(|v| *v > 0.0 && v.is_finite())
        .or_else(|| parse_size_token(s))
}

/// Resolve a model's size. `recorded` is what a manifest holds with its source; an
/// explicit `--param-count` (source `flag`) wins over everything, then a `--sizes` mapping,
/// then [`KNOWN`], then the name; a recorded guess never beats a fresh resolution.
pub fn resolve_size(
    model: &str,
    recorded: Option<(f64, SizeSource)>,
    mapping: Option<f64>,
) -> (Option<f64>, Option<SizeSource>) {
    let recorded = recorded.filter(|(b, _)| *b > 0.0 && b.is_finite());
    if let Some((b, SizeSource::Flag)) = recorded {
        return (Some(b), Some(SizeSource::Flag));
    }
    if let Some(b) = mapping.filter(|b| *b > 0.0) {
        return (Some(b), Some(SizeSource::Mapping));
    }
    if let Some(k) = known_size(model) {
        return (k, k.map(|_| SizeSource::Known));
    }
    if let Some(b) = parse_size_from_name(model) {
        return (Some(b), Some(SizeSource::Name));
    }
    // A recorded mapping/known/name size for a name that no longer parses (a renamed
    // model), or an old manifest's value of unknown origin.
    match recorded {
        Some((b, src)) => (Some(b), Some(src)),
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approx(got: Option<f64>, want: Option<f64>, name: &str) {
        match (got, want) {
            (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{name}: {g} != {w}"),
            (g, w) => assert_eq!(g, w, "{name}"),
        }
    }

    #[test]
    fn parses_sizes_from_names() {
        let cases: &[(&str, Option<f64>)] = &[
            ("Qwen2.5-7B-Instruct", Some(7.0)),
            ("gemma-3-270m", Some(0.27)),
            ("gemma-3-270m-it-Q4_K_M.gguf", Some(0.27)),
            ("gemma-3-270m-q4_k_m", Some(0.27)),
            ("SmolLM2-135M-Instruct.Q4_1.gguf", Some(0.135)),
            ("Qwen3-30B-A3B", Some(30.0)),
            ("Qwen3-235B-A22B", Some(235.0)),
            ("DeepSeek-R1-Distill-Qwen-1.5B", Some(1.5)),
            ("Llama-3.3-70B", Some(70.0)),
            ("Yi-1.5-34B-Chat", Some(34.0)),
            ("chatglm3-6b", Some(6.0)),
            ("Qwen/Qwen2.5-72B-Instruct", Some(72.0)),
            ("Mixtral-8x7B-Instruct", Some(56.0)),
            ("Mixtral-8x22B", Some(176.0)),
            ("Llama3-OpenBioLLM-8B", Some(8.0)),
            ("phi-4", None),
            ("gpt-4o", None),
            ("FineMedLM-o1", None),
            ("Q4_K_M", None),
            ("", None),
        ];
        for (name, want) in cases {
            approx(parse_size_from_name(name), *want, name);
        }
    }

    #[test]
    fn context_length_suffixes_are_not_sizes() {
        approx(
            parse_size_from_name("Qwen2.5-7B-Instruct-1M"),
            Some(7.0),
            "1M",
        );
        approx(
            parse_size_from_name("Qwen2.5-14B-Instruct-1M"),
            Some(14.0),
            "14B-1M",
        );
        approx(
            parse_size_from_name("Llama-3-8B-Instruct-Gradient-1048k"),
            Some(8.0),
            "1048k",
        );
        approx(parse_size_from_name("Foo-Instruct-1M"), None, "bare 1M");
        approx(
            parse_size_from_name("Yarn-Mistral-7b-128k"),
            Some(7.0),
            "128k",
        );
    }

    #[test]
    fn an_explicit_flag_beats_a_guess_and_a_recorded_guess_never_wins() {
        assert_eq!(
            resolve_size("Qwen2.5-7B", Some((7.6, SizeSource::Flag)), Some(3.0)),
            (Some(7.6), Some(SizeSource::Flag))
        );
        // What a wrong parser once wrote into a manifest is re-resolved from the name.
        assert_eq!(
            resolve_size(
                "Qwen2.5-7B-Instruct-1M",
                Some((0.001, SizeSource::Name)),
                None
            ),
            (Some(7.0), Some(SizeSource::Name))
        );
        assert_eq!(
            resolve_size("Mixtral-8x7B", Some((7.0, SizeSource::Manifest)), None),
            (Some(56.0), Some(SizeSource::Name))
        );
        assert_eq!(
            resolve_size("Llama-4-Scout-17B-16E-Instruct", None, None),
            (Some(109.0), Some(SizeSource::Known))
        );
        assert_eq!(resolve_size("gpt-4o", None, None), (None, None));
        assert_eq!(
            resolve_size("gpt-4o", None, Some(200.0)),
            (Some(200.0), Some(SizeSource::Mapping))
        );
        assert_eq!(
            resolve_size("my-model", Some((3.0, SizeSource::Manifest)), None),
            (Some(3.0), Some(SizeSource::Manifest))
        );
    }
}
