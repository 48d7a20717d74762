//! Accuracy against compute in `anesbench report`: hand-computed accuracy, tokens,
//! requests and wall time per item for greedy, `sc:3` (one request with n=3 per item) and
//! `bon:3:likelihood` (three requests per item); paired intervals against greedy and
//! against Best-of-N at matched compute; the figure and the study's table.

use std::path::Path;

use anesbench_core::{Lang, Level, SampleRecord};
use anesbench_report::fixture::{record, run_info};
use anesbench_report::formats::Format;
use anesbench_report::rundir::write_run_dir;
use anesbench_report::write::{write_report, ReportOptions};
use anesbench_report::RunDir;

/// (id, lang, level, gold)
const ITEMS: [(&str, Lang, Level, char); 4] = [
    ("e1", Lang::En, Level::S1, 'A'),
    ("e2", Lang::En, Level::S1, 'B'),
    ("e3", Lang::En, Level::S2, 'C'),
    ("z1", Lang::Zh, Level::S1, 'A'),
];

/// Candidate `k` of an item: answer, tokens, mean logprob, latency ms, batch.
type Cand = (Option<char>, u32, f64, f64, Option<u32>);

fn records(cands: &[Vec<Cand>]) -> Vec<SampleRecord> {
    let mut out = Vec::new();
    for ((id, lang, level, gold), cs) in ITEMS.iter().zip(cands) {
        for (k, &(answer, tokens, lp, ms, batch)) in cs.iter().enumerate() {
            let mut r = record(id, *lang, *level, answer, *gold, tokens);
            r.sample = k as u32;
            r.mean_logprob = Some(lp);
            r.latency_ms = ms;
            r.batch = batch;
            out.push(r);
        }
    }
    out
}

fn write(dir: &Path, name: &str, solver: &str, n: u32, recs: &[SampleRecord]) -> RunDir {
    let mut info = run_info("policy-7b", Some(7.0));
    info.solver = solver.into();
    info.samples_per_item = n;
    info.temperature = Some(if n > 1 { 0.8 } else { 0.0 });
    let p = dir.join(name);
    write_run_dir(&p, &info, recs, true).unwrap();
    RunDir::open(&p).unwrap()
}

fn greedy() -> Vec<SampleRecord> {
    let one = |a: char, t: u32, ms: f64| vec![(Some(a), t, -0.5, ms, None)];
    // Right, wrong, wrong, right.
    records(&[
        one('A', 10, 100.0),
        one('C', 20, 200.0),
        one('D', 30, 300.0),
        one('A', 40, 400.0),
    ])
}

fn sc3() -> Vec<SampleRecord> {
    // One request with n=3 per item: each candidate carries the call's 600 ms.
    let c = |a: Option<char>, t: u32| (a, t, -0.5, 600.0, Some(3));
    records(&[
        vec![c(Some('A'), 10), c(Some('A'), 20), c(Some('B'), 30)], // A: right
        vec![c(Some('B'), 5), c(Some('B'), 5), c(Some('C'), 5)],    // B: right
        vec![c(Some('C'), 100), c(Some('D'), 100), c(Some('D'), 100)], // D: wrong
        vec![c(Some('A'), 1), c(None, 2), c(Some('A'), 4)],         // A: right
    ])
}

fn bon3() -> Vec<SampleRecord> {
    // Three requests per item, 100 ms each; the most likely candidate decides.
    let c = |a: char, lp: f64| (Some(a), 4, lp, 100.0, None);
    records(&[
        vec![c('A', -1.0), c('B', -0.5), c('A', -2.0)], // B: wrong
        vec![c('B', -0.1), c('C', -0.5), c('C', -0.6)], // B: right
        vec![c('C', -0.2), c('D', -0.5), c('D', -0.6)], // C: right
        vec![c('A', -0.3), c('B', -0.9), c('A', -0.4)], // A: right
    ])
}

fn report(runs: &[RunDir], out: &Path) -> (serde_json::Value, String) {
    write_report(
        runs,
        None,
        &ReportOptions {
            out_dir: out.to_path_buf(),
            formats: vec![Format::Markdown, Format::Json, Format::Html],
            include_incomplete: false,
            pairs: None,
        },
    )
    .unwrap();
    let json =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    (json, md)
}

fn row<'a>(j: &'a serde_json::Value, run: usize, lang: &str, level: &str) -> &'a serde_json::Value {
    j["compute"]["runs"][run]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["lang"] == lang && r["level"] == level)
        .unwrap_or_else(|| panic!("no row {lang}/{level}"))
}

fn close(v: &serde_json::Value, want: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"));
    assert!((got - want).abs() < 1e-9, "got {got}, want {want}");
}

