//! `anesbench report`, `leaderboard` and `compare` run as a user would run them.

use std::path::Path;
use std::process::{Command, Output};

use anesbench_core::{Lang, Level};
use anesbench_report::fixture::{record, run_info, synthetic_records};
use anesbench_report::rundir::write_run_dir;

fn anesbench(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anesbench"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn make_runs(root: &Path) {
    let langs = [Lang::En, Lang::Zh];
    write_run_dir(
        &root.join("small"),
        &run_info("Qwen2.5-0.5B-Instruct", None),
        &synthetic_records(20, [40, 30, 20], 1, &langs, [100, 200, 300]),
        true,
    )
    .unwrap();
    write_run_dir(
        &root.join("big"),
        &run_info("Qwen2.5-72B-Instruct", None),
        &synthetic_records(20, [80, 60, 50], 2, &langs, [300, 500, 700]),
        false,
    )
    .unwrap();
}

#[test]
fn report_writes_every_format_and_figure() {
    let d = tempfile::tempdir().unwrap();
    make_runs(d.path());
    let o = anesbench(&["report", "small", "big", "--out", "rep"], d.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let listed = text(&o.stdout);
    for f in [
        "report.md",
        "report.html",
        "report.csv",
        "report.json",
        "figures/scale.svg",
        "figures/scale.pdf",
        "figures/scale.png",
        "figures/scale-1col.svg",
        "figures/scale-1col.pdf",
        "figures/scale-1col.png",
    ] {
        assert!(d.path().join("rep").join(f).is_file(), "{f}");
    }
    assert!(listed.contains("report.html"), "{listed}");
    let html = std::fs::read_to_string(d.path().join("rep/report.html")).unwrap();
    assert!(html.contains("Qwen2.5-72B-Instruct") && html.contains("<svg"));

    let o = anesbench(&["report", "small", "--format", "csv"], d.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(d.path().join("small/report/report.csv").is_file());

    let o = anesbench(&["report", "small", "--format", "pdf"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("unknown format `pdf`"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn leaderboard_ranks_runs_beside_published_and_draws_the_scale_figure() {
    let d = tempfile::tempdir().unwrap();
    make_runs(d.path());
    let o = anesbench(
        &["leaderboard", "--published", "--figure", "scale.svg"],
        d.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = text(&o.stdout);
    assert_eq!(table.lines().count(), 52, "header + 51 published rows");
    assert!(
        table.lines().nth(1).unwrap().contains("deepseek-r1"),
        "{table}"
    );
    let svg = std::fs::read_to_string(d.path().join("scale.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("48 models (one point per model per level)"));
    let o = anesbench(
        &["leaderboard", "--published", "--figure", "scale.pdf"],
        d.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(std::fs::read(d.path().join("scale.pdf"))
        .unwrap()
        .starts_with(b"%PDF-"));
    let err = text(&o.stderr);
    assert!(
        err.contains("System 2: acc =") && err.contains("3 model(s) of unknown size left out"),
        "{err}"
    );

    let o = anesbench(
        &["leaderboard", "small", "big", "--format", "csv"],
        d.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let csv = text(&o.stdout);
    let first = csv.lines().nth(1).unwrap();
    assert!(
        first.starts_with("1,Qwen2.5-72B-Instruct,run:big,72,"),
        "{csv}"
    );

    let o = anesbench(&["leaderboard"], d.path());
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn leaderboard_leaves_an_interrupted_run_unranked_unless_asked() {
    let d = tempfile::tempdir().unwrap();
    make_runs(d.path());
    let info = anesbench_core::manifest::RunInfo {
        selected_items: 120,
        finished_at: None,
        ..run_info("Llama-3.3-70B-Instruct", None)
    };
    write_run_dir(
        &d.path().join("cut"),
        &info,
        &synthetic_records(2, [100, 100, 100], 0, &[Lang::En, Lang::Zh], [10, 10, 10]),
        false,
    )
    .unwrap();
    let o = anesbench(&["leaderboard", "small", "big", "cut"], d.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = text(&o.stdout);
    let cut = table.lines().find(|l| l.contains("run:cut")).unwrap();
    assert!(
        cut.starts_with('-') && cut.contains("12/120") && cut.contains("interrupted"),
        "{table}"
    );
    assert!(table.contains("--include-incomplete"), "{table}");
    let o = anesbench(
        &["leaderboard", "small", "big", "cut", "--include-incomplete"],
        d.path(),
    );
    let table = text(&o.stdout);
    assert!(table.lines().nth(1).unwrap().contains("run:cut"), "{table}");

    let o = anesbench(&["compare", "big", "cut"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("not complete (12/120"),
        "{}",
        text(&o.stderr)
    );
    let o = anesbench(&["compare", "big", "cut", "--include-incomplete"], d.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("12/120 samples, interrupted"));
}

#[test]
fn compare_reports_paired_statistics_and_refuses_mismatched_gold() {
    let d = tempfile::tempdir().unwrap();
    make_runs(d.path());
    let o = anesbench(
        &[
            "compare",
            "big",
            "small",
            "--bootstrap",
            "2000",
            "--seed",
            "3",
            "--json",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&text(&o.stdout)).unwrap();
    assert_eq!(v["shared_items"], 120);
    assert!(v["overall"]["diff"].as_f64().unwrap() > 0.0);
    let again = anesbench(
        &[
            "compare",
            "big",
            "small",
            "--bootstrap",
            "2000",
            "--seed",
            "3",
            "--json",
        ],
        d.path(),
    );
    assert_eq!(o.stdout, again.stdout, "seeded bootstrap is deterministic");

    write_run_dir(
        &d.path().join("other"),
        &run_info("x", None),
        &[record("1-0", Lang::En, Level::S1, Some('B'), 'B', 5)],
        false,
    )
    .unwrap();
    let o = anesbench(&["compare", "big", "other"], d.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("item en:1-0: gold answer A"),
        "{}",
        text(&o.stderr)
    );
}
