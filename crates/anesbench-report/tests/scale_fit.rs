//! Figure (b) from the published table alone, with its fitted lines checked against an
//! independent least-squares solution (normal equations solved by Cramer's rule on raw,
//! uncentred sums, in a different order from the library's centred computation).

use anesbench_report::plots::{render_svg, scale_analysis, FigureKind};
use anesbench_report::points::ModelPoint;
use anesbench_report::published::{published, PUBLISHED_TSV};
use anesbench_report::size::resolve_size;

/// Parse the TSV directly (not through the library) and return (log10 size, scores).
fn independent_points() -> Vec<(f64, [f64; 3])> {
    PUBLISHED_TSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let size = resolve_size(f[0], None, None).0?;
            Some((
                size.log10(),
                [
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                ],
            ))
        })
        .collect()
}

fn cramer(points: &[(f64, f64)]) -> (f64, f64) {
    // [n  Sx ] [a]   [Sy ]
    // [Sx Sxx] [b] = [Sxy]
    let n = points.len() as f64;
    let sx: f64 = points.iter().rev().map(|p| p.0).sum();
    let sxx: f64 = points.iter().rev().map(|p| p.0 * p.0).sum();
    let sy: f64 = points.iter().rev().map(|p| p.1).sum();
    let sxy: f64 = points.iter().rev().map(|p| p.0 * p.1).sum();
    let det = n * sxx - sx * sx;
    let a = (sy * sxx - sx * sxy) / det;
    let b = (n * sxy - sx * sy) / det;
    (a, b)
}

#[test]
fn fitted_lines_match_an_independent_least_squares() {
    let pts: Vec<ModelPoint> = published()
        .iter()
        .map(|e| ModelPoint::from_published(e, None))
        .collect();
    let a = scale_analysis(&pts);
    let ind = independent_points();
    assert_eq!(a.models, ind.len());
    // gpt-4o and the two FineMedLM models publish no size.
    assert_eq!(a.left_out, vec!["FineMedLM", "FineMedLM-o1", "gpt-4o"]);
    assert_eq!(a.models, 48);
    for j in 0..3 {
        let xy: Vec<(f64, f64)> = ind.iter().map(|(x, s)| (*x, s[j])).collect();
        let (intercept, slope) = cramer(&xy);
        let f = a.fits[j].unwrap();
        assert!(
            (f.slope - slope).abs() < 1e-9,
            "level {j}: slope {} vs {slope}",
            f.slope
        );
        assert!(
            (f.intercept - intercept).abs() < 1e-9,
            "level {j}: intercept {} vs {intercept}",
            f.intercept
        );
        assert!(f.slope > 0.0, "accuracy grows with size at every level");
    }
    // System 1 above System 2 at both ends, as the study reports.
    assert!(a.gap_at_min.unwrap() > 0.0 && a.gap_at_max.unwrap() > 0.0);
    let (lo, hi) = a.x_range.unwrap();
    let gap = |x: f64| a.fits[0].unwrap().at(x) - a.fits[2].unwrap().at(x);
    assert!(
        (a.gap_at_min.unwrap() - gap(lo)).abs() < 1e-12
            && (a.gap_at_max.unwrap() - gap(hi)).abs() < 1e-12
    );
    assert!(
        (lo - 0.6f64.log10()).abs() < 1e-12,
        "smallest is Qwen3-0.6B"
    );
    assert!(
        (hi - 671f64.log10()).abs() < 1e-12,
        "largest is DeepSeek V3/R1"
    );

    let svg = render_svg(FigureKind::Scale, &pts).unwrap();
    roxmltree::Document::parse(&svg).unwrap();
    assert!(
        svg.contains("3 of unknown size left out"),
        "footnote names the left-out count"
    );
}
