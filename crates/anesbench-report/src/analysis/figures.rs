//! Figures of the analysis: position bias (picked vs gold displayed position), the
//! reliability diagram (accuracy against confidence per bin, per level) and the
//! base-vs-derived arrows per level.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Analysis, AnalysisFigure, PairsReport, RunAnalysis};
use crate::error::{ReportError, Result};
use crate::plots::style::{ensure_font, percent, series, text, FONT_FAMILY, LEVEL_COLORS};
use anesbench_core::Level;

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

enum Fig<'a> {
    PositionBias(&'a RunAnalysis),
    Reliability(&'a RunAnalysis),
    Pairs(&'a PairsReport),
}

impl Fig<'_> {
    fn size(&self) -> (u32, u32) {
        match self {
            Fig::Pairs(p) => (900, 480 + 18 * p.pairs.len() as u32),
            _ => (760, 480),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        match self {
            Fig::PositionBias(r) => position_bias(root, r),
            Fig::Reliability(r) => reliability(root, r),
            Fig::Pairs(p) => pairs(root, p),
        }?;
        root.present()?;
        Ok(())
    }
}

fn plot_err(id: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Plot {
        figure: id.into(),
        message: e.to_string(),
    }
}

fn render(id: &str, fig: &Fig<'_>, dir: Option<&Path>) -> Result<(String, Option<String>)> {
    ensure_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, fig.size()).into_drawing_area();
        fig.draw(&root).map_err(|e| plot_err(id, e))?;
    }
    let mut file = None;
    if let Some(dir) = dir {
        // SVG, vector PDF and 300-dpi PNG, like every other figure of the report.
        crate::plots::export::write_all_formats(id, &svg, dir)?;
        file = Some(format!("figures/{id}.svg"));
    }
    Ok((svg, file))
}

/// Draw every figure the analysis allows into `dir` (`figures/`) and keep them.
pub fn draw_all(a: &mut Analysis, dir: Option<&Path>) -> Result<()> {
    let mut out = Vec::new();
    for (i, r) in a.runs.iter().enumerate() {
        if r.robustness.is_some() {
            let id = format!("position-bias-{i}");
            let (svg, file) = render(&id, &Fig::PositionBias(r), dir)?;
            out.push(AnalysisFigure {
                id,
                title: format!("Position bias: {}", r.label),
                file,
                svg: Some(svg),
                notes: vec!["Share of candidates picking each displayed position, beside the share of candidates whose gold answer stood there.".into()],
            });
        }
        if !r.calibration.is_empty() {
            let id = format!("reliability-{i}");
            let (svg, file) = render(&id, &Fig::Reliability(r), dir)?;
            out.push(AnalysisFigure {
                id,
                title: format!("Reliability diagram: {}", r.label),
                file,
                svg: Some(svg),
                notes: vec!["Accuracy against mean confidence in each of 15 equal-width bins, per level; the diagonal is perfect calibration; dot area grows with the bin's items.".into()],
            });
        }
    }
    if let Some(p) = &a.pairs {
        let (svg, file) = render("pairs", &Fig::Pairs(p), dir)?;
        out.push(AnalysisFigure {
            id: "pairs".into(),
            title: "Base vs derived, per level".into(),
            file,
            svg: Some(svg),
            notes: vec!["Each arrow runs from the base model's accuracy to the derived model's; whiskers: paired 95% interval of the change placed on the base, where both are own runs.".into()],
        });
    }
    a.figures = out;
    Ok(())
}

fn position_bias<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &RunAnalysis) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let Some(rb) = &r.robustness else {
        return Ok(());
    };
    let s = &rb.stats;
    let letters: Vec<char> = s
        .gold
        .keys()
        .chain(s.picked.keys())
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let picked_n = (s.picked.values().sum::<u64>() + s.no_answer).max(1) as f64;
    let gold_n = s.gold.values().sum::<u64>().max(1) as f64;
    let n = letters.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Position bias ({}, circular accuracy {})",
                rb.mode,
                percent(&rb.circular_accuracy)
            ),
            (FONT_FAMILY, 17),
        )
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..1f64)?;
    let lab = letters.clone();
    let xf = move |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < lab.len() {
            lab[i as usize].to_string()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.1))
        .x_labels(n * 2 + 1)
        .y_labels(6)
        .x_label_formatter(&xf)
        .y_label_formatter(&percent)
        .x_desc("Displayed position")
        .y_desc("Share of candidates")
        .label_style(text(13))
        .axis_desc_style(text(14))
        .draw()?;
    let (cp, cg) = (series(1), series(0));
    chart
        .draw_series(letters.iter().enumerate().map(|(i, l)| {
            let v = s.picked.get(l).copied().unwrap_or(0) as f64 / picked_n;
            Rectangle::new([(i as f64 - 0.38, 0.0), (i as f64 - 0.02, v)], cp.filled())
        }))?
        .label("picked")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], cp.filled()));
    chart
        .draw_series(letters.iter().enumerate().map(|(i, l)| {
            let v = s.gold.get(l).copied().unwrap_or(0) as f64 / gold_n;
            Rectangle::new([(i as f64 + 0.02, 0.0), (i as f64 + 0.38, v)], cg.filled())
        }))?
        .label("gold")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], cg.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .label_font(text(12))
        .draw()?;
    Ok(())
}

