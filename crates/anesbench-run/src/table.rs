//! The end-of-run summary as a plain-text table (stdout), from a [`Summary`].

use std::fmt::Write;

use anesbench_core::summary::{lang_level_key, Cell};
use anesbench_core::{Lang, Level, Summary};

fn row(out: &mut String, label: &str, c: &Cell) {
    let _ = writeln!(
        out,
        "{label:<22} {:>6} {:>7} {:>7.1}%  [{:>5.1}, {:>5.1}] {:>7} {:>6} {:>6}",
        c.n,
        c.correct,
        100.0 * c.accuracy,
        100.0 * c.ci_low,
        100.0 * c.ci_high,
        c.no_answer,
        c.truncated,
        c.errors
    );
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.1}"))
}

pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    if s.aggregation != "sample" {
        let _ = writeln!(
            out,
            "per item: {} over {} samples each ({} samples); n counts items{}",
            s.aggregation.replace('_', " "),
            s.samples_per_item,
            s.samples,
            if s.pending_items > 0 {
                format!(", {} items still pending", s.pending_items)
            } else {
                String::new()
            }
        );
    }
    let _ = writeln!(
        out,
        "{:<22} {:>6} {:>7} {:>8}  {:>14} {:>7} {:>6} {:>6}",
        "", "n", "correct", "accuracy", "95% CI", "no-ans", "trunc", "errors"
    );
    row(&mut out, "overall", &s.overall);
    for l in Level::ALL {
        if let Some(c) = s.level(l) {
            row(&mut out, l.name(), c);
        }
    }
    for lang in Lang::ALL {
        if let Some(c) = s.lang(lang) {
            row(&mut out, lang.code(), c);
        }
    }
    for lang in Lang::ALL {
        for l in Level::ALL {
            if let Some(c) = s.by_lang_level.get(&lang_level_key(lang, l)) {
                row(&mut out, &format!("{} / {}", lang.code(), l.name()), c);
            }
        }
    }
    if !s.maj_at_k.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<22} {:>6} {:>8}  {:>14}",
            "majority of first k", "n", "accuracy", "95% CI"
        );
        for (k, cells) in &s.maj_at_k {
            if let Some(c) = cells.get("overall") {
                let _ = writeln!(
                    out,
                    "{:<22} {:>6} {:>7.1}%  [{:>5.1}, {:>5.1}]",
                    format!("maj@{k}"),
                    c.n,
                    100.0 * c.accuracy,
                    100.0 * c.ci_low,
                    100.0 * c.ci_high
                );
            }
        }
    }
    if s.length_by_level.values().any(|x| x.n > 0) {
        let _ = writeln!(
            out,
            "\n{:<22} {:>6} {:>10} {:>10}",
            "completion tokens", "n", "mean", "median"
        );
        for l in Level::ALL {
            if let Some(x) = s.length_by_level.get(l.key()) {
                let _ = writeln!(
                    out,
                    "{:<22} {:>6} {:>10} {:>10}",
                    l.name(),
                    x.n,
                    opt(x.mean_completion_tokens),
                    opt(x.median_completion_tokens)
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anesbench_core::SampleRecord;

    #[test]
    fn table_shows_every_slice_with_intervals() {
        let mk = |id: &str, lang, level, ok: bool| SampleRecord {
            answer: Some(if ok { 'A' } else { 'B' }),
            rule: "t".into(),
            correct: ok,
            finish_reason: Some("length".into()),
            completion_tokens: Some(12),
            ..SampleRecord::new(id, lang, level, 0, 'A', "AB")
        };
        let rs = [
            mk("1", Lang::En, Level::S1, true),
            mk("2", Lang::Zh, Level::S2, false),
        ];
        let t = render(&Summary::from_records(&rs));
        assert!(t.contains("overall"), "{t}");
        assert!(t.contains("en / System 1"), "{t}");
        assert!(t.contains("zh / System 2"), "{t}");
        assert!(t.contains("50.0%"), "{t}");
        assert!(t.contains("12.0"), "{t}");
        assert!(!t.contains("System 1.x"), "{t}");
    }
}
