//! Regression tests for what a reader of a report, leaderboard or comparison is told:
//! which runs are whole, which are not, which run is which, and what was measured.
//! Each test checks a figure a user reads (a rendered label, a count, a rank).

use std::path::Path;

use anesbench_core::manifest::RunInfo;
use anesbench_core::size::SizeSource;
use anesbench_core::{Lang, Level, SampleRecord};
use anesbench_report::compare::{compare_runs, CompareOptions};
use anesbench_report::fixture::{record, run_info, synthetic_records};
use anesbench_report::formats::Format;
use anesbench_report::leaderboard::{rank, to_csv, to_table, LeaderRow, RankBy};
use anesbench_report::model::Report;
use anesbench_report::published::published;
use anesbench_report::rundir::write_run_dir;
use anesbench_report::write::{write_report, ReportOptions};
use anesbench_report::RunDir;

fn report_md(runs: &[RunDir], out: &Path) -> String {
    let opts = ReportOptions {
        out_dir: out.to_path_buf(),
        formats: Format::parse_list("md,csv,json").unwrap(),
        include_incomplete: false,
        pairs: None,
    };
    write_report(runs, None, &opts).unwrap();
    std::fs::read_to_string(out.join("report.md")).unwrap()
}

fn zh_record(i: u32) -> SampleRecord {
    let mut r = record(&format!("zh-{i}"), Lang::Zh, Level::S1, Some('A'), 'A', 20);
    r.response = Some("答案是 A：麻醉诱导".into());
    r
}

fn leader_rows(runs: &[RunDir]) -> Vec<LeaderRow> {
    Report::new(runs, None)
        .runs
        .iter()
        .map(LeaderRow::from_run)
        .collect()
}

/// Defect 1: a run killed mid-write whose torn tail cuts a Chinese character.
#[test]
fn torn_tail_inside_a_chinese_character_reports_the_complete_records() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("zh-run");
    let recs: Vec<SampleRecord> = (0..5).map(zh_record).collect();
    let info = RunInfo {
        selected_items: 6,
        finished_at: None,
        ..run_info("Qwen2.5-7B-Instruct", None)
    };
    write_run_dir(&p, &info, &recs, false).unwrap();
    let mut bytes = std::fs::read(p.join("samples.jsonl")).unwrap();
    let sixth = serde_json::to_vec(&zh_record(5)).unwrap();
    let cut = sixth.windows(3).position(|w| w == "答".as_bytes()).unwrap() + 1;
    bytes.extend_from_slice(&sixth[..cut]);
    std::fs::write(p.join("samples.jsonl"), &bytes).unwrap();

    let run = RunDir::open(&p).expect("a torn tail is not an error");
    assert!(
        run.warnings.iter().any(|w| w.contains("torn last line")),
        "{:?}",
        run.warnings
    );
    let md = report_md(&[run], &d.path().join("report"));
    assert!(md.contains("5/6"), "5 of 6 samples done:\n{md}");
    assert!(md.contains("interrupted"), "{md}");
}

/// Defect 1: a complete (newline-terminated) last line that does not parse is corruption.
#[test]
fn complete_but_unparsable_last_line_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run");
    let recs = synthetic_records(2, [50, 50, 50], 0, &[Lang::En], [10, 10, 10]);
    write_run_dir(&p, &run_info("m-1B", None), &recs, false).unwrap();
    let mut text = std::fs::read_to_string(p.join("samples.jsonl")).unwrap();
    text.push_str("{\"id\": \"s2-9\", \"lang\": \"en\"}\n");
    std::fs::write(p.join("samples.jsonl"), &text).unwrap();
    let e = RunDir::open(&p).unwrap_err().to_string();
    assert!(
        e.contains("line 7") && e.contains("corrupt") && e.contains("s2-9"),
        "{e}"
    );
}

/// Two runs: a finished full run and a better-scoring run interrupted after 12 of 120.
fn finished_and_interrupted(root: &Path) -> Vec<RunDir> {
    let full = root.join("full");
    let recs = synthetic_records(40, [40, 40, 40], 0, &[Lang::En], [10, 10, 10]);
    let info = RunInfo {
        selected_items: 120,
        ..run_info("Qwen2.5-7B-Instruct", None)
    };
    write_run_dir(&full, &info, &recs, false).unwrap();
    let cut = root.join("cut");
    let recs = synthetic_records(4, [100, 100, 100], 0, &[Lang::En], [10, 10, 10]);
    let info = RunInfo {
        selected_items: 120,
        finished_at: None,
        ..run_info("Llama-3.3-70B-Instruct", None)
    };
    write_run_dir(&cut, &info, &recs, false).unwrap();
    vec![RunDir::open(&full).unwrap(), RunDir::open(&cut).unwrap()]
}

