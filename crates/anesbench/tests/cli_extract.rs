//! `anesbench extract` end to end: real binary, real files and pipes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn anesbench(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anesbench"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn anesbench");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

const INPUT: &str = concat!(
    r#"{"id": "q1", "options": {"A": "Propofol", "B": "Ketamine", "C": "Etomidate", "D": "Midazolam"}, "response": "<think>maybe A</think>Therefore, the answer is C.", "model": "m1"}"#,
    "\n",
    r#"{"options": {"A": "丙泊酚", "B": "氯胺酮"}, "id": "q2", "response": "答案不是A。"}"#,
    "\n\n",
    r#"{"zeta": 1, "options": ["Propofol", "Ketamine"], "response": null, "alpha": [1, 2]}"#,
    "\n",
    r#"{"options": {"A": "x", "B": "y"}, "response": "The answer is A. The answer is B."}"#,
    "\n",
);

#[test]
fn adds_answer_and_rule_keeping_other_fields_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.jsonl");
    let output = dir.path().join("out.jsonl");
    std::fs::write(&input, INPUT).expect("write input");
    let out = anesbench(
        &[
            "extract",
            input.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "data goes to the -o file only");
    let written = std::fs::read_to_string(&output).expect("read output");
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"id":"q1","options":{"A":"Propofol","B":"Ketamine","C":"Etomidate","D":"Midazolam"},"response":"<think>maybe A</think>Therefore, the answer is C.","model":"m1","answer":"C","answer_rule":"answer_is"}"#,
            r#"{"options":{"A":"丙泊酚","B":"氯胺酮"},"id":"q2","response":"答案不是A。","answer":null,"answer_rule":"no_answer"}"#,
            r#"{"zeta":1,"options":["Propofol","Ketamine"],"response":null,"alpha":[1,2],"answer":null,"answer_rule":"no_answer"}"#,
            r#"{"options":{"A":"x","B":"y"},"response":"The answer is A. The answer is B.","answer":null,"answer_rule":"ambiguous"}"#,
        ]
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("4 lines") && log.contains("1 answered") && log.contains("1 ambiguous"),
        "{log}"
    );
}

#[test]
fn reads_stdin_and_writes_stdout() {
    let out = anesbench(
        &["extract", "-"],
        r#"{"options": {"A": "a1", "B": "b1"}, "response": "最终答案：Ｂ"}"#,
    );
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(v["answer"], "B");
    assert_eq!(v["answer_rule"], "zh_final");
}

#[test]
fn bad_line_names_line_and_field_and_leaves_no_output_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = dir.path().join("out.jsonl");
    let input = concat!(
        r#"{"options": {"A": "a", "B": "b"}, "response": "A"}"#,
        "\n",
        r#"{"options": {"A": "a", "C": "c"}, "response": "A"}"#,
        "\n"
    );
    let out = anesbench(&["extract", "-", "-o", output.to_str().unwrap()], input);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2") && err.contains("`options`") && err.contains("expected `B`"),
        "{err}"
    );
    assert!(!output.exists(), "no half-written output");
    let leftovers = std::fs::read_dir(dir.path()).expect("read dir").count();
    assert_eq!(leftovers, 0, "the partial file is removed too");

    let out = anesbench(&["extract"], r#"{"options": {"A": "a"}, "response": 3}"#);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("line 1") && err.contains("`response`"),
        "{err}"
    );

    let out = anesbench(&["extract"], r#"{"options": {"A": "a"}}"#);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("`response` is missing"),
        "{err}"
    );

    let out = anesbench(&["extract"], "not json\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("line 1") && err.contains("invalid JSON"),
        "{err}"
    );
}

#[test]
fn reasoning_field_is_read_only_when_the_response_is_empty() {
    let input = concat!(
        r#"{"options": {"A": "a", "B": "b"}, "response": null, "reasoning_content": "Long thought.\n\nFinal answer: B"}"#,
        "\n",
        r#"{"options": {"A": "a", "B": "b"}, "response": "", "reasoning_content": "Final answer: B\n\nHmm, but A"}"#,
        "\n",
        r#"{"options": {"A": "a", "B": "b"}, "response": "The answer is A.", "reasoning_content": "Final answer: B"}"#,
        "\n",
    );
    let out = anesbench(
        &["extract", "--reasoning-field", "reasoning_content"],
        input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<(serde_json::Value, serde_json::Value)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            (v["answer"].clone(), v["answer_rule"].clone())
        })
        .collect();
    assert_eq!(
        answers,
        [
            ("B".into(), "reasoning_final".into()),
            (serde_json::Value::Null, "no_answer".into()),
            ("A".into(), "answer_is".into()),
        ]
    );
    // Without the flag the reasoning is never read.
    let out = anesbench(&["extract"], input.lines().next().unwrap());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON line");
    assert_eq!(v["answer"], serde_json::Value::Null);
}

#[test]
fn a_reply_cut_at_the_token_limit_is_read_for_statements_only() {
    // The same echoed option line: an answer when the model stopped there, none when the
    // token limit cut it there.
    let line = |reason: &str| {
        format!(
            r#"{{"options": {{"A": "Propofol", "B": "Ketamine"}}, "response": "请回答下列问题：\nB. Ketamine", "finish_reason": {reason}}}"#
        )
    };
    let input = format!(
        "{}\n{}\n{}\n",
        line("\"stop\""),
        line("\"length\""),
        line("null")
    );
    let out = anesbench(&["extract"], &input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["answer"].clone())
        .collect();
    assert_eq!(
        answers,
        [
            serde_json::json!("B"),
            serde_json::Value::Null,
            serde_json::json!("B")
        ]
    );
    let bad = anesbench(
        &["extract"],
        r#"{"options": ["x", "y"], "response": "A", "finish_reason": 3}"#,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("finish_reason"));
}

#[test]
fn extract_with_gold_prints_accuracy_no_answer_and_rule_counts() {
    let input = concat!(
        r#"{"options": {"A": "a", "B": "b"}, "response": "The answer is A.", "gold": "A"}"#,
        "\n",
        r#"{"options": {"A": "a", "B": "b"}, "response": "The answer is A.", "gold": "b"}"#,
        "\n",
        r#"{"options": {"A": "a", "B": "b"}, "response": "I cannot tell.", "gold": "B"}"#,
        "\n",
        r#"{"options": {"A": "a", "B": "b"}, "response": "The answer is B."}"#,
        "\n",
    );
    let out = anesbench(&["extract"], input);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scored 3 lines with a `gold` field: accuracy 33.3% (1/3), 1 no answer"),
        "{err}"
    );
    let rules = err
        .lines()
        .find(|l| l.starts_with("rules: "))
        .expect("rule counts");
    let total: u64 = rules["rules: ".len()..]
        .split(", ")
        .map(|r| r.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 4, "{rules}");

    let bad = anesbench(
        &["extract"],
        r#"{"options": {"A": "a", "B": "b"}, "response": "A", "gold": "E"}"#,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 1: field `gold`"));
}
