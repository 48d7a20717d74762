//! Figure (a): accuracy per cognitive level, one dot-and-whisker series per model; a
//! level no model has data for is marked "no data".

use plotters::coord::Shift;
use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, VPos};

use super::style::{percent, series, text, text_at, Legend, LegendGlyph, FONT_FAMILY};
use super::DrawResult;
use crate::points::ModelPoint;
use anesbench_core::Level;

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, pts: &[ModelPoint]) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let pts: Vec<&ModelPoint> = pts
        .iter()
        .filter(|p| p.levels.iter().any(Option::is_some))
        .collect();
    let mut legend = Legend::default();
    for (i, p) in pts.iter().enumerate() {
        legend.push(
            p.label.clone(),
            LegendGlyph::Dot {
                color: series(i),
                filled: true,
            },
        );
    }
    legend.push("95% Wilson interval".into(), LegendGlyph::Whisker);
    let (w, h) = root.dim_in_pixel();
    let (main, legend_area) = root.split_vertically(h - legend.height(w, 70));
    let mut chart = ChartBuilder::on(&main)
        .caption(
            "Accuracy per cognitive level (95% Wilson intervals)",
            (FONT_FAMILY, 18),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..2.5f64, 0f64..1f64)?;
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
        .label_style(text(15))
        .axis_desc_style(text(16))
        .draw()?;
    let m = pts.len().max(1) as f64;
    let band = 0.7;
    for (i, p) in pts.iter().enumerate() {
        let color = series(i);
        let off = -band / 2.0 + band * (i as f64 + 0.5) / m;
        let cap = (band / m * 0.25).min(0.06);
        let mut elements: Vec<DynElement<'_, DB, (f64, f64)>> = Vec::new();
        for (j, s) in p.levels.iter().enumerate() {
            let Some(s) = s else { continue };
            let x = j as f64 + off;
            if let Some((lo, hi)) = s.ci {
                let st = color.stroke_width(2);
                elements.push(PathElement::new(vec![(x, lo), (x, hi)], st).into_dyn());
                elements.push(PathElement::new(vec![(x - cap, lo), (x + cap, lo)], st).into_dyn());
                elements.push(PathElement::new(vec![(x - cap, hi), (x + cap, hi)], st).into_dyn());
            }
            elements.push(Circle::new((x, s.value), 5, color.filled()).into_dyn());
        }
        chart.draw_series(elements)?;
    }
    for j in 0..Level::ALL.len() {
        if !pts.iter().any(|p| p.levels[j].is_some()) {
            chart.draw_series([Text::new(
                "no data".to_string(),
                (j as f64, 0.5),
                text_at(15, HPos::Center, VPos::Center).color(&RGBColor(120, 120, 120)),
            )])?;
        }
    }
    legend.draw(&legend_area, 70)?;
    Ok(())
}
