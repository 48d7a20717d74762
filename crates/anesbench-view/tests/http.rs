//! HTTP-level tests of every page and filter, escaping, traversal, read-only, live tail
//! and static export, against the real server on a loopback port.

mod common;

use std::io::Write;
use std::path::Path;

use anesbench_core::Lang;
use anesbench_run::Settings;
use anesbench_view::client::get;
use common::*;

async fn poll_json(addr: std::net::SocketAddr, id: &str) -> serde_json::Value {
    let t = get(addr, &format!("/run/{id}/poll")).await.unwrap().text();
    serde_json::from_str(&t).unwrap()
}

fn count(html: &str) -> String {
    html.split("<p class=\"count\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn index_lists_every_run_under_the_roots_with_its_fields() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, _v) = start(&[runs]).await;
    let r = get(addr, "/").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-security-policy"),
        Some(anesbench_view::CSP)
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let t = r.text();
    for name in ["runs/a", "runs/b", "runs/nested/loglik", "runs/sc"] {
        assert!(t.contains(&format!(">{name}<")), "{name} missing:\n{t}");
    }
    assert!(t.contains("model-a&lt;i&gt;") && !t.contains("model-a<i>"));
    assert!(t.contains("7 / 7"), "{t}");
    assert!(t.contains("57.1%"), "accuracy 4/7: {t}");
    assert!(t.contains("2026-01-02T03:04:05Z") && t.contains("2026-01-02T03:14:05Z"));
    assert!(t.contains("self-consistency:3") && t.contains("loglik"));
    assert!(t.contains("<form action=\"/compare\""));
    // Paging of the index itself.
    assert_eq!(get(addr, "/?page=5").await.unwrap().status, 200);
}

#[tokio::test]
async fn run_page_has_the_accuracy_table_counts_and_figures() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "a");
    let t = get(addr, &format!("/run/{id}")).await.unwrap().text();
    for s in [
        "System 1",
        "System 1.x",
        "System 2",
        "English",
        "Chinese",
        "Wilson",
    ] {
        assert!(t.contains(s), "{s}: {t}");
    }
    assert!(t.contains("no answer: <b>1</b>"), "{t}");
    assert!(t.contains("truncated: <b>1</b>"));
    assert!(t.contains("errors: <b>1</b>"));
    assert!(t.contains("[") && t.contains("n=4"), "interval and n: {t}");
    assert_eq!(count(&t), "7 of 7 samples.");
    let fig = format!("/run/{id}/fig/levels.svg");
    assert!(t.contains(&fig));
    let f = get(addr, &fig).await.unwrap();
    assert_eq!(f.status, 200);
    assert!(f
        .header("content-type")
        .unwrap()
        .starts_with("image/svg+xml"));
    assert!(f.text().contains("<svg"));
    assert_eq!(
        get(addr, &format!("/run/{id}/fig/nope.svg"))
            .await
            .unwrap()
            .status,
        404
    );
    assert_eq!(get(addr, "/run/ffffffffffff").await.unwrap().status, 404);
}

