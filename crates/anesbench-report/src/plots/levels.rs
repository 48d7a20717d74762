//! Figure (a): accuracy per cognitive level, one dot-and-whisker series per model.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::style::{percent, series, text, FONT_FAMILY};
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
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Accuracy per cognitive level (95% Wilson intervals)",
            (FONT_FAMILY, 18),
        )
        .margin(14)
        .x_label_area_size(36)
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
        .label_style(text(13))
        .axis_desc_style(text(14))
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
        chart
            .draw_series(elements)?
            .label(p.label.clone())
            .legend(move |(x, y)| Circle::new((x + 8, y), 5, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .label_font(text(12))
        .draw()?;
    Ok(())
}
