//! Compensated summation, the crate's explicit choice of summation order.
//!
//! Every sum in this crate whose exact order is not part of a contract (the closed-form death
//! times, the continuum integrals) is accumulated left to right in a documented order with
//! Neumaier's compensation: the error is `O(eps)` relative to the sum of magnitudes,
//! independent of the number of terms, and running (prefix) values stay available, which
//! pairwise summation cannot give. The one exception is [`crate::published::rel_var_range`],
//! whose contract is to reproduce numpy's plain sequential `cumsum`. (faer is for matrix
//! work, not for 1-D sums whose order must be explicit.)

/// A running sum with Neumaier's compensation (an improved Kahan sum).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Neumaier {
    sum: f64,
    compensation: f64,
}

impl Neumaier {
    /// A sum starting at 0.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `x`, keeping the low-order bits lost by the rounded addition. An infinite or NaN
    /// running sum stays as it is (the compensation would turn `inf` into NaN).
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if !t.is_finite() {
            self.sum = t;
            self.compensation = 0.0;
        } else if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The compensated value.
    pub(crate) fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_what_a_plain_sum_loses() {
        // 1 + 1e-16 (ten thousand times) - 1: a plain sum returns 0 because each tiny term is
        // below half an ulp of 1; the compensated sum keeps them all. Its compensation term is
        // itself a plain sum of 1e4 terms, so its relative error is at most 1e4 * eps = 2.2e-12.
        let mut s = Neumaier::new();
        s.add(1.0);
        for _ in 0..10_000 {
            s.add(1e-16);
        }
        s.add(-1.0);
        assert!((s.value() / 1e-12 - 1.0).abs() < 2.3e-12, "{}", s.value());
        let plain: f64 = std::iter::once(1.0)
            .chain(std::iter::repeat_n(1e-16, 10_000))
            .chain(std::iter::once(-1.0))
            .sum();
        assert_eq!(plain, 0.0);
    }

    #[test]
    fn infinity_stays_infinity() {
        let mut s = Neumaier::new();
        s.add(1.0);
        s.add(f64::INFINITY);
        s.add(1.0);
        assert_eq!(s.value(), f64::INFINITY);
    }
}