#[tokio::test]
async fn every_filter_and_search_and_paging() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "a");
    let cases: &[(&str, usize)] = &[
        ("level=system1", 3),
        ("level=system1x", 2),
        ("level=3", 2),
        ("lang=zh", 3),
        ("lang=en", 4),
        ("nopt=4", 7),
        ("nopt=5", 0),
        ("outcome=correct", 4),
        ("outcome=wrong", 3),
        ("outcome=no_answer", 1),
        ("outcome=truncated", 1),
        ("outcome=error", 1),
        ("rule=answer_label", 5),
        ("rule=error", 1),
        ("pred=B", 3),
        ("pred=none", 2),
        ("gold=C", 2),
        ("gold=c", 2),
        // Search: reasoning, response, question, options; ASCII case folded; Chinese.
        ("q=SUGAMMADEX", 1),
        ("q=blood+pressure", 1),
        ("q=benzodiazepine", 1),
        ("q=etomidate", 4),
        ("q=%E6%B3%A8%E5%B0%84%E7%97%9B", 1),
        ("q=%E8%A1%80%E6%B5%81%E5%8A%A8%E5%8A%9B%E5%AD%A6", 1),
        ("q=%3Cscript%3E", 1),
        ("q=nothing-like-this", 0),
        ("lang=en&outcome=wrong", 2),
        ("lang=zh&pred=B&gold=B&level=system1", 1),
    ];
    for (qs, n) in cases {
        let r = get(addr, &format!("/run/{id}?{qs}")).await.unwrap();
        assert_eq!(r.status, 200, "{qs}");
        let t = r.text();
        assert_eq!(count(&t), format!("{n} of 7 samples match."), "{qs}");
        assert_eq!(sample_links(&t).len(), *n, "{qs}: rows");
    }
    // The URL holds the state: the form comes back with the filters selected.
    let t = get(
        addr,
        &format!("/run/{id}?lang=zh&outcome=correct&q=%E7%AD%94%E6%A1%88"),
    )
    .await
    .unwrap()
    .text();
    assert!(t.contains("<option value=\"zh\" selected>"));
    assert!(t.contains("<option value=\"correct\" selected>"));
    assert!(t.contains("value=\"答案\""));
    // Paging keeps the filters in its links.
    let t = get(addr, &format!("/run/{id}?lang=en&per=2"))
        .await
        .unwrap()
        .text();
    assert_eq!(
        sample_links(&t),
        vec![format!("/run/{id}/sample/0"), format!("/run/{id}/sample/1")]
    );
    assert!(
        t.contains(&format!("/run/{id}?lang=en&amp;per=2&amp;page=1")),
        "{t}"
    );
    let t = get(addr, &format!("/run/{id}?lang=en&per=2&page=1"))
        .await
        .unwrap()
        .text();
    assert_eq!(
        sample_links(&t),
        vec![format!("/run/{id}/sample/2"), format!("/run/{id}/sample/3")]
    );
    // A filter that does not parse is named, not an error.
    let t = get(addr, &format!("/run/{id}?level=7"))
        .await
        .unwrap()
        .text();
    assert!(t.contains("level `7` ignored"));
}

#[tokio::test]
async fn sample_page_shows_question_prompt_response_and_request() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "a");
    let t = get(addr, &format!("/run/{id}/sample/0"))
        .await
        .unwrap()
        .text();
    assert!(t.contains("best preserves haemodynamic stability"));
    assert!(
        t.contains("<li class=\"gold pred\"><b>B.</b> Etomidate"),
        "{t}"
    );
    assert!(t.contains("exactly what was sent"), "prompt hash: {t}");
    assert!(
        t.contains("You are") || t.contains("system"),
        "prompt messages"
    );
    assert!(t.contains("<mark>"), "deciding span: {t}");
    assert!(t.contains("<code>answer_label</code>"));
    assert!(t.contains("<details class=\"reasoning\"") && t.contains("sugammadex"));
    assert!(t.contains("12 ms") || t.contains("13 ms"));
    assert!(t.contains("http://127.0.0.1:9/v1"));
    assert!(t.contains("<th>Attempts</th><td>1</td>"));
    // The same item in Chinese, one click away.
    assert!(
        t.contains(&format!("href=\"/run/{id}/sample/4\">Same item in Chinese")),
        "{t}"
    );
    let zh = get(addr, &format!("/run/{id}/sample/4"))
        .await
        .unwrap()
        .text();
    assert!(zh.contains("血流动力学") && zh.contains("Same item in English"));
    // Error, attempts, truncation.
    let e = get(addr, &format!("/run/{id}/sample/6"))
        .await
        .unwrap()
        .text();
    assert!(e.contains("HTTP 500: &lt;b&gt;upstream&lt;/b&gt; failed"));
    assert!(e.contains("<th>Attempts</th><td>3</td>"));
    let tr = get(addr, &format!("/run/{id}/sample/3"))
        .await
        .unwrap()
        .text();
    assert!(tr.contains("<td>length</td>"));
    assert_eq!(
        get(addr, &format!("/run/{id}/sample/99"))
            .await
            .unwrap()
            .status,
        404
    );
    assert_eq!(
        get(addr, &format!("/run/{id}/sample/x"))
            .await
            .unwrap()
            .status,
        400
    );
}

