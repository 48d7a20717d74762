//! Separating `<think>...</think>` reasoning from the final response.

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// Reasoning blocks and the text outside them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThinkSplit {
    /// Text of every `<think>` block, joined by blank lines; `None` when there was none.
    pub reasoning: Option<String>,
    /// The text outside the blocks: what the model said after it stopped thinking.
    pub rest: String,
    /// A `<think>` was opened and never closed: the model ran out before it finished
    /// thinking, so `rest` holds only what came before the block.
    pub unclosed: bool,
}

/// Split `<think>...</think>` from a response: `(reasoning, rest)`.
///
/// A leading `...</think>` without its opening tag counts as reasoning too (chat templates
/// that put `<think>` in the prompt produce this). Text of an unclosed block is reasoning,
/// never part of `rest`.
pub fn split_think(text: &str) -> (Option<String>, String) {
    let s = split_think_full(text);
    (s.reasoning, s.rest)
}

/// [`split_think`] that also says whether a block was left unclosed.
pub fn split_think_full(text: &str) -> ThinkSplit {
    split_with_pieces(text).0
}

/// [`split_think_full`]'s `rest` as a mapped text: positions in the response kept.
pub(crate) fn rest_mapped(text: &str) -> super::mapped::Mapped {
    let mut m = super::mapped::Mapped::default();
    for (a, b) in split_with_pieces(text).1 {
        m.push_src(&text[a..b], a);
    }
    m.trim()
}

/// The split, and the byte ranges of `text` that make up `rest` (before trimming).
fn split_with_pieces(text: &str) -> (ThinkSplit, Vec<(usize, usize)>) {
    let mut rest: Vec<(usize, usize)> = Vec::new();
    let rest_blank =
        |rest: &Vec<(usize, usize)>| rest.iter().all(|&(a, b)| text[a..b].trim().is_empty());
    let mut parts: Vec<&str> = Vec::new();
    let mut unclosed = false;
    let mut pos = 0;
    loop {
        let open = text[pos..].find(OPEN).map(|i| pos + i);
        let close = text[pos..].find(CLOSE).map(|i| pos + i);
        match (open, close) {
            // A close before any open: reasoning whose opening tag was in the prompt, if
            // nothing was said before it; otherwise a stray tag that is just dropped.
            (o, Some(c)) if o.is_none_or(|o| c < o) => {
                if rest_blank(&rest) && parts.is_empty() {
                    rest.clear();
                    parts.push(&text[pos..c]);
                } else {
                    rest.push((pos, c));
                }
                pos = c + CLOSE.len();
            }
            (Some(o), _) => {
                rest.push((pos, o));
                let body = o + OPEN.len();
                match text[body..].find(CLOSE) {
                    Some(c) => {
                        parts.push(&text[body..body + c]);
                        pos = body + c + CLOSE.len();
                    }
                    None => {
                        parts.push(&text[body..]);
                        unclosed = true;
                        pos = text.len();
                        break;
                    }
                }
            }
            _ => break,
        }
    }
    rest.push((pos, text.len()));
    let reasoning = if parts.is_empty() {
        None
    } else {
        Some(
            parts
                .iter()
                .map(|p| p.trim())
                .collect::<Vec<_>>()
                .join("\n\n"),
        )
    };
    let joined: String = rest.iter().map(|&(a, b)| &text[a..b]).collect();
    let split = ThinkSplit {
        reasoning,
        rest: joined.trim().to_string(),
        unclosed,
    };
    (split, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_block_is_removed() {
        let (r, rest) = split_think("<think>maybe A</think>\nAnswer: C");
        assert_eq!(r.as_deref(), Some("maybe A"));
        assert_eq!(rest, "Answer: C");
    }

    #[test]
    fn orphan_close_at_start_is_reasoning() {
        let (r, rest) = split_think("hmm, B?\n</think>\n\nThe answer is D.");
        assert_eq!(r.as_deref(), Some("hmm, B?"));
        assert_eq!(rest, "The answer is D.");
    }

    #[test]
    fn unclosed_block_leaves_nothing() {
        let s = split_think_full("<think>so the answer is C, but wait");
        assert!(s.unclosed);
        assert_eq!(s.rest, "");
        assert_eq!(s.reasoning.as_deref(), Some("so the answer is C, but wait"));
    }

    #[test]
    fn no_tags_is_all_rest() {
        assert_eq!(split_think(" Answer: B "), (None, "Answer: B".to_string()));
    }

    #[test]
    fn two_blocks_are_joined() {
        let (r, rest) = split_think("<think>a</think>x<think>b</think>y");
        assert_eq!(r.as_deref(), Some("a\n\nb"));
        assert_eq!(rest, "xy");
    }
}
