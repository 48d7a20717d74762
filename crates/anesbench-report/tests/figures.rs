//! What the figures show, read back from their SVG: titles, tick labels, legend entries,
//! footnotes and the number of markers, for the cases a reviewer checks (two sizes, one
//! model run several times, a level without data, the published table).

use anesbench_report::plots::{render_svg, render_svg_at, scale_analysis, FigureKind, Width};
use anesbench_report::points::{ModelPoint, Score};
use anesbench_report::published::published;

fn sc(v: f64) -> Option<Score> {
    Some(Score {
        value: v,
        ci: Some(((v - 0.05).max(0.0), (v + 0.05).min(1.0))),
    })
}

fn point(
    label: &str,
    model: &str,
    size: Option<f64>,
    lv: [f64; 3],
    tokens: [f64; 3],
) -> ModelPoint {
    ModelPoint {
        label: label.into(),
        model: model.into(),
        levels_lang: "en".into(),
        size_b: size,
        levels: lv.map(sc),
        en: sc(lv[0]),
        zh: sc(lv[0] - 0.1),
        mean_tokens: tokens.map(Some),
        zh_is_amcqa: false,
    }
}

/// Every `<text>` of the SVG: (x, y, content).
fn texts(svg: &str) -> Vec<(f64, f64, String)> {
    let doc = roxmltree::Document::parse(svg).expect("SVG parses");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let num = |a: &str| n.attribute(a).and_then(|v| v.parse().ok()).unwrap_or(0.0);
            let t: String = n.children().filter_map(|c| c.text()).collect();
            (num("x"), num("y"), t.trim().to_string())
        })
        .collect()
}

fn has_text(svg: &str, s: &str) -> bool {
    texts(svg).iter().any(|t| t.2 == s)
}

fn text_containing(svg: &str, s: &str) -> Vec<String> {
    texts(svg)
        .into_iter()
        .map(|t| t.2)
        .filter(|t| t.contains(s))
        .collect()
}

/// Elements of a tag whose attribute `attr` equals `value`.
fn count(svg: &str, tag: &str, attr: &str, value: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name(tag) && n.attribute(attr) == Some(value))
        .count()
}

#[test]
fn scale_with_two_sizes_draws_points_and_no_line() {
    let pts = [
        point("a", "m-1B", Some(1.0), [0.5, 0.4, 0.3], [100.0; 3]),
        point("b", "m-7B", Some(7.0), [0.6, 0.5, 0.4], [100.0; 3]),
    ];
    let a = scale_analysis(&pts);
    assert!(
        a.fits.iter().all(Option::is_none),
        "no line through 2 sizes"
    );
    assert_eq!(a.distinct_sizes, 2);
    assert!(a.describe()[0].starts_with("2 model(s) drawn as points; no fitted line"));
    assert!(
        scale_analysis(&[]).describe().is_empty(),
        "a figure not drawn has no notes about points"
    );
    let svg = render_svg(FigureKind::Scale, &pts).unwrap();
    assert!(has_text(&svg, "System 1 (no line)"), "{:?}", texts(&svg));
    assert!(text_containing(&svg, "per decade").is_empty());
    assert!(text_containing(&svg, "R\u{b2}").is_empty());
    let foot = texts(&svg)
        .into_iter()
        .map(|t| t.2)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        foot.contains("no fitted line: 2 distinct model sizes, a fit needs at least 3"),
        "{foot}"
    );
    assert!(
        !foot.contains("\u{394}:"),
        "no gap is drawn, so the footnote names none"
    );
    // Two System 1 points plus the legend's own marker, all circles of radius 4.
    assert_eq!(count(&svg, "circle", "r", "4"), 3);
}

#[test]
fn scale_counts_four_runs_of_one_model_as_one_point() {
    let mut pts: Vec<ModelPoint> = (0..4)
        .map(|i| {
            let v = 0.3 + 0.02 * i as f64;
            point(
                &format!("gemma (run-{i})"),
                "gemma-3-270m",
                Some(0.27),
                [v, v, v],
                [50.0; 3],
            )
        })
        .collect();
    pts.push(point("q", "Qwen-7B", Some(7.0), [0.6, 0.5, 0.4], [80.0; 3]));
    pts.push(point(
        "l",
        "Llama-70B",
        Some(70.0),
        [0.7, 0.6, 0.5],
        [90.0; 3],
    ));
    let a = scale_analysis(&pts);
    assert_eq!(a.models, 3);
    assert_eq!(a.points[0].runs, 4);
    assert!(
        (a.points[0].levels[0].unwrap() - 0.33).abs() < 1e-12,
        "mean of the 4 runs"
    );
    assert_eq!(a.fits[0].unwrap().n, 3, "the fit counts models, not runs");
    let svg = render_svg(FigureKind::Scale, &pts).unwrap();
    // 3 System 1 points + 1 legend marker.
    assert_eq!(count(&svg, "circle", "r", "4"), 4);
    let all = texts(&svg)
        .into_iter()
        .map(|t| t.2)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        all.contains("runs averaged: gemma-3-270m (4 runs)"),
        "{all}"
    );
    assert!(
        all.contains("3 models (one point per model per level)"),
        "{all}"
    );
    for level in ["System 1", "System 1.x", "System 2"] {
        assert_eq!(
            text_containing(&svg, &format!("{level}: ")).len(),
            1,
            "one legend entry for {level}"
        );
    }
    assert!(has_text(
        &svg,
        "\u{394}: System 1 \u{2212} System 2 (fitted lines)"
    ));
    assert!(has_text(&svg, "Accuracy against model size, English items"));
}