#[tokio::test]
async fn loglik_bars_and_self_consistency_candidates() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(&[runs]).await;
    let t = get(addr, &format!("/run/{}/sample/0", run_id(&v, "loglik")))
        .await
        .unwrap()
        .text();
    assert!(t.contains("Option log-probabilities"));
    assert_eq!(t.matches("<meter").count(), 4);
    assert!(t.contains("-0.200"));
    assert!(
        t.contains("Text") || t.contains("text"),
        "loglik prompt is plain text"
    );
    let t = get(addr, &format!("/run/{}/sample/1", run_id(&v, "sc")))
        .await
        .unwrap()
        .text();
    assert!(t.contains("<h2>Candidates</h2>"));
    assert!(t.contains("votes: A: 1, B: 2"), "{t}");
    assert!(t.contains("decision: <b class=\"decision\">B</b> (<code>majority</code>)"));
    assert!(t.contains("0.700") && t.contains("class=\"current\""));
    // The two candidates that answered B voted for the decision; the A one did not.
    assert_eq!(t.matches("voted for the decision</span>").count(), 2, "{t}");
}

/// Best-of-N by likelihood: every candidate with its mean log-probability and batch, and
/// the one whose likelihood decided marked (the decision is `vote::best_likelihood`'s).
#[tokio::test]
async fn best_of_n_candidates_show_likelihoods_and_the_deciding_one() {
    let d = tempfile::tempdir().unwrap();
    let data = write_dataset(d.path());
    let runs = d.path().join("runs");
    let mut bon = Vec::new();
    for (k, (resp, ans, lp)) in [
        ("Answer: A", 'A', -0.5),
        ("Answer: B", 'B', -0.2),
        ("Answer: B", 'B', -0.9),
    ]
    .into_iter()
    .enumerate()
    {
        let mut x = s("1", Lang::En, resp, Some(ans));
        x.sample = k as u32;
        x.mean_logprob = Some(lp);
        x.batch = Some(3);
        bon.push(x);
    }
    let settings = Settings {
        samples: 3,
        temperature: Some(0.7),
        ..Settings::default()
    };
    let dir = runs.join("bon");
    write_run(&dir, &data, "model-bon", settings, &bon);
    let m = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let m = m.replace("self-consistency:3", "best-of-n:3:likelihood");
    std::fs::write(dir.join("manifest.json"), m).unwrap();
    let (addr, v) = start(&[runs]).await;
    let t = get(addr, &format!("/run/{}/sample/0", run_id(&v, "bon")))
        .await
        .unwrap()
        .text();
    assert!(
        t.contains("3 candidates · aggregation <code>best_likelihood</code>"),
        "{t}"
    );
    assert!(t.contains("decision: <b class=\"decision\">B</b> (<code>best_likelihood</code>)"));
    assert_eq!(t.matches("decided (highest likelihood)").count(), 1, "{t}");
    let row = t
        .split("<tr")
        .find(|r| r.contains("decided (highest"))
        .unwrap();
    assert!(row.contains(">-0.200<") && row.contains(">3<"), "{row}");
    for lp in ["-0.500", "-0.900"] {
        assert!(t.contains(lp), "{lp}");
    }
}

/// A best-of-N run is scored by its own rule: the candidate with the highest mean
/// log-probability decides each item, not a majority of the candidates. Here the two
/// rules disagree on all three items (majority 2/3, likelihood 1/3).
#[tokio::test]
async fn a_best_of_n_run_page_scores_by_likelihood_not_majority() {
    let d = tempfile::tempdir().unwrap();
    let data = write_dataset(d.path());
    let runs = d.path().join("runs");
    let mut bon = Vec::new();
    // (item, [(answer, mean log-probability)]): gold B, A, D.
    let items: [(&'static str, [(char, f64); 3]); 3] = [
        ("1", [('A', -0.1), ('B', -0.5), ('B', -0.9)]),
        ("2", [('A', -0.2), ('C', -0.6), ('C', -0.7)]),
        ("4", [('D', -0.3), ('D', -0.4), ('A', -0.1)]),
    ];
    for (id, cands) in items {
        for (k, (ans, lp)) in cands.into_iter().enumerate() {
            let mut x = s(id, Lang::En, "Answer: see above", Some(ans));
            x.sample = k as u32;
            x.mean_logprob = Some(lp);
            bon.push(x);
        }
    }
    let settings = Settings {
        samples: 3,
        temperature: Some(0.7),
        ..Settings::default()
    };
    let dir = runs.join("bon");
    write_run(&dir, &data, "model-bon", settings, &bon);
    let m = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let m = m.replace("self-consistency:3", "best-of-n:3:likelihood");
    std::fs::write(dir.join("manifest.json"), m).unwrap();
    // The report's own reading of the run, as the reference.
    let rd = anesbench_report::RunDir::open(&dir).unwrap();
    assert_eq!(rd.summary.overall.correct, 1);
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "bon");
    let t = get(addr, &format!("/run/{id}")).await.unwrap().text();
    let acc = t.split("<table class=\"acc\">").nth(1).unwrap();
    let all_row = acc.split("<tr><th>All</th>").nth(1).unwrap();
    assert!(
        all_row.contains("33.3%") && all_row.contains("n=3"),
        "{all_row}"
    );
    assert!(!acc.contains("66.7%"), "majority accuracy shown: {acc}");
    assert!(
        t.contains("counted per item (decided by <code>best_likelihood</code>"),
        "{t}"
    );
    let idx = get(addr, "/").await.unwrap().text();
    assert!(idx.contains(">33.3%<"), "{idx}");
}

