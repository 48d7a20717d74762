//! Figure (b), the study's Figure 2: score per level against log10 model size, a
//! least-squares line per level, and the System 1 - System 2 gap of the fitted lines
//! marked at the smallest and the largest size.
//!
//! A point is a model: several runs of one model are averaged into one point, so a
//! model run four times does not weigh four times in the fit. A level gets a line only
//! when its points span at least [`MIN_FIT_SIZES`] distinct sizes: a line through two
//! points always has R^2 = 1 and says nothing.

use anesbench_core::Level;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde::Serialize;

use super::style::{
    decade_label, levels_language, params_label, percent, text, text_at, Legend, LegendGlyph,
    FONT_FAMILY, LEVEL_COLORS,
};
use super::DrawResult;
use crate::points::ModelPoint;
use crate::stats::{fit_line, Line};

/// Distinct model sizes a fitted line needs.
pub const MIN_FIT_SIZES: usize = 3;

/// Left edge of the legend: under the plot, past the y labels.
const LEGEND_LEFT: u32 = 74;

/// One model in the figure: its runs averaged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleModel {
    pub model: String,
    /// log10(billions).
    pub x: f64,
    pub levels: [Option<f64>; 3],
    /// Runs averaged into this point (1 for a single run or a published row).
    pub runs: usize,
    /// A row of the published table rather than a run.
    pub published: bool,
}

/// The numbers behind figure (b).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScaleAnalysis {
    /// Fit of accuracy on log10(billions) for System 1, 1.x, 2.
    pub fits: [Option<Line>; 3],
    /// Models with a known size (each drawn as one point per level).
    pub models: usize,
    /// The points drawn, one per model.
    pub points: Vec<ScaleModel>,
    /// Distinct sizes among the models.
    pub distinct_sizes: usize,
    /// Models left out because their size is unknown.
    pub left_out: Vec<String>,
    /// log10(billions) of the smallest and largest fitted model.
    pub x_range: Option<(f64, f64)>,
    /// Fitted System 1 minus fitted System 2 at the smallest and at the largest size.
    pub gap_at_min: Option<f64>,
    pub gap_at_max: Option<f64>,
}

fn distinct(xs: impl Iterator<Item = f64>) -> usize {
    let mut v: Vec<f64> = xs.collect();
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    v.len()
}

