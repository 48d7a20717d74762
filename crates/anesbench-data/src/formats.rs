//! Row -> LLaMA-Factory record: pretrain `{"text"}`, alpaca `instruction/input/output`,
//! sharegpt `conversations`, and the verifiable-answer form `{prompt, answer}` for RL.
//!
//! QA mapping (documented in the crate README): without `--instruction` the question is the
//! alpaca `instruction` and `input` is empty; with it, the given text is the `instruction`
//! and the question goes to `input`. The answer is always `output`.

use anesbench_core::item::{letter, Lang};
use serde::Serialize;

use crate::reader::{Cell, Row};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Turn {
    pub from: &'static str,
    pub value: String,
}

/// One output record.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Record {
    Text {
        text: String,
    },
    Alpaca {
        instruction: String,
        input: String,
        output: String,
    },
    ShareGpt {
        conversations: Vec<Turn>,
    },
    Verifiable {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        prompt: String,
        answer: String,
    },
}

/// Why a row was not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    /// A required value is empty or only whitespace.
    Empty,
    /// A required value is null or absent.
    Null,
    /// The row is not valid JSON / not an object, or a value has the wrong shape.
    Malformed,
}

impl Skip {
    pub fn key(self) -> &'static str {
        match self {
            Skip::Empty => "empty",
            Skip::Null => "null",
            Skip::Malformed => "malformed",
        }
    }
}

/// Required text of a cell.
fn text(cell: &Cell) -> Result<&str, Skip> {
    match cell {
        Cell::Null => Err(Skip::Null),
        Cell::Text(t) if t.trim().is_empty() => Err(Skip::Empty),
        Cell::Text(t) => Ok(t),
        Cell::List(_) | Cell::Map(_) => Err(Skip::Malformed),
    }
}

fn cells(row: &Row) -> Result<&[Cell], Skip> {
    match row {
        Row::Cells(c) => Ok(c),
        Row::Malformed(_) => Err(Skip::Malformed),
    }
}

/// Pretrain: column 0 is the text.
pub fn corpus(row: &Row) -> Result<Record, Skip> {
    let c = cells(row)?;
    Ok(Record::Text {
        text: text(&c[0])?.to_string(),
    })
}

/// How a prompt/response pair is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Alpaca,
    ShareGpt,
}

fn pair(style: Style, instruction: Option<&str>, prompt: String, response: String) -> Record {
    match style {
        Style::Alpaca => match instruction {
            Some(i) => Record::Alpaca {
                instruction: i.to_string(),
                input: prompt,
                output: response,
            },
            None => Record::Alpaca {
                instruction: prompt,
                input: String::new(),
                output: response,
            },
        },
        Style::ShareGpt => {
            let human = match instruction {
                Some(i) => format!("{i}\n\n{prompt}"),
                None => prompt,
            };
            Record::ShareGpt {
                conversations: vec![
                    Turn {
                        from: "human",
                        value: human,
                    },
                    Turn {
                        from: "gpt",
                        value: response,
                    },
                ],
            }
        }
    }
}

/// QA: columns 0 question, 1 answer.
pub fn qa(row: &Row, style: Style, instruction: Option<&str>) -> Result<Record, Skip> {
    let c = cells(row)?;
    let q = text(&c[0])?.trim().to_string();
    let a = text(&c[1])?.trim().to_string();
    Ok(pair(style, instruction, q, a))
}

/// Column order of an AnesR1 row as read.
pub const R1_QUESTION: usize = 0;
pub const R1_OPTIONS: usize = 1;
pub const R1_ANSWER: usize = 2;
pub const R1_REASONING: usize = 3;
pub const R1_ID: usize = 4;

/// Options as `A. text` lines, from a list, a letter-keyed object, or text as it is
/// (a JSON object stored as a string is read as an object).
pub fn render_options(cell: &Cell) -> Result<Option<String>, Skip> {
    let lines: Vec<String> = match cell {
        Cell::Null => return Ok(None),
        Cell::Text(t) if t.trim().is_empty() => return Ok(None),
        Cell::Text(t) => {
            let t = t.trim();
            match serde_json::from_str::<serde_json::Value>(t) {
                Ok(serde_json::Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k}. {}",
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string())
                        )
                    })
                    .collect(),
                Ok(serde_json::Value::Array(a)) if a.len() <= 9 => a
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        format!(
                            "{}. {}",
                            letter(i),
                            v.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| v.to_string())
                        )
                    })
                    .collect(),
                _ => return Ok(Some(t.to_string())),
            }
        }
        Cell::List(items) if items.len() > 9 => return Err(Skip::Malformed),
        Cell::List(items) => items
            .iter()
            .enumerate()
            .map(|(i, o)| format!("{}. {}", letter(i), o.trim()))
            .collect(),
        Cell::Map(m) => m
            .iter()
            .map(|(k, v)| format!("{k}. {}", v.trim()))
            .collect(),
    };
    Ok(Some(lines.join("\n")))
}

