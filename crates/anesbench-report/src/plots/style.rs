//! Shared look of the figures: font, colours, axis formatting.

use std::sync::Once;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub const FONT_FAMILY: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");

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

/// Label of a log10(billions) axis value: `270M`, `7B`, `70B`.
pub fn params_label(x: &f64) -> String {
    let b = 10f64.powf(*x);
    if b < 1.0 {
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
