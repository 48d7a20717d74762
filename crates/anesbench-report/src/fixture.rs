//! Building records and run directories for tests (here, in the CLI tests, and in other
//! crates), so fixtures never hand-write JSON.

use anesbench_core::manifest::{RunInfo, RUN_SCHEMA};
use anesbench_core::{Lang, Level, SampleRecord};

/// A finished sample: `answer` against `gold`, with a completion length.
pub fn record(
    id: &str,
    lang: Lang,
    level: Level,
    answer: Option<char>,
    gold: char,
    tokens: u32,
) -> SampleRecord {
    SampleRecord {
        response: Some(
            answer
                .map(|a| format!("The answer is {a}."))
                .unwrap_or_default(),
        ),
        answer,
        rule: if answer.is_some() {
            "answer_is".into()
        } else {
            "no_answer".into()
        },
        correct: answer == Some(gold),
        finish_reason: Some("stop".into()),
        prompt_tokens: Some(100),
        completion_tokens: Some(tokens),
        ..SampleRecord::new(id, lang, level, 0, gold, "ABCD")
    }
}

/// A run header with the settings a report shows.
pub fn run_info(model: &str, param_count_b: Option<f64>) -> RunInfo {
    RunInfo {
        run_schema: RUN_SCHEMA,
        tool_version: "0.1.0".into(),
        model: model.into(),
        param_count_b,
        mode: "generate".into(),
        prompt: "cot/0-shot".into(),
        temperature: Some(0.0),
        samples_per_item: 1,
        solver: "greedy".into(),
        dataset_source: "demo".into(),
        dataset_fingerprint: "0123456789abcdef0123".into(),
        started_at: "2026-11-22T00:00:00Z".into(),
        finished_at: Some("2026-11-22T00:01:00Z".into()),
        // An explicit `--param-count`, as a report fixture means it.
        param_count_source: param_count_b.map(|_| anesbench_core::size::SizeSource::Flag),
        ..RunInfo::default()
    }
}

/// `n` items per (language, level) answered right with probability pattern `skill`:
/// item `i` of the `k`-th language is right when `(i * 37 + salt + 17k) % 100 < skill`. Deterministic, no RNG.
pub fn synthetic_records(
    n: u32,
    skill: [u32; 3],
    salt: u32,
    langs: &[Lang],
    tokens: [u32; 3],
) -> Vec<SampleRecord> {
    let mut out = Vec::new();
    for (li, &lang) in langs.iter().enumerate() {
        for (j, level) in Level::ALL.into_iter().enumerate() {
            for i in 0..n {
                let id = format!("{}-{i}", level.code());
                let right = (i * 37 + salt + 17 * li as u32) % 100 < skill[j];
                let ans = if right {
                    Some('A')
                } else if i % 11 == 3 {
                    None
                } else {
                    Some('B')
                };
                let mut r = record(&id, lang, level, ans, 'A', tokens[j] + i % 5);
                if i % 13 == 5 {
                    r.finish_reason = Some("length".into());
                }
                out.push(r);
            }
        }
    }
    out
}