/// The first search does not wait for a dataset still loading: it answers from the
/// responses at once and says that questions are not searchable yet; once the dataset is
/// in, a word found only in a question finds its sample. The dataset here is a named
/// pipe, so it is "loading" until the test writes it.
#[tokio::test]
async fn a_search_does_not_wait_for_the_dataset_and_finds_questions_once_it_is_in() {
    let d = tempfile::tempdir().unwrap();
    let data = write_dataset(d.path());
    let runs = d.path().join("runs");
    let dir = runs.join("slow");
    let samples: Vec<Sample> = [("1", 'B'), ("2", 'A'), ("4", 'D')]
        .into_iter()
        .map(|(id, a)| s(id, Lang::En, "Answer: see the options", Some(a)))
        .collect();
    write_run(&dir, &data, "model-slow", Settings::default(), &samples);
    let pipe_dir = d.path().join("pipe");
    std::fs::create_dir_all(&pipe_dir).unwrap();
    let pipe = pipe_dir.join("anesbench_en.json");
    let ok = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo");
    let m = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let m = m.replace(
        &serde_json::to_string(&data.display().to_string()).unwrap(),
        &serde_json::to_string(&pipe.display().to_string()).unwrap(),
    );
    std::fs::write(dir.join("manifest.json"), m).unwrap();
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "slow");
    // "benzodiazepine" is only in the question of item 4.
    let url = format!("/run/{id}?q=benzodiazepine");
    let bytes = std::fs::read(data.join("anesbench_en.json")).unwrap();
    let feed = {
        let pipe = pipe.clone();
        move || std::fs::write(&pipe, bytes).unwrap()
    };
    let Ok(r) = tokio::time::timeout(std::time::Duration::from_secs(10), get(addr, &url)).await
    else {
        // Let the blocked load (and the test's runtime) finish before failing.
        tokio::task::spawn_blocking(feed).await.unwrap();
        panic!("the first search waited for the dataset");
    };
    let t = r.unwrap().text();
    assert_eq!(count(&t), "0 of 3 samples match.", "{t}");
    assert!(
        t.contains("Questions and options are not searchable yet"),
        "{t}"
    );
    // A word in a response is found meanwhile.
    let t = get(addr, &format!("/run/{id}?q=options"))
        .await
        .unwrap()
        .text();
    assert_eq!(count(&t), "3 of 3 samples match.", "{t}");
    // A sample page does not wait either: it says what it lacks.
    let t = get(addr, &format!("/run/{id}/sample/2"))
        .await
        .unwrap()
        .text();
    assert!(t.contains("The dataset is still loading"), "{t}");
    assert!(!t.contains("Which drug is a benzodiazepine?"));
    // The dataset arrives.
    tokio::task::spawn_blocking(feed).await.unwrap();
    let mut t = String::new();
    for _ in 0..200 {
        t = get(addr, &url).await.unwrap().text();
        if !t.contains("not searchable yet") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!t.contains("not searchable yet"), "{t}");
    assert_eq!(count(&t), "1 of 3 samples match.", "{t}");
    let t = get(addr, &format!("/run/{id}/sample/2"))
        .await
        .unwrap()
        .text();
    assert!(t.contains("Which drug is a benzodiazepine?"), "{t}");
    assert!(!t.contains("still loading"));
}

