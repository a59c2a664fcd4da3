//! Counting polysemantic neurons of the n-feature model (docs/theory.md §8): three null
//! models of how many neurons end up shared by features, and their distributions.
//!
//! `n` features each have an encoding row of `m` neurons. Three counts are modelled here:
//!
//! - **Initial-argmax collisions** ([`CountKind::Collisions`]): each feature's largest-`|W0|`
//!   neuron is uniform on the `m` neurons, independently; the count is the number of pairs of
//!   features that share it, `X = sum_j C(k_j, 2)` over the occupancies `k_j`.
//! - **Opposite-sign collisions** ([`CountKind::OppositeSignCollisions`]): the same, counting
//!   only the pairs whose signs (fair coins, independent) differ, `X = sum_j p_j q_j` with `p_j`
//!   positive and `q_j` negative features on neuron `j`. These are the pairs a ReLU cannot
//!   separate, so `E X = n(n-1)/4m` is the paper's `n^2/4m`.
//! - **The occupancy model** ([`CountKind::Polysemantic`]): a neuron is polysemantic when it
//!   receives at least one positive and one negative feature, features landing uniformly with a
//!   fair sign; `X = #{j : p_j >= 1, q_j >= 1}`.
//!
//! [`CountModel`] gives each count's exact mean and variance in closed form, and its exact
//! distribution (pmf, quantiles) by a dynamic programme over the multiply occupied neurons
//! ([`CountModel::distribution`]). The [`relocation`] model replaces "each feature stays on its
//! initial argmax" by a combinatorial relocation from an actual `W0`: a same-sign conflict
//! pushes the weaker feature to its next-ranked neuron until nothing moves.
//!
//! # Closed forms
//! With `P = n(n-1)/2` pairs: the pair indicators `[a, b share a neuron]` are pairwise
//! independent (two pairs with a common feature share a neuron together with probability
//! `1/m^2`, the product), so
//! - collisions: `E X = P/m`, `Var X = P (1/m)(1 - 1/m)`;
//! - opposite-sign collisions (a pair also needs opposite signs, probability `1/2`):
//!   `E X = P/2m`, `Var X = P (1/2m)(1 - 1/2m)`, by the same argument;
//! - occupancy: with `g_r = (1 - r/2m)^n` (no feature in `r` given (neuron, sign) cells),
//!   `p1 = P(neuron polysemantic) = 1 - 2 g_1 + g_2` and for two neurons
//!   `p2 = 1 - 4 g_1 + 6 g_2 - 4 g_3 + g_4` (inclusion-exclusion), so
//!   `E X = m p1 = m (1 - 2(1 - 1/2m)^n + (1 - 1/m)^n)` and
//!   `Var X = m p1 (1 - p1) + m (m - 1) (p2 - p1^2)`.
//!
//! # References
//! docs/theory.md §8 (counting polysemantic neurons); the birthday problem for collisions; the
//! occupancy count as in issue 10.

mod exact;
pub mod relocation;

pub use exact::CountDistribution;

use crate::error::TheoryError;

/// Which count of shared neurons to model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountKind {
    /// Pairs of features whose (uniform, independent) initial argmax neurons coincide.
    Collisions,
    /// Those pairs whose fair-coin signs also differ.
    OppositeSignCollisions,
    /// Neurons receiving at least one positive and one negative feature (occupancy model).
    Polysemantic,
}

/// A count of shared neurons for `n` features on `m` neurons, with its exact moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountModel {
    kind: CountKind,
    n: usize,
    m: usize,
}

impl CountModel {
    /// A validated model.
    ///
    /// # Errors
    /// [`TheoryError::InvalidCount`] if `n` or `m` is 0, or above `2^32` (the counts are
    /// computed in `f64` and `u64` and must stay exact).
    pub fn new(kind: CountKind, n: usize, m: usize) -> Result<Self, TheoryError> {
        const LIMIT: usize = 1 << 32;
        for (name, value) in [("n", n), ("m", m)] {
            if value == 0 || value > LIMIT {
                return Err(TheoryError::InvalidCount {
                    name,
                    value,
                    valid: format!("an integer in 1..={LIMIT}"),
                });
            }
        }
        Ok(Self { kind, n, m })
    }

