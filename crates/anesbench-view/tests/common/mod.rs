//! Run directories written the way the runner writes them (manifest with resolved
//! settings, one SampleRecord per line, a dataset the manifest names).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anesbench_core::{Item, Lang, Level, SampleRecord};
use anesbench_run::{Mode, Settings};

pub const XSS: &str = "<script>alert(1)</script><img src=x onerror=alert(2)> Answer: B";

pub fn item(id: &str, lang: Lang, level: Level, answer: char, q: &str) -> serde_json::Value {
    let (a, b, c, d) = match lang {
        Lang::En => ("Propofol", "Etomidate", "Ketamine", "Midazolam"),
        Lang::Zh => ("丙泊酚", "依托咪酯", "氯胺酮", "咪达唑仑"),
    };
    serde_json::json!({"id": id, "question": q, "A": a, "B": b, "C": c, "D": d,
        "choice_num": 4, "target": answer.to_string(), "category": level.code()})
}

pub fn write_dataset(root: &Path) -> PathBuf {
    let d = root.join("data");
    std::fs::create_dir_all(&d).unwrap();
    let en = vec![
        item(
            "1",
            Lang::En,
            Level::S1,
            'B',
            "Which induction agent best preserves haemodynamic stability?",
        ),
        item(
            "2",
            Lang::En,
            Level::S1x,
            'A',
            "Which agent causes pain on injection most often?",
        ),
        item(
            "3",
            Lang::En,
            Level::S2,
            'C',
            "A shocked trauma patient needs induction: which agent?",
        ),
        item(
            "4",
            Lang::En,
            Level::S1,
            'D',
            "Which drug is a benzodiazepine?",
        ),
    ];
    let zh = vec![
        item(
            "1",
            Lang::Zh,
            Level::S1,
            'B',
            "哪种诱导药物最能维持血流动力学稳定？",
        ),
        item("2", Lang::Zh, Level::S1x, 'A', "哪种药物注射痛最常见？"),
        item(
            "3",
            Lang::Zh,
            Level::S2,
            'C',
            "失血性休克患者麻醉诱导宜选哪种药物？",
        ),
    ];
    std::fs::write(
        d.join("anesbench_en.json"),
        serde_json::to_vec(&en).unwrap(),
    )
    .unwrap();
    std::fs::write(
        d.join("anesbench_zh.json"),
        serde_json::to_vec(&zh).unwrap(),
    )
    .unwrap();
    d
}

pub fn items(data: &Path) -> Vec<Item> {
    anesbench_core::load::load(data.to_str().unwrap(), &Default::default())
        .unwrap()
        .items
}

pub struct Sample {
    pub id: &'static str,
    pub lang: Lang,
    pub sample: u32,
    pub response: &'static str,
    pub answer: Option<char>,
    pub rule: &'static str,
    pub finish: &'static str,
    pub error: Option<&'static str>,
    pub reasoning: Option<&'static str>,
    pub logprobs: Option<BTreeMap<char, f64>>,
    pub reward: Option<f64>,
    pub mean_logprob: Option<f64>,
    pub batch: Option<u32>,
}

pub fn s(id: &'static str, lang: Lang, response: &'static str, answer: Option<char>) -> Sample {
    Sample {
        id,
        lang,
        sample: 0,
        response,
        answer,
        rule: if answer.is_some() {
            "answer_label"
        } else {
            "no_answer"
        },
        finish: "stop",
        error: None,
        reasoning: None,
        logprobs: None,
        reward: None,
        mean_logprob: None,
        batch: None,
    }
}

/// Write a run directory with these samples; prompt hashes are the real ones.
pub fn write_run(dir: &Path, data: &Path, model: &str, settings: Settings, samples: &[Sample]) {
    std::fs::create_dir_all(dir).unwrap();
    let all = items(data);
    let prompter =
        anesbench_core::prompt::Prompter::new(&anesbench_run::request::prompt_settings(&settings))
            .unwrap();
    let pool = anesbench_core::demo::items();
    let mut out = Vec::new();
    for x in samples {
        let it = all
            .iter()
            .find(|i| i.id == x.id && i.lang == x.lang)
            .unwrap();
        let prep = anesbench_run::request::prepare(&prompter, it, &settings, &pool).unwrap();
        let letters: String = anesbench_core::item::LETTERS[..it.options.len()]
            .iter()
            .collect();
        let r = SampleRecord {
            prompt_hash: prep.hash,
            response: Some(x.response.to_string()),
            reasoning: x.reasoning.map(String::from),
            answer: x.answer,
            rule: x.rule.into(),
            correct: x.error.is_none() && x.answer == Some(it.answer),
            finish_reason: Some(x.finish.into()),
            prompt_tokens: Some(120),
            completion_tokens: Some(40 + x.response.len() as u32 / 4),
            latency_ms: 12.5,
            endpoint: Some("http://127.0.0.1:9/v1".into()),
            attempts: if x.error.is_some() { 3 } else { 1 },
            error: x.error.map(String::from),
            option_logprobs: x.logprobs.clone(),
            reward: x.reward,
            mean_logprob: x.mean_logprob,
            batch: x.batch,
            ..SampleRecord::new(x.id, x.lang, it.level, x.sample, it.answer, letters)
        };
        out.extend(serde_json::to_vec(&r).unwrap());
        out.push(b'\n');
    }
    std::fs::write(dir.join("samples.jsonl"), out).unwrap();
    let n_items = samples
        .iter()
        .map(|x| (x.lang, x.id))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let spi = samples.iter().map(|x| x.sample + 1).max().unwrap_or(1);
    let m = serde_json::json!({
        "run_schema": 1, "tool_version": "0.1.0", "model": model,
        "mode": match settings.mode { Mode::Loglik => "loglik", _ => "generate" },
        "prompt": "cot/0-shot", "samples_per_item": spi,
        "solver": if spi > 1 { format!("self-consistency:{spi}") } else { "greedy".into() },
        "dataset_source": data.display().to_string(), "dataset_fingerprint": "f",
        "selected_items": n_items, "started_at": "2026-01-02T03:04:05Z",
        "finished_at": "2026-01-02T03:14:05Z",
        "backend": {"kind": "openai-chat", "model": model},
        "settings": settings,
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&m).unwrap(),
    )
    .unwrap();
}

