//! Figures for papers: the SVG that `plotters` draws, converted to PDF (vector, by
//! typst's `svg2pdf`) and to PNG at 300 dpi (rasterised by `resvg`), at the width of a
//! one-column (3.5 in) and of a two-column (7 in) figure. One drawing, three formats:
//! the PDF and PNG show exactly what the SVG shows.
//!
//! Text is set in the embedded DejaVu Sans, so the files look the same on every
//! machine. The figures' own words are English; a run or model name in a script
//! DejaVu Sans lacks (CJK) is drawn from a system font where one is installed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use svg2pdf::usvg;

use super::{render_svg_at, FigureKind};
use crate::error::{ReportError, Result};
use crate::points::ModelPoint;

/// Print resolution of the PNG files.
pub const PNG_DPI: f32 = 300.0;

/// The two widths a journal figure comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// One column, 3.5 in: laid out narrower, panels stacked.
    OneColumn,
    /// Two columns (full page width), 7 in.
    TwoColumn,
}

impl Width {
    pub fn inches(self) -> f32 {
        match self {
            Width::OneColumn => 3.5,
            Width::TwoColumn => 7.0,
        }
    }

    /// File-name suffix: `levels.svg` (two columns), `levels-1col.svg`.
    pub fn suffix(self) -> &'static str {
        match self {
            Width::OneColumn => "-1col",
            Width::TwoColumn => "",
        }
    }
}

fn options() -> &'static usvg::Options<'static> {
    static OPT: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPT.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(super::style::FONT_BYTES.to_vec());
        db.load_system_fonts();
        db.set_sans_serif_family("DejaVu Sans");
        usvg::Options {
            font_family: "DejaVu Sans".into(),
            fontdb: Arc::new(db),
            ..usvg::Options::default()
        }
    })
}

fn id_err(id: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Plot {
        figure: id.into(),
        message: e.to_string(),
    }
}

fn tree(id: &str, svg: &str) -> Result<usvg::Tree> {
    usvg::Tree::from_str(svg, options()).map_err(|e| id_err(id, format!("SVG: {e}")))
}

/// A vector PDF of the SVG, its page `inches` wide.
pub fn svg_to_pdf(kind: FigureKind, svg: &str, inches: f32) -> Result<Vec<u8>> {
    svg_to_pdf_named(kind.id(), svg, inches)
}

/// A PNG of the SVG, `inches` wide at `dpi`, with its resolution recorded (pHYs).
pub fn svg_to_png(kind: FigureKind, svg: &str, inches: f32, dpi: f32) -> Result<Vec<u8>> {
    svg_to_png_named(kind.id(), svg, inches, dpi)
}

/// Write `<dir>/<id>.svg`, `.pdf` (vector) and `.png` (300 dpi, two-column width) of a
/// figure drawn elsewhere (the compute and analysis sections); returns the files.
pub fn write_all_formats(id: &str, svg: &str, dir: &Path) -> Result<Vec<PathBuf>> {
    let inches = Width::TwoColumn.inches();
    let mut out = Vec::new();
    let files: [(&str, Vec<u8>); 3] = [
        ("svg", svg.as_bytes().to_vec()),
        ("pdf", svg_to_pdf_named(id, svg, inches)?),
        ("png", svg_to_png_named(id, svg, inches, PNG_DPI)?),
    ];
    for (ext, bytes) in files {
        let p = dir.join(format!("{id}.{ext}"));
        std::fs::write(&p, bytes).map_err(|e| ReportError::io(&p, e))?;
        out.push(p);
    }
    Ok(out)
}

fn svg_to_pdf_named(kind: &str, svg: &str, inches: f32) -> Result<Vec<u8>> {
    let plot_err = id_err;
    let t = tree(kind, svg)?;
    let dpi = t.size().width() / inches;
    svg2pdf::to_pdf(
        &t,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi },
    )
    .map_err(|e| plot_err(kind, format!("PDF: {e}")))
}

fn svg_to_png_named(kind: &str, svg: &str, inches: f32, dpi: f32) -> Result<Vec<u8>> {
    let plot_err = id_err;
    let t = tree(kind, svg)?;
    let size = t.size();
    let scale = inches * dpi / size.width();
    let (w, h) = (
        (size.width() * scale).round() as u32,
        (size.height() * scale).round() as u32,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h)
        .ok_or_else(|| plot_err(kind, format!("PNG: empty {w}x{h} image")))?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &t,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let png = pixmap
        .encode_png()
        .map_err(|e| plot_err(kind, format!("PNG: {e}")))?;
    Ok(with_dpi(png, dpi))
}

/// Insert a pHYs chunk (pixels per metre) after IHDR, so viewers and LaTeX read the
/// intended print size.
fn with_dpi(png: Vec<u8>, dpi: f32) -> Vec<u8> {
    // 8-byte signature, then IHDR: 4 length + 4 type + 13 data + 4 CRC.
    const AFTER_IHDR: usize = 8 + 4 + 4 + 13 + 4;
    if png.len() < AFTER_IHDR || &png[12..16] != b"IHDR" {
        return png;
    }
    let ppm = (dpi as f64 / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    let mut body = b"pHYs".to_vec();
    body.extend_from_slice(&ppm.to_be_bytes());
    body.extend_from_slice(&ppm.to_be_bytes());
    body.push(1); // unit: metre
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..AFTER_IHDR]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[AFTER_IHDR..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))
}

/// Write one figure at both widths as `<id>[-1col].{svg,pdf,png}` into `dir`; returns
/// the files written, two-column SVG first.
pub fn export_figure(kind: FigureKind, pts: &[ModelPoint], dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for width in [Width::TwoColumn, Width::OneColumn] {
        let svg = render_svg_at(kind, pts, width)?;
        let stem = format!("{}{}", kind.id(), width.suffix());
        let p = dir.join(format!("{stem}.svg"));
        write(&p, svg.as_bytes())?;
        out.push(p);
        let p = dir.join(format!("{stem}.pdf"));
        write(&p, &svg_to_pdf(kind, &svg, width.inches())?)?;
        out.push(p);
        let p = dir.join(format!("{stem}.png"));
        write(&p, &svg_to_png(kind, &svg, width.inches(), PNG_DPI)?)?;
        out.push(p);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_iend_matches_the_png_spec() {
        // Every PNG ends with IEND and this CRC.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }
}
