//! Simulations shared by the claims: initial weights by seed, first-passage times of `m'` from
//! the Euler and adaptive solvers, and a naive Euler oracle that tracks identities.

use crate::ExperimentError;
use rand::SeedableRng;
use rand_pcg::Pcg64;
use sparsify_core::dynamics::L1;
use sparsify_core::{AdaptiveConfig, InitialWeights, ReducedConfig, ReducedSim, Solver, solve};

/// Half-normal initial weights (`sigma = 0.9/sqrt(m)`) from `Pcg64::seed_from_u64(seed)`; from
/// m = 1e6 on, the parallel chunked stream of `half_normal_parallel` (a different stream of
/// the same distribution, fast at scale).
pub(crate) fn half_normal(m: usize, seed: u64) -> Result<InitialWeights, ExperimentError> {
    if m >= 1_000_000 {
        Ok(InitialWeights::half_normal_parallel(seed, m, None)?)
    } else {
        Ok(InitialWeights::half_normal(
            &mut Pcg64::seed_from_u64(seed),
            m,
            None,
        )?)
    }
}

/// The deterministic quantile initialisation with `sigma = 0.9/sqrt(m)`.
pub(crate) fn quantile(m: usize) -> Result<InitialWeights, ExperimentError> {
    Ok(InitialWeights::quantile(m, None)?)
}

/// `first[n]` = the first time at which `m' <= n`, `n = 0..=m` (`first[m] = 0`; NaN where the
/// run never got there, e.g. `first[0]` when one survivor is left).
pub(crate) type FirstTimes = Vec<f64>;

/// First-passage times of the published explicit Euler scheme (step `h`), run by the reduced
/// solver (whose death events equal the direct solver's, claim 12): a death recorded after
/// step `k` happened at `t = k h`.
pub(crate) fn euler_first_times(
    w0: &InitialWeights,
    lambda: f64,
    h: f64,
) -> Result<FirstTimes, ExperimentError> {
    let m = w0.len();
    let cfg = ReducedConfig::new(lambda, h)?;
    let mut sim = ReducedSim::new(cfg, w0.clone())?;
    let mut first = vec![f64::NAN; m + 1];
    first[m] = 0.0;
    let mut lowest = m;
    while !sim.is_done() {
        // `advance` stops right after a step that changed m'.
        sim.advance(u64::MAX)?;
        let s = sim.stats();
        while lowest > s.m_prime {
            lowest -= 1;
            first[lowest] = s.t;
        }
    }
    Ok(first)
}

/// First-passage times of the continuous flow from the adaptive reduced solver (DP5(4), deaths
/// located on the dense output) at relative tolerance `rtol` and absolute tolerance
/// `rtol * 1e-4` (weights are `O(1/sqrt(m))` to `O(1)`).
pub(crate) fn adaptive_first_times(
    w0: &InitialWeights,
    lambda: f64,
    rtol: f64,
) -> Result<FirstTimes, ExperimentError> {
    let m = w0.len();
    let l1 = L1::new(lambda)?;
    let solver = Solver::adaptive(AdaptiveConfig::new(rtol, rtol * 1e-4)?);
    let s = solve(&l1, &solver, w0.clone(), &mut (), |_| false)?;
    let mut first = vec![f64::NAN; m + 1];
    first[m] = 0.0;
    let mut lowest = m;
    for d in &s.deaths {
        while lowest > d.m_prime {
            lowest -= 1;
            first[lowest] = d.t;
        }
    }
    Ok(first)
}

/// The published Euler loop written out naively over `(identity, weight)` pairs in any order:
/// `w <- w + h((1 - ||w||^2) w - lambda)`, then drop every `w <= 0`. No sorting, no affine
/// structure, no pruning trick: an oracle for the claims about identities (who survives, who
/// wins). O(m') per step.
pub(crate) struct NaiveEuler {
    /// `(index into the initial weights, current weight)` of every survivor, in input order.
    pub(crate) alive: Vec<(usize, f64)>,
    lambda: f64,
    h: f64,
    /// Steps taken.
    pub(crate) step: u64,
}

impl NaiveEuler {
    /// A run from `w0` (any order).
    pub(crate) fn new(w0: &[f64], lambda: f64, h: f64) -> Self {
        Self {
            alive: w0.iter().copied().enumerate().collect(),
            lambda,
            h,
            step: 0,
        }
    }

    /// One step; returns `false` once at most one survivor is left (then nothing is done).
    pub(crate) fn step(&mut self) -> bool {
        if self.alive.len() <= 1 {
            return false;
        }
        let sq: f64 = self.alive.iter().map(|&(_, w)| w * w).sum();
        let a = 1.0 - sq;
        let (lambda, h) = (self.lambda, self.h);
        for (_, w) in &mut self.alive {
            *w += (a * *w - lambda) * h;
        }
        self.alive.retain(|&(_, w)| w > 0.0);
        self.step += 1;
        true
    }
}

/// Index of the largest value (the first one on ties).
pub(crate) fn argmax(w: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in w.iter().enumerate() {
        if x > w[best] {
            best = i;
        }
    }
    best
}

/// Log-spaced integers from `hi` down to `lo` (inclusive), about `per_decade` per decade,
/// distinct and descending.
pub(crate) fn log_counts(hi: usize, lo: usize, per_decade: usize) -> Vec<usize> {
    let (lhi, llo) = ((hi as f64).log10(), (lo as f64).log10());
    let steps = ((lhi - llo) * per_decade as f64).ceil().max(1.0) as usize;
    let mut out: Vec<usize> = (0..=steps)
        .map(|i| {
            let x = lhi - (lhi - llo) * i as f64 / steps as f64;
            (10f64.powf(x).round() as usize).clamp(lo, hi)
        })
        .collect();
    out.dedup();
    out
}
