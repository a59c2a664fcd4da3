//! The reduced Euler solver: the published recursion on two scalars, O(1) per step.
//!
//! Every survivor is an affine image of its initial value (docs/theory.md §2). Written about the
//! smallest survivor `p = w0[n-1]` (the *pivot*) instead of about 0,
//!
//! ```text
//! w_j = alpha*(w0_j - p) + d,   j < n,       d = w_{n-1} (the smallest survivor's value)
//! one step, a = 1 - ||w||^2 (- mu):   alpha <- alpha + (a*alpha)*h,   d <- d + (a*d - lambda)*h
//! ```
//!
//! which is the textbook `alpha <- g*alpha, beta <- g*beta + h*lambda` with `beta = alpha*p - d`.
//! The norms come from the prefix moments of [`crate::prefix`] as sums of non-negative terms,
//! `||w||_1 = alpha*E1 + n*d` and `||w||_2^2 = alpha^2*E2 + d*(2*alpha*E1 + n*d)`, so the
//! cancellation of `alpha^2*S2 - 2*alpha*beta*S1 + beta^2*n` (about
//! `2*log10(w0_0/(w0_0 - theta))` digits late in a run, growing with m) never happens; the total
//! squared deviation is `alpha^2*C` with Welford's centred prefix sums `C`.
//!
//! # How survival is decided, and how exactly it matches the direct solver
//!
//! The direct solver drops `w_j` when its float value, a chain of rounded updates
//! `x <- x + (a*x - lambda)*h`, is not `> 0`. Here the smallest survivor's value `d` *is* such a
//! chain, evaluated with exactly the same operations in the same order, and the survival test
//! is the same `d > 0`. When `d` dies, the next survivor's value is materialised from the affine
//! form, `d <- alpha*(w0[n-2] - p) + d` (after the step, so it includes this step's update), and
//! tested the same way; several deaths in one step are found by repeating this. Only the tail
//! is ever near death, so this is O(1) per step plus O(1) per death.
//!
//! Bitwise identity with the direct solver at every step is impossible in O(1) per step: the
//! direct solver's `a_k = 1 - ||w||^2` is a sequential sum over all m' rounded survivors, which
//! differs from the prefix-moment value by ~1e-16 relative (about `sqrt(m')*eps`), and every
//! survivor's float history depends on all those `a_k`. What *is* the same is the decision
//! procedure; the values it is applied to differ by the propagated rounding, ~1e-14 of the
//! weight scale (the flow is contracting after the transient, so differences do not grow). A
//! death step can therefore differ only if the direct solver's value of the dying coordinate is
//! within ~1e-14 of 0 at some step, while it moves by `lambda*h` per step near death: a
//! probability of ~1e-14/(lambda*h) per event, ~1e-5 over a whole reference run. On all four
//! reference fixtures every death event (step and m') is identical (tests/it/solvers.rs).
//!
//! # References
//! docs/theory.md §2 (affine structure, reduced solver), §1 (the Euler loop).

use crate::drive::Stepper;
use crate::error::{CoreError, Param, non_negative_finite, positive_finite};
use crate::init::InitialWeights;
use crate::method::SolverCounts;
use crate::prefix::{Moments, PrefixMoments};
use crate::record::StepStats;

/// `v > 0`: the survival test of the published filter `w[w > 0]` (NaN is not alive). Written
/// as a function so that `!positive(v)` reads as "dead" without a negated float comparison.
#[inline]
pub(crate) fn positive(v: f64) -> bool {
    v > 0.0
}

/// Parameters of the reduced Euler solver, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReducedConfig {
    lambda: f64,
    h: f64,
    mu: f64,
}

impl ReducedConfig {
    /// The published L1 flow: `lambda` (L1 strength, per unit time) and `h` (step, time units)
    /// must be finite and `> 0`.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `lambda` or `step`.
    pub fn new(lambda: f64, h: f64) -> Result<Self, CoreError> {
        Ok(Self {
            lambda: positive_finite(Param::Lambda, lambda)?,
            h: positive_finite(Param::Step, h)?,
            mu: 0.0,
        })
    }

