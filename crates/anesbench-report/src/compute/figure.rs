//! The accuracy-against-compute figure: accuracy (both languages) against generated
//! tokens per item on a log axis, one line per level through the runs, with each point
//! named by its run's solver.

use anesbench_core::Level;
use plotters::prelude::*;

use super::ComputeReport;
use crate::plots::style::{
    ensure_font, padded, percent, text, tokens_label, FONT_FAMILY, LEVEL_COLORS,
};

pub const FIGURE_ID: &str = "compute";
pub const FIGURE_TITLE: &str = "Accuracy against generated tokens per item";

/// (log10 tokens per item, accuracy, solver) per run, for one level.
fn points(c: &ComputeReport, level: Level) -> Vec<(f64, f64, String)> {
    let mut v: Vec<(f64, f64, String)> = c
        .runs
        .iter()
        .filter_map(|r| {
            let row = r
                .rows
                .iter()
                .find(|x| x.lang == "all" && x.level == level.key())?;
            let t = row.tokens_per_item.filter(|t| *t > 0.0)?;
            Some((t.log10(), row.accuracy, r.solver.clone()))
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// Why the figure cannot be drawn, if it cannot.
pub fn unavailable(c: &ComputeReport) -> Option<String> {
    let drawable = Level::ALL.iter().any(|l| points(c, *l).len() >= 2);
    (!drawable)
        .then(|| "needs two or more runs with completion token counts at one level".to_string())
}

/// The figure as an SVG document.
pub fn render_svg(c: &ComputeReport) -> Result<String, String> {
    ensure_font();
    if let Some(why) = unavailable(c) {
        return Err(why);
    }
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (860, 520)).into_drawing_area();
        draw(&root, c).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    c: &ComputeReport,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let all: Vec<(f64, f64, String)> = Level::ALL.iter().flat_map(|l| points(c, *l)).collect();
    let (xlo, xhi) = padded(
        all.iter().map(|p| p.0),
        0.1,
        f64::NEG_INFINITY,
        f64::INFINITY,
    );
    let (ylo, yhi) = padded(all.iter().map(|p| p.1), 0.05, 0.0, 1.0);
    let mut chart = ChartBuilder::on(root)
        .caption(FIGURE_TITLE, (FONT_FAMILY, 18))
        .margin(14)
        // Room for the name of the rightmost point.
        .margin_right(90)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xlo..xhi, ylo..yhi)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(BLACK.mix(0.1))
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&tokens_label)
        .y_label_formatter(&percent)
        .x_desc("Generated tokens per item (log scale)")
        .y_desc("Accuracy")
        .label_style(text(13))
        .axis_desc_style(text(14))
        .draw()?;
    for (j, level) in Level::ALL.iter().enumerate() {
        let pts = points(c, *level);
        if pts.is_empty() {
            continue;
        }
        let col = LEVEL_COLORS[j];
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                col.stroke_width(2),
            ))?
            .label(level.name())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2)));
        chart.draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 4, col.filled())))?;
        chart.draw_series(
            pts.iter()
                .map(|p| Text::new(p.2.clone(), (p.0, p.1), text(11).color(&col))),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .label_font(text(12))
        .draw()?;
    root.present()?;
    Ok(())
}