/// Defect 2: an interrupted 12-sample run ranked first in the leaderboard.
#[test]
fn interrupted_run_is_not_ranked_beside_finished_runs() {
    let d = tempfile::tempdir().unwrap();
    let runs = finished_and_interrupted(d.path());
    let rows = rank(leader_rows(&runs), RankBy::Overall);
    assert_eq!(rows[0].model, "Qwen2.5-7B-Instruct");
    assert_eq!(rows[0].rank, Some(1));
    let cut = rows.iter().find(|r| r.source == "run:cut").unwrap();
    assert_eq!(cut.rank, None, "{rows:?}");
    let table = to_table(&rows);
    let cut_line = table.lines().find(|l| l.contains("run:cut")).unwrap();
    assert!(
        cut_line.contains("12/120") && cut_line.contains("interrupted"),
        "{table}"
    );
    let full_line = table.lines().find(|l| l.contains("run:full")).unwrap();
    assert!(
        full_line.contains("120/120") && full_line.contains("complete"),
        "{table}"
    );
    let csv = to_csv(&rows);
    assert!(csv.contains(",12,120,interrupted"), "{csv}");

    // The report names the run with its counts and status too, and does not rank it.
    let md = report_md(&runs, &d.path().join("report"));
    assert!(md.contains("12/120") && md.contains("interrupted"), "{md}");
    let ranked = md.lines().find(|l| l.starts_with("| 1 |")).unwrap();
    assert!(ranked.contains("Qwen2.5-7B-Instruct"), "{md}");
}

/// Defect 2: a `--limit` run on the demo set listed beside the published table.
#[test]
fn demo_and_limit_runs_are_marked_beside_the_published_table() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("demo12");
    let recs = synthetic_records(4, [90, 90, 90], 0, &[Lang::En], [10, 10, 10]);
    let info = RunInfo {
        selected_items: 12,
        subset: vec!["limit 12".into()],
        ..run_info("Qwen2.5-7B-Instruct", None)
    };
    write_run_dir(&p, &info, &recs, false).unwrap();
    let runs = vec![RunDir::open(&p).unwrap()];
    let mut rows = leader_rows(&runs);
    rows.extend(
        published()
            .iter()
            .map(|e| LeaderRow::from_published(e, None)),
    );
    let rows = rank(rows, RankBy::En);
    let table = to_table(&rows);
    let line = table.lines().find(|l| l.contains("run:demo12")).unwrap();
    assert!(
        line.contains("subset: limit 12") && line.contains('\u{2020}'),
        "{table}"
    );
    assert!(
        table.contains("not comparable with the published scores")
            && table.contains("dataset `demo`"),
        "{table}"
    );
    let r = rows.iter().find(|r| r.source == "run:demo12").unwrap();
    assert_eq!(
        r.rank, None,
        "a limit run is not ranked beside the published table"
    );
}

/// Defect 3: a size guess an old parser wrote into the manifest never beats the name.
#[test]
fn recorded_size_guesses_never_beat_the_name_parser() {
    let d = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for (dir, model, recorded) in [
        (
            "qwen1m",
            "Qwen2.5-7B-Instruct-1M",
            (0.001, Some(SizeSource::Name)),
        ),
        ("mixtral", "Mixtral-8x7B", (7.0, None)),
    ] {
        let p = d.path().join(dir);
        let info = RunInfo {
            param_count_source: recorded.1,
            ..run_info(model, Some(recorded.0))
        };
        let recs = synthetic_records(3, [50, 50, 50], 0, &[Lang::En], [10, 10, 10]);
        write_run_dir(&p, &info, &recs, false).unwrap();
        runs.push(RunDir::open(&p).unwrap());
    }
    let md = report_md(&runs, &d.path().join("report"));
    assert!(md.contains("| 7B (from name) |"), "{md}");
    assert!(md.contains("| 56B (from name) |"), "{md}");
    let table = to_table(&rank(leader_rows(&runs), RankBy::Overall));
    let qwen = table.lines().find(|l| l.contains("run:qwen1m")).unwrap();
    assert!(qwen.contains("7 (from name)"), "{table}");
    let mixtral = table.lines().find(|l| l.contains("run:mixtral")).unwrap();
    assert!(mixtral.contains("56 (from name)"), "{table}");
}