#[test]
fn scale_from_the_published_table_has_decade_ticks_and_names_the_language() {
    let pts: Vec<ModelPoint> = published()
        .iter()
        .map(|e| ModelPoint::from_published(e, None))
        .collect();
    let svg = render_svg(FigureKind::Scale, &pts).unwrap();
    for tick in ["100M", "1B", "10B", "100B", "1T"] {
        assert!(has_text(&svg, tick), "tick {tick}");
    }
    for odd in ["251M", "398M", "3.2B", "316B"] {
        assert!(!has_text(&svg, odd), "no tick at {odd}");
    }
    assert!(has_text(
        &svg,
        "Accuracy against model size, English (AnesBench)"
    ));
    // 48 models of known size: one System 1 circle each, plus the legend's.
    assert_eq!(count(&svg, "circle", "r", "4"), 49);
    assert_eq!(text_containing(&svg, "per decade").len(), 3);
}

#[test]
fn lang_draws_both_intervals_from_zero_with_the_legend_below_the_data() {
    let pts = [
        point("a", "a", None, [0.5, 0.4, 0.3], [100.0; 3]),
        point("b", "b", None, [0.62, 0.5, 0.4], [100.0; 3]),
    ];
    let svg = render_svg(FigureKind::Lang, &pts).unwrap();
    // One interval (bar and two caps) per language per row: English blue, Chinese orange.
    assert_eq!(count(&svg, "polyline", "stroke", "#0072B2"), 6);
    assert_eq!(count(&svg, "polyline", "stroke", "#D55E00"), 6);
    assert!(has_text(&svg, "0%"), "the axis starts at 0");
    for entry in ["English", "Chinese", "95% Wilson interval"] {
        assert!(has_text(&svg, entry), "legend entry {entry}");
    }
    let axis_labels_y = texts(&svg).into_iter().find(|t| t.2 == "0%").unwrap().1;
    let legend_y = texts(&svg)
        .into_iter()
        .find(|t| t.2 == "95% Wilson interval")
        .unwrap()
        .1;
    assert!(
        legend_y > axis_labels_y + 20.0,
        "legend at y={legend_y}, below the x axis labels at {axis_labels_y}, off the data"
    );
}

#[test]
fn cot_marks_an_empty_panel_and_keeps_labels_inside_the_figure() {
    let mut a = point(
        "a-very-long-model-name-that-would-overrun (run-1; prompt=cot)",
        "a",
        Some(0.5),
        [0.5, 0.4, 0.3],
        [60.0, 90.0, 1.0],
    );
    a.mean_tokens[2] = None;
    let mut b = point("b", "b", Some(7.0), [0.6, 0.5, 0.4], [900.0, 950.0, 1.0]);
    b.mean_tokens[2] = None;
    for width in [Width::TwoColumn, Width::OneColumn] {
        let svg = render_svg_at(FigureKind::Cot, &[a.clone(), b.clone()], width).unwrap();
        assert_eq!(
            text_containing(&svg, "no data").len(),
            1,
            "System 2 has no data"
        );
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let w: f64 = doc
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap();
        // Rotated text (the y-axis title) runs vertically: left out.
        for n in doc
            .descendants()
            .filter(|n| n.has_tag_name("text") && n.attribute("transform").is_none())
        {
            let t: String = n.children().filter_map(|c| c.text()).collect();
            let t = t.trim();
            let x: f64 = n.attribute("x").unwrap().parse().unwrap();
            let size: f64 = n.attribute("font-size").unwrap().parse().unwrap();
            // DejaVu Sans averages under 0.6 em a glyph: a generous width.
            let tw = 0.6 * size * t.chars().count() as f64;
            let (l, r) = match n.attribute("text-anchor") {
                Some("middle") => (x - tw / 2.0, x + tw / 2.0),
                Some("end") => (x - tw, x),
                _ => (x, x + tw),
            };
            assert!(
                l >= -1.0 && r <= w + 1.0,
                "{t:?} spans {l:.0}..{r:.0}, figure is {w} wide"
            );
        }
        assert!(has_text(
            &svg,
            "Accuracy against mean output length (CoT length)"
        ));
        assert!(text_containing(&svg, "1 = a-very-long").len() == 1);
    }
}

#[test]
fn levels_marks_a_level_without_data_and_uses_readable_text() {
    let mut a = point("a", "a", None, [0.5, 0.4, 0.3], [1.0; 3]);
    a.levels[2] = None;
    let svg = render_svg(FigureKind::Levels, &[a]).unwrap();
    assert_eq!(text_containing(&svg, "no data").len(), 1);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let tick = doc
        .descendants()
        .find(|n| n.has_tag_name("text") && n.text().map(str::trim) == Some("System 1.x"))
        .unwrap();
    let size: f64 = tick
        .attribute("font-size")
        .unwrap()
        .trim_end_matches("px")
        .parse()
        .unwrap();
    // plotters writes 0.806 of the asked size: 15 px asked is 12.1 px, 7.4 pt at 7 in.
    assert!(size >= 12.0, "tick label font {size}");
    assert!(has_text(&svg, "a") && has_text(&svg, "95% Wilson interval"));
}