fn reliability<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &RunAnalysis) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Reliability diagram (15 equal-width bins)",
            (FONT_FAMILY, 17),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..1f64, 0f64..1f64)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.1))
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&percent)
        .y_label_formatter(&percent)
        .x_desc("Confidence")
        .y_desc("Accuracy")
        .label_style(text(13))
        .axis_desc_style(text(14))
        .draw()?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (1.0, 1.0)],
        BLACK.mix(0.4).stroke_width(1),
    )))?;
    for c in &r.calibration {
        let color = Level::ALL
            .iter()
            .position(|l| l.key() == c.level)
            .map_or(RGBColor(80, 80, 80), |i| LEVEL_COLORS[i]);
        let pts: Vec<(f64, f64, u64)> = c
            .cal
            .bins
            .iter()
            .filter_map(|b| Some((b.confidence?, b.accuracy?, b.n)))
            .collect();
        let total = c.cal.n.max(1) as f64;
        let name = format!(
            "{} (ECE {:.3})",
            crate::model::level_name(&c.level),
            c.cal.ece
        );
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2))
            });
        chart.draw_series(pts.iter().map(|p| {
            let radius = (3.0 + 9.0 * (p.2 as f64 / total).sqrt()) as i32;
            Circle::new((p.0, p.1), radius, color.mix(0.7).filled())
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .label_font(text(12))
        .draw()?;
    Ok(())
}

fn pairs<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, p: &PairsReport) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let vals = p
        .pairs
        .iter()
        .flat_map(|x| x.base.levels[..3].iter().chain(&x.derived.levels[..3]))
        .flatten()
        .copied();
    let (lo, hi) = crate::plots::style::padded(vals, 0.05, 0.0, 1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Base -> derived accuracy per cognitive level",
            (FONT_FAMILY, 17),
        )
        .margin(14)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..2.5f64, lo..hi)?;
    let level_label = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && (0.0..=2.0).contains(&i) {
            Level::ALL[i as usize].name().to_string()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.1))
        .x_labels(7)
        .y_labels(6)
        .x_label_formatter(&level_label)
        .y_label_formatter(&percent)
        .y_desc("Accuracy")
        .label_style(text(13))
        .axis_desc_style(text(14))
        .draw()?;
    let m = p.pairs.len().max(1) as f64;
    let band = 0.8;
    for (i, pair) in p.pairs.iter().enumerate() {
        let color = series(i);
        let off = -band / 2.0 + band * (i as f64 + 0.5) / m;
        let mut el: Vec<DynElement<'_, DB, (f64, f64)>> = Vec::new();
        for j in 0..3 {
            let (Some(b), Some(d)) = (pair.base.levels[j], pair.derived.levels[j]) else {
                continue;
            };
            let x = j as f64 + off;
            let st = color.stroke_width(2);
            el.push(Circle::new((x, b), 3, color.filled()).into_dyn());
            el.push(PathElement::new(vec![(x, b), (x, d)], st).into_dyn());
            // Arrow head: a small triangle pointing the way accuracy moved; no change is
            // a flat bar, not an arrow.
            let h = (hi - lo) * 0.02 * if d >= b { 1.0 } else { -1.0 };
            let w = (band / m * 0.3).min(0.05);
            if (d - b).abs() < 1e-9 {
                el.push(
                    PathElement::new(vec![(x - w, d), (x + w, d)], color.stroke_width(3))
                        .into_dyn(),
                );
            } else {
                el.push(
                    Polygon::new(vec![(x - w, d - h), (x + w, d - h), (x, d)], color.filled())
                        .into_dyn(),
                );
            }
            if let Some((clo, chi)) = pair.deltas[j].ci {
                let st = color.mix(0.6).stroke_width(1);
                let cap = w * 0.8;
                let (a, z) = (b + clo, b + chi);
                el.push(PathElement::new(vec![(x + 2.0 * w, a), (x + 2.0 * w, z)], st).into_dyn());
                el.push(
                    PathElement::new(vec![(x + 2.0 * w - cap, a), (x + 2.0 * w + cap, a)], st)
                        .into_dyn(),
                );
                el.push(
                    PathElement::new(vec![(x + 2.0 * w - cap, z), (x + 2.0 * w + cap, z)], st)
                        .into_dyn(),
                );
            }
        }
        let name = format!("{} -> {}", pair.base.name, pair.derived.name);
        chart.draw_series(el)?.label(name).legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 14, y)], color.stroke_width(2))
        });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font(text(11))
        .draw()?;
    Ok(())
}
