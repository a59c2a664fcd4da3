//! Claim 4: the continuum prediction against a quantile-initialised simulation.

use sparsify_theory::continuum::HalfNormalContinuum;
use sparsify_theory::death_times::{Discretisation, Order, PredictionConfig};
use sparsify_theory::slow_manifold::SlowManifold;

use sparsify_core::{ReducedConfig, ReducedSim};

use super::sim::{log_counts, quantile};
use super::{Claim, Profile, Worst, worst};
use crate::ExperimentError;

pub(crate) const STATEMENT: &str = "The continuum prediction m'(t) matches a quantile-initialised \
     Euler simulation (h = 0.5) within 0.2% for m' >= 1000 and within 2% for m' >= 50.";

/// The worst relative errors of the continuum's `m'(t)` against the simulated `m'(t)`, for
/// `m' >= 1000` and for `50 <= m' < 1000`, and the number of points compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContinuumCheck {
    /// `max |N(t) - m'(t)| / m'(t)` over the points with `m'(t) >= 1000`.
    pub above_1000: f64,
    /// The same over `50 <= n < 1000`.
    pub above_50: f64,
    /// Points compared.
    pub compared: usize,
}

/// The continuum (slow manifold, first order, Euler step `h`, transient shift) against the
/// quantile-initialised Euler simulation of `m` weights: at the first step boundary `t` with
/// `m' <= n`, for `n` on a log grid (40 per decade) from `m/2` down to 50, the relative error
/// `|N(theta(t)) - m'(t)| / m'(t)` (`m'(t)` the simulation's count at that instant, which
/// early on, with many deaths per step, can be well below `n`: comparing with `n` instead
/// would add an error of up to 0.08% that belongs to the recording, not to the theory).
///
/// # Errors
/// A solver or theory error.
pub fn continuum_errors(m: usize, lambda: f64, h: f64) -> Result<ContinuumCheck, ExperimentError> {
    let cfg = PredictionConfig::new(lambda, Order::FirstOrder, Discretisation::Euler { h }, true)?;
    let continuum = HalfNormalContinuum::published(m)?;
    let manifold = SlowManifold::new(continuum, cfg)?;
    let ns = log_counts(m / 2, 50, 40);
    let mut sim = ReducedSim::new(ReducedConfig::new(lambda, h)?, quantile(m)?)?;
    // (t, m'(t)) at the first step boundary with m' <= n, for each n of the grid.
    let mut points: Vec<(f64, usize)> = Vec::with_capacity(ns.len());
    while points.len() < ns.len() && !sim.is_done() {
        sim.advance(u64::MAX)?;
        let s = sim.stats();
        while points.len() < ns.len() && s.m_prime <= ns[points.len()] {
            points.push((s.t, s.m_prime));
        }
    }
    if points.len() < ns.len() {
        return Err(ExperimentError::Inconsistent(
            "the simulation did not reach every m' of the grid".into(),
        ));
    }
    let times: Vec<f64> = points.iter().map(|p| p.0).collect();
    let rows = manifold.curve(&times)?;
    let mut c = ContinuumCheck {
        above_1000: 0.0,
        above_50: 0.0,
        compared: 0,
    };
    for (&(_, n), row) in points.iter().zip(&rows) {
        let rel = (row.m_prime - n as f64).abs() / n as f64;
        if n >= 1000 {
            c.above_1000 = worst([c.above_1000, rel]);
        } else {
            c.above_50 = worst([c.above_50, rel]);
        }
        c.compared += 1;
    }
    Ok(c)
}

/// Claim 4. Fast: m = 1e5, lambda = 1e-5 (docs/theory.md's own check); full adds m = 1e6 and 1e7
/// (lambda = 1/m). Measured: the worst error as a fraction of its tolerance (0.2% above
/// m' = 1000, 2% above 50; tolerance 1).
///
/// The tolerances are the claim's; docs/theory.md measured 0.06% and 1%, and this comparison (at
/// the same instants on both sides) measures 0.03% and 0.1% at m = 1e5. The larger errors at
/// small m' are the discreteness of the last survivors, O(1/m').
pub(crate) fn run(profile: Profile) -> Result<Claim, ExperimentError> {
    let ms: &[usize] = match profile {
        Profile::Fast => &[100_000],
        Profile::Full => &[100_000, 1_000_000, 10_000_000],
    };
    let mut worst = Worst::new();
    let mut parts = Vec::new();
    for &m in ms {
        let lambda = 1.0 / m as f64;
        let c = continuum_errors(m, lambda, 0.5)?;
        worst.add(c.above_1000 / 2e-3);
        worst.add(c.above_50 / 2e-2);
        parts.push(format!(
            "m = {m}, lambda = {lambda:e}: {:.3}% at m' >= 1000, {:.3}% at 50 <= m' < 1000 \
             ({} points)",
            100.0 * c.above_1000,
            100.0 * c.above_50,
            c.compared
        ));
    }
    Ok(Claim::new(
        4,
        "continuum_matches_quantile_simulation",
        STATEMENT,
        worst.get(),
        1.0,
        format!(
            "worst error / tolerance (1 = at the tolerance); {}",
            parts.join("; ")
        ),
    ))
}