/// A run with a `trees.jsonl` (hand-written, as a beam search writes it) shows the tree of
/// the item on its sample page; an item without a tree shows none.
#[tokio::test]
async fn the_search_tree_of_an_item_is_drawn() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let tree = r#"{"id": "1", "lang": "en", "strategy": "beam:2,2,32", "nodes": [{"n": 0, "parent": null, "text": "Consider haemodynamics", "tokens": 32, "reward": 0.71, "status": "kept"}, {"n": 1, "parent": null, "text": "Guess <i>A</i>", "tokens": 8, "reward": 0.12, "status": "pruned"}, {"n": 2, "parent": 0, "text": "Answer: B", "tokens": 5, "reward": 0.93, "status": "final"}]}"#;
    std::fs::write(runs.join("sc").join("trees.jsonl"), format!("{tree}\n")).unwrap();
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "sc");
    let t = get(addr, &format!("/run/{id}/sample/0"))
        .await
        .unwrap()
        .text();
    assert!(t.contains("<h2>Search tree</h2>"), "{t}");
    assert!(t.contains("beam:2,2,32 · 3 nodes: 1 kept, 1 pruned, 0 cut, 1 final"));
    assert!(t.contains("Guess &lt;i&gt;A&lt;/i&gt;"));
    assert!(t.contains("<li class=\"node final\"><span class=\"tag final\">final</span> <span class=\"reward\">reward 0.930</span>"));
    let a = run_id(&v, "a");
    let t = get(addr, &format!("/run/{a}/sample/0"))
        .await
        .unwrap()
        .text();
    assert!(!t.contains("Search tree"));
}

/// The deciding span is the extractor's own: exactly the answer statement is marked.
#[tokio::test]
async fn the_deciding_span_is_highlighted_exactly() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "a");
    let t = get(addr, &format!("/run/{id}/sample/0"))
        .await
        .unwrap()
        .text();
    assert!(
        t.contains("<pre class=\"response\">Etomidate keeps the blood pressure.\n<mark>Answer: B</mark></pre>"),
        "{t}"
    );
    assert!(t.contains("as the extractor located it"));
    let t = get(addr, &format!("/run/{id}/sample/4"))
        .await
        .unwrap()
        .text();
    // A record whose rule the extractor no longer gives (here written as `answer_label`;
    // the extractor says `zh_label`) gets no span rather than a guessed one.
    assert!(
        t.contains("extracting again now gives B by rule zh_label: no span shown"),
        "{t}"
    );
    assert!(!t.contains("<mark>"));
    // No answer: nothing marked.
    let t = get(addr, &format!("/run/{id}/sample/3"))
        .await
        .unwrap()
        .text();
    assert!(!t.contains("<mark>"));
}

/// The live view tails the file: after lines are appended, the poll sees the new samples
/// and the index has read exactly the appended bytes, not the run again.
#[tokio::test]
async fn the_live_tail_reads_only_appended_bytes() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(std::slice::from_ref(&runs)).await;
    let id = run_id(&v, "b");
    let before = poll_json(addr, &id).await;
    let path = runs.join("b").join("samples.jsonl");
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(before["samples"], 7);
    assert_eq!(before["bytes_read"], size);
    let first = std::fs::read_to_string(&path).unwrap();
    let line = first
        .lines()
        .next()
        .unwrap()
        .replace("\"sample\":0", "\"sample\":1");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    writeln!(f, "{line}").unwrap();
    drop(f);
    let after = poll_json(addr, &id).await;
    assert_eq!(after["samples"], 8);
    assert_eq!(
        after["bytes_read"].as_u64().unwrap(),
        size + line.len() as u64 + 1,
        "only the appended line is read"
    );
    assert_ne!(after["gen"], before["gen"]);
    // The run page now lists it, inside the part the live script replaces in place.
    let t = get(addr, &format!("/run/{id}")).await.unwrap().text();
    let list = t.split("<div id=\"live-list\" data-live>").nth(1).unwrap();
    assert!(list.contains("8 of 8 samples"), "{list}");
}

