//! Text derived from a response by the extractor's rewrites (think blocks removed,
//! full-width forms folded, markdown stripped, option numbers turned into letters), with,
//! for every byte, the byte range of the response it came from. Only [`super::locate`]
//! builds these: the decision itself runs on plain strings, and the mapped copy is checked
//! to spell exactly the same text before any position is mapped back.

use regex::{Captures, Regex};

#[derive(Debug, Clone, Default)]
pub struct Mapped {
    pub text: String,
    /// Per byte of `text`: the source range it stands for.
    src: Vec<(usize, usize)>,
}

impl Mapped {
    pub fn identity(s: &str) -> Mapped {
        let mut m = Mapped::default();
        m.push_src(s, 0);
        m
    }

    /// Append `s`, which sits at byte `at` of the source, byte for byte.
    pub fn push_src(&mut self, s: &str, at: usize) {
        for (i, c) in s.char_indices() {
            let r = (at + i, at + i + c.len_utf8());
            self.push_char(c, r);
        }
    }

    /// Append a replacement text standing for the source range `r`.
    fn push_for(&mut self, s: &str, r: (usize, usize)) {
        for c in s.chars() {
            self.push_char(c, r);
        }
    }

    fn push_char(&mut self, c: char, r: (usize, usize)) {
        let mut b = [0u8; 4];
        let s = c.encode_utf8(&mut b);
        self.text.push_str(s);
        self.src.extend(std::iter::repeat_n(r, s.len()));
    }

    /// Append `self[a..b]` of another mapped text.
    fn push_from(&mut self, m: &Mapped, a: usize, b: usize) {
        self.text.push_str(&m.text[a..b]);
        self.src.extend_from_slice(&m.src[a..b]);
    }

    /// Source range of everything `text` was derived from in `self` (a sub-slice).
    fn range_of(&self, a: usize, b: usize) -> (usize, usize) {
        if a >= b || b > self.src.len() {
            let at = self.src.get(a).map_or(0, |r| r.0);
            return (at, at);
        }
        (self.src[a].0, self.src[b - 1].1)
    }

    /// The source byte range of `self.text[a..b]`.
    pub fn source(&self, a: usize, b: usize) -> Option<(usize, usize)> {
        (a < b && b <= self.text.len()).then(|| self.range_of(a, b))
    }

    /// Sub-slice `a..b` (as `&text[a..b]`).
    pub fn slice(&self, a: usize, b: usize) -> Mapped {
        let mut m = Mapped::default();
        m.push_from(self, a, b);
        m
    }

    /// As `str::trim`.
    pub fn trim(&self) -> Mapped {
        let t = self.text.trim_start();
        let a = self.text.len() - t.len();
        let b = a + t.trim_end().len();
        self.slice(a, b)
    }

    /// Every character through `f` (one character for one).
    pub fn map_chars(&self, f: impl Fn(char) -> char) -> Mapped {
        let mut m = Mapped::default();
        for (i, c) in self.text.char_indices() {
            m.push_char(f(c), self.range_of(i, i + c.len_utf8()));
        }
        m
    }

    /// As `Regex::replace_all`, where `keep` writes the replacement of each match: parts
    /// of the match (`Part::Group`) keep their positions, new text (`Part::Text`) stands
    /// for the part of the match it replaces.
    pub fn replace_regex(&self, re: &Regex, keep: impl Fn(&Captures) -> Vec<Part>) -> Mapped {
        let mut m = Mapped::default();
        let mut last = 0;
        for caps in re.captures_iter(&self.text) {
            let all = caps.get(0).expect("group 0 always matches");
            m.push_from(self, last, all.start());
            for p in keep(&caps) {
                match p {
                    Part::Group(a, b) => m.push_from(self, a, b),
                    Part::Text(s, a, b) => m.push_for(s, self.range_of(a, b)),
                }
            }
            last = all.end();
        }
        m.push_from(self, last, self.text.len());
        m
    }

    /// As `str::replace(pat, with)`.
    pub fn replace_str(&self, pat: &str, with: &str) -> Mapped {
        let mut m = Mapped::default();
        let mut last = 0;
        for (i, _) in self.text.match_indices(pat) {
            m.push_from(self, last, i);
            m.push_for(with, self.range_of(i, i + pat.len()));
            last = i + pat.len();
        }
        m.push_from(self, last, self.text.len());
        m
    }

    /// Replace the byte ranges `edits` (sorted, disjoint) by one character each.
    pub fn edit(&self, edits: &[(usize, usize, char)]) -> Mapped {
        let mut m = Mapped::default();
        let mut last = 0;
        for &(a, b, c) in edits {
            m.push_from(self, last, a);
            m.push_char(c, self.range_of(a, b));
            last = b;
        }
        m.push_from(self, last, self.text.len());
        m
    }
}

/// A piece of a regex replacement (see [`Mapped::replace_regex`]).
pub enum Part {
    /// Bytes `a..b` of the text being rewritten, kept.
    Group(usize, usize),
    /// New text standing for bytes `a..b`.
    Text(&'static str, usize, usize),
}

/// Byte range of `inner` (a sub-slice) within `outer`.
pub fn sub_range(outer: &str, inner: &str) -> (usize, usize) {
    let a = (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize);
    let a = a.min(outer.len());
    (a, (a + inner.len()).min(outer.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_keep_the_source_of_every_byte() {
        let src = "x **Ｃ** y";
        let m = Mapped::identity(src)
            .map_chars(|c| if c == 'Ｃ' { 'C' } else { c })
            .replace_str("**", "");
        assert_eq!(m.text, "x C y");
        let (a, b) = m.source(2, 3).unwrap();
        assert_eq!(&src[a..b], "Ｃ");
        let (a, b) = m.source(0, m.text.len()).unwrap();
        assert_eq!(&src[a..b], src);
        let re = Regex::new(r"<(\w)>").unwrap();
        let m = Mapped::identity("a<b>c").replace_regex(&re, |c| {
            let g = c.get(1).unwrap();
            vec![
                Part::Group(g.start(), g.end()),
                Part::Text("!", g.end(), g.end() + 1),
            ]
        });
        assert_eq!(m.text, "ab!c");
        assert_eq!(m.source(2, 3), Some((3, 4)));
    }
}