/// Group the points by model (runs and published rows apart) and fit the lines.
pub fn scale_analysis(pts: &[ModelPoint]) -> ScaleAnalysis {
    let mut left_out: Vec<String> = Vec::new();
    let mut models: Vec<(ScaleModel, [usize; 3])> = Vec::new();
    for p in pts {
        let Some(b) = p.size_b.filter(|b| *b > 0.0) else {
            if !left_out.contains(&p.model) {
                left_out.push(p.model.clone());
            }
            continue;
        };
        let i = match models
            .iter()
            .position(|(m, _)| m.model == p.model && m.published == p.zh_is_amcqa)
        {
            Some(i) => i,
            None => {
                models.push((
                    ScaleModel {
                        model: p.model.clone(),
                        x: b.log10(),
                        levels: [None; 3],
                        runs: 0,
                        published: p.zh_is_amcqa,
                    },
                    [0; 3],
                ));
                models.len() - 1
            }
        };
        let (m, counts) = &mut models[i];
        m.runs += 1;
        for ((sum, n), s) in m.levels.iter_mut().zip(counts.iter_mut()).zip(&p.levels) {
            if let Some(s) = s {
                *sum.get_or_insert(0.0) += s.value;
                *n += 1;
            }
        }
    }
    let points: Vec<ScaleModel> = models
        .into_iter()
        .map(|(mut m, counts)| {
            for (v, n) in m.levels.iter_mut().zip(counts) {
                if let Some(v) = v.as_mut() {
                    *v /= n as f64;
                }
            }
            m
        })
        .collect();
    let fits = [0, 1, 2].map(|j| {
        let (xs, ys): (Vec<f64>, Vec<f64>) = points
            .iter()
            .filter_map(|m| m.levels[j].map(|s| (m.x, s)))
            .unzip();
        if distinct(xs.iter().copied()) < MIN_FIT_SIZES {
            return None;
        }
        fit_line(&xs, &ys)
    });
    let x_range = (!points.is_empty()).then(|| {
        points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), m| {
                (a.min(m.x), b.max(m.x))
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
        models: points.len(),
        distinct_sizes: distinct(points.iter().map(|m| m.x)),
        points,
        left_out,
        x_range,
    }
}

impl ScaleAnalysis {
    /// Why no line is drawn, when none is.
    pub fn no_fit_reason(&self) -> Option<String> {
        self.fits.iter().all(Option::is_none).then(|| {
            format!(
                "no fitted line: {} distinct model size{}, a fit needs at least {MIN_FIT_SIZES}",
                self.distinct_sizes,
                if self.distinct_sizes == 1 { "" } else { "s" }
            )
        })
    }

    /// Models drawn from more than one run: `name (4 runs)`.
    pub fn averaged(&self) -> Vec<String> {
        self.points
            .iter()
            .filter(|m| m.runs > 1)
            .map(|m| format!("{} ({} runs)", m.model, m.runs))
            .collect()
    }

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
        // With no model of known size nothing is drawn, and the figure says why.
        if let Some(why) = self.no_fit_reason().filter(|_| self.models > 0) {
            out.push(format!("{} model(s) drawn as points; {why}", self.models));
        }
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
        let avg = self.averaged();
        if !avg.is_empty() {
            out.push(format!(
                "one point per model, runs averaged: {}",
                avg.join(", ")
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

    /// The footnote under the figure: only what is drawn.
    fn footnote(&self) -> Vec<String> {
        let mut first = format!(
            "{} model{} (one point per model per level)",
            self.models,
            if self.models == 1 { "" } else { "s" }
        );
        match self.no_fit_reason() {
            Some(why) => first.push_str(&format!("; {why}")),
            None => first.push_str("; lines: least-squares fit per level"),
        }
        if self.gap_at_min.is_some() {
            first.push_str(
                "; \u{394}: System 1 minus System 2 on the fitted lines at the smallest and largest size",
            );
        }
        let mut second = Vec::new();
        let avg = self.averaged();
        if !avg.is_empty() {
            second.push(format!("runs averaged: {}", avg.join(", ")));
        }
        if !self.left_out.is_empty() {
            second.push(format!(
                "{} of unknown size left out ({})",
                self.left_out.len(),
                self.left_out.join(", ")
            ));
        }
        let mut out = vec![first];
        if !second.is_empty() {
            out.push(second.join("; "));
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
    // The axis always spans whole decades, so every tick is 100M, 1B, 10B, ...
    let xr = ((xmin - 0.1).floor(), (xmax + 0.1).ceil());
    let xr = if xr.1 - xr.0 < 1.0 {
        (xr.0, xr.0 + 1.0)
    } else {
        xr
    };
    let ys = a
        .points
        .iter()
        .flat_map(|m| m.levels.iter().flatten().copied());
    let (ylo, yhi) = super::style::padded(ys, 0.05, 0.0, 1.0);
    let (ylo, yhi) = ((ylo * 10.0).floor() / 10.0, (yhi * 10.0).ceil() / 10.0);

    let mixed = a.points.iter().any(|m| m.published) && a.points.iter().any(|m| !m.published);
    let mut legend = Legend::default();
    for (j, level) in Level::ALL.iter().enumerate() {
        if !a.points.iter().any(|m| m.levels[j].is_some()) {
            continue;
        }
        let label = match a.fits[j] {
            Some(f) => format!(
                "{}: {:+.3} per decade (R\u{b2}={:.2}, n={})",
                level.name(),
                f.slope,
                f.r2,
                f.n
            ),
            None => format!("{} (no line)", level.name()),
        };
        legend.push(
            label,
            LegendGlyph::Marker {
                shape: j,
                color: LEVEL_COLORS[j],
                line: a.fits[j].is_some(),
            },
        );
    }
    if mixed {
        legend.push(
            "hollow: runs in this report, filled: published".to_string(),
            LegendGlyph::Dot {
                color: RGBColor(80, 80, 80),
                filled: false,
            },
        );
    }
    if a.fits[0].is_some() && a.fits[2].is_some() {
        legend.push(
            "\u{394}: System 1 \u{2212} System 2 (fitted lines)".to_string(),
            LegendGlyph::Whisker,
        );
    }

    let foot_lines = a.footnote();
    let (w, h) = root.dim_in_pixel();
    let foot_text = super::style::wrap_lines(&foot_lines, w, 12);
    let foot_h = 8 + 17 * foot_text.len() as u32;
    let legend_h = legend.height(w, LEGEND_LEFT);
    let (main, rest) = root.split_vertically(h - foot_h - legend_h);
    let (legend_area, foot) = rest.split_vertically(legend_h);
    let lang = levels_language(pts.iter().filter(|p| p.size_b.is_some_and(|b| b > 0.0)));
    let mut chart = ChartBuilder::on(&main)
        .caption(
            format!("Accuracy against model size, {lang}"),
            (FONT_FAMILY, 18),
        )
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(xr.0..xr.1, ylo..yhi)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.1))
        .x_labels((xr.1 - xr.0) as usize + 1)
        .y_labels(8)
        .x_label_formatter(&decade_label)
        .y_label_formatter(&percent)
        .x_desc("Parameters (log scale)")
        .y_desc("Accuracy")
        .label_style(text(14))
        .axis_desc_style(text(15))
        .draw()?;

    for (j, c) in LEVEL_COLORS.into_iter().enumerate() {
        let drawn: Vec<&ScaleModel> = a.points.iter().filter(|m| m.levels[j].is_some()).collect();
        if drawn.is_empty() {
            continue;
        }
        let style = |m: &ScaleModel| {
            if mixed && !m.published {
                c.stroke_width(2)
            } else {
                c.mix(0.8).filled()
            }
        };
        let at = |m: &ScaleModel| (m.x, m.levels[j].unwrap_or_default());
        match j {
            0 => chart.draw_series(drawn.iter().map(|m| Circle::new(at(m), 4, style(m))))?,
            1 => chart.draw_series(
                drawn
                    .iter()
                    .map(|m| TriangleMarker::new(at(m), 5, style(m))),
            )?,
            _ => {
                chart.draw_series(drawn.iter().map(|m| {
                    EmptyElement::at(at(m)) + Rectangle::new([(-4, -4), (4, 4)], style(m))
                }))?
            }
        };
        if let Some(f) = a.fits[j] {
            chart.draw_series(LineSeries::new(
                [(xmin, f.at(xmin)), (xmax, f.at(xmax))],
                c.stroke_width(2),
            ))?;
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
    legend.draw(&legend_area, LEGEND_LEFT)?;
    for (i, line) in foot_text.iter().enumerate() {
        foot.draw_text(line, &text(12), (16, 4 + 17 * i as i32))?;
    }
    Ok(())
}