#[tokio::test]
async fn model_output_is_escaped_everywhere() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "a");
    let b = run_id(&v, "b");
    for path in [
        format!("/run/{id}/sample/1"),
        format!("/run/{id}"),
        format!("/run/{id}?q=%3Cscript%3E"),
        format!("/compare?a={id}&b={b}"),
        "/".to_string(),
        "/leaderboard".to_string(),
    ] {
        let t = get(addr, &path).await.unwrap().text();
        assert!(!t.contains("<script>alert"), "{path}");
        assert!(!t.contains("<img src=x"), "{path}");
        assert!(!t.contains("onerror=alert(2)>"), "{path}");
        // No inline script and no event handler attribute anywhere.
        for s in t.split("<script").skip(1) {
            assert!(s.starts_with(" src=\""), "{path}: inline script");
        }
        assert!(!t.contains(" onerror=\"") && !t.contains(" onload=") && !t.contains(" onclick="));
        assert!(!t.contains("style=\""), "{path}: inline style");
    }
    let t = get(addr, &format!("/run/{id}/sample/1"))
        .await
        .unwrap()
        .text();
    assert!(
        t.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"),
        "{t}"
    );
}

#[tokio::test]
async fn compare_page_has_the_paired_table_and_filterable_flips() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(&[runs]).await;
    let (a, b) = (run_id(&v, "a"), run_id(&v, "b"));
    let t = get(addr, &format!("/compare?a={a}&b={b}"))
        .await
        .unwrap()
        .text();
    assert!(t.contains("7 shared items"), "{t}");
    assert!(t.contains("McNemar"));
    assert!(
        t.contains("5 items shown: 2 right in A and wrong in B, 3 wrong in A and right in B."),
        "{t}"
    );
    let cases = [
        ("flip=a", 2),
        ("flip=b", 3),
        ("lang=zh&flip=b", 1),
        ("level=system1", 2),
        ("q=benzodiazepine", 1),
        ("gold=A", 2),
    ];
    for (qs, n) in cases {
        let t = get(addr, &format!("/compare?a={a}&b={b}&{qs}"))
            .await
            .unwrap()
            .text();
        assert!(t.contains(&format!("<p>{n} items shown")), "{qs}: {t}");
        assert_eq!(sample_links(&t).len(), 2 * n, "{qs}");
    }
    assert_eq!(
        get(addr, &format!("/compare?a={a}&b={a}"))
            .await
            .unwrap()
            .status,
        400
    );
    assert_eq!(
        get(addr, &format!("/compare?a={a}&b=zzz"))
            .await
            .unwrap()
            .status,
        404
    );
}

#[tokio::test]
async fn leaderboard_puts_runs_beside_the_published_table() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, _v) = start(&[runs]).await;
    let t = get(addr, "/leaderboard").await.unwrap().text();
    assert!(t.contains("model-b") && t.contains(">published<"));
    assert!(t.contains("class=\"mine\""));
    assert!(t.contains("/leaderboard/fig/lang.svg"), "{t}");
    let f = get(addr, "/leaderboard/fig/scale.svg").await.unwrap();
    assert_eq!(f.status, 200, "{}", f.text());
    assert_eq!(
        get(addr, "/leaderboard/fig/x.svg").await.unwrap().status,
        404
    );
}

