//! Figure (c): English against Chinese score per model. Each row is a run (or a
//! published model): its English score above, its Chinese score below, each with its
//! 95% interval, joined by a line coloured by the direction of the change.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{
    shorten, text, text_width, wrap_lines, Legend, LegendGlyph, FONT_FAMILY, SERIES,
};
use super::DrawResult;
use crate::points::{ModelPoint, Score};

struct Row<'a> {
    label: &'a str,
    en: Score,
    zh: Score,
}

fn rows(pts: &[ModelPoint]) -> Vec<Row<'_>> {
    let mut r: Vec<Row<'_>> = pts
        .iter()
        .filter_map(|p| {
            Some(Row {
                label: p.label.as_str(),
                en: p.en?,
                zh: p.zh?,
            })
        })
        .collect();
    // Best English score at the top: rows are drawn bottom-up.
    r.sort_by(|a, b| {
        a.en.value
            .total_cmp(&b.en.value)
            .then_with(|| b.label.cmp(a.label))
    });
    r
}

pub fn height(pts: &[ModelPoint]) -> u32 {
    (170 + 30 * rows(pts).len() as u32).max(300)
}

/// Offset of the English (up) and Chinese (down) marker from the row's centre.
const OFF: f64 = 0.18;

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, pts: &[ModelPoint]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let rows = rows(pts);
    let n = rows.len();
    let amcqa = pts.iter().any(|p| p.zh_is_amcqa);
    let zh_name = if amcqa {
        "Chinese (AMCQA, published)"
    } else {
        "Chinese"
    };
    let en_name = if amcqa {
        "English (AnesBench)"
    } else {
        "English"
    };
    let any_ci = rows.iter().any(|r| r.en.ci.is_some() || r.zh.ci.is_some());
    let (en_c, zh_c) = (SERIES[0], SERIES[1]);
    let mut legend = Legend::default();
    legend.push(
        en_name.into(),
        LegendGlyph::Dot {
            color: en_c,
            filled: true,
        },
    );
    legend.push(
        zh_name.into(),
        LegendGlyph::Dot {
            color: zh_c,
            filled: false,
        },
    );
    if any_ci {
        legend.push("95% Wilson interval".into(), LegendGlyph::Whisker);
    }
    let mut notes =
        vec!["line: green where Chinese is at or above English, grey where below".to_string()];
    if rows.iter().any(|r| r.en.ci.is_none() && r.zh.ci.is_none()) {
        notes.push("published scores come without intervals".into());
    }
    let (w, h) = root.dim_in_pixel();
    let foot = wrap_lines(&[notes.join("; ")], w, 12);
    let foot_h = 8 + 17 * foot.len() as u32;
    let legend_h = legend.height(w, 16);
    let (main, rest) = root.split_vertically(h - legend_h - foot_h);
    let (legend_area, foot_area) = rest.split_vertically(legend_h);

    // From 0, so a few points of difference are not drawn as a chasm; up to the highest
    // interval end, rounded up to 10%.
    let top = rows
        .iter()
        .flat_map(|r| [r.en, r.zh])
        .map(|s| s.ci.map_or(s.value, |c| c.1.max(s.value)))
        .fold(0.0f64, f64::max);
    let xhi = ((top + 0.05) * 10.0).ceil().min(10.0) / 10.0;
    let label_w = (w as f64 * 0.45) as u32;
    let max_chars = ((label_w - 16) as f64 / (13.0 * 0.5)) as usize;
    let labels: Vec<String> = rows.iter().map(|r| shorten(r.label, max_chars)).collect();
    let longest = labels.iter().map(|l| text_width(l, 13)).max().unwrap_or(40);
    let mut chart = ChartBuilder::on(&main)
        .caption(
            "Language transfer: English \u{2192} Chinese accuracy",
            (FONT_FAMILY, 18),
        )
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size((longest + 16).min(label_w))
        .build_cartesian_2d(0f64..xhi, -0.6f64..(n as f64 - 0.4))?;
    let row_label = move |y: &f64| {
        let i = y.round();
        if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
            labels[i as usize].clone()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.08))
        .x_labels(11)
        .y_labels(n + 1)
        .x_label_formatter(&super::style::percent)
        .y_label_formatter(&row_label)
        .x_desc("Accuracy")
        .label_style(text(13))
        .axis_desc_style(text(15))
        .draw()?;
    let up = RGBColor(0, 130, 90);
    let down = RGBColor(150, 150, 150);
    for (i, r) in rows.iter().enumerate() {
        let y = i as f64;
        let c = if r.zh.value >= r.en.value { up } else { down };
        chart.draw_series([PathElement::new(
            vec![(r.en.value, y + OFF), (r.zh.value, y - OFF)],
            c.stroke_width(2),
        )])?;
        for (s, dy, col) in [(r.en, OFF, en_c), (r.zh, -OFF, zh_c)] {
            if let Some((lo, hi)) = s.ci {
                let st = col.stroke_width(1);
                let yy = y + dy;
                chart.draw_series([
                    PathElement::new(vec![(lo, yy), (hi, yy)], st),
                    PathElement::new(vec![(lo, yy - 0.07), (lo, yy + 0.07)], st),
                    PathElement::new(vec![(hi, yy - 0.07), (hi, yy + 0.07)], st),
                ])?;
            }
        }
    }
    chart.draw_series(
        rows.iter()
            .enumerate()
            .map(|(i, r)| Circle::new((r.en.value, i as f64 + OFF), 5, en_c.filled())),
    )?;
    chart.draw_series(
        rows.iter()
            .enumerate()
            .map(|(i, r)| Circle::new((r.zh.value, i as f64 - OFF), 5, zh_c.stroke_width(2))),
    )?;
    legend.draw(&legend_area, 16)?;
    for (i, line) in foot.iter().enumerate() {
        foot_area.draw_text(line, &text(12), (16, 4 + 17 * i as i32))?;
    }
    Ok(())
}