    /// The count modelled.
    pub fn kind(&self) -> CountKind {
        self.kind
    }

    /// The number of features.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The number of neurons.
    pub fn m(&self) -> usize {
        self.m
    }

    /// The largest value the count can take: `n(n-1)/2` collisions, `floor(n/2) ceil(n/2)`
    /// opposite-sign pairs (all features on one neuron, signs split evenly), and
    /// `min(m, floor(n/2))` polysemantic neurons (each needs two features).
    pub fn max_count(&self) -> u64 {
        let n = self.n as u64;
        match self.kind {
            CountKind::Collisions => n * (n - 1) / 2,
            CountKind::OppositeSignCollisions => (n / 2) * n.div_ceil(2),
            CountKind::Polysemantic => (self.m as u64).min(n / 2),
        }
    }

    /// The exact mean (formulas in the module documentation).
    ///
    /// # References
    /// docs/theory.md §8.
    pub fn mean(&self) -> f64 {
        let (n, m) = (self.n as f64, self.m as f64);
        let pairs = n * (n - 1.0) / 2.0;
        match self.kind {
            CountKind::Collisions => pairs / m,
            CountKind::OppositeSignCollisions => pairs / (2.0 * m),
            CountKind::Polysemantic => m * self.occupancy_p1(),
        }
    }

    /// The exact variance (formulas in the module documentation). The occupancy model's
    /// covariance `p2 - p1^2` is evaluated as `4 D(1,1) - 4 D(1,2) + D(2,2)` with
    /// `D(a,b) = g_{a+b} - g_a g_b = g_a g_b expm1(n ln_1p(-ab x^2/((1-ax)(1-bx))))`,
    /// `x = 1/2m`, so that nothing cancels between numbers close to 1: the result keeps a
    /// relative accuracy of about `1e-12` even at `m = 1e5`.
    ///
    /// # References
    /// docs/theory.md §8.
    pub fn variance(&self) -> f64 {
        let (n, m) = (self.n as f64, self.m as f64);
        let pairs = n * (n - 1.0) / 2.0;
        match self.kind {
            CountKind::Collisions => pairs * (1.0 / m) * (1.0 - 1.0 / m),
            CountKind::OppositeSignCollisions => {
                let q = 1.0 / (2.0 * m);
                pairs * q * (1.0 - q)
            }
            CountKind::Polysemantic => {
                let p1 = self.occupancy_p1();
                let cov = if self.m == 1 {
                    0.0
                } else {
                    4.0 * self.d(1, 1) - 4.0 * self.d(1, 2) + self.d(2, 2)
                };
                m * p1 * (1.0 - p1) + m * (m - 1.0) * cov
            }
        }
    }

    /// The standard deviation, `sqrt(variance)`.
    pub fn std_dev(&self) -> f64 {
        self.variance().max(0.0).sqrt()
    }

    /// `g_r = (1 - r x)^n`, `x = 1/2m`, for `r <= 4` (0 when `r x >= 1`).
    fn g(&self, r: u32) -> f64 {
        let rx = f64::from(r) / (2.0 * self.m as f64);
        if rx >= 1.0 {
            0.0
        } else {
            (self.n as f64 * (-rx).ln_1p()).exp()
        }
    }

    /// `D(a, b) = g_{a+b} - g_a g_b`, without cancellation.
    fn d(&self, a: u32, b: u32) -> f64 {
        let x = 1.0 / (2.0 * self.m as f64);
        let (ax, bx) = (f64::from(a) * x, f64::from(b) * x);
        let ratio = -(f64::from(a * b) * x * x) / ((1.0 - ax) * (1.0 - bx));
        self.g(a) * self.g(b) * (self.n as f64 * ratio.ln_1p()).exp_m1()
    }

    /// `p1 = 1 - 2 g_1 + g_2 = (1 - g_1)^2 + D(1, 1)`, both terms free of cancellation.
    fn occupancy_p1(&self) -> f64 {
        let x = 1.0 / (2.0 * self.m as f64);
        let one_minus_g1 = -(self.n as f64 * (-x).ln_1p()).exp_m1();
        (one_minus_g1 * one_minus_g1 + self.d(1, 1)).max(0.0)
    }
}

#[cfg(test)]
mod tests;