    /// Adds an L2 (weight-decay) term of strength `mu`: the drift becomes
    /// `(1 - ||w||^2 - mu)*w - lambda`, still affine, so `a` becomes `a - mu`.
    ///
    /// # Errors
    /// [`CoreError::InvalidParameter`] naming `mu` unless it is finite and `>= 0`.
    pub fn with_weight_decay(self, mu: f64) -> Result<Self, CoreError> {
        Ok(Self {
            mu: non_negative_finite(Param::Variant("mu"), mu)?,
            ..self
        })
    }

    /// The L1 strength.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// The step size.
    pub fn h(&self) -> f64 {
        self.h
    }

    /// The weight-decay strength (0 for the published flow).
    pub fn mu(&self) -> f64 {
        self.mu
    }
}

/// The reduced Euler solver (see the module docs): the same recursion as
/// [`crate::EulerSim`], on `(alpha, d, n)` instead of the whole vector.
#[derive(Debug, Clone)]
pub struct ReducedSim {
    cfg: ReducedConfig,
    table: PrefixMoments,
    /// The moments of the current survivors (valid while `n >= 1`).
    mo: Moments,
    n: usize,
    alpha: f64,
    /// The smallest survivor's value, tracked as the direct solver's chain of updates.
    d: f64,
    step: u64,
    gamma: f64,
    sq_norm: f64,
    /// `1 - mu`.
    one_minus_mu: f64,
    events: u64,
    /// Materialised weights, for observers that ask for them.
    buf: Vec<f64>,
    /// The state that determines every later step, for [`Stepper::state`].
    key: [f64; 3],
}

impl ReducedSim {
    /// A run from `w0` with `alpha = 1`, `d = w0[m-1]`, `gamma_0 = (w_0 - w_1)/w_0`: one O(m)
    /// pass for the prefix moments (the weights are sorted already).
    ///
    /// # Errors
    /// [`CoreError::UnstableStep`] if the first step already violates `1 + h*a > 0`.
    pub fn new(cfg: ReducedConfig, w0: InitialWeights) -> Result<Self, CoreError> {
        let table = PrefixMoments::new(w0.into_vec());
        Self::from_table(cfg, table)
    }

    /// As [`Self::new`], from prefix moments built already (they are reusable across runs).
    ///
    /// # Errors
    /// As [`Self::new`]; [`CoreError::TooFewWeights`] if the table has fewer than 2 weights.
    pub fn from_table(cfg: ReducedConfig, mut table: PrefixMoments) -> Result<Self, CoreError> {
        let m = table.len();
        if m < 2 {
            return Err(CoreError::TooFewWeights { m });
        }
        let mo = table.at(m);
        let w0 = table.w0();
        let gamma = (w0[0] - w0[1]) / w0[0];
        let mut sim = Self {
            cfg,
            d: mo.pivot,
            table,
            mo,
            n: m,
            alpha: 1.0,
            step: 0,
            gamma,
            sq_norm: 0.0,
            one_minus_mu: 1.0 - cfg.mu,
            events: 0,
            buf: Vec::new(),
            key: [0.0; 3],
        };
        sim.sq_norm = sim.compute_sq_norm();
        crate::init::check_sq_norm(sim.sq_norm)?;
        sim.check_stable()?;
        Ok(sim)
    }

    /// The configuration.
    pub fn config(&self) -> &ReducedConfig {
        &self.cfg
    }

    /// The number of survivors.
    pub fn m_prime(&self) -> usize {
        self.n
    }

    /// Whether the run is over (at most one survivor).
    pub fn is_done(&self) -> bool {
        self.n <= 1
    }

    /// `(alpha, beta)` of docs/theory.md §2: `w_j = alpha*w0_j - beta` for every survivor.
    pub fn alpha_beta(&self) -> (f64, f64) {
        (self.alpha, self.alpha * self.mo.pivot - self.d)
    }

    /// The work done so far: one evaluation per step, events = steps that changed `m'`.
    pub fn counts(&self) -> SolverCounts {
        SolverCounts {
            steps: self.step,
            rejected: 0,
            evals: self.step,
            events: self.events,
        }
    }