#[tokio::test]
async fn no_path_traversal_by_dots_percent_escapes_or_symlinks() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    // Outside the served root: a run and a secret file.
    let outside = d.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "TOP-SECRET root:x:0:0").unwrap();
    std::fs::rename(runs.join("sc"), outside.join("sc")).unwrap();
    std::os::unix::fs::symlink(outside.join("sc"), runs.join("linked-out")).unwrap();
    let sneaky = runs.join("sneaky");
    std::fs::create_dir_all(&sneaky).unwrap();
    std::os::unix::fs::symlink(
        outside.join("sc").join("samples.jsonl"),
        sneaky.join("samples.jsonl"),
    )
    .unwrap();
    // A symlink that stays inside is fine, and listed once.
    std::os::unix::fs::symlink(runs.join("b"), runs.join("b-again")).unwrap();
    let (addr, v) = start(std::slice::from_ref(&runs)).await;
    let listed: Vec<String> = v.registry.runs().iter().map(|r| r.shown.clone()).collect();
    assert_eq!(
        listed,
        vec!["runs/a", "runs/b", "runs/nested/loglik"],
        "{listed:?}"
    );
    let t = get(addr, "/").await.unwrap().text();
    assert!(!t.contains("linked-out") && !t.contains("sneaky") && !t.contains("model-sc"));
    let id = run_id(&v, "a");
    let paths = [
        "/../../../../etc/passwd".to_string(),
        "/run/../../etc/passwd".to_string(),
        "/run/..%2F..%2Foutside%2Fsecret.txt".to_string(),
        "/run/%2e%2e/%2e%2e/outside/secret.txt".to_string(),
        "/static/../../outside/secret.txt".to_string(),
        "/static/..%2f..%2foutside%2fsecret.txt".to_string(),
        "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_string(),
        "/static/app.css%00.txt".to_string(),
        format!("/run/{id}/sample/..%2F..%2F..%2Fetc%2Fpasswd"),
        format!("/run/{id}/fig/..%2F..%2Fsecret.txt"),
        format!("/run/{id}/../../outside/secret.txt"),
        "/leaderboard/fig/..%2F..%2F..%2Fetc%2Fpasswd".to_string(),
        "//etc/passwd".to_string(),
    ];
    for p in paths {
        let r = get(addr, &p).await.unwrap();
        assert!(r.status == 404 || r.status == 400, "{p}: {}", r.status);
        let body = r.text();
        assert!(
            !body.contains("TOP-SECRET") && !body.contains("root:x:0"),
            "{p}"
        );
        assert!(r.header("content-security-policy").is_some(), "{p}");
    }
    // The outside run's id (a hash of its real path) is not served either.
    let outside_id = {
        let v2 = anesbench_view::Viewer::new(std::slice::from_ref(&outside)).unwrap();
        v2.registry.runs()[0].id.clone()
    };
    assert_eq!(
        get(addr, &format!("/run/{outside_id}"))
            .await
            .unwrap()
            .status,
        404
    );
}

#[tokio::test]
async fn read_only_every_other_method_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(&[runs]).await;
    let id = run_id(&v, "a");
    for m in ["POST", "PUT", "DELETE", "PATCH"] {
        let r = anesbench_view::client::request(addr, m, &format!("/run/{id}"))
            .await
            .unwrap();
        assert_eq!(r.status, 405, "{m}");
        assert!(r.header("content-security-policy").is_some());
    }
    let r = anesbench_view::client::request(addr, "HEAD", "/")
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    let js = get(addr, "/static/live.js").await.unwrap();
    assert!(js
        .header("content-type")
        .unwrap()
        .starts_with("text/javascript"));
    assert_eq!(get(addr, "/static/app.css").await.unwrap().status, 200);
}

fn append(p: &Path, bytes: &[u8]) {
    std::fs::OpenOptions::new()
        .append(true)
        .open(p)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

#[tokio::test]
async fn a_running_run_is_live_and_its_pages_follow_the_tail() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(std::slice::from_ref(&runs)).await;
    let id = run_id(&v, "a");
    let dir = runs.join("a");
    let samples = dir.join("samples.jsonl");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    std::fs::write(
        dir.join(".lock"),
        format!(
            "{{\"host\":\"h\",\"pid\":1,\"started_at\":{now},\"heartbeat\":{now},\"token\":\"t\"}}"
        ),
    )
    .unwrap();
    let t = get(addr, &format!("/run/{id}")).await.unwrap().text();
    assert!(t.contains("<script src=\"/static/live.js\" defer></script>"));
    assert!(t.contains(&format!("data-poll=\"/run/{id}/poll\"")));
    assert!(t.contains("<span class=\"live\">live</span>"));
    let p0: serde_json::Value =
        serde_json::from_str(&get(addr, &format!("/run/{id}/poll")).await.unwrap().text()).unwrap();
    assert_eq!(p0["samples"], 7);
    assert_eq!(p0["live"], true);
    // A line being written: its first half is not counted, and said so.
    let first = std::fs::read_to_string(&samples)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let mut v1: serde_json::Value = serde_json::from_str(&first).unwrap();
    v1["sample"] = 1.into();
    let line = format!("{}\n", v1);
    let (h1, h2) = line.as_bytes().split_at(line.len() / 2);
    append(&samples, h1);
    let t = get(addr, &format!("/run/{id}")).await.unwrap().text();
    assert_eq!(count(&t), "7 of 7 samples.");
    assert!(t.contains("torn tail"), "{t}");
    append(&samples, h2);
    let p1: serde_json::Value =
        serde_json::from_str(&get(addr, &format!("/run/{id}/poll")).await.unwrap().text()).unwrap();
    assert_eq!(p1["samples"], 8);
    assert_ne!(p1["gen"], p0["gen"]);
    let t = get(addr, &format!("/run/{id}")).await.unwrap().text();
    assert_eq!(count(&t), "8 of 8 samples.");
    // A corrupt line is reported, and the records before it still show.
    append(&samples, b"{\"id\": 3}\n");
    let t = get(addr, &format!("/run/{id}")).await.unwrap().text();
    assert!(t.contains("corrupt record"), "{t}");
    assert_eq!(count(&t), "8 of 8 samples.");
    std::fs::remove_file(dir.join(".lock")).unwrap();
    let t = get(addr, &format!("/run/{id}")).await.unwrap().text();
    assert!(!t.contains("live.js"));
}

