//! Answer extraction: response text -> option letter or "no answer", with the rule that
//! fired. (Skeleton: the extraction issue fills this in.)

/// Result of extracting an answer from one response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Extraction {
    /// `None` = no answer (none found, or two conflicting answers).
    pub answer: Option<char>,
    /// Name of the rule that fired, or `no_answer` / `ambiguous`.
    pub rule: String,
}

/// Split `<think>...</think>` from a response: `(reasoning, rest)`.
pub fn split_think(text: &str) -> (Option<String>, String) {
    (None, text.to_string())
}

/// Extract the chosen option from `response`, given the item's option texts in letter order.
pub fn extract(response: &str, options: &[String]) -> Extraction {
    let _ = (response, options);
    Extraction { answer: None, rule: "no_answer".into() }
}
