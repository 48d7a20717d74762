//! Figure (c): English against Chinese score per model, one arrow per model from its
//! English to its Chinese score.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{padded, percent, text, FONT_FAMILY, SERIES};
use super::DrawResult;
use crate::points::ModelPoint;

fn rows(pts: &[ModelPoint]) -> Vec<(&str, f64, f64)> {
    let mut r: Vec<(&str, f64, f64)> = pts
        .iter()
        .filter_map(|p| Some((p.label.as_str(), p.en?.value, p.zh?.value)))
        .collect();
    // Best English score at the top: rows are drawn bottom-up.
    r.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(a.0)));
    r
}

pub fn height(pts: &[ModelPoint]) -> u32 {
    (130 + 22 * rows(pts).len() as u32).max(260)
}

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
    let (xlo, xhi) = padded(rows.iter().flat_map(|r| [r.1, r.2]), 0.04, 0.0, 1.0);
    let longest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(4) as u32;
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Language transfer: English \u{2192} Chinese accuracy",
            (FONT_FAMILY, 18),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size((longest * 7 + 16).min(320))
        .build_cartesian_2d(xlo..xhi, -0.7f64..(n as f64 - 0.3))?;
    let labels: Vec<String> = rows.iter().map(|r| r.0.to_string()).collect();
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
        .x_labels(8)
        .y_labels(n + 1)
        .x_label_formatter(&percent)
        .y_label_formatter(&row_label)
        .x_desc("Accuracy")
        .label_style(text(12))
        .axis_desc_style(text(14))
        .draw()?;
    let (en_c, zh_c) = (SERIES[0], SERIES[1]);
    let up = RGBColor(0, 130, 90);
    let down = RGBColor(150, 150, 150);
    for (i, &(_, en, zh)) in rows.iter().enumerate() {
        let y = i as f64;
        let c = if zh >= en { up } else { down };
        chart.draw_series([PathElement::new(vec![(en, y), (zh, y)], c.stroke_width(2))])?;
        // Arrow head at the Chinese end, drawn in pixels so it keeps its shape.
        let dir = if zh >= en { -1 } else { 1 };
        if (zh - en).abs() > 0.004 {
            chart.draw_series([EmptyElement::at((zh, y))
                + Polygon::new(
                    vec![(dir * 6, 0), (dir * 15, -5), (dir * 15, 5)],
                    c.filled(),
                )])?;
        }
    }
    chart
        .draw_series(
            rows.iter()
                .enumerate()
                .map(|(i, r)| Circle::new((r.1, i as f64), 5, en_c.filled())),
        )?
        .label(en_name)
        .legend(move |(x, y)| Circle::new((x + 8, y), 5, en_c.filled()));
    chart
        .draw_series(
            rows.iter()
                .enumerate()
                .map(|(i, r)| Circle::new((r.2, i as f64), 5, zh_c.stroke_width(2))),
        )?
        .label(zh_name)
        .legend(move |(x, y)| Circle::new((x + 8, y), 5, zh_c.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .label_font(text(12))
        .draw()?;
    Ok(())
}