    /// The survivors, materialised: O(m'), for snapshots and checks, not for every step.
    pub fn weights(&mut self) -> &[f64] {
        let (alpha, d, p) = (self.alpha, self.d, self.mo.pivot);
        self.buf.clear();
        self.buf.extend(
            self.table.w0()[..self.n]
                .iter()
                .map(|&x| alpha * (x - p) + d),
        );
        &self.buf
    }

    /// The initial weights, descending.
    pub fn initial_weights(&self) -> &[f64] {
        self.table.w0()
    }

    /// The current state, every field from the reduced state in O(1):
    /// `one_norm = alpha*E1 + n*d`, `sq_norm = alpha^2*E2 + d*(2*alpha*E1 + n*d)`,
    /// `w_max = alpha*(w0_0 - p) + d`, `w_min = d`, total squared deviation `alpha^2*C`.
    pub fn stats(&self) -> StepStats {
        let t = self.step as f64 * self.cfg.h;
        if self.n == 0 {
            return StepStats {
                step: self.step,
                t,
                m_prime: 0,
                one_norm: 0.0,
                sq_norm: 0.0,
                w_max: f64::NAN,
                w_min: f64::NAN,
                relative_variance: f64::NAN,
                gamma: self.gamma,
                feature_benefit: 1.0,
                total_squared_deviation: f64::NAN,
            };
        }
        let nf = self.n as f64;
        let one = self.one_norm();
        let tsd = self.alpha * self.alpha * self.mo.c;
        StepStats {
            step: self.step,
            t,
            m_prime: self.n,
            one_norm: one,
            sq_norm: self.sq_norm,
            w_max: self.w_max(),
            w_min: self.d,
            // var/mean^2 = (tsd/n)/(one/n)^2 with one division instead of three: the state
            // is computed every step, and divisions are what it costs.
            relative_variance: tsd * nf / (one * one),
            gamma: self.gamma,
            feature_benefit: 1.0 - self.sq_norm,
            total_squared_deviation: tsd,
        }
    }

    /// One Euler step (no-op once the run is over): O(1) plus O(1) per death.
    ///
    /// # Errors
    /// [`CoreError::UnstableStep`] when `1 + h*a <= 0`.
    pub fn step(&mut self) -> Result<(), CoreError> {
        if self.is_done() {
            return Ok(());
        }
        self.check_stable()?;
        let (lambda, h) = (self.cfg.lambda, self.cfg.h);
        // `one_minus_mu = 1 - mu` is precomputed: one subtraction fewer on the step's
        // critical path (sq -> a -> d -> sq), and for mu = 0 it is the published `1 - sq`.
        let a = self.one_minus_mu - self.sq_norm;
        // w_max as `alpha*(w0_0 - p) + d`, the expression `advance` uses too.
        self.gamma += lambda / self.w_max() * h * self.gamma;
        self.alpha += (a * self.alpha) * h;
        // The smallest survivor's update in the direct solver's order of operations.
        let d = self.d + (a * self.d - lambda) * h;
        self.d = self.drop_dead(d, self.alpha);
        self.sq_norm = self.compute_sq_norm();
        self.step += 1;
        Ok(())
    }

    /// Up to `max_steps` steps in a tight loop that keeps the state in registers, stopping
    /// early after a step that changed `m'` or when the run is over; returns the steps taken.
    /// The same arithmetic as [`Self::step`], bit for bit, without per-step observation: for
    /// runs that need only the death events and the end state (scale runs, benchmarks), read
    /// [`Self::stats`] between calls.
    ///
    /// # Errors
    /// [`CoreError::UnstableStep`], with the state of the last stable step kept.
    pub fn advance(&mut self, max_steps: u64) -> Result<u64, CoreError> {
        if self.is_done() {
            return Ok(0);
        }
        let (lambda, h, c0) = (self.cfg.lambda, self.cfg.h, self.one_minus_mu);
        let (e1x2, e2, nf) = (2.0 * self.mo.e1, self.mo.e2, self.n as f64);
        let top_gap = self.table.w0()[0] - self.mo.pivot;
        let (mut alpha, mut d, mut sq, mut gamma) = (self.alpha, self.d, self.sq_norm, self.gamma);
        let mut taken = 0;
        while taken < max_steps {
            let a = c0 - sq;
            if !positive(1.0 + h * a) {
                break;
            }
            gamma += lambda / (alpha * top_gap + d) * h * gamma;
            alpha += (a * alpha) * h;
            d = d + (a * d - lambda) * h;
            taken += 1;
            if !positive(d) {
                break;
            }
            sq = (alpha * alpha * e2 + (alpha * e1x2) * d) + nf * (d * d);
        }
        let died = !positive(d);
        self.alpha = alpha;
        self.gamma = gamma;
        self.step += taken;
        if died {
            // Finish the step that killed: drop the dead, materialise the next survivors.
            self.d = self.drop_dead(d, alpha);
            self.sq_norm = self.compute_sq_norm();
        } else {
            self.d = d;
            self.sq_norm = sq;
        }
        if taken < max_steps && !died && !self.is_done() {
            self.check_stable()?;
        }
        Ok(taken)
    }

