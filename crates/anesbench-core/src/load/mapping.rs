//! Explicit field mappings for MCQ sets in neither published schema (MedQA-, AMCQA-style).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::LoadError;
use super::raw::{value_text, Reader};
use super::schema::extras;
use crate::item::{letter, letter_index, Item, Lang, Level, MAX_OPTIONS, MIN_OPTIONS};

/// Field mapping for MCQ sets in neither published schema.
///
/// In a file (`--mapping FILE.toml` or `.json`):
/// ```toml
/// question = "question"
/// options = ["opa", "opb", "opc", "opd"]   # or one field holding a list / {"A": .., "B": ..}
/// answer = "cop"
/// answer_kind = "index1"                   # letter (default) | index0 | index1 | text
/// level = "difficulty"                     # or default_level = "1"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMapping {
    /// Id field; without one, ids are `<file stem>:<record index>`.
    #[serde(default)]
    pub id: Option<String>,
    pub question: String,
    /// Either a list of option fields (`["opa","opb",..]`) or one field holding a list or a
    /// letter-keyed object.
    pub options: Vec<String>,
    pub answer: String,
    /// `letter` (default) or `index0` / `index1`, or `text` (the answer is the option's text).
    #[serde(default)]
    pub answer_kind: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
    /// Field naming the record's language (`en` / `zh`); otherwise the file name or `--lang`.
    #[serde(default)]
    pub lang: Option<String>,
    /// Level for every record when the set has no level field (`1`, `2`, `3` or a name).
    #[serde(default)]
    pub default_level: Option<String>,
    /// Field holding the number of options, checked against the options present.
    #[serde(default)]
    pub choice_num: Option<String>,
    /// Field holding an explanation of the answer.
    #[serde(default)]
    pub rationale: Option<String>,
}

/// How the answer field is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    Letter,
    Index0,
    Index1,
    Text,
}