/// Four runs under `root/runs`: `a` and `b` (same items, flips between them), `loglik`,
/// `sc` (three samples per item).
pub fn fixture(root: &Path) -> PathBuf {
    let data = write_dataset(root);
    let runs = root.join("runs");
    let mut a = vec![
        s(
            "1",
            Lang::En,
            "Etomidate keeps the blood pressure.\nAnswer: B",
            Some('B'),
        ),
        s("2", Lang::En, XSS, Some('B')),
        s(
            "3",
            Lang::En,
            "Ketamine supports sympathetic tone. Answer: C",
            Some('C'),
        ),
        s("4", Lang::En, "I am not sure about this one", None),
        s("1", Lang::Zh, "依托咪酯对循环影响小。\n答案：B", Some('B')),
        s("2", Lang::Zh, "丙泊酚注射痛常见。答案：A", Some('A')),
        s("3", Lang::Zh, "", None),
    ];
    a[3].finish = "length";
    a[6].error = Some("HTTP 500: <b>upstream</b> failed");
    a[6].rule = "error";
    a[0].reasoning =
        Some("<think>haemodynamic stability matters; sugammadex is irrelevant</think>");
    write_run(
        &runs.join("a"),
        &data,
        "model-a<i>",
        Settings::default(),
        &a,
    );
    let b = vec![
        s("1", Lang::En, "Answer: A", Some('A')),
        s("2", Lang::En, "Answer: A", Some('A')),
        s("3", Lang::En, "Answer: C", Some('C')),
        s("4", Lang::En, "Answer: D", Some('D')),
        s("1", Lang::Zh, "答案：B", Some('B')),
        s("2", Lang::Zh, "答案：C", Some('C')),
        s("3", Lang::Zh, "答案：C", Some('C')),
    ];
    write_run(&runs.join("b"), &data, "model-b", Settings::default(), &b);
    let lp = |best: char| {
        let mut m: BTreeMap<char, f64> = ['A', 'B', 'C', 'D']
            .into_iter()
            .map(|c| (c, -3.0))
            .collect();
        m.insert(best, -0.2);
        Some(m)
    };
    let mut l = vec![
        s("1", Lang::En, "", Some('B')),
        s("2", Lang::En, "", Some('C')),
    ];
    l[0].logprobs = lp('B');
    l[1].logprobs = lp('C');
    for x in &mut l {
        x.rule = "loglik_argmax";
    }
    let ls = Settings {
        mode: Mode::Loglik,
        ..Settings::default()
    };
    write_run(
        &runs.join("nested").join("loglik"),
        &data,
        "model-loglik",
        ls,
        &l,
    );
    let mut sc = Vec::new();
    for (k, (resp, ans)) in [("Answer: B", 'B'), ("Answer: A", 'A'), ("Answer: B", 'B')]
        .into_iter()
        .enumerate()
    {
        let mut x = s("1", Lang::En, resp, Some(ans));
        x.sample = k as u32;
        x.reward = Some(0.5 + k as f64 / 10.0);
        sc.push(x);
    }
    let scs = Settings {
        samples: 3,
        temperature: Some(0.7),
        ..Settings::default()
    };
    write_run(&runs.join("sc"), &data, "model-sc", scs, &sc);
    runs
}

pub async fn start(roots: &[PathBuf]) -> (SocketAddr, Arc<anesbench_view::Viewer>) {
    let v = Arc::new(anesbench_view::Viewer::new(roots).unwrap());
    let addr = anesbench_view::spawn(v.clone(), "127.0.0.1", 0)
        .await
        .unwrap();
    (addr, v)
}

pub fn run_id(v: &anesbench_view::Viewer, name: &str) -> String {
    v.registry
        .runs()
        .into_iter()
        .find(|r| r.dir.file_name().unwrap() == name)
        .unwrap_or_else(|| panic!("no run {name}"))
        .id
        .clone()
}

/// Links to sample pages in an HTML page, in order.
pub fn sample_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.contains("/sample/"))
        .map(String::from)
        .collect()
}