    /// The survival rule after a step: while the smallest survivor's value `d` is not `> 0`
    /// (the direct solver's filter `w > 0`, NaN included), drop it and move to the next one,
    /// `alpha*(w0_j - p_old) + d` (IEEE addition is commutative, so `+=` is the same
    /// operation). Counts one event if anything died; returns the new smallest survivor's value.
    fn drop_dead(&mut self, d: f64, alpha: f64) -> f64 {
        let n_before = self.n;
        let d = drop_dead(&mut self.table, &mut self.n, &mut self.mo, d, alpha);
        if self.n != n_before {
            self.events += 1;
        }
        d
    }

    fn one_norm(&self) -> f64 {
        self.alpha * self.mo.e1 + self.n as f64 * self.d
    }

    fn w_max(&self) -> f64 {
        self.alpha * (self.table.w0()[0] - self.mo.pivot) + self.d
    }

    fn compute_sq_norm(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let (alpha, d, mo) = (self.alpha, self.d, &self.mo);
        // (alpha^2*E2 + 2*alpha*E1*d) + n*d^2: the same non-negative terms, grouped so that
        // only three dependent operations follow the new d (latency bound the O(1) step).
        (alpha * alpha * mo.e2 + (alpha * (2.0 * mo.e1)) * d) + self.n as f64 * (d * d)
    }

    fn check_stable(&self) -> Result<(), CoreError> {
        if 1.0 + self.cfg.h * (self.one_minus_mu - self.sq_norm) > 0.0 {
            Ok(())
        } else {
            Err(CoreError::UnstableStep {
                step: self.step,
                h: self.cfg.h,
                sq_norm: self.sq_norm + self.cfg.mu,
            })
        }
    }
}

/// The survival rule of the affine solvers, with survivors `w_j = scale*(w0_j - p) + d` about
/// the pivot `p = w0[n-1]`: while the smallest survivor's value `d` is not `> 0` (the direct
/// solver's filter `w > 0`, NaN included), drop it and move to the next one,
/// `d += scale*(w0[n-2] - p)` (IEEE addition is commutative, so `+=` is the same operation as
/// `scale*(..) + d`). Returns the new smallest survivor's value; `n` and `mo` follow.
///
/// [`ReducedSim`] tracks `d` in weight units (`scale = alpha`); the adaptive reduced flow tracks
/// `s = d/alpha` in units of `w0` (`scale = 1`, where `1*x` is exact).
pub(crate) fn drop_dead(
    table: &mut PrefixMoments,
    n: &mut usize,
    mo: &mut Moments,
    mut d: f64,
    scale: f64,
) -> f64 {
    while !positive(d) && *n > 0 {
        *n -= 1;
        if *n == 0 {
            break;
        }
        let p_old = mo.pivot;
        *mo = table.at(*n);
        d += scale * (mo.pivot - p_old);
    }
    d
}