impl FieldMapping {
    /// Read a mapping from a `.toml` or `.json` file.
    pub fn from_file(path: &Path) -> Result<FieldMapping, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let m: FieldMapping = if is_json {
            serde_json::from_str(&text)
                .map_err(|e| LoadError::Mapping(format!("{}: {e}", path.display())))?
        } else {
            toml::from_str(&text)
                .map_err(|e| LoadError::Mapping(format!("{}: {e}", path.display())))?
        };
        m.check()?;
        Ok(m)
    }

    /// Check the mapping itself, before any record is read.
    pub fn check(&self) -> Result<(), LoadError> {
        let bad = |m: String| Err(LoadError::Mapping(m));
        if self.question.trim().is_empty() {
            return bad("`question` names no field".into());
        }
        if self.answer.trim().is_empty() {
            return bad("`answer` names no field".into());
        }
        if self.options.is_empty() || self.options.len() > MAX_OPTIONS {
            return bad(format!(
                "`options` must name one list field or 2 to {MAX_OPTIONS} option fields, got {}",
                self.options.len()
            ));
        }
        self.answer_kind()?;
        if let Some(l) = &self.default_level {
            l.parse::<Level>()
                .map_err(|e| LoadError::Mapping(format!("default_level: {e}")))?;
        } else if self.level.is_none() {
            return bad(
                "no `level` field and no `default_level`: say which level the items are".into(),
            );
        }
        Ok(())
    }

    pub fn answer_kind(&self) -> Result<AnswerKind, LoadError> {
        match self
            .answer_kind
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("letter") => Ok(AnswerKind::Letter),
            Some("index0") => Ok(AnswerKind::Index0),
            Some("index1") => Ok(AnswerKind::Index1),
            Some("text") => Ok(AnswerKind::Text),
            Some(other) => Err(LoadError::Mapping(format!(
                "answer_kind `{other}` (expected letter, index0, index1 or text)"
            ))),
        }
    }

    /// Convert one record. `lang` is the file's language (name or `--lang`), used when the
    /// mapping has no language field.
    pub fn apply(
        &self,
        r: &mut Reader<'_>,
        lang: Option<Lang>,
        stem: &str,
        source_file: Option<&str>,
    ) -> Option<Item> {
        let id = match &self.id {
            Some(f) => r.read_id(f),
            None => {
                let id = format!("{stem}:{}", r.rec.index);
                r.id = Some(id.clone());
                Some(id)
            }
        };
        let question = r.text(&self.question);
        let choice_num = self.choice_num.as_ref().and_then(|f| r.choice_num(f));
        let options = if self.options.len() == 1 {
            self.list_options(r, choice_num)
        } else {
            r.lettered_options(&self.options, choice_num)
        };
        let n = options.as_ref().map(Vec::len);
        let answer = self.answer(r, options.as_deref(), n);
        let level = match (&self.level, &self.default_level) {
            (Some(f), None) => r.level(f),
            (Some(f), Some(d)) if !r.present(f) => d.parse::<Level>().ok(),
            (Some(f), Some(_)) => r.level(f),
            (None, Some(d)) => d.parse::<Level>().ok(),
            (None, None) => None,
        };
        let lang = match &self.lang {
            Some(f) => r.text(f).and_then(|v| match v.parse::<Lang>() {
                Ok(l) => Some(l),
                Err(e) => {
                    r.problem(Some(f), e);
                    None
                }
            }),
            None => {
                if lang.is_none() {
                    r.problem(
                        None,
                        "language unknown: name the file *_en / *_zh or pass --lang en|zh",
                    );
                }
                lang
            }
        };
        let rationale = self.rationale.as_ref().and_then(|f| r.opt_text(f));
        let mut consumed: Vec<String> = self.options.clone();
        consumed.extend(
            [
                &self.id,
                &Some(self.question.clone()),
                &Some(self.answer.clone()),
                &self.level,
                &self.lang,
                &self.choice_num,
                &self.rationale,
            ]
            .into_iter()
            .flatten()
            .cloned(),
        );
        let extra = extras(r, &consumed, source_file);
        Some(Item {
            id: id?,
            lang: lang?,
            level: level?,
            question: question?,
            options: options?,
            answer: answer?,
            rationale,
            extra,
        })
    }

    fn list_options(&self, r: &mut Reader<'_>, choice_num: Option<usize>) -> Option<Vec<String>> {
        let field = &self.options[0];
        let texts: Vec<(String, Option<String>)> = match r.rec.fields.get(field).cloned() {
            None | Some(Value::Null) => {
                r.problem(Some(field), "missing field");
                return None;
            }
            Some(Value::Array(vs)) => vs
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{field}[{i}]"), value_text(v).ok().flatten()))
                .collect(),
            Some(Value::Object(map)) => {
                let mut keyed: Vec<(usize, String, &Value)> = Vec::new();
                for (k, v) in &map {
                    let idx = (k.chars().count() == 1)
                        .then(|| k.chars().next().and_then(letter_index))
                        .flatten();
                    match idx {
                        Some(i) => keyed.push((i, k.clone(), v)),
                        None => r.problem(
                            Some(&format!("{field}.{k}")),
                            "option key is not a letter A..I",
                        ),
                    }
                }
                keyed.sort_by_key(|(i, _, _)| *i);
                for (pos, (i, k, _)) in keyed.iter().enumerate() {
                    if *i != pos {
                        r.problem(
                            Some(&format!("{field}.{k}")),
                            format!("option letters skip {}", letter(pos)),
                        );
                        return None;
                    }
                }
                keyed
                    .into_iter()
                    .map(|(_, k, v)| (format!("{field}.{k}"), value_text(v).ok().flatten()))
                    .collect()
            }
            Some(_) => {
                r.problem(
                    Some(field),
                    "expected a list of options or an object keyed by letter",
                );
                return None;
            }
        };
        let mut ok = true;
        let mut out = Vec::new();
        for (name, t) in texts {
            match t {
                Some(t) => out.push(t),
                None => {
                    r.problem(Some(&name), "option is empty or not text");
                    ok = false;
                }
            }
        }
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&out.len()) {
            r.problem(
                Some(field),
                format!("{} options; expected 2 to 9", out.len()),
            );
            ok = false;
        }
        if let Some(c) = choice_num.filter(|&c| c != out.len()) {
            r.problem(
                Some(field),
                format!("{} options but choice_num is {c}", out.len()),
            );
            ok = false;
        }
        ok.then_some(out)
    }

    fn answer(
        &self,
        r: &mut Reader<'_>,
        options: Option<&[String]>,
        n: Option<usize>,
    ) -> Option<char> {
        let f = &self.answer;
        let kind = self.answer_kind().ok()?;
        if kind == AnswerKind::Letter {
            return r.answer_letter(f, n);
        }
        let text = r.text(f)?;
        let idx = match kind {
            AnswerKind::Text => match options {
                Some(opts) => opts.iter().position(|o| o == &text).or_else(|| {
                    r.problem(
                        Some(f),
                        format!("gold answer {text:?} matches no option text"),
                    );
                    None
                })?,
                None => return None,
            },
            _ => {
                let base = usize::from(kind == AnswerKind::Index1);
                match text.parse::<usize>().ok().and_then(|i| i.checked_sub(base)) {
                    Some(i) if i < MAX_OPTIONS => i,
                    _ => {
                        r.problem(
                            Some(f),
                            format!("gold answer {text:?} is not a valid option index ({kind:?})"),
                        );
                        return None;
                    }
                }
            }
        };
        r.check_in_range(f, letter(idx), n)
    }
}
