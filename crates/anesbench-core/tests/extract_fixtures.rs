//! Runs every case of `fixtures/extract_cases.jsonl` (one JSON object per line: options,
//! response, expected letter or null, note, and optionally `finish_reason` and the server's
//! separate `reasoning`) and prints every failure before failing.

use std::collections::BTreeMap;

use anesbench_core::extract::{extract_ended, locate, Ending, Field, RULES};

#[derive(serde::Deserialize)]
struct Case {
    options: BTreeMap<String, String>,
    response: String,
    expected: Option<String>,
    note: String,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
}

fn cases() -> Vec<(usize, Case)> {
    let text = include_str!("fixtures/extract_cases.jsonl");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            (
                i + 1,
                serde_json::from_str(l).unwrap_or_else(|e| panic!("fixture line {}: {e}", i + 1)),
            )
        })
        .collect()
}

#[test]
fn fixture_file_is_large_and_varied() {
    let cases = cases();
    assert!(cases.len() >= 120, "only {} cases", cases.len());
    let none = cases.iter().filter(|(_, c)| c.expected.is_none()).count();
    assert!(none >= 30, "only {none} no-answer cases");
    let zh = cases
        .iter()
        .filter(|(_, c)| {
            c.response
                .chars()
                .any(|ch| ('\u{4E00}'..='\u{9FFF}').contains(&ch))
        })
        .count();
    assert!(zh >= 30, "only {zh} Chinese cases");
}

#[test]
fn every_fixture_case_extracts_as_expected() {
    let mut failures = Vec::new();
    let cases = cases();
    for (line, case) in &cases {
        let options: Vec<String> = case.options.values().cloned().collect();
        let ending = Ending::from_finish_reason(case.finish_reason.as_deref());
        let got = extract_ended(
            Some(&case.response),
            case.reasoning.as_deref(),
            &options,
            ending,
        );
        assert!(
            RULES.contains(&got.rule.as_str()),
            "line {line}: rule {} is not listed in RULES",
            got.rule
        );
        let expected = case.expected.as_deref().and_then(|e| e.chars().next());
        if got.answer != expected {
            failures.push(format!(
                "line {line} ({}): expected {:?}, got {:?} by rule {}\n    response: {:?}",
                case.note, expected, got.answer, got.rule, case.response
            ));
        }
    }
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixture cases failed (listed above)",
        failures.len(),
        cases.len()
    );
}

/// Every fixture case that has an answer has its deciding span located in the original
/// text, and locating decides exactly as extracting does.
#[test]
fn every_answered_fixture_case_has_its_span() {
    let mut missing = Vec::new();
    let mut answered = 0;
    for (line, case) in &cases() {
        let options: Vec<String> = case.options.values().cloned().collect();
        let ending = Ending::from_finish_reason(case.finish_reason.as_deref());
        let (resp, reas) = (Some(case.response.as_str()), case.reasoning.as_deref());
        let l = locate(resp, reas, &options, ending);
        assert_eq!(
            l.extraction,
            extract_ended(resp, reas, &options, ending),
            "line {line}"
        );
        if l.extraction.answer.is_none() {
            continue;
        }
        answered += 1;
        match l.span {
            Some((field, a, b)) => {
                let t = match field {
                    Field::Response => case.response.as_str(),
                    Field::Reasoning => reas.unwrap_or(""),
                };
                assert!(a < b && b <= t.len(), "line {line}: {a}..{b}");
            }
            None => missing.push(format!(
                "line {line} ({}): {:?}",
                l.extraction.rule, case.response
            )),
        }
    }
    assert!(answered > 100, "only {answered} answered cases");
    assert!(missing.is_empty(), "no span for:\n{}", missing.join("\n"));
}