impl Stepper for ReducedSim {
    fn stats(&self) -> StepStats {
        ReducedSim::stats(self)
    }
    fn step(&mut self) -> Result<(), CoreError> {
        ReducedSim::step(self)
    }
    fn m_prime(&self) -> usize {
        self.n
    }
    fn current_weights(&mut self) -> &[f64] {
        if self.step == 0 {
            // Exactly w0 (materialising `alpha*(w0 - p) + d` could round it).
            &self.table.w0()[..self.n]
        } else {
            self.weights()
        }
    }
    fn counts(&self) -> SolverCounts {
        ReducedSim::counts(self)
    }
    /// `(alpha, d, m')`; once the survivors are tied in `w0` (`E1 = E2 = 0` exactly), `alpha`
    /// multiplies only zeros and the state is `(d, m')`.
    fn state(&mut self) -> &[f64] {
        let tied = self.n >= 1 && self.table.w0()[0] == self.mo.pivot;
        self.key = [self.d, self.n as f64, if tied { 0.0 } else { self.alpha }];
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::{EulerConfig, EulerSim, SumMode};

    /// Every step's state against the direct solver on a small random problem.
    #[test]
    fn reduced_follows_the_direct_solver_step_by_step() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let w0 = InitialWeights::half_normal(&mut rng, 500, None).unwrap();
        let (lambda, h) = (3e-3, 0.5);
        let mut direct = EulerSim::new(
            EulerConfig::new(lambda, h, SumMode::Sequential).unwrap(),
            w0.clone(),
        )
        .unwrap();
        let mut reduced = ReducedSim::new(ReducedConfig::new(lambda, h).unwrap(), w0).unwrap();
        while !direct.is_done() {
            direct.step().unwrap();
            reduced.step().unwrap();
            let (a, b) = (direct.stats(), reduced.stats());
            assert_eq!(a.m_prime, b.m_prime, "step {}", a.step);
            // Sums of <= 500 terms differ by rounding only: 1e-12 relative is ~5000 ulps.
            for (x, y) in [
                (a.one_norm, b.one_norm),
                (a.sq_norm, b.sq_norm),
                (a.w_max, b.w_max),
            ] {
                assert!(
                    (x - y).abs() <= 1e-12 * x.abs(),
                    "step {}: {x} vs {y}",
                    a.step
                );
            }
            // w_min is a difference of O(w_max) numbers near a death: compare against w_max.
            assert!((a.w_min - b.w_min).abs() <= 1e-12 * a.w_max);
            let w = reduced.weights().to_vec();
            assert_eq!(direct.weights().len(), w.len(), "step {}", a.step);
            for (x, y) in direct.weights().iter().zip(&w) {
                assert!((x - y).abs() <= 1e-12 * a.w_max);
            }
        }
        assert!(reduced.is_done());
        assert_eq!(reduced.counts().steps, direct.stats().step);
    }

    #[test]
    fn advance_is_step_bit_for_bit() {
        let w0 = InitialWeights::quantile(2000, None).unwrap();
        let cfg = ReducedConfig::new(1e-3, 0.5).unwrap();
        let mut one = ReducedSim::new(cfg, w0.clone()).unwrap();
        let mut fast = ReducedSim::new(cfg, w0).unwrap();
        while !fast.is_done() {
            let taken = fast.advance(u64::MAX).unwrap();
            for _ in 0..taken {
                one.step().unwrap();
            }
            assert_eq!(one.stats(), fast.stats());
            assert_eq!(one.counts(), fast.counts());
        }
        assert!(one.is_done());
        // A bounded call stops at the bound.
        let mut sim = ReducedSim::new(cfg, InitialWeights::quantile(2000, None).unwrap()).unwrap();
        assert_eq!(sim.advance(1).unwrap(), 1);
    }

    #[test]
    fn weight_decay_is_validated_and_shifts_the_benefit() {
        let cfg = ReducedConfig::new(1e-3, 0.5).unwrap();
        let e = cfg.with_weight_decay(-1.0).unwrap_err();
        assert!(e.to_string().contains("mu = -1"), "{e}");
        // With mu = 0.5 the norm settles at ||w||^2 = 1 - mu + O(lambda): run a while and check.
        let w0 = InitialWeights::quantile(200, None).unwrap();
        let mut sim = ReducedSim::new(cfg.with_weight_decay(0.5).unwrap(), w0).unwrap();
        for _ in 0..200 {
            sim.step().unwrap();
        }
        let s = sim.stats();
        // lambda*||w||_1/||w||^2 ~ 1e-3 * 10 / 0.5 = 0.02 is the slow-manifold offset.
        assert!((s.sq_norm - 0.5).abs() < 0.05, "sq = {}", s.sq_norm);
    }
}
