//! `anesbench report`: figures and the chosen formats written into one folder.

use std::path::{Path, PathBuf};

use crate::analysis::figures::draw_all;
use crate::analysis::Analysis;
use crate::error::{ReportError, Result};
use crate::formats::{Format, RenderedFigure};
use crate::model::Report;
use crate::plots::{export_figure, render_svg, scale_analysis, FigureKind};
use crate::points::ModelPoint;
use crate::rundir::RunDir;
use crate::size::SizeMap;

#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub out_dir: PathBuf,
    pub formats: Vec<Format>,
    /// Rank and draw incomplete runs and subsets beside full runs.
    pub include_incomplete: bool,
    /// `--pairs FILE` (or `published` for the shipped pairs of published models).
    pub pairs: Option<PathBuf>,
}

/// Draw every figure the points allow; the others come back with the reason. With a
/// folder, each figure is written there as SVG, PDF and PNG at two widths.
pub fn render_figures(pts: &[ModelPoint], dir: Option<&Path>) -> Result<Vec<RenderedFigure>> {
    let mut out = Vec::new();
    for kind in FigureKind::ALL {
        let mut f = RenderedFigure {
            kind,
            title: kind.title().into(),
            file: None,
            svg: None,
            skipped: kind.unavailable(pts),
            notes: Vec::new(),
            files: Vec::new(),
        };
        if kind == FigureKind::Scale {
            f.notes = scale_analysis(pts).describe();
        }
        if f.skipped.is_none() {
            let svg = render_svg(kind, pts)?;
            if let Some(dir) = dir {
                let files = export_figure(kind, pts, dir)?;
                f.files = files
                    .iter()
                    .filter_map(|p| p.file_name()?.to_str())
                    .map(|n| format!("figures/{n}"))
                    .collect();
                f.file = f.files.first().cloned();
            }
            f.svg = Some(svg);
        }
        out.push(f);
    }
    Ok(out)
}

/// Write `report.<ext>` for each format and `figures/`; returns the files written.
pub fn write_report(
    runs: &[RunDir],
    sizes: Option<&SizeMap>,
    opts: &ReportOptions,
) -> Result<Vec<PathBuf>> {
    let mut report = Report::with_incomplete(runs, sizes, opts.include_incomplete);
    // The figures set runs side by side: only the ranked ones, the others named below.
    let (ranked, rest) = report.ranked();
    let pts: Vec<ModelPoint> = ranked.iter().map(|r| ModelPoint::from_run(r)).collect();
    let fig_dir = opts.out_dir.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|e| ReportError::io(&fig_dir, e))?;
    let mut figures = render_figures(&pts, Some(&fig_dir))?;
    if !rest.is_empty() {
        let note = format!(
            "Not drawn (not ranked; --include-incomplete draws them): {}",
            rest.iter()
                .map(|r| format!(
                    "{} ({})",
                    r.label,
                    r.unranked_reason.as_deref().unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
        for f in &mut figures {
            f.notes.push(note.clone());
        }
    }
    let compute_figure = write_compute_figure(&mut report, &fig_dir)?;
    let mut written: Vec<PathBuf> = compute_figure
        .into_iter()
        .chain(
            figures
                .iter()
                .flat_map(|f| f.files.iter().map(|p| opts.out_dir.join(p))),
        )
        .collect();
    let labels: Vec<String> = report.runs.iter().map(|r| r.label.clone()).collect();
    let mut analysis = Analysis::build(
        runs,
        &labels,
        opts.pairs.as_deref(),
        opts.include_incomplete,
    )?;
    draw_all(&mut analysis, Some(&fig_dir))?;
    written.extend(
        analysis
            .figures
            .iter()
            .filter_map(|f| f.file.as_ref().map(|p| opts.out_dir.join(p))),
    );
    report.analysis = Some(analysis);
    for format in &opts.formats {
        let ex = format.exporter();
        let text = ex.render(&report, &figures)?;
        let p = opts.out_dir.join(format!("report.{}", ex.extension()));
        std::fs::write(&p, text).map_err(|e| ReportError::io(&p, e))?;
        written.push(p);
    }
    Ok(written)
}

/// `figures/compute.svg` of the accuracy-against-compute section, when it has one.
fn write_compute_figure(report: &mut Report, dir: &Path) -> Result<Option<PathBuf>> {
    let Some(c) = report.compute.as_mut() else {
        return Ok(None);
    };
    if c.figure_skipped.is_some() {
        return Ok(None);
    }
    let svg = crate::compute::render_svg(c).map_err(|message| ReportError::Plot {
        figure: crate::compute::FIGURE_ID.into(),
        message,
    })?;
    let files = crate::plots::export::write_all_formats(crate::compute::FIGURE_ID, &svg, dir)?;
    c.figure = Some(format!("figures/{}.svg", crate::compute::FIGURE_ID));
    c.svg = Some(svg);
    Ok(files.into_iter().next())
}
