//! Shared look of the figures: font, colours, axis formatting.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub const FONT_FAMILY: &str = "sans-serif";
pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");

/// Register the embedded font under the family every figure asks for.
pub fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_err() {
            panic!("embedded DejaVuSans.ttf does not parse");
        }
    });
}

/// Okabe-Ito colours: distinguishable with colour-vision deficiency and in greyscale print.
pub const SERIES: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(80, 80, 80),
];

pub fn series(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// System 1, 1.x, 2.
pub const LEVEL_COLORS: [RGBColor; 3] = [
    RGBColor(0, 114, 178),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
];

pub fn text(size: u32) -> TextStyle<'static> {
    TextStyle::from((FONT_FAMILY, size).into_font()).color(&BLACK)
}

pub fn text_at(size: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    text(size).pos(Pos::new(h, v))
}

pub fn percent(y: &f64) -> String {
    format!("{:.0}%", y * 100.0)
}

/// Label of a log10(billions) axis value: `270M`, `7B`, `70B`, `1T`.
pub fn params_label(x: &f64) -> String {
    let b = 10f64.powf(*x);
    if b >= 999.5 {
        format!("{}T", sig(b / 1000.0))
    } else if b < 1.0 {
        format!("{}M", sig(b * 1000.0))
    } else {
        format!("{}B", sig(b))
    }
}

/// Label of a log10(tokens) axis value.
pub fn tokens_label(x: &f64) -> String {
    sig(10f64.powf(*x))
}

fn sig(v: f64) -> String {
    if v >= 10.0 {
        format!("{:.0}", v)
    } else {
        let s = format!("{:.1}", v);
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    }
}

/// A padded `[lo, hi]` range around data, clamped to `[floor, ceil]`.
pub fn padded(values: impl Iterator<Item = f64>, pad: f64, floor: f64, ceil: f64) -> (f64, f64) {
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return (floor, ceil);
    }
    if hi - lo < 1e-9 {
        lo -= pad;
        hi += pad;
    }
    ((lo - pad).max(floor), (hi + pad).min(ceil))
}

/// Tick label of a log10(billions) axis whose ends are whole decades: `100M`, `1B`,
/// `10B`, ...; blank between decades, should the axis place a tick there.
pub fn decade_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-6 {
        params_label(&x.round())
    } else {
        String::new()
    }
}

/// The language the points' level scores are over, for a title: `English`, ...
pub fn levels_language<'a>(pts: impl Iterator<Item = &'a crate::points::ModelPoint>) -> String {
    let mut langs: Vec<&str> = Vec::new();
    let mut published = false;
    for p in pts {
        published |= p.zh_is_amcqa;
        let name = match p.levels_lang.as_str() {
            "en" => "English",
            "zh" => "Chinese",
            _ => "English and Chinese",
        };
        if !langs.contains(&name) {
            langs.push(name);
        }
    }
    match langs.as_slice() {
        [] => "no language".into(),
        ["English"] if published => "English (AnesBench)".into(),
        [one] => format!("{one} items"),
        many => format!("mixed: {}", many.join(" / ")),
    }
}

/// Average glyph advance of DejaVu Sans as plotters sets it, per pixel of asked size
/// (plotters writes 0.806 of the asked size; DejaVu's average advance is ~0.6 em).
const GLYPH: f64 = 0.5;

/// Rough width of `s` in pixels at `size` px.
pub fn text_width(s: &str, size: u32) -> u32 {
    (s.chars().count() as f64 * size as f64 * GLYPH).ceil() as u32
}