#[tokio::test]
async fn static_export_is_self_contained() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let v = anesbench_view::Viewer::new(&[runs]).unwrap();
    let out = d.path().join("site");
    let done = tokio::task::spawn_blocking({
        let out = out.clone();
        move || anesbench_view::export::export(&v, &out).map(|e| (e, v))
    })
    .await
    .unwrap()
    .unwrap();
    let (e, v) = done;
    assert_eq!(e.runs, 4);
    let id = run_id(&v, "a");
    for f in [
        "index.html".to_string(),
        "app.css".into(),
        "leaderboard.html".into(),
        format!("r-{id}/index.html"),
        format!("r-{id}/s-0.html"),
        format!("r-{id}/s-6.html"),
        format!("r-{id}/wrong-p0.html"),
        format!("r-{id}/zh-p0.html"),
        format!("r-{id}/fig-levels.svg"),
    ] {
        assert!(out.join(&f).is_file(), "{f}");
    }
    // Every link in every HTML page is relative and points at a written file.
    let mut pages = 0;
    let mut stack = vec![out.clone()];
    while let Some(dir) = stack.pop() {
        for ent in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = ent.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "html") {
                continue;
            }
            pages += 1;
            let t = std::fs::read_to_string(&p).unwrap();
            assert!(!t.contains("<script"), "{}", p.display());
            for attr in ["href=\"", "src=\""] {
                for s in t.split(attr).skip(1) {
                    let link = s.split('"').next().unwrap();
                    assert!(
                        !link.starts_with('/') && !link.contains("://"),
                        "{}: {link}",
                        p.display()
                    );
                    let target = p.parent().unwrap().join(link.split('#').next().unwrap());
                    assert!(target.exists(), "{}: {link} missing", p.display());
                }
            }
        }
    }
    assert!(pages > 20, "{pages}");
    let s1 = std::fs::read_to_string(out.join(format!("r-{id}/s-1.html"))).unwrap();
    assert!(s1.contains("&lt;script&gt;alert(1)"));
}

/// The run's analysis page carries the report's calibration and bilingual sections, with
/// the numbers the report computes from the same records, and the run page links to it.
#[tokio::test]
async fn the_analysis_page_shows_calibration_and_bilingual_consistency() {
    let d = tempfile::tempdir().unwrap();
    let runs = fixture(d.path());
    let (addr, v) = start(std::slice::from_ref(&runs)).await;
    let id = run_id(&v, "loglik");
    let run = get(addr, &format!("/run/{id}")).await.unwrap().text();
    assert!(
        run.contains(&format!("href=\"/run/{id}/analysis\"")),
        "{run}"
    );
    let t = get(addr, &format!("/run/{id}/analysis"))
        .await
        .unwrap()
        .text();
    // The same sections, from the same records, as `anesbench report`.
    let rd = anesbench_report::RunDir::open(runs.join("nested").join("loglik")).unwrap();
    let a = anesbench_report::analysis::Analysis::build(
        std::slice::from_ref(&rd),
        &["model-loglik".to_string()],
        None,
        true,
    )
    .unwrap();
    let mut want = String::new();
    anesbench_report::formats::analysis::html(&mut want, &a);
    let tables = |h: &str| -> Vec<String> {
        h.split("<table>")
            .skip(1)
            .map(|t| t.split("</table>").next().unwrap_or("").to_string())
            .collect()
    };
    let (got, exp) = (tables(&t), tables(&want));
    assert!(!exp.is_empty());
    assert_eq!(got, exp, "{t}");
    assert!(t.contains("Calibration"), "{t}");
    assert!(t.contains("15"), "{t}");
}
