//! Which part of a response decided its answer. The extractor reports the letter and the
//! rule, not a position, so the span is found by running the same extractor
//! ([`anesbench_core::extract::extract_text`]) on pieces of the text: the shortest prefix
//! that already gives the recorded letter and rule ends the span, and the shortest
//! suffix of that prefix that still does starts it.

use anesbench_core::extract::extract_text;

/// Byte range of the deciding span in `text`, if one is found.
pub fn deciding_span(
    text: &str,
    options: &[String],
    answer: char,
    rule: &str,
) -> Option<(usize, usize)> {
    let same = |t: &str| {
        let x = extract_text(t, options);
        x.answer == Some(answer) && x.rule == rule
    };
    let full = char::from_u32(answer as u32 - 'A' as u32 + 'Ａ' as u32);
    let hits: Vec<usize> = text
        .char_indices()
        .filter(|&(_, c)| c == answer || c == answer.to_ascii_lowercase() || Some(c) == full)
        .map(|(i, _)| i)
        .take(200)
        .collect();
    for &p in &hits {
        let ends: Vec<usize> = text[p..]
            .char_indices()
            .skip(1)
            .take(6)
            .map(|(i, _)| p + i)
            .collect();
        let letter_end = p + text[p..].chars().next().map_or(1, char::len_utf8);
        let mut cands = vec![letter_end];
        cands.extend(ends.into_iter().filter(|&e| e > letter_end).take(6));
        for end in cands {
            if !same(&text[..end]) {
                continue;
            }
            // Shortest window ending at `end` that still decides the same way.
            let starts: Vec<usize> = text[..letter_end]
                .char_indices()
                .map(|(i, _)| i)
                .rev()
                .take(160)
                .collect();
            for s in starts {
                if same(&text[s..end]) {
                    return Some((s, end));
                }
            }
            return Some((0, end));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Vec<String> {
        ["Propofol", "Etomidate", "Ketamine", "Midazolam"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn finds_the_answer_statement() {
        let t = "Option A is wrong because of hypotension. Option B fits.\n\nAnswer: B\nDone.";
        let x = extract_text(t, &opts());
        let (s, e) = deciding_span(t, &opts(), x.answer.unwrap(), &x.rule).unwrap();
        assert!(
            t[s..e].contains("Answer: B") || t[s..e].ends_with('B'),
            "{:?}",
            &t[s..e]
        );
        assert!(e <= t.find("Done").unwrap(), "{x:?} {:?}", &t[s..e]);
    }

    #[test]
    fn chinese_answer() {
        let t = "分析：丙泊酚会导致低血压。\n答案：C";
        let x = extract_text(t, &opts());
        assert_eq!(x.answer, Some('C'));
        let (s, e) = deciding_span(t, &opts(), 'C', &x.rule).unwrap();
        assert!(t[s..e].contains('C'));
    }
}
