//! Exact McNemar test: a two-sided binomial test on the discordant pairs.

/// Two-sided exact p-value for `b` pairs only the first got right and `c` only the
/// second: `min(1, 2 * P[X <= min(b, c)])` with `X ~ Binomial(b + c, 1/2)`.
/// Summed in log space so thousands of discordant pairs do not underflow.
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    let mut ln_pmf = n as f64 * 0.5f64.ln();
    let mut terms = Vec::with_capacity(k as usize + 1);
    terms.push(ln_pmf);
    for i in 0..k {
        ln_pmf += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
        terms.push(ln_pmf);
    }
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let tail = max.exp() * terms.iter().map(|t| (t - max).exp()).sum::<f64>();
    (2.0 * tail).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // 2 * (1 + 9) / 2^10 = 20/1024.
        assert!((mcnemar_exact(1, 9) - 0.021_484_375).abs() < 1e-15);
        assert!((mcnemar_exact(9, 1) - 0.021_484_375).abs() < 1e-15);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        // b=0, c=5: 2 / 32.
        assert!((mcnemar_exact(0, 5) - 0.0625).abs() < 1e-15);
        // b=2, c=10: 2 * (1 + 12 + 66) / 4096 = 158/4096.
        assert!((mcnemar_exact(2, 10) - 158.0 / 4096.0).abs() < 1e-14);
        let p = mcnemar_exact(0, 3000);
        assert!(p >= 0.0, "no NaN: {p}");
        assert!(p < 1e-300);
        assert!((mcnemar_exact(1500, 1500) - 1.0).abs() < 1e-12);
    }
}