#[test]
fn tokens_requests_and_wall_time_per_item_are_counted_from_the_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let runs = vec![
        write(dir.path(), "greedy", "greedy", 1, &greedy()),
        write(dir.path(), "sc3", "self-consistency:3", 3, &sc3()),
        write(dir.path(), "bon3", "best-of-n:3:likelihood", 3, &bon3()),
    ];
    let (j, md) = report(&runs, &dir.path().join("report"));
    let c = &j["compute"];
    assert_eq!(c["resamples"], 10_000);
    assert_eq!(c["seed"], 0);
    assert!(c["baseline"].as_str().unwrap().contains("greedy"));

    // Greedy, English: 1 of 3 right; (10 + 20 + 30) / 3 tokens; one request each;
    // (0.1 + 0.2 + 0.3) / 3 s.
    let g = row(&j, 0, "en", "all");
    assert_eq!(g["items"], 3);
    close(&g["accuracy"], 1.0 / 3.0);
    close(&g["tokens_per_item"], 20.0);
    close(&g["requests_per_item"], 1.0);
    close(&g["wall_s_per_item"], 0.2);
    assert!(g["vs_greedy"].is_null(), "no interval against itself");

    // sc:3, every item: 3 of 4 right; (60 + 15 + 300 + 7) / 4 = 95.5 tokens; each item
    // one request (3 x 1/3) and 0.6 s (3 x 0.6 / 3).
    let s = row(&j, 1, "all", "all");
    assert_eq!(s["items"], 4);
    close(&s["accuracy"], 0.75);
    close(&s["tokens_per_item"], 95.5);
    close(&s["requests_per_item"], 1.0);
    close(&s["wall_s_per_item"], 0.6);
    // System 2 (e3 alone): 300 tokens, wrong.
    let s2 = row(&j, 1, "all", "system2");
    close(&s2["tokens_per_item"], 300.0);
    close(&s2["accuracy"], 0.0);

    // sc:3 against greedy on all four: right on e2 where greedy is wrong: +0.25. One
    // discordant item out of four: the interval reaches 0, not significant.
    let v = &s["vs_greedy"];
    close(&v["diff"], 0.25);
    assert_eq!(v["items"], 4);
    let (lo, hi) = (
        v["ci_low"].as_f64().unwrap(),
        v["ci_high"].as_f64().unwrap(),
    );
    assert!(lo <= 0.25 && 0.25 <= hi, "[{lo}, {hi}]");
    close(&v["ci_low"], 0.0);
    assert_eq!(v["significant"], false);
    close(&v["mcnemar_p"], 1.0);

    // bon:3: three requests per item, 0.3 s, 4 tokens per candidate; B, B, C, A: 3 of 4.
    let b = row(&j, 2, "all", "all");
    close(&b["requests_per_item"], 3.0);
    close(&b["wall_s_per_item"], 0.3);
    close(&b["tokens_per_item"], 12.0);
    close(&b["accuracy"], 0.75);
    assert!(
        b["vs_bon"].is_null(),
        "Best-of-N is not matched against itself"
    );
    // sc:3 against bon:3 (matched: three candidates each): sc right on e1, bon on e3.
    let sb = &s["vs_bon"];
    assert!(sb["against"].as_str().unwrap().contains("bon3"), "{sb}");
    close(&sb["diff"], 0.0);
    assert_eq!(sb["significant"], false);
    // Greedy has one candidate per item, and 25 tokens per item against bon's 12 is more
    // than a factor of two apart: no Best-of-N run at matched compute.
    assert!(row(&j, 0, "all", "all")["vs_bon"].is_null());

    // The Markdown table shows the same numbers.
    assert!(md.contains("## Accuracy against compute"), "{md}");
    assert!(md.contains("10000 resamples, seed 0"));
    let sc_line = md
        .lines()
        .find(|l| l.contains("self-consistency:3") && l.contains("| All | All levels |"))
        .unwrap();
    assert!(
        sc_line.contains("| 4 | 75.0% | 95.5 | 1.000 | 0.000 | 0.600 | +25.0 pts [+0.0, "),
        "{sc_line}"
    );
    // The figure and the study's table beside it, with its source.
    assert_eq!(c["figure"], "figures/compute.svg");
    let svg = std::fs::read_to_string(dir.path().join("report/figures/compute.svg")).unwrap();
    assert!(svg.contains("Generated tokens per item (log scale)"));
    assert!(md.contains("![Accuracy against generated tokens per item](figures/compute.svg)"));
    assert!(md.contains("| Best-of-N | N=4 | 51.5% |"));
    assert!(md.contains("| none | greedy | 51.2% |"));
    assert!(md.contains("tree width 8, beam 8, 32 step tokens | 52.4% |"));
    assert!(md.contains("arXiv 2504.02404"));
    assert_eq!(c["published"].as_array().unwrap().len(), 5);
    assert!(md.contains("Best-of-N at matched compute for"));
    let html = std::fs::read_to_string(dir.path().join("report/report.html")).unwrap();
    let sec = &html[html.find("<h2 id=\"compute\">").expect("HTML section")..];
    assert!(
        sec.contains("<td>95.5</td>") && sec.contains("<svg"),
        "{sec}"
    );
    assert!(sec.contains("<td>N=8</td><td>51.5%</td>"));
}

