//! User template files (minijinja): rendering, equivalence with the built-in prompt, and
//! errors that name the file and line.

use std::path::{Path, PathBuf};

use anesbench_core::prompt::{
    render, select_shots, PromptError, PromptSettings, PromptStyle, Prompter,
};
use anesbench_core::{demo, Lang};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/prompt_fixtures")
        .join(name)
}

fn with_template(path: PathBuf) -> PromptSettings {
    PromptSettings {
        style: PromptStyle::Cot,
        shots: 0,
        template: Some(path),
    }
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn template_reproduces_the_builtin_cot_prompt_exactly() {
    let pool = demo::items_for(Lang::En);
    let prompter = Prompter::new(&with_template(fixture("cot_en.jinja"))).unwrap();
    let builtin = PromptSettings {
        style: PromptStyle::Cot,
        shots: 0,
        template: None,
    };
    for (i, it) in pool.iter().enumerate() {
        let shots = select_shots(it, &pool, i % 3);
        let a = prompter.render(it, &shots).unwrap();
        let b = render(it, &builtin, &shots).unwrap();
        assert_eq!(a, b, "{}", it.id);
    }
}

#[test]
fn user_only_template_has_no_system_message_and_sees_all_variables() {
    let it = demo::items_for(Lang::Zh)
        .into_iter()
        .find(|i| i.options.len() == 4 && i.level.code() == 2)
        .unwrap();
    let r = render(&it, &with_template(fixture("plain_zh.jinja")), &[]).unwrap();
    assert_eq!(r.system, None);
    let mut want = format!("[zh / 级别 2 / System 1.x] {}\n", it.question);
    for (l, o) in it.lettered_options() {
        want.push_str(&format!("({l}) {o}\n"));
    }
    want.push_str("可选：A/B/C/D");
    assert_eq!(r.user, want);
    assert!(r.to_text().ends_with("可选：A/B/C/D\n答案："));
}

#[test]
fn undefined_variable_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "typo.jinja",
        "Question:\n{{ question }}\n{{ optoins }}\n",
    );
    let it = &demo::items()[0];
    let err = render(it, &with_template(p.clone()), &[]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("{}:3", p.display())), "{msg}");
    assert!(msg.contains("undefined"), "{msg}");
    assert!(matches!(err, PromptError::Template { line: Some(3), .. }));
}

#[test]
fn syntax_error_fails_when_compiled_and_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "broken.jinja",
        "line one\nline two\n{% for o in options %}{{ o.text }\n",
    );
    let err = Prompter::new(&with_template(p.clone())).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("{}:3", p.display())), "{msg}");
    assert!(msg.contains("syntax error"), "{msg}");
}

#[test]
fn the_items_own_answer_is_not_visible_to_a_template() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "leak.jinja", "{{ question }} -> {{ answer }}");
    let err = render(&demo::items()[0], &with_template(p), &[]).unwrap_err();
    assert!(err.to_string().contains("leak.jinja:1"), "{err}");
}

#[test]
fn missing_file_names_the_path() {
    let err = Prompter::new(&with_template(PathBuf::from("/no/such/prompt.jinja"))).unwrap_err();
    assert!(matches!(err, PromptError::Read { .. }));
    assert!(err.to_string().contains("/no/such/prompt.jinja"), "{err}");
}

#[test]
fn system_block_without_user_block_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "half.jinja",
        "{% block system %}You are helpful.{% endblock %}\n{{ question }}",
    );
    let err = render(&demo::items()[0], &with_template(p), &[]).unwrap_err();
    assert!(err.to_string().contains("block user"), "{err}");
}

#[test]
fn empty_output_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "empty.jinja",
        "{% if false %}{{ question }}{% endif %}\n",
    );
    let err = render(&demo::items()[0], &with_template(p), &[]).unwrap_err();
    assert!(matches!(err, PromptError::EmptyUser { .. }), "{err}");
}

#[test]
fn shots_are_exposed_with_answers_and_rationales() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "shots.jinja",
        "{% for s in shots %}{{ s.id }}={{ s.answer }}|{% endfor %}{{ question }}",
    );
    let pool = demo::items_for(Lang::En);
    let it = &pool[5];
    let shots = select_shots(it, &pool, 2);
    let r = render(it, &with_template(p), &shots).unwrap();
    let want = format!(
        "{}={}|{}={}|{}",
        shots[0].id, shots[0].answer, shots[1].id, shots[1].answer, it.question
    );
    assert_eq!(r.user, want);
}
