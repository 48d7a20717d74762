//! The benchmark item: one multiple-choice question in one language.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Option letters in order; AnesBench questions have 2 to 9 options (A..I).
pub const LETTERS: [char; 9] = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I'];
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 9;

/// Letter for a zero-based option index (`0 -> 'A'`), up to `Z` (other MCQ sets may have
/// more options than AnesBench's nine); indices past 25 give `Z`. The one place that
/// turns an index into a letter.
pub fn letter(index: usize) -> char {
    char::from(b'A' + index.min(25) as u8)
}

/// Zero-based index of an ASCII letter, either case (`'c' -> 2`, up to `Z`); `None` for
/// anything else. Case-insensitive patterns also match non-ASCII look-alikes (the Kelvin
/// sign U+212A for `k`, U+017F for `s`), so all letter arithmetic on user text goes
/// through here and never subtracts from a `char` itself.
pub fn ascii_letter_index(c: char) -> Option<usize> {
    c.is_ascii_alphabetic()
        .then(|| usize::from(c.to_ascii_uppercase() as u8 - b'A'))
}

/// Zero-based option index of an AnesBench option letter (`A`..`I`, either case).
pub fn letter_index(c: char) -> Option<usize> {
    ascii_letter_index(c).filter(|&i| i < LETTERS.len())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Lang::En),
            "zh" | "cn" | "chinese" => Ok(Lang::Zh),
            other => Err(format!(
                "unknown language `{other}` (expected en or zh; cn is read as zh)"
            )),
        }
    }
}

/// Cognitive level, with the published codes 1, 2, 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum Level {
    /// System 1: factual recall (code 1).
    S1,
    /// System 1.x: hybrid (code 2).
    S1x,
    /// System 2: complex clinical decisions (code 3).
    S2,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::S1, Level::S1x, Level::S2];
    pub fn code(self) -> u8 {
        match self {
            Level::S1 => 1,
            Level::S1x => 2,
            Level::S2 => 3,
        }
    }
    pub fn from_code(code: u8) -> Option<Level> {
        match code {
            1 => Some(Level::S1),
            2 => Some(Level::S1x),
            3 => Some(Level::S2),
            _ => None,
        }
    }
    /// Display name as the study writes it.
    pub fn name(self) -> &'static str {
        match self {
            Level::S1 => "System 1",
            Level::S1x => "System 1.x",
            Level::S2 => "System 2",
        }
    }
    /// Short key used in JSON maps and CSV columns.
    pub fn key(self) -> &'static str {
        match self {
            Level::S1 => "system1",
            Level::S1x => "system1x",
            Level::S2 => "system2",
        }
    }
}

impl From<Level> for u8 {
    fn from(l: Level) -> u8 {
        l.code()
    }
}

impl TryFrom<u8> for Level {
    type Error = String;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Level::from_code(v).ok_or_else(|| format!("unknown level {v} (expected 1, 2 or 3)"))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace([' ', '_', '-'], "");
        match t.as_str() {
            "1" | "s1" | "system1" => Ok(Level::S1),
            "2" | "1.x" | "s1x" | "s1.x" | "system1x" | "system1.x" => Ok(Level::S1x),
            "3" | "s2" | "system2" => Ok(Level::S2),
            _ => Err(format!(
                "unknown level `{s}` (expected 1, 2, 3 or System 1 / 1.x / 2)"
            )),
        }
    }
}

/// One multiple-choice question in one language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub lang: Lang,
    pub level: Level,
    pub question: String,
    /// Option texts in letter order (index 0 is `A`); 2 to 9 of them.
    pub options: Vec<String>,
    /// Gold answer letter, one of the option letters.
    pub answer: char,
    /// Short explanation of the answer, where the source has one (the demo set does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// Source fields not otherwise modelled, kept for reports (e.g. `source_file`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Item {
    /// Option letters of this item (`A`, `B`, ...).
    pub fn letters(&self) -> Vec<char> {
        (0..self.options.len()).map(letter).collect()
    }
    /// `(letter, text)` pairs.
    pub fn lettered_options(&self) -> impl Iterator<Item = (char, &str)> {
        self.options
            .iter()
            .enumerate()
            .map(|(i, o)| (letter(i), o.as_str()))
    }
    /// The key a run uses for this item: ids are unique within a language only.
    pub fn key(&self) -> String {
        format!("{}:{}", self.lang, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_codes_round_trip_and_reject_unknown() {
        for l in Level::ALL {
            assert_eq!(Level::from_code(l.code()), Some(l));
            assert_eq!(l.name().parse::<Level>().unwrap(), l);
        }
        assert!(Level::from_code(4).is_none());
        assert!("System 3".parse::<Level>().is_err());
        assert_eq!(serde_json::to_string(&Level::S1x).unwrap(), "2");
        assert!(serde_json::from_str::<Level>("0").is_err());
    }

    #[test]
    fn lang_accepts_cn_as_zh() {
        assert_eq!("cn".parse::<Lang>().unwrap(), Lang::Zh);
        assert!("fr".parse::<Lang>().is_err());
    }

    #[test]
    fn letters_map_both_ways() {
        assert_eq!(letter(2), 'C');
        assert_eq!(letter_index('c'), Some(2));
        assert_eq!(letter_index('J'), None);
    }
}