/// Question followed by its options.
pub fn r1_prompt(c: &[Cell]) -> Result<String, Skip> {
    let q = text(&c[R1_QUESTION])?.trim();
    Ok(match render_options(&c[R1_OPTIONS])? {
        Some(o) => format!("{q}\n{o}"),
        None => q.to_string(),
    })
}

/// The gold answer as written, trimmed of wrapping like `(C)` or `C.`.
pub fn r1_answer(c: &[Cell]) -> Result<String, Skip> {
    let a = match &c[R1_ANSWER] {
        Cell::List(v) if !v.is_empty() => v.join(","),
        other => text(other)?.to_string(),
    };
    let a = a.trim();
    let stripped = a.trim_matches(|ch: char| matches!(ch, '(' | ')' | '.' | ' ' | '：' | ':'));
    Ok(
        if stripped
            .chars()
            .all(|ch| ch.is_ascii_alphabetic() || ch == ',')
            && !stripped.is_empty()
        {
            stripped.to_ascii_uppercase()
        } else {
            a.to_string()
        },
    )
}

/// AnesR1 for SFT: the response is the reasoning chain, then the final answer.
pub fn r1_sft(
    row: &Row,
    style: Style,
    instruction: Option<&str>,
    lang: Option<Lang>,
    think_tags: bool,
) -> Result<Record, Skip> {
    let c = cells(row)?;
    let prompt = r1_prompt(c)?;
    let answer = r1_answer(c)?;
    let reasoning = text(&c[R1_REASONING])?.trim();
    let final_line = match lang {
        Some(Lang::Zh) => format!("答案：{answer}"),
        _ => format!("Answer: {answer}"),
    };
    let response = if think_tags {
        format!("<think>\n{reasoning}\n</think>\n\n{final_line}")
    } else {
        format!("{reasoning}\n\n{final_line}")
    };
    Ok(pair(style, instruction, prompt, response))
}

/// AnesR1 for RL with verifiable rewards: prompt plus the ground-truth answer.
pub fn r1_rl(row: &Row, instruction: Option<&str>) -> Result<Record, Skip> {
    let c = cells(row)?;
    let prompt = r1_prompt(c)?;
    let prompt = match instruction {
        Some(i) => format!("{i}\n\n{prompt}"),
        None => prompt,
    };
    let id = c.get(R1_ID).and_then(|c| c.as_text()).map(str::to_string);
    Ok(Record::Verifiable {
        id,
        prompt,
        answer: r1_answer(c)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.into())
    }

    #[test]
    fn qa_instruction_moves_question_to_input() {
        let row = Row::Cells(vec![
            t("What is MAC?"),
            t("Minimum alveolar concentration."),
        ]);
        let Record::Alpaca {
            instruction,
            input,
            output,
        } = qa(&row, Style::Alpaca, None).unwrap()
        else {
            panic!()
        };
        assert_eq!((instruction.as_str(), input.as_str()), ("What is MAC?", ""));
        assert_eq!(output, "Minimum alveolar concentration.");
        let Record::Alpaca {
            instruction, input, ..
        } = qa(&row, Style::Alpaca, Some("Answer briefly.")).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (instruction.as_str(), input.as_str()),
            ("Answer briefly.", "What is MAC?")
        );
    }

    #[test]
    fn skips_name_their_reason() {
        assert_eq!(corpus(&Row::Cells(vec![Cell::Null])), Err(Skip::Null));
        assert_eq!(corpus(&Row::Cells(vec![t("  \n")])), Err(Skip::Empty));
        assert_eq!(corpus(&Row::Malformed("x".into())), Err(Skip::Malformed));
        assert_eq!(
            corpus(&Row::Cells(vec![Cell::List(vec![])])),
            Err(Skip::Malformed)
        );
    }

    #[test]
    fn r1_forms_carry_reasoning_and_answer() {
        let row = Row::Cells(vec![
            t("Which drug?"),
            Cell::List(vec!["Propofol".into(), "Ketamine".into()]),
            t("(b)"),
            t("Ketamine keeps airway reflexes."),
            t("r1-7"),
        ]);
        let Record::Alpaca {
            instruction,
            output,
            ..
        } = r1_sft(&row, Style::Alpaca, None, Some(Lang::En), true).unwrap()
        else {
            panic!()
        };
        assert_eq!(instruction, "Which drug?\nA. Propofol\nB. Ketamine");
        assert_eq!(
            output,
            "<think>\nKetamine keeps airway reflexes.\n</think>\n\nAnswer: B"
        );
        let rl = r1_rl(&row, None).unwrap();
        assert_eq!(
            serde_json::to_value(&rl).unwrap(),
            serde_json::json!({"id": "r1-7", "prompt": "Which drug?\nA. Propofol\nB. Ketamine", "answer": "B"})
        );
        let opts = render_options(&t(r#"{"A": "x", "B": "y"}"#))
            .unwrap()
            .unwrap();
        assert_eq!(opts, "A. x\nB. y");
    }
}
