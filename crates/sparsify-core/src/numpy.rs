//! numpy's legacy `RandomState` stream: MT19937 and the polar Box-Muller normal.
//!
//! `np.random.seed(s); np.random.normal(0, sigma, m)` is reproduced bit for bit, so the
//! published run's initial weights need no file.

use rand_mt::Mt;

/// numpy's legacy `RandomState`: an MT19937 seeded by `init_genrand(seed)` and the polar
/// Box-Muller Gaussian with its cached second value.
///
/// Doubles are `(a*2^26 + b)/2^53` with `a = next_u32 >> 5`, `b = next_u32 >> 6`; a Gaussian
/// draws `x_i = 2u_i - 1` until `0 < r2 = x1^2 + x2^2 < 1`, then returns `f*x2` with
/// `f = sqrt(-2 ln(r2)/r2)` and caches `f*x1` for the next call. `ln` is the platform's
/// libm `log`, as numpy's, which is what makes the stream bitwise identical on one machine.
///
/// # References
/// numpy `random/src/legacy/legacy-distributions.c` (`legacy_gauss`) and
/// `random/src/mt19937/mt19937.c` (`mt19937_seed`).
pub struct NumpyRandomState {
    mt: Mt,
    cached_gauss: Option<f64>,
}

impl NumpyRandomState {
    /// The state after `np.random.seed(seed)` (any seed in `0..2^32`).
    pub fn new(seed: u32) -> Self {
        Self {
            mt: Mt::new(seed),
            cached_gauss: None,
        }
    }

    /// numpy's `random_sample()`: a double in `[0, 1)` with 53 random bits.
    pub fn next_double(&mut self) -> f64 {
        let a = f64::from(self.mt.next_u32() >> 5);
        let b = f64::from(self.mt.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// numpy's legacy `standard_normal()` (polar Box-Muller, second value cached).
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(g) = self.cached_gauss.take() {
            return g;
        }
        loop {
            let x1 = 2.0 * self.next_double() - 1.0;
            let x2 = 2.0 * self.next_double() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.cached_gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// numpy's legacy `normal(loc, scale)`: `loc + scale * standard_normal()`.
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_seed_5489_matches_the_reference_generator() {
        // The 10000th output of MT19937 seeded with 5489 is 4123659995 (C++ std::mt19937's
        // required value, [rand.predef]); this pins the generator, not numpy's use of it.
        let mut mt = Mt::new(5489);
        let mut last = 0;
        for _ in 0..10_000 {
            last = mt.next_u32();
        }
        assert_eq!(last, 4_123_659_995);
    }

    #[test]
    fn first_normals_of_seed_0_match_numpy() {
        // np.random.seed(0); np.random.normal(0, 1, 4) printed with repr() by numpy 2.4.6.
        let expected: [f64; 4] = [
            1.764_052_345_967_664,
            0.400_157_208_367_223_3,
            0.978_737_984_105_739_2,
            2.240_893_199_201_458,
        ];
        let mut rs = NumpyRandomState::new(0);
        for e in expected {
            assert_eq!(rs.normal(0.0, 1.0).to_bits(), e.to_bits());
        }
    }

    #[test]
    fn doubles_are_in_the_unit_interval() {
        let mut rs = NumpyRandomState::new(12345);
        for _ in 0..10_000 {
            let u = rs.next_double();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
