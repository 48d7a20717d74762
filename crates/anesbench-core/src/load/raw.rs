//! A record as read from a file, before any schema is applied, and typed access to its
//! fields that turns every missing, empty or ill-typed field into a [`Problem`].

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::error::Problem;
use crate::item::{letter_index, Level, MAX_OPTIONS};

/// One JSON object (or Parquet row turned into one) from a file.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// 0-based position in the file.
    pub index: usize,
    /// 1-based line (JSONL).
    pub line: Option<usize>,
    pub fields: Map<String, Value>,
}

/// A record being converted: field readers push problems that name this record.
pub struct Reader<'a> {
    pub rec: &'a RawRecord,
    pub file: Option<PathBuf>,
    pub id: Option<String>,
    pub problems: Vec<Problem>,
}

impl<'a> Reader<'a> {
    pub fn new(rec: &'a RawRecord, file: Option<PathBuf>) -> Self {
        Reader {
            rec,
            file,
            id: None,
            problems: Vec::new(),
        }
    }

    pub fn problem(&mut self, field: Option<&str>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line: self.rec.line,
            index: Some(self.rec.index),
            id: self.id.clone(),
            field: field.map(str::to_string),
            message: message.into(),
        });
    }

    /// Whether a field holds something (not absent, null or blank text).
    pub fn present(&self, field: &str) -> bool {
        match self.rec.fields.get(field) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        }
    }

    /// Text of a field, or `None` when absent/null/blank (no problem recorded).
    pub fn opt_text(&mut self, field: &str) -> Option<String> {
        let v = self.rec.fields.get(field)?;
        match value_text(v) {
            Ok(Some(s)) => Some(s),
            Ok(None) => None,
            Err(kind) => {
                self.problem(Some(field), format!("expected text, found {kind}"));
                None
            }
        }
    }

    /// Text of a required field; records "missing" or "empty" problems.
    pub fn text(&mut self, field: &str) -> Option<String> {
        match self.rec.fields.get(field) {
            None => {
                self.problem(Some(field), "missing field");
                None
            }
            Some(Value::Null) => {
                self.problem(Some(field), "field is null");
                None
            }
            Some(v) => match value_text(v) {
                Ok(Some(s)) => Some(s),
                Ok(None) => {
                    self.problem(Some(field), "field is empty");
                    None
                }
                Err(kind) => {
                    self.problem(Some(field), format!("expected text, found {kind}"));
                    None
                }
            },
        }
    }

    /// The record id: required, text or number.
    pub fn read_id(&mut self, field: &str) -> Option<String> {
        let id = self.text(field)?;
        self.id = Some(id.clone());
        Some(id)
    }

    /// `choice_num`: a whole number 2..=9 (a numeric string is accepted).
    pub fn choice_num(&mut self, field: &str) -> Option<usize> {
        let v = self.rec.fields.get(field).cloned();
        let n = match v {
            None => {
                self.problem(Some(field), "missing field");
                return None;
            }
            Some(Value::Number(n)) => whole(&n),
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if (2..=MAX_OPTIONS as u64).contains(&n) => Some(n as usize),
            _ => {
                let shown = self
                    .rec
                    .fields
                    .get(field)
                    .map(Value::to_string)
                    .unwrap_or_default();
                self.problem(
                    Some(field),
                    format!("choice_num {shown} is not a whole number from 2 to 9"),
                );
                None
            }
        }
    }

    /// A level: 1/2/3 as number or text, or the names `System 1`, `System 1.x`, `System 2`.
    pub fn level(&mut self, field: &str) -> Option<Level> {
        let v = self.rec.fields.get(field).cloned();
        let parsed = match &v {
            None | Some(Value::Null) => {
                self.problem(Some(field), "missing field");
                return None;
            }
            Some(Value::Number(n)) => whole(n)
                .and_then(|c| u8::try_from(c).ok())
                .and_then(Level::from_code),
            Some(Value::String(s)) => s.parse::<Level>().ok(),
            Some(_) => None,
        };
        if parsed.is_none() {
            let shown = v.map(|v| v.to_string()).unwrap_or_default();
            self.problem(
                Some(field),
                format!("unknown level {shown} (expected 1, 2 or 3: System 1, 1.x, 2)"),
            );
        }
        parsed
    }

    /// Options stored one per field (`A`, `B`, .. or `en_A`, ..), checked against
    /// `choice_num`: the first `n` fields must be filled and none after them.
    pub fn lettered_options(
        &mut self,
        names: &[String],
        choice_num: Option<usize>,
    ) -> Option<Vec<String>> {
        let present: Vec<bool> = names.iter().map(|f| self.present(f)).collect();
        let n = match choice_num {
            Some(n) => n,
            // Without a usable choice_num, still check the options for gaps.
            None => present.iter().rposition(|&p| p).map_or(0, |i| i + 1),
        };
        let mut ok = true;
        let mut options = Vec::with_capacity(n);
        for (i, name) in names.iter().enumerate() {
            if i < n {
                if present[i] {
                    match self.opt_text(name) {
                        Some(t) => options.push(t),
                        None => ok = false,
                    }
                } else {
                    let why = if self.rec.fields.contains_key(name) {
                        "empty"
                    } else {
                        "missing"
                    };
                    let because = match choice_num {
                        Some(c) => format!("choice_num is {c}"),
                        None => format!("a later option `{}` is present", names[n - 1]),
                    };
                    self.problem(Some(name), format!("option {why} but {because}"));
                    ok = false;
                }
            } else if present[i] {
                self.problem(
                    Some(name),
                    format!("option present but choice_num is {n}: choice_num disagrees with the options"),
                );
                ok = false;
            }
        }
        if choice_num.is_none() && n < 2 {
            ok = false;
        }
        ok.then_some(options)
    }

    /// Gold answer letter, which must name one of `n` options (`n` unknown: letter only).
    pub fn answer_letter(&mut self, field: &str, n: Option<usize>) -> Option<char> {
        let text = self.text(field)?;
        let t = text.trim_matches(|c: char| c == '(' || c == ')' || c == '.' || c.is_whitespace());
        let mut chars = t.chars();
        let letter = match (chars.next(), chars.next()) {
            (Some(c), None) => letter_index(c).map(|_| c.to_ascii_uppercase()),
            _ => None,
        };
        let Some(letter) = letter else {
            self.problem(
                Some(field),
                format!("gold answer {text:?} is not an option letter A..I"),
            );
            return None;
        };
        self.check_in_range(field, letter, n)
    }

    /// Check that a gold letter is among the first `n` options.
    pub fn check_in_range(&mut self, field: &str, letter: char, n: Option<usize>) -> Option<char> {
        match n {
            Some(n) if letter_index(letter).is_some_and(|i| i >= n) => {
                self.problem(
                    Some(field),
                    format!(
                        "gold answer {letter} is outside the options A..{}",
                        crate::item::letter(n - 1)
                    ),
                );
                None
            }
            _ => Some(letter),
        }
    }
}

/// A whole number, also when written as a float (`2.0`): pandas turns integer columns with
/// gaps into floats before writing Parquet.
fn whole(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e9)
            .map(|f| f as u64)
    })
}

/// Text of a JSON value: strings trimmed, numbers and booleans written out. `Ok(None)` for
/// null or blank; `Err` with the kind for arrays and objects.
pub fn value_text(v: &Value) -> Result<Option<String>, &'static str> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let t = s.trim();
            Ok((!t.is_empty()).then(|| t.to_string()))
        }
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Array(_) => Err("a list"),
        Value::Object(_) => Err("an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader_on(v: Value) -> RawRecord {
        RawRecord {
            index: 0,
            line: None,
            fields: v.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn float_written_whole_numbers_are_accepted_but_fractions_are_not() {
        let rec = reader_on(serde_json::json!({"n": 4.0, "l": 2.0, "bad": 2.5}));
        let mut r = Reader::new(&rec, None);
        assert_eq!(r.choice_num("n"), Some(4));
        assert_eq!(r.level("l"), Some(Level::S1x));
        assert_eq!(r.level("bad"), None);
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].field.as_deref(), Some("bad"));
    }
}
