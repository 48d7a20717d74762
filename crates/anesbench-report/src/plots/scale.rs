//! Figure (b), the study's Figure 2: score per level against log10 model size, a
//! least-squares line per level, and the System 1 - System 2 gap of the fitted lines
//! marked at the smallest and the largest size.

use anesbench_core::Level;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde::Serialize;

use super::style::{padded, params_label, percent, text, text_at, FONT_FAMILY, LEVEL_COLORS};
use super::DrawResult;
use crate::points::ModelPoint;
use crate::stats::{fit_line, Line};

/// The numbers behind figure (b).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleAnalysis {
    /// Fit of accuracy on log10(billions) for System 1, 1.x, 2.
    pub fits: [Option<Line>; 3],
    /// Models with a known size that were fitted.
    pub models: usize,
    /// Models left out because their size is unknown.
    pub left_out: Vec<String>,
    /// log10(billions) of the smallest and largest fitted model.
    pub x_range: Option<(f64, f64)>,
    /// Fitted System 1 minus fitted System 2 at the smallest and at the largest size.
    pub gap_at_min: Option<f64>,
    pub gap_at_max: Option<f64>,
}

/// Fit the lines. A model enters a level's fit when it has a known size and a score there.
pub fn scale_analysis(pts: &[ModelPoint]) -> ScaleAnalysis {
    let mut left_out = Vec::new();
    let mut sized = Vec::new();
    for p in pts {
        match p.size_b.filter(|b| *b > 0.0) {
            Some(b) => sized.push((b.log10(), p)),
            None => left_out.push(p.label.clone()),
        }
    }
    let fits = [0, 1, 2].map(|j| {
        let (xs, ys): (Vec<f64>, Vec<f64>) = sized
            .iter()
            .filter_map(|(x, p)| p.levels[j].map(|s| (*x, s.value)))
            .unzip();
        fit_line(&xs, &ys)
    });
    let x_range = (!sized.is_empty()).then(|| {
        sized
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| {
                (a.min(*x), b.max(*x))
            })
    });
    let gap = |x: f64| match (&fits[0], &fits[2]) {
        (Some(a), Some(c)) => Some(a.at(x) - c.at(x)),
        _ => None,
    };
    ScaleAnalysis {
        gap_at_min: x_range.and_then(|r| gap(r.0)),
        gap_at_max: x_range.and_then(|r| gap(r.1)),
        fits,
        models: sized.len(),
        left_out,
        x_range,
    }
}

impl ScaleAnalysis {
    /// One line per level: `System 1: acc = 0.30 + 0.19 * log10(B) (n=47, R^2=0.62)`.
    pub fn describe(&self) -> Vec<String> {
        let mut out: Vec<String> = Level::ALL
            .iter()
            .zip(&self.fits)
            .filter_map(|(l, f)| {
                f.map(|f| {
                    format!(
                        "{}: acc = {:.4} {} {:.4} * log10(params in B) (n={}, R^2={:.3})",
                        l.name(),
                        f.intercept,
                        if f.slope < 0.0 { "-" } else { "+" },
                        f.slope.abs(),
                        f.n,
                        f.r2
                    )
                })
            })
            .collect();
        if let (Some((lo, hi)), Some(g0), Some(g1)) =
            (self.x_range, self.gap_at_min, self.gap_at_max)
        {
            out.push(format!(
                "System 1 - System 2 gap of the fitted lines: {:.3} at {}, {:.3} at {}",
                g0,
                params_label(&lo),
                g1,
                params_label(&hi)
            ));
        }
        if !self.left_out.is_empty() {
            out.push(format!(
                "{} model(s) of unknown size left out: {}",
                self.left_out.len(),
                self.left_out.join(", ")
            ));
        }
        out
    }
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, pts: &[ModelPoint]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let a = scale_analysis(pts);
    let (xmin, xmax) = a.x_range.unwrap_or((0.0, 1.0));
    let span = (xmax - xmin).max(0.5);
    let xr = (xmin - 0.06 * span, xmax + 0.06 * span);
    let sized: Vec<(f64, &ModelPoint)> = pts
        .iter()
        .filter_map(|p| p.size_b.filter(|b| *b > 0.0).map(|b| (b.log10(), p)))
        .collect();
    let ys = sized
        .iter()
        .flat_map(|(_, p)| p.levels.iter().flatten().map(|s| s.value));
    let (ylo, yhi) = padded(ys, 0.05, 0.0, 1.0);
    let (ylo, yhi) = ((ylo * 10.0).floor() / 10.0, (yhi * 10.0).ceil() / 10.0);

    let (main, foot) = root.split_vertically(root.dim_in_pixel().1 - 26);
    let mut chart = ChartBuilder::on(&main)
        .caption(
            "Accuracy against model size (least-squares fit per level)",
            (FONT_FAMILY, 18),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xr.0..xr.1, ylo..yhi)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.1))
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&params_label)
        .y_label_formatter(&percent)
        .x_desc("Parameters (log scale)")
        .y_desc("Accuracy")
        .label_style(text(13))
        .axis_desc_style(text(14))
        .draw()?;

    for (j, level) in Level::ALL.iter().enumerate() {
        let c = LEVEL_COLORS[j];
        let pts_j: Vec<(f64, f64)> = sized
            .iter()
            .filter_map(|(x, p)| p.levels[j].map(|s| (*x, s.value)))
            .collect();
        let st = c.mix(0.8).filled();
        match j {
            0 => chart.draw_series(pts_j.iter().map(|&p| Circle::new(p, 4, st)))?,
            1 => chart.draw_series(pts_j.iter().map(|&p| TriangleMarker::new(p, 5, st)))?,
            _ => chart.draw_series(
                pts_j
                    .iter()
                    .map(|&p| EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], st)),
            )?,
        };
        if let Some(f) = a.fits[j] {
            let label = format!(
                "{}: {:+.3} per decade (R\u{b2}={:.2})",
                level.name(),
                f.slope,
                f.r2
            );
            chart
                .draw_series(LineSeries::new(
                    [(xmin, f.at(xmin)), (xmax, f.at(xmax))],
                    c.stroke_width(2),
                ))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
                });
        }
    }

    if let (Some(f1), Some(f2)) = (a.fits[0], a.fits[2]) {
        let dx = span * 0.012;
        for (x, h, side) in [(xmin, HPos::Left, 1.0), (xmax, HPos::Right, -1.0)] {
            let (top, bottom) = (f1.at(x), f2.at(x));
            let st = BLACK.stroke_width(1);
            chart.draw_series([
                PathElement::new(vec![(x, top), (x, bottom)], st),
                PathElement::new(vec![(x - dx, top), (x + dx, top)], st),
                PathElement::new(vec![(x - dx, bottom), (x + dx, bottom)], st),
            ])?;
            let tx = x + side * 2.0 * dx;
            chart.draw_series([Text::new(
                format!("\u{394} {:.1} pts", (top - bottom) * 100.0),
                (tx, (top + bottom) / 2.0),
                text_at(13, h, VPos::Center),
            )])?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .label_font(text(12))
        .draw()?;
    let note = if a.left_out.is_empty() {
        format!("{} models; \u{394}: System 1 minus System 2 on the fitted lines at the smallest and largest size", a.models)
    } else {
        format!(
            "{} models fitted; {} of unknown size left out ({})",
            a.models,
            a.left_out.len(),
            a.left_out.join(", ")
        )
    };
    foot.draw_text(&note, &text(12), (16, 4))?;
    Ok(())
}
