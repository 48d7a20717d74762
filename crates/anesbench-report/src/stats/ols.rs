//! Ordinary least squares for one predictor: the fitted lines of the model-scale figure.

use serde::Serialize;

/// `y = intercept + slope * x`, fitted on `n` points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Line {
    pub slope: f64,
    pub intercept: f64,
    pub n: usize,
    /// Coefficient of determination.
    pub r2: f64,
}

impl Line {
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

/// Fit by centred sums (stable when x is far from 0). `None` with fewer than two distinct x.
pub fn fit_line(xs: &[f64], ys: &[f64]) -> Option<Line> {
    assert_eq!(xs.len(), ys.len(), "fit_line: x and y differ in length");
    let n = xs.len();
    if n < 2 {
        return None;
    }
    let mx = xs.iter().sum::<f64>() / n as f64;
    let my = ys.iter().sum::<f64>() / n as f64;
    let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
        syy += (y - my) * (y - my);
    }
    if sxx <= f64::EPSILON * n as f64 {
        return None;
    }
    let slope = sxy / sxx;
    let r2 = if syy > 0.0 {
        sxy * sxy / (sxx * syy)
    } else {
        1.0
    };
    Some(Line {
        slope,
        intercept: my - slope * mx,
        n,
        r2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_line_and_degenerate_inputs() {
        let l = fit_line(&[0.0, 1.0, 2.0], &[1.0, 3.0, 5.0]).unwrap();
        assert!(
            (l.slope - 2.0).abs() < 1e-12
                && (l.intercept - 1.0).abs() < 1e-12
                && (l.r2 - 1.0).abs() < 1e-12
        );
        assert!(fit_line(&[1.0], &[1.0]).is_none());
        assert!(fit_line(&[2.0, 2.0], &[1.0, 3.0]).is_none());
        // Known textbook case: x = 1..5, y = 2,4,5,4,5 -> slope 0.6, intercept 2.2, r2 0.6.
        let l = fit_line(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 5.0, 4.0, 5.0]).unwrap();
        assert!(
            (l.slope - 0.6).abs() < 1e-12
                && (l.intercept - 2.2).abs() < 1e-12
                && (l.r2 - 0.6).abs() < 1e-12
        );
    }
}
