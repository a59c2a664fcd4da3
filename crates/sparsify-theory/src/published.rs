//! The published predictions of the seed gist, reproduced as functions.
//!
//! The gist ("Numerical simulation of the sparsification of an encoding affected by feature
//! benefit and l1 regularization", Victor Lecomte, 2023) predicts
//! `||w||_1 ~ 1/(1/sqrt(m) + lambda t)` and `m' ~ ||w||_1^2`, draws a "theoretical
//! w1/(t lambda)" curve from a Gaussian-tail approximation, and bounds the relative variance of
//! the survivors with `rel_var_range`. docs/theory.md §5 explains why the first two are off
//! by a factor of about 2 (they assume `rho = 1` and `||w0||_1 = sqrt(m)`); they are here as the
//! baseline to beat, evaluated exactly as the gist evaluates them.
//!
//! # References
//! The seed gist (Victor Lecomte, 2023); docs/theory.md §5 and §6.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::{TheoryError, non_negative, positive};

/// The gist's predicted curves for `m` weights and L1 strength `lambda`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedPrediction {
    m: usize,
    lambda: f64,
}

impl SeedPrediction {
    /// The prediction for `m >= 1` weights and `lambda > 0`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidCount`] if `m == 0`; [`TheoryError::InvalidParameter`] if
    /// `lambda` is not finite and `> 0`.
    pub fn new(m: usize, lambda: f64) -> Result<Self, TheoryError> {
        if m == 0 {
            return Err(TheoryError::InvalidCount {
                name: "m",
                value: m,
                valid: "an integer >= 1".to_string(),
            });
        }
        positive("lambda", lambda)?;
        Ok(Self { m, lambda })
    }

    /// `||w||_1 ~ 1 / (1/sqrt(m) + lambda t)`, unclamped.
    ///
    /// Domain `t >= 0` (time units of the flow); the value decreases from `sqrt(m)` and falls
    /// below 1 once `lambda t > 1 - 1/sqrt(m)`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidParameter`] if `t` is not finite and `>= 0`.
    ///
    /// # References
    /// The seed gist; its derivation `d(1/||w||_1)/dt = lambda rho` with `rho = 1` is in
    /// docs/theory.md §5.
    pub fn one_norm(&self, t: f64) -> Result<f64, TheoryError> {
        Ok(1.0 / self.denominator(t)?)
    }

    /// `max(1/(1/sqrt(m) + lambda t), 1)`, as the published plot draws it.
    ///
    /// # Errors
    /// As [`SeedPrediction::one_norm`].
    pub fn one_norm_clamped(&self, t: f64) -> Result<f64, TheoryError> {
        Ok(self.one_norm(t)?.max(1.0))
    }

    /// `m' ~ 1 / (1/sqrt(m) + lambda t)^2` (the square taken first, as the gist's
    /// `1 / (...) ** 2`), unclamped.
    ///
    /// # Errors
    /// As [`SeedPrediction::one_norm`].
    pub fn m_prime(&self, t: f64) -> Result<f64, TheoryError> {
        let d = self.denominator(t)?;
        Ok(1.0 / (d * d))
    }

    /// `max(1/(1/sqrt(m) + lambda t)^2, 1)`, as the published plot draws it.
    ///
    /// # Errors
    /// As [`SeedPrediction::one_norm`].
    pub fn m_prime_clamped(&self, t: f64) -> Result<f64, TheoryError> {
        Ok(self.m_prime(t)?.max(1.0))
    }

    fn denominator(&self, t: f64) -> Result<f64, TheoryError> {
        non_negative("t", t)?;
        Ok(1.0 / (self.m as f64).sqrt() + self.lambda * t)
    }
}