/// Break footnote lines at spaces so each fits `width` pixels at `size`.
pub fn wrap_lines(lines: &[String], width: u32, size: u32) -> Vec<String> {
    let max = ((width.saturating_sub(32)) as f64 / (size as f64 * GLYPH)).max(20.0) as usize;
    let mut out = Vec::new();
    for line in lines {
        let mut cur = String::new();
        for word in line.split(' ') {
            if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > max {
                out.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        out.push(cur);
    }
    out
}

/// What a legend entry shows before its label.
#[derive(Debug, Clone, Copy)]
pub enum LegendGlyph {
    /// Level marker (0 circle, 1 triangle, 2 square), with a line through it if fitted.
    Marker {
        shape: usize,
        color: RGBColor,
        line: bool,
    },
    /// A filled or hollow dot.
    Dot { color: RGBColor, filled: bool },
    /// An interval bar with caps.
    Whisker,
}

/// A legend drawn in its own strip beside the plot, so it never covers data.
#[derive(Debug, Default)]
pub struct Legend {
    entries: Vec<(String, LegendGlyph)>,
}

const LEGEND_SIZE: u32 = 13;
const LEGEND_ROW: u32 = 20;

impl Legend {
    pub fn push(&mut self, label: String, glyph: LegendGlyph) {
        self.entries.push((label, glyph));
    }

    /// Entries per row when laid out from `left` across `width` pixels.
    fn rows(&self, width: u32, left: u32) -> Vec<Vec<usize>> {
        let mut rows: Vec<Vec<usize>> = Vec::new();
        let mut x = left;
        for (i, (label, _)) in self.entries.iter().enumerate() {
            let w = 30 + text_width(label, LEGEND_SIZE) + 18;
            if rows.is_empty() || (x + w > width && !rows.last().is_some_and(Vec::is_empty)) {
                rows.push(Vec::new());
                x = left;
            }
            rows.last_mut().expect("a row").push(i);
            x += w;
        }
        rows
    }

    /// Height the legend needs at this width.
    pub fn height(&self, width: u32, left: u32) -> u32 {
        if self.entries.is_empty() {
            0
        } else {
            6 + LEGEND_ROW * self.rows(width, left).len() as u32
        }
    }

    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        left: u32,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let width = area.dim_in_pixel().0;
        for (r, row) in self.rows(width, left).iter().enumerate() {
            let y = 4 + (LEGEND_ROW * r as u32 + LEGEND_ROW / 2) as i32;
            let mut x = left as i32;
            for &i in row {
                let (label, glyph) = &self.entries[i];
                let cx = x + 12;
                match *glyph {
                    LegendGlyph::Marker { shape, color, line } => {
                        if line {
                            area.draw(&PathElement::new(
                                vec![(x, y), (x + 24, y)],
                                color.stroke_width(2),
                            ))?;
                        }
                        let st = color.mix(0.8).filled();
                        match shape {
                            0 => area.draw(&Circle::new((cx, y), 4, st))?,
                            1 => area.draw(&TriangleMarker::new((cx, y), 5, st))?,
                            _ => {
                                area.draw(&Rectangle::new([(cx - 4, y - 4), (cx + 4, y + 4)], st))?
                            }
                        }
                    }
                    LegendGlyph::Dot { color, filled } => {
                        let st = if filled {
                            color.filled()
                        } else {
                            color.stroke_width(2)
                        };
                        area.draw(&Circle::new((cx, y), 5, st))?;
                    }
                    LegendGlyph::Whisker => {
                        let st = BLACK.stroke_width(1);
                        area.draw(&PathElement::new(vec![(x + 2, y), (x + 22, y)], st))?;
                        area.draw(&PathElement::new(vec![(x + 2, y - 4), (x + 2, y + 4)], st))?;
                        area.draw(&PathElement::new(
                            vec![(x + 22, y - 4), (x + 22, y + 4)],
                            st,
                        ))?;
                    }
                }
                area.draw(&Text::new(
                    label.clone(),
                    (x + 30, y),
                    text_at(LEGEND_SIZE, HPos::Left, VPos::Center),
                ))?;
                x += (30 + text_width(label, LEGEND_SIZE) + 18) as i32;
            }
        }
        Ok(())
    }
}

/// `s` cut to `max` characters with an ellipsis in the middle, keeping both ends (a run
/// label's model and its differing settings).
pub fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 5 {
        return s.to_string();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let c: Vec<char> = s.chars().collect();
    format!(
        "{}\u{2026}{}",
        c[..head].iter().collect::<String>(),
        c[n - tail..].iter().collect::<String>()
    )
}
