//! Reports written from run directories built here: snapshots of Markdown and CSV,
//! the SVG figures parse as XML, the HTML is self-contained, PNGs are real images.

use anesbench_core::Lang;
use anesbench_report::fixture::{run_info, synthetic_records};
use anesbench_report::formats::Format;
use anesbench_report::rundir::write_run_dir;
use anesbench_report::write::{write_report, ReportOptions};
use anesbench_report::RunDir;

fn runs(root: &std::path::Path) -> Vec<RunDir> {
    let specs = [
        ("small", "Qwen2.5-0.5B-Instruct", [40, 30, 20], 1, 120),
        ("mid", "Qwen2.5-7B-Instruct", [60, 45, 35], 2, 300),
        ("big", "Llama-3.3-70B-Instruct", [75, 60, 50], 3, 600),
    ];
    specs
        .iter()
        .map(|(dir, model, skill, salt, tok)| {
            let p = root.join(dir);
            let recs = synthetic_records(
                30,
                *skill,
                *salt,
                &[Lang::En, Lang::Zh],
                [*tok, tok * 2, tok * 3],
            );
            write_run_dir(&p, &run_info(model, None), &recs, *dir != "mid").unwrap();
            RunDir::open(&p).unwrap()
        })
        .collect()
}

fn redact(text: &str, root: &std::path::Path) -> String {
    text.replace(&root.display().to_string(), "[ROOT]")
        .lines()
        .map(|l| match l.split(" | ").next() {
            Some("| started") => "| started | [TIME] |".to_string(),
            Some("| finished") => "| finished | [TIME] |".to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn markdown_csv_json_html_and_figures() {
    let d = tempfile::tempdir().unwrap();
    let runs = runs(d.path());
    let out = d.path().join("report");
    let opts = ReportOptions {
        out_dir: out.clone(),
        formats: Format::parse_list("md,csv,json,html").unwrap(),
        include_incomplete: false,
        pairs: None,
    };
    let written = write_report(&runs, None, &opts).unwrap();
    for f in ["report.md", "report.csv", "report.json", "report.html"] {
        assert!(written.contains(&out.join(f)), "{f} in {written:?}");
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    insta::assert_snapshot!("report_md", redact(&md, d.path()));
    let csv = std::fs::read_to_string(out.join("report.csv")).unwrap();
    insta::assert_snapshot!("report_csv", redact(&csv, d.path()));

    for id in ["levels", "scale", "lang", "cot"] {
        let svg = std::fs::read_to_string(out.join("figures").join(format!("{id}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{id}.svg: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        assert!(svg.contains("<text"), "{id}.svg has text");
        // PNG at 300 dpi: 7 in = 2100 px, 3.5 in = 1050 px wide, with pHYs saying so.
        for (suffix, px) in [("", 2100u32), ("-1col", 1050)] {
            let png = std::fs::read(out.join("figures").join(format!("{id}{suffix}.png"))).unwrap();
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{id}{suffix}.png");
            assert_eq!(&png[12..16], b"IHDR");
            let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
            assert_eq!(w, px, "{id}{suffix}.png width");
            let phys = png
                .windows(4)
                .position(|x| x == b"pHYs")
                .expect("pHYs chunk");
            let ppm = u32::from_be_bytes(png[phys + 4..phys + 8].try_into().unwrap());
            assert_eq!(ppm, 11811, "300 dpi in pixels per metre");
            let pdf = std::fs::read(out.join("figures").join(format!("{id}{suffix}.pdf"))).unwrap();
            assert!(pdf.starts_with(b"%PDF-"), "{id}{suffix}.pdf");
            // Vector: text is embedded as a font, not a picture of it.
            let body = String::from_utf8_lossy(&pdf);
            assert!(
                body.contains("/FontFile2") || body.contains("/Font"),
                "{id}{suffix}.pdf has fonts"
            );
            assert!(
                !body.contains("/Subtype /Image") && !body.contains("/Subtype/Image"),
                "{id}{suffix}.pdf is not a raster"
            );
        }
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4);
    for external in ["<script", "<link", "src=\"http", "href=\"http", "@import"] {
        assert!(
            !html.contains(external),
            "HTML must be self-contained: {external}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 3);
    assert_eq!(json["runs"][1]["param_count_b"], 7.0);
    assert_eq!(json["figures"][1]["kind"], "scale");
}

#[test]
fn torn_last_line_and_missing_summary_are_tolerated_but_a_broken_middle_line_is_not() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run");
    let recs = synthetic_records(5, [50, 50, 50], 0, &[Lang::En], [10, 10, 10]);
    write_run_dir(&p, &run_info("m-1B", None), &recs, false).unwrap();
    let mut text = std::fs::read_to_string(p.join("samples.jsonl")).unwrap();
    text.push_str("{\"id\":\"torn\",\"lang\":\"en\",\"lev");
    std::fs::write(p.join("samples.jsonl"), &text).unwrap();
    let run = RunDir::open(&p).unwrap();
    assert_eq!(run.records.len(), 15);
    assert_eq!(run.summary.samples, 15);
    assert!(
        run.warnings.iter().any(|w| w.contains("torn last line")),
        "{:?}",
        run.warnings
    );

    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(3, "{\"id\": \"1-9\", \"lang\": 7}");
    std::fs::write(p.join("samples.jsonl"), lines.join("\n")).unwrap();
    let e = RunDir::open(&p).unwrap_err().to_string();
    assert!(
        e.contains("samples.jsonl: line 4") && e.contains("id \"1-9\""),
        "{e}"
    );

    let empty = d.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(RunDir::open(&empty)
        .unwrap_err()
        .to_string()
        .contains("not a run directory"));
}

#[test]
fn a_resumed_sample_replaces_its_failed_attempt() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("run");
    let mut recs = synthetic_records(3, [100, 100, 100], 0, &[Lang::En], [10, 10, 10]);
    let mut failed = recs[0].clone();
    failed.error = Some("HTTP 500".into());
    failed.answer = None;
    failed.correct = false;
    recs.insert(0, failed);
    write_run_dir(&p, &run_info("m", None), &recs, false).unwrap();
    let run = RunDir::open(&p).unwrap();
    assert_eq!(run.summary.samples, 9);
    assert_eq!(run.summary.overall.errors, 0);
    assert_eq!(run.summary.overall.correct, 9);
}
