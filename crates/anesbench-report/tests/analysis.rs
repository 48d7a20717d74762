//! The analysis sections from run directories on disk: a loglik run of a model that
//! always picks displayed position A under `--permute circular` (circular accuracy 0,
//! every pick on A, one confidence for every item so the ECE is hand-computable), asked in
//! both languages (perfect agreement), and a pairs file joining it with a second own run
//! (a paired interval) and with a published model; a pairs file naming an unknown model
//! fails with file, line and name.

use std::path::Path;

use anesbench_core::permute::{perm_string, to_original, Permute};
use anesbench_core::{Lang, Level, SampleRecord};
use anesbench_report::fixture::run_info;
use anesbench_report::formats::Format;
use anesbench_report::write::{write_report, ReportOptions};
use anesbench_report::RunDir;

const TOP: f64 = -0.2;
const REST: f64 = -3.0;

/// Items `0..n` per level, gold cycling A..D, in both languages, every rotation.
fn always_a(n: u32) -> Vec<SampleRecord> {
    let mut out = Vec::new();
    for lang in [Lang::En, Lang::Zh] {
        for level in Level::ALL {
            for i in 0..n {
                let id = format!("{}-{i}", level.code());
                let gold = ['A', 'B', 'C', 'D'][i as usize % 4];
                for (s, order) in Permute::Circular.orders(&id, 4).iter().enumerate() {
                    let perm = perm_string(order);
                    let answer = to_original(&perm, 'A');
                    let mut r = SampleRecord::new(&id, lang, level, s as u32, gold, "ABCD");
                    r.answer = answer;
                    r.rule = "loglik_argmax".into();
                    r.correct = answer == Some(gold);
                    r.option_logprobs = Some(
                        "ABCD"
                            .chars()
                            .map(|c| (c, if Some(c) == answer { TOP } else { REST }))
                            .collect(),
                    );
                    r.position = Some('A');
                    r.perm = Some(perm);
                    out.push(r);
                }
            }
        }
    }
    out
}

fn write_run(dir: &Path, name: &str, model: &str, recs: &[SampleRecord], permuted: bool) {
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let mut info = run_info(model, None);
    info.mode = "loglik".into();
    info.solver = "loglik".into();
    if permuted {
        info.solver = "loglik+circular".into();
        info.permute = Some("circular".into());
        info.samples_per_item = 4;
    }
    std::fs::write(
        d.join("manifest.json"),
        serde_json::to_string(&info).unwrap(),
    )
    .unwrap();
    let lines: String = recs
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    std::fs::write(d.join("samples.jsonl"), lines).unwrap();
}

#[test]
fn robustness_calibration_bilingual_and_pairs_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let n = 8;
    write_run(dir.path(), "circ", "always-a", &always_a(n), true);
    // A second own run: the original order only, right on every item.
    let base: Vec<SampleRecord> = always_a(n)
        .into_iter()
        .filter(|r| r.sample == 0)
        .map(|mut r| {
            r.answer = Some(r.gold);
            r.correct = true;
            r.perm = None;
            r.position = None;
            r
        })
        .collect();
    write_run(dir.path(), "oracle", "oracle", &base, false);
    let pairs = dir.path().join("pairs.txt");
    std::fs::write(
        &pairs,
        "# own runs, then a published base\noracle -> circ : made worse\nLlama-3.1-8B-Instruct -> circ : vs published\n",
    )
    .unwrap();
    let runs = vec![
        RunDir::open(dir.path().join("circ")).unwrap(),
        RunDir::open(dir.path().join("oracle")).unwrap(),
    ];
    // The run's own decision: the original order (gold A items right: a quarter).
    assert_eq!(runs[0].summary.overall.n, 48);
    assert_eq!(runs[0].summary.overall.correct, 12);
    let out = dir.path().join("report");
    let opts = ReportOptions {
        out_dir: out.clone(),
        formats: vec![Format::Markdown, Format::Html, Format::Json],
        include_incomplete: false,
        pairs: Some(pairs.clone()),
    };
    write_report(&runs, None, &opts).unwrap();
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let a = &j["analysis"]["runs"][0];
    let rb = &a["robustness"];
    assert_eq!(rb["circular_accuracy"], 0.0);
    assert_eq!(rb["plain_accuracy"], 0.25);
    assert_eq!(rb["picked"], serde_json::json!({"A": 48 * 4}));
    assert_eq!(
        rb["gold"],
        serde_json::json!({"A": 48, "B": 48, "C": 48, "D": 48})
    );
    // Every item has confidence c = softmax of (TOP, REST x3) at the top, accuracy 1/4:
    // one bin, ECE = |0.25 - c|, Brier = (0.25 (c-1)^2 + 0.75 c^2).
    let c = 1.0 / (1.0 + 3.0 * (REST - TOP).exp());
    let all = a["calibration"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["level"] == "all")
        .unwrap();
    assert!((all["ece"].as_f64().unwrap() - (c - 0.25).abs()).abs() < 1e-12);
    let brier = 0.25 * (c - 1.0).powi(2) + 0.75 * c * c;
    assert!((all["brier"].as_f64().unwrap() - brier).abs() < 1e-12);
    // Same answers in both languages: full agreement, no discordant pair.
    let bi = a["bilingual"].as_array().unwrap();
    let bi_all = bi.iter().find(|x| x["level"] == "all").unwrap();
    assert_eq!(bi_all["n"], 24);
    assert_eq!(bi_all["agreement"], 1.0);
    assert_eq!(bi_all["mcnemar_p"], 1.0);
    // Pairs: own -> own has a paired interval; published -> own has none.
    let p = j["analysis"]["pairs"]["pairs"].as_array().unwrap();
    assert_eq!(p[0]["deltas"][3]["diff"], -0.75);
    assert!(p[0]["deltas"][3]["ci"].is_array());
    assert!(p[1]["deltas"][3]["ci"].is_null());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("circular accuracy 0.0%"), "{md}");
    assert!(md.contains("| A | 192 (100.0%) | 48 (25.0%) |"), "{md}");
    assert!(md.contains("![Position bias: always-a](figures/position-bias-0.svg)"));
    assert!(md.contains("Training strategies (study) beside own runs"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for id in ["position-bias-0", "reliability-0", "pairs"] {
        assert!(html.contains(&format!("id=\"fig-{id}\"")), "{id}");
        assert!(out.join(format!("figures/{id}.svg")).is_file(), "{id}");
    }

    // A model in neither the runs nor the published table: file, line and name.
    std::fs::write(&pairs, "oracle -> circ\n\nNo-Such-Model -> circ : x\n").unwrap();
    let e = write_report(&runs, None, &opts).unwrap_err().to_string();
    assert!(
        e.contains("pairs.txt") && e.contains("line 3") && e.contains("`No-Such-Model`"),
        "{e}"
    );
}