#[test]
fn a_difference_on_every_item_is_significant() {
    let dir = tempfile::tempdir().unwrap();
    // 40 items of System 1, greedy wrong on every one, sc:3 right on every one.
    let mk = |right: bool, n: u32| -> Vec<SampleRecord> {
        (0..40)
            .flat_map(|i| {
                (0..n).map(move |k| {
                    let mut r = record(
                        &format!("q{i}"),
                        Lang::En,
                        Level::S1,
                        Some(if right { 'A' } else { 'B' }),
                        'A',
                        8,
                    );
                    r.sample = k;
                    r
                })
            })
            .collect()
    };
    let runs = vec![
        write(dir.path(), "greedy", "greedy", 1, &mk(false, 1)),
        write(dir.path(), "sc3", "self-consistency:3", 3, &mk(true, 3)),
    ];
    let (j, md) = report(&runs, &dir.path().join("report"));
    let v = &row(&j, 1, "en", "system1")["vs_greedy"];
    close(&v["diff"], 1.0);
    close(&v["ci_low"], 1.0);
    close(&v["ci_high"], 1.0);
    assert_eq!(v["significant"], true);
    assert!(md.contains("+100.0 pts [+100.0, +100.0]* (n=40"), "{md}");
    close(&row(&j, 1, "en", "system1")["tokens_per_item"], 24.0);
}

#[test]
fn runs_of_one_strategy_get_no_compute_section() {
    let dir = tempfile::tempdir().unwrap();
    let runs = vec![
        write(dir.path(), "a", "greedy", 1, &greedy()),
        write(dir.path(), "b", "greedy", 1, &greedy()),
    ];
    let (j, md) = report(&runs, &dir.path().join("report"));
    assert!(j.get("compute").is_none());
    assert!(!md.contains("Accuracy against compute"));
    assert!(!dir.path().join("report/figures/compute.svg").exists());
}

/// Defect: a beam search's records carry the whole search's cost (`compute`, on
/// candidate 0: pruned branches, every request, reward calls) but the report summed only
/// the final candidates' completion tokens and `1/batch`, so a 4-beam search read as one
/// request and the final beams' tokens per item. The report now takes `compute`.
#[test]
fn a_beam_search_is_charged_its_whole_search_not_its_final_candidates() {
    let dir = tempfile::tempdir().unwrap();
    // Two final beams per item, each with 5 tokens and batch 2; the search itself made 7
    // policy requests and 3 reward calls, generated 120 tokens and took 900 ms.
    let c = |a: char| (Some(a), 5, -0.5, 300.0, Some(2));
    let mut recs = records(&[
        vec![c('A'), c('A')],
        vec![c('B'), c('B')],
        vec![c('D'), c('D')],
        vec![c('A'), c('A')],
    ]);
    for r in &mut recs {
        r.compute = Some(anesbench_core::record::Compute {
            generated_tokens: if r.sample == 0 { 120 } else { 0 },
            requests: if r.sample == 0 { 7 } else { 0 },
            reward_calls: if r.sample == 0 { 3 } else { 0 },
            reward_input_tokens: 0,
            wall_ms: if r.sample == 0 { 900.0 } else { 0.0 },
        });
    }
    let runs = vec![
        write(dir.path(), "greedy", "greedy", 1, &greedy()),
        write(dir.path(), "beam", "beam:2,2,16:last:max", 2, &recs),
    ];
    let (j, md) = report(&runs, &dir.path().join("rep"));
    let b = row(&j, 1, "all", "all");
    close(&b["tokens_per_item"], 120.0);
    close(&b["requests_per_item"], 7.0);
    close(&b["reward_calls_per_item"], 3.0);
    close(&b["wall_s_per_item"], 0.9);
    // The greedy run has no `compute`: counted from its candidates, no reward calls.
    close(&row(&j, 0, "all", "all")["reward_calls_per_item"], 0.0);
    assert!(md.contains("Reward calls/item"));
}
