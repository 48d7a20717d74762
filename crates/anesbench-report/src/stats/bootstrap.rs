//! Paired bootstrap of an accuracy difference.

use serde::Serialize;

use super::rng::SplitMix64;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapInterval {
    /// Point estimate: mean(a) - mean(b) on the items as given.
    pub diff: f64,
    pub low: f64,
    pub high: f64,
    pub resamples: u32,
    pub seed: u64,
}

/// Resample item indices with replacement `resamples` times and take the 2.5th and
/// 97.5th percentiles (linear interpolation between order statistics) of the difference
/// in accuracy. `a[i]` and `b[i]` are the two runs' correctness on item `i`.
pub fn paired_bootstrap(
    a: &[bool],
    b: &[bool],
    resamples: u32,
    seed: u64,
) -> Option<BootstrapInterval> {
    assert_eq!(a.len(), b.len(), "paired_bootstrap: unpaired inputs");
    let n = a.len();
    if n == 0 || resamples == 0 {
        return None;
    }
    // Per item the difference is -1, 0 or 1: resampling those is all the bootstrap needs.
    let d: Vec<i64> = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| i64::from(x) - i64::from(y))
        .collect();
    let diff = d.iter().sum::<i64>() as f64 / n as f64;
    let mut rng = SplitMix64::new(seed);
    let mut stats: Vec<f64> = (0..resamples)
        .map(|_| {
            let s: i64 = (0..n).map(|_| d[rng.below(n as u64) as usize]).sum();
            s as f64 / n as f64
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    Some(BootstrapInterval {
        diff,
        low: quantile_sorted(&stats, 0.025),
        high: quantile_sorted(&stats, 0.975),
        resamples,
        seed,
    })
}

/// Quantile of sorted data, R's type 7 (linear between order statistics).
pub fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let h = (v.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_differences_give_point_intervals() {
        let a = vec![true; 50];
        let b = vec![false; 50];
        let i = paired_bootstrap(&a, &b, 500, 1).unwrap();
        assert_eq!((i.diff, i.low, i.high), (1.0, 1.0, 1.0));
        let i = paired_bootstrap(&a, &a, 500, 1).unwrap();
        assert_eq!((i.diff, i.low, i.high), (0.0, 0.0, 0.0));
        assert!(paired_bootstrap(&[], &[], 10, 1).is_none());
    }

    #[test]
    fn matches_normal_approximation_and_is_deterministic() {
        // 1000 items: 100 only A right, 50 only B right. Var of the mean difference is
        // ((b + c)/n - ((b - c)/n)^2) / n; the bootstrap interval should be close to
        // diff +- 1.96 * sd.
        let n = 1000;
        // Items 0..100 only A right, 100..150 only B right, 150..600 both right.
        let a: Vec<bool> = (0..n).map(|i| i < 100 || (150..600).contains(&i)).collect();
        let b: Vec<bool> = (0..n).map(|i| (100..600).contains(&i)).collect();
        let i1 = paired_bootstrap(&a, &b, 10_000, 42).unwrap();
        let i2 = paired_bootstrap(&a, &b, 10_000, 42).unwrap();
        assert_eq!(i1, i2);
        assert!((i1.diff - 0.05).abs() < 1e-12);
        let sd = ((150.0 / n as f64 - 0.05f64.powi(2)) / n as f64).sqrt();
        assert!(
            (i1.low - (0.05 - 1.959964 * sd)).abs() < 0.004,
            "{i1:?} sd {sd}"
        );
        assert!(
            (i1.high - (0.05 + 1.959964 * sd)).abs() < 0.004,
            "{i1:?} sd {sd}"
        );
    }

    #[test]
    fn quantile_type7() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert_eq!(quantile_sorted(&v, 0.0), 1.0);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
    }
}