/// The gist's "theoretical w1/(t lambda)":
/// `(sqrt(ln m) - sqrt(ln(m/m'))) / (sqrt(ln(2m/m')) - sqrt(ln(m/m')))`.
///
/// From the Gaussian-tail approximation `Phi^-1(1 - q) ~ sqrt(2 ln(1/q))`: the largest weight
/// sits at `q ~ 1/m`, the smallest survivor at `q = m'/m`, their median at `q = m'/(2m)`.
/// Evaluated in the gist's order (`m / (m' / 2)` for the middle logarithm). At `m' = m` it is
/// `sqrt(ln m / ln 2)`; at `m' = 1` it is 0 (the two square roots in the numerator coincide).
///
/// # Errors
/// [`TheoryError::InvalidCount`] unless `1 <= m_prime <= m`.
///
/// # References
/// The seed gist (its gray curve); docs/theory.md §6.
pub fn theoretical_w1_ratio(m: usize, m_prime: usize) -> Result<f64, TheoryError> {
    if m_prime == 0 || m_prime > m {
        return Err(TheoryError::InvalidCount {
            name: "m_prime",
            value: m_prime,
            valid: format!("an integer in 1..={m}"),
        });
    }
    let mf = m as f64;
    let n = m_prime as f64;
    let low = (mf / n).ln().sqrt();
    Ok((mf.ln().sqrt() - low) / ((mf / (n / 2.0)).ln().sqrt() - low))
}

/// The gist's lower and upper bounds of the survivors' relative variance, for every `m'`.
#[derive(Debug, Clone, PartialEq)]
pub struct RelVarRange {
    /// `low[n-1] = var(w[..n]) / (mean(w[..n]) - w[n])^2`, with `w[len] = 0`.
    pub low: Vec<f64>,
    /// `high[n-1] = var(w[..n]) / (mean(w[..n]) - w[n-1])^2` (NaN at `n = 1`: 0/0, as numpy).
    pub high: Vec<f64>,
}

/// `rel_var_range(w)` exactly as the gist computes it, for weights sorted descending.
///
/// With `S1(n)`, `S2(n)` the prefix sums of `w` and `w*w` accumulated sequentially left to right
/// (numpy's `cumsum`; this order is the contract, for bitwise agreement), `avg = S1/n`,
/// `var = S2/n - avg^2`: `high = var / (avg - w[n-1])^2`, `low = var / (avg - w[n])^2` with
/// `w[len] = 0`. The true relative variance of the survivors lies between them whenever `m' = n`
/// (docs/theory.md §2). No input is rejected: like numpy, 0/0 gives NaN (always at `n = 1`
/// for `high`) and `var` may be a tiny negative number where it cancels.
///
/// # References
/// The seed gist's `rel_var_range`; docs/theory.md §2 and §6.
pub fn rel_var_range(w: &[f64]) -> RelVarRange {
    let mut low = Vec::with_capacity(w.len());
    let mut high = Vec::with_capacity(w.len());
    let (mut s1, mut s2) = (0.0_f64, 0.0_f64);
    for (i, &x) in w.iter().enumerate() {
        s1 += x;
        s2 += x * x;
        let n = (i + 1) as f64;
        let avg = s1 / n;
        let var = s2 / n - avg * avg;
        let next = w.get(i + 1).copied().unwrap_or(0.0);
        let dh = avg - x;
        let dl = avg - next;
        high.push(var / (dh * dh));
        low.push(var / (dl * dl));
    }
    RelVarRange { low, high }
}

