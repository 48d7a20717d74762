//! Figure (d): accuracy against log mean output length, one panel per level, colour for
//! model size (dark = small, light = large; grey = unknown). A level without data is
//! drawn as a panel marked "no data".

use anesbench_core::Level;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{
    padded, params_label, percent, text, text_at, tokens_label, wrap_lines, FONT_FAMILY,
};
use super::DrawResult;
use crate::points::ModelPoint;

/// Viridis-like ramp between three anchors, `t` in [0, 1].
fn ramp(t: f64) -> RGBColor {
    const A: [(f64, f64, f64); 3] = [
        (68.0, 1.0, 84.0),
        (33.0, 145.0, 140.0),
        (220.0, 200.0, 30.0),
    ];
    let t = t.clamp(0.0, 1.0) * 2.0;
    let (i, f) = if t >= 2.0 {
        (1, 1.0)
    } else {
        (t.floor() as usize, t.fract())
    };
    let (a, b) = (A[i], A[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, pts: &[ModelPoint]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let sizes: Vec<f64> = pts
        .iter()
        .filter_map(|p| p.size_b)
        .filter(|b| *b > 0.0)
        .map(f64::log10)
        .collect();
    let (smin, smax) = sizes
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let colour = |p: &ModelPoint| match p.size_b.filter(|b| *b > 0.0) {
        Some(b) if smax > smin => ramp((b.log10() - smin) / (smax - smin)),
        Some(_) => ramp(0.5),
        None => RGBColor(150, 150, 150),
    };
    let xs = pts.iter().flat_map(|p| {
        p.mean_tokens
            .iter()
            .flatten()
            .filter(|t| **t > 0.0)
            .map(|t| t.log10())
    });
    let (xlo, xhi) = padded(xs, 0.15, -1.0, 7.0);
    let ys = pts
        .iter()
        .flat_map(|p| p.levels.iter().flatten().map(|s| s.value));
    let (ylo, yhi) = padded(ys, 0.08, 0.0, 1.0);
    // Points are numbered and the numbers named in the key below: a model name next to
    // its point would run over the panel's edge.
    let label_points = pts.len() <= 12;
    let mut notes = Vec::new();
    if label_points {
        notes.push(
            pts.iter()
                .enumerate()
                .map(|(i, p)| format!("{} = {}", i + 1, p.label))
                .collect::<Vec<_>>()
                .join(";  "),
        );
    }
    notes.push(if sizes.is_empty() {
        "colour: model size unknown".to_string()
    } else {
        format!(
            "colour: model size, dark purple = {} ... yellow = {}; grey = unknown",
            params_label(&smin),
            params_label(&smax)
        )
    });
    let (w, h) = root.dim_in_pixel();
    let foot_text = wrap_lines(&notes, w, 12);
    let foot_h = 8 + 17 * foot_text.len() as u32;
    let (titled, foot) = root.split_vertically(h - foot_h);
    let body = titled.titled(
        "Accuracy against mean output length (CoT length)",
        (FONT_FAMILY, 18),
    )?;
    // Three panels side by side, or stacked where the figure is narrow (one column).
    let grid = if w < 700 { (3, 1) } else { (1, 3) };
    for (j, panel) in body.split_evenly(grid).iter().enumerate() {
        let first = j == 0 || grid.1 == 1;
        let mut chart = ChartBuilder::on(panel)
            .caption(Level::ALL[j].name(), (FONT_FAMILY, 15))
            .margin(10)
            .x_label_area_size(44)
            .y_label_area_size(if first { 60 } else { 44 })
            .build_cartesian_2d(xlo..xhi, ylo..yhi)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(BLACK.mix(0.1))
            .x_labels(5)
            .y_labels(6)
            .x_label_formatter(&tokens_label)
            .y_label_formatter(&percent)
            .x_desc("Mean output tokens (log scale)")
            .y_desc(if first { "Accuracy" } else { "" })
            .label_style(text(13))
            .axis_desc_style(text(14))
            .draw()?;
        let here: Vec<(f64, f64, usize, &ModelPoint)> = pts
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let t = p.mean_tokens[j].filter(|t| *t > 0.0)?;
                Some((t.log10(), p.levels[j]?.value, i, p))
            })
            .collect();
        if here.is_empty() {
            chart.draw_series([Text::new(
                "no data".to_string(),
                ((xlo + xhi) / 2.0, (ylo + yhi) / 2.0),
                text_at(15, HPos::Center, VPos::Center).color(&RGBColor(120, 120, 120)),
            )])?;
            continue;
        }
        chart.draw_series(
            here.iter()
                .map(|(x, y, _, p)| Circle::new((*x, *y), 6, colour(p).filled())),
        )?;
        chart.draw_series(
            here.iter()
                .map(|(x, y, _, _)| Circle::new((*x, *y), 6, BLACK.mix(0.5).stroke_width(1))),
        )?;
        if label_points {
            chart.draw_series(here.iter().map(|(x, y, i, _)| {
                EmptyElement::at((*x, *y))
                    + Text::new(
                        (i + 1).to_string(),
                        (8, -8),
                        text_at(12, HPos::Left, VPos::Center),
                    )
            }))?;
        }
    }
    for (i, line) in foot_text.iter().enumerate() {
        foot.draw_text(line, &text(12), (16, 4 + 17 * i as i32))?;
    }
    Ok(())
}