fn four_gemma_runs(root: &Path) -> Vec<RunDir> {
    let model = "gemma-3-270m-q4_k_m.gguf";
    [
        ("cot-gen", "cot/0-shot", "generate"),
        ("direct-gen", "direct/0-shot", "generate"),
        ("direct-loglik", "direct/0-shot", "loglik"),
        ("cot5-gen", "cot/5-shot", "generate"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (dir, prompt, mode))| {
        let p = root.join(dir);
        let info = RunInfo {
            prompt: prompt.to_string(),
            mode: mode.to_string(),
            solver: if *mode == "loglik" {
                "loglik"
            } else {
                "greedy"
            }
            .into(),
            ..run_info(model, None)
        };
        let recs = synthetic_records(
            10,
            [30 + 10 * i as u32, 30, 20],
            i as u32,
            &[Lang::En, Lang::Zh],
            [50, 80, 120],
        );
        write_run_dir(&p, &info, &recs, false).unwrap();
        RunDir::open(&p).unwrap()
    })
    .collect()
}

/// Defect 4: four runs of one model were four identical rows and legend entries.
#[test]
fn four_runs_of_one_model_are_told_apart() {
    let d = tempfile::tempdir().unwrap();
    let runs = four_gemma_runs(d.path());
    let out = d.path().join("report");
    let md = report_md(&runs, &out);
    let labels = [
        "gemma-3-270m-q4_k_m.gguf (cot-gen; prompt=cot/0-shot, mode=generate, solver=greedy)",
        "gemma-3-270m-q4_k_m.gguf (direct-gen; prompt=direct/0-shot, mode=generate, solver=greedy)",
        "gemma-3-270m-q4_k_m.gguf (direct-loglik; prompt=direct/0-shot, mode=loglik, solver=loglik)",
        "gemma-3-270m-q4_k_m.gguf (cot5-gen; prompt=cot/5-shot, mode=generate, solver=greedy)",
    ];
    let svg = std::fs::read_to_string(out.join("figures/levels.svg")).unwrap();
    let csv = std::fs::read_to_string(out.join("report.csv")).unwrap();
    for l in labels {
        assert!(md.contains(&format!("| {l} |")), "{l} in\n{md}");
        assert!(svg.contains(l), "{l} in the levels legend");
        assert!(csv.contains(l), "{l} in\n{csv}");
    }
    let table = to_table(&rank(leader_rows(&runs), RankBy::Overall));
    for l in labels {
        assert!(table.contains(l), "{l} in\n{table}");
    }

    // compare names both runs by run name and settings.
    let c = compare_runs(&runs[0], &runs[1], &CompareOptions::default()).unwrap();
    let text = c.to_text();
    // Only the prompt differs between these two.
    assert!(
        text.contains("A: gemma-3-270m-q4_k_m.gguf (cot-gen; prompt=cot/0-shot)"),
        "{text}"
    );
    assert!(
        text.contains("B: gemma-3-270m-q4_k_m.gguf (direct-gen; prompt=direct/0-shot)"),
        "{text}"
    );
}

/// Defect 5: output-length tables of a loglik run, which generates no text.
#[test]
fn loglik_run_leaves_out_output_length_tables_and_says_why() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("ll");
    let info = RunInfo {
        mode: "loglik".into(),
        solver: "loglik".into(),
        ..run_info("Qwen2.5-7B-Instruct", None)
    };
    let recs = synthetic_records(3, [50, 50, 50], 0, &[Lang::En], [1, 1, 1]);
    write_run_dir(&p, &info, &recs, false).unwrap();
    let md = report_md(&[RunDir::open(&p).unwrap()], &d.path().join("report"));
    assert!(!md.contains("| Mean tokens |"), "{md}");
    assert!(
        md.contains("Output length: not shown") && md.contains("generates no text"),
        "{md}"
    );
}

/// `--include-incomplete`: the interrupted run is ranked, and still says what it is.
#[test]
fn include_incomplete_ranks_an_interrupted_run_with_its_status() {
    let d = tempfile::tempdir().unwrap();
    let runs = finished_and_interrupted(d.path());
    let rows = anesbench_report::leaderboard::rank_with(leader_rows(&runs), RankBy::Overall, true);
    assert_eq!(
        (rows[0].source.as_str(), rows[0].rank),
        ("run:cut", Some(1))
    );
    let table = to_table(&rows);
    let first = table.lines().nth(1).unwrap();
    assert!(
        first.contains("12/120") && first.contains("interrupted"),
        "{table}"
    );
    let report = Report::with_incomplete(&runs, None, true);
    let cut = report.runs.iter().find(|r| r.name == "cut").unwrap();
    assert_eq!(cut.rank, Some(1));
}