/// The ideal (quantile) half-normal weights `sigma * Phi^-1(0.5 + (j + 0.5)/(2m))`, sorted
/// descending (`j = m-1, ..., 0`).
///
/// `sigma = None` gives the unscaled quantiles of the gist's `w_ideal`; `Some(0.9/sqrt(m))` the
/// reference runs' deterministic initialisation. The probability is formed as the gist does,
/// `0.5 + (j + 0.5) / (2m)`; `Phi^-1` is statrs' `Normal::inverse_cdf` (about 1 ulp, so
/// values may differ from scipy's `ndtri` in the last bit).
///
/// # Errors
/// [`TheoryError::InvalidCount`] if `m == 0`; [`TheoryError::InvalidParameter`] if `sigma`
/// is given and not finite and `> 0`.
///
/// # References
/// The seed gist (`w_ideal`); the reference README (quantile initialisation).
pub fn ideal_quantiles(m: usize, sigma: Option<f64>) -> Result<Vec<f64>, TheoryError> {
    if m == 0 {
        return Err(TheoryError::InvalidCount {
            name: "m",
            value: m,
            valid: "an integer >= 1".to_string(),
        });
    }
    let scale = match sigma {
        Some(s) => positive("sigma", s)?,
        None => 1.0,
    };
    let normal = Normal::standard();
    let two_m = (2 * m) as f64;
    Ok((0..m)
        .rev()
        .map(|j| {
            let p = 0.5 + (j as f64 + 0.5) / two_m;
            let x = normal.inverse_cdf(p);
            if sigma.is_some() { scale * x } else { x }
        })
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The initial weights of a reference run, parsed from its numpy v1 `.npy` bytes.
    pub(crate) fn npy_f64(bytes: &[u8]) -> Vec<f64> {
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.contains("'descr': '<f8'") && header.contains("'fortran_order': False"));
        bytes[10 + header_len..]
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }

    fn np_float(s: &str) -> f64 {
        s.trim()
            .strip_prefix("np.float64(")
            .and_then(|x| x.strip_suffix(')'))
            .unwrap()
            .parse()
            .unwrap()
    }

    /// Largest distance in ulps between `got` and `want` (NaN must match NaN).
    fn ulps(got: f64, want: f64) -> u64 {
        if want.is_nan() {
            return if got.is_nan() { 0 } else { u64::MAX };
        }
        if got == want {
            return 0;
        }
        ((got - want).abs() / (want.abs() * f64::EPSILON / 2.0)).ceil() as u64
    }

    /// Checks one reference `.relvar.csv`; returns the worst ulp distances (w0 columns,
    /// quantile columns).
    fn check_relvar(w0_npy: &[u8], csv: &str) -> (u64, u64) {
        let w0 = npy_f64(w0_npy);
        let ours = rel_var_range(&w0);
        let ideal = rel_var_range(&ideal_quantiles(w0.len(), None).unwrap());
        let (mut worst_w0, mut worst_q) = (0, 0);
        for line in csv.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let n: usize = f[0].parse().unwrap();
            worst_w0 = worst_w0
                .max(ulps(ours.low[n - 1], np_float(f[1])))
                .max(ulps(ours.high[n - 1], np_float(f[2])));
            worst_q = worst_q
                .max(ulps(ideal.low[n - 1], np_float(f[3])))
                .max(ulps(ideal.high[n - 1], np_float(f[4])));
        }
        (worst_w0, worst_q)
    }

    const FIXTURES: [(&[u8], &str); 4] = [
        (
            include_bytes!("../../../tests/fixtures/reference/small_m1e4_l1e-4.w0.npy"),
            include_str!("../../../tests/fixtures/reference/small_m1e4_l1e-4.relvar.csv"),
        ),
        (
            include_bytes!("../../../tests/fixtures/reference/tiny_quantile_m1e3_l1e-3.w0.npy"),
            include_str!("../../../tests/fixtures/reference/tiny_quantile_m1e3_l1e-3.relvar.csv"),
        ),
        (
            include_bytes!("../../../tests/fixtures/reference/paper_m1e5_l1e-5.w0.npy"),
            include_str!("../../../tests/fixtures/reference/paper_m1e5_l1e-5.relvar.csv"),
        ),
        (
            include_bytes!("../../../tests/fixtures/reference/quantile_m1e5_l1e-5.w0.npy"),
            include_str!("../../../tests/fixtures/reference/quantile_m1e5_l1e-5.relvar.csv"),
        ),
    ];

    #[test]
    fn rel_var_range_reproduces_the_reference() {
        for (npy, csv) in FIXTURES {
            let (w0, q) = check_relvar(npy, csv);
            eprintln!("rel_var_range worst ulps: w0 {w0}, ideal quantiles {q}");
            // Same inputs, the same IEEE operations (no libm call) in the same order as numpy:
            // the result must be bitwise equal, NaN at n = 1 included.
            assert_eq!(w0, 0, "w0 columns off by {w0} ulps");
            // The quantiles themselves may differ from scipy's by an ulp; the variance
            // `S2/n - avg^2` cancels by up to ~1e3 at n = 2 (gap 0.2 between values near 3.9),
            // so an input ulp can become ~1e3 output ulps (measured worst: 1829 ulps, at small
            // n). 1e4 ulps (1.1e-12 relative) bounds it.
            assert!(q <= 10_000, "quantile columns off by {q} ulps");
        }
    }

    #[test]
    fn seed_prediction_values() {
        let p = SeedPrediction::new(10_000, 1e-4).unwrap();
        // t = 0: sqrt(m) and m exactly (1/0.01 rounds to 100 exactly; squares stay exact).
        assert_eq!(p.one_norm(0.0).unwrap(), 100.0);
        assert_eq!(p.m_prime(0.0).unwrap(), 10_000.0);
        // lambda t = 0.99: 1/(0.01 + 0.99) = 1 (to an ulp), and far beyond the clamp holds at 1.
        assert!((p.one_norm(9_900.0).unwrap() - 1.0).abs() < 4.0 * f64::EPSILON);
        assert!(p.one_norm(1e6).unwrap() < 0.02);
        assert_eq!(p.one_norm_clamped(1e6).unwrap(), 1.0);
        assert_eq!(p.m_prime_clamped(1e6).unwrap(), 1.0);
        assert!(p.m_prime(-1.0).is_err());
        assert!(SeedPrediction::new(0, 1e-4).is_err());
        assert!(SeedPrediction::new(10, f64::NAN).is_err());
    }

    #[test]
    fn theoretical_w1_ratio_values() {
        // m' = m: (sqrt(ln m) - 0) / (sqrt(ln 2) - 0), to rounding (a few ulps).
        let r = theoretical_w1_ratio(100_000, 100_000).unwrap();
        let want = (100_000_f64.ln() / 2_f64.ln()).sqrt();
        assert!((r - want).abs() < 8.0 * f64::EPSILON * want);
        // m' = 1: (sqrt(ln m) - sqrt(ln m)) / (...) = 0.
        assert_eq!(theoretical_w1_ratio(1000, 1).unwrap(), 0.0);
        assert!(theoretical_w1_ratio(10, 11).is_err());
        assert!(theoretical_w1_ratio(10, 0).is_err());
    }

    #[test]
    fn ideal_quantiles_are_sorted_and_scaled() {
        let q = ideal_quantiles(1000, None).unwrap();
        assert!(q.windows(2).all(|p| p[0] > p[1]));
        // Smallest: Phi^-1(0.5 + d) with d = 1/4000 is x + x^3/6 + O(x^5) with
        // x = sqrt(2 pi) d (the next term is 7e-14 relative). The probability 0.50025 carries
        // a rounding of 1.1e-16 absolute, 4.4e-13 relative to d: 1e-11 bounds both.
        let x = (2.0 * std::f64::consts::PI).sqrt() / 4000.0;
        let want = x + x * x * x / 6.0;
        assert!(
            (q[999] / want - 1.0).abs() < 1e-11,
            "{}",
            q[999] / want - 1.0
        );
        let s = ideal_quantiles(1000, Some(0.5)).unwrap();
        assert_eq!(s[0], 0.5 * q[0]);
        assert!(ideal_quantiles(0, None).is_err());
        assert!(ideal_quantiles(5, Some(-1.0)).is_err());
    }
}
