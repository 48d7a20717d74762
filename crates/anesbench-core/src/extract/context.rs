//! The words around a match: negation and hedging before it, rejection or a question mark
//! after it, and conclusion markers that make a statement the response's conclusion.

use std::sync::LazyLock;

use regex::Regex;

const CLAUSE_ENDS: &[char] = &['.', '!', '?', '。', '！', '？', '\n', ',', ';', '，', '；'];
const SENTENCE_ENDS: &[char] = &['.', '!', '?', '。', '！', '？', '\n'];

static NEGATED_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:not|never|cannot|can't|isn't|wasn't|aren't|doesn't|don't|won't|wouldn't|shouldn't|if|whether|unless|thought|assume|assuming|suppose|supposing|might|may|initially|mistakenly|incorrectly|wrongly|rather\s+than|instead\s+of|except|why|rule\s+out|ruling\s+out|eliminate|eliminating|excluding|tempting|tempted)(?-u:\b)|如果|假如|假设|若|是否|以为|排除|而非|而不是|并非|不是|不应|不能|为什么|除了|误选",
    )
    .expect("valid regex")
});

/// An instruction right before the phrase: "Please answer: C", "Read the question and
/// answer: A. ...", "请给出答案：C". Base models echo the prompt's own instructions, and
/// what follows them is the option list, not a choice. Only right before: "Please note:
/// the answer is C" still answers.
static INSTRUCTION_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:(?-u:\b)(?:please|kindly)|(?-u:\b)(?:question|questions|carefully)\s+and)\s*$|请\s*(?:给出|写出|选出|直接)?\s*(?:你的|正确的?)?\s*$",
    )
    .expect("valid regex")
});

static FORCED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)if\s+(?:forced|pressed|i\s+had\s+to|i\s+must|i\s+have\s+to)(?-u:\b)")
        .expect("valid regex")
});

static REJECTED_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^[\s)\]】]*(?:(?:is|are|seems|would\s+be|was)\s+(?:not|incorrect|wrong|false|unlikely|ruled\s+out|excluded|a\s+distractor)(?-u:\b)|isn't|(?:only\s+)?(?:if|when|unless)(?-u:\b)|不|错|是错|是不|并不|不对)",
    )
    .expect("valid regex")
});

static CONCLUSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:therefore|thus|hence|so|in\s+conclusion|in\s+summary|to\s+summari[sz]e|to\s+conclude|overall|consequently|accordingly|finally|ultimately|final|wait|actually|on\s+second\s+thought|correction|upon\s+reflection|re-?evaluat\w*|re-?consider\w*)(?-u:\b)|故|因此|所以|综上|总之|因而|最终|由此可见|综合|总结|结论|更正|实际上|重新",
    )
    .expect("valid regex")
});

static CORRECTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?-u:\b)(?:wait|actually|on\s+second\s+thought|correction|re-?consider\w*|re-?evaluat\w*|(?:up)?on\s+(?:further\s+)?reflection|i\s+was\s+wrong|i\s+made\s+a\s+mistake|my\s+mistake|scratch\s+that|no,\s+it'?s)(?-u:\b)|更正|纠正|重新考虑|重新分析|重新审视|实际上",
    )
    .expect("valid regex")
});

static HEADING_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)conclusion|final|summary|answer|结论|总结|答案").expect("valid regex")
});

fn start_of(text: &str, pos: usize, ends: &[char]) -> usize {
    text[..pos].rfind(ends).map_or(0, |i| {
        i + text[i..].chars().next().map_or(1, char::len_utf8)
    })
}

/// The clause that holds `pos`, up to `pos`.
pub fn clause_before(text: &str, pos: usize) -> &str {
    &text[start_of(text, pos, CLAUSE_ENDS)..pos]
}

/// Negation or hedging right before a match: "not", "if", "whether", "不选", "排除".
pub fn negated_before(text: &str, pos: usize) -> bool {
    // "if forced, I'd say C" hedges but still answers.
    let clause = FORCED.replace_all(clause_before(text, pos), "");
    if NEGATED_BEFORE.is_match(&clause) || INSTRUCTION_BEFORE.is_match(&clause) {
        return true;
    }
    text[..pos]
        .trim_end()
        .chars()
        .next_back()
        .is_some_and(|c| matches!(c, '不' | '非' | '未' | '没' | '别' | '勿'))
}

/// The named letter is rejected or questioned right after it: "A is incorrect", "A是错误的",
/// "the answer is A?", "答案是A吗".
pub fn rejected_after(text: &str, end: usize) -> bool {
    if REJECTED_AFTER.is_match(&text[end..]) {
        return true;
    }
    let rest = &text[end..];
    let stop = rest.find(SENTENCE_ENDS).unwrap_or(rest.len());
    let sentence = &rest[..stop];
    sentence.contains('吗') || rest[stop..].starts_with(['?', '？'])
}

/// The model takes back what it said before: "Wait", "Actually", "重新考虑".
pub fn corrects(between: &str) -> bool {
    CORRECTION.is_match(between)
}

/// A conclusion or correction marker in the sentence before `pos` ("Therefore, ...",
/// "综上所述，..."), or a short heading line just above it ("## Conclusion").
pub fn conclusive(text: &str, pos: usize) -> bool {
    let sentence = &text[start_of(text, pos, SENTENCE_ENDS)..pos];
    if CONCLUSION.is_match(sentence) {
        return true;
    }
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..pos].trim().is_empty() {
        return false;
    }
    let above = text[..line_start].trim_end();
    let prev_line = above.rsplit('\n').next().unwrap_or("");
    prev_line.chars().count() <= 40 && HEADING_WORD.is_match(prev_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_before() {
        let t = "It is not true that the answer is A";
        assert!(negated_before(t, t.len() - 1));
        let t = "Since B is not relevant, the answer is C";
        assert!(!negated_before(t, t.len() - 1));
        let t = "答案不选A";
        assert!(negated_before(t, t.find('选').unwrap()));
        for (t, word) in [
            ("Please answer: C", "answer"),
            ("Read the question and answer: A", "answer"),
            ("请给出答案：C", "答案"),
        ] {
            assert!(negated_before(t, t.find(word).unwrap()), "{t}");
        }
        let t = "Please note: the answer is C";
        assert!(!negated_before(t, t.find("answer").unwrap()));
    }

    #[test]
    fn rejection_after() {
        assert!(rejected_after("A is incorrect.", 1));
        assert!(rejected_after("A是错误的", 1));
        assert!(rejected_after("A? No.", 1));
        assert!(rejected_after("A吗？", 1));
        assert!(!rejected_after("C, not A.", 1));
        assert!(rejected_after("A if the patient is hypovolemic", 1));
    }

    #[test]
    fn conclusion_markers() {
        let t = "Therefore, the answer is C";
        assert!(conclusive(t, t.len() - 1));
        let t = "## Conclusion\nThe answer is C";
        assert!(conclusive(t, t.find("The").unwrap()));
        let t = "The answer is C";
        assert!(!conclusive(t, t.len() - 1));
    }
}
